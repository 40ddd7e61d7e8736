"""System tags: user, source, git commit; user tags win."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from trackline.tracking import context

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def _repo(root: Path, head: str) -> Path:
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head)
    return git


def test_user_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    assert context.static_tags()[context.MLFLOW_USER] == "ann"


def test_user_falls_back_to_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "login-name")
    assert context.static_tags()[context.MLFLOW_USER] == "login-name"

    def no_user() -> str:
        raise KeyError("no passwd entry")

    monkeypatch.setattr(getpass, "getuser", no_user)
    context.static_tags.cache_clear()
    assert context.static_tags()[context.MLFLOW_USER] == "unknown"


def test_static_tags_are_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "first")
    assert context.static_tags()[context.MLFLOW_USER] == "first"
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "second")
    assert context.static_tags()[context.MLFLOW_USER] == "first"


def test_source_of_a_script_in_a_git_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git = _repo(tmp_path, "ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    script = tmp_path / "pkg" / "train.py"
    script.parent.mkdir()
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script)])
    tags = context.static_tags()
    assert tags[context.MLFLOW_SOURCE_NAME] == str(script)
    assert tags[context.MLFLOW_SOURCE_TYPE] == "LOCAL"
    assert tags[context.MLFLOW_GIT_COMMIT] == SHA


def test_console_and_dash_c_have_no_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [""])
    tags = context.static_tags()
    assert tags[context.MLFLOW_SOURCE_NAME] == "<console>"
    assert context.MLFLOW_GIT_COMMIT not in tags
    context.static_tags.cache_clear()
    monkeypatch.setattr(sys, "argv", ["-c"])
    assert context.static_tags()[context.MLFLOW_SOURCE_NAME] == "-c"


def test_git_commit_from_packed_refs_and_detached_head(tmp_path: Path) -> None:
    git = _repo(tmp_path / "a", "ref: refs/heads/dev\n")
    (git / "packed-refs").write_text(
        f"# pack-refs with: peeled\n{OTHER} refs/heads/main\n{SHA} refs/heads/dev\n^{OTHER}\n"
    )
    assert context.git_commit(tmp_path / "a") == SHA
    _repo(tmp_path / "b", OTHER + "\n")
    assert context.git_commit(tmp_path / "b") == OTHER


def test_git_commit_of_a_worktree(tmp_path: Path) -> None:
    main_git = _repo(tmp_path / "main", "ref: refs/heads/main\n")
    (main_git / "refs" / "heads" / "feature").write_text(SHA)
    worktree_git = main_git / "worktrees" / "wt"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (worktree_git / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {worktree_git}\n")
    assert context.git_commit(checkout / "sub") == SHA


def test_no_commit_outside_git_or_before_the_first_commit(tmp_path: Path) -> None:
    assert context.git_commit(tmp_path / "nowhere") is None
    _repo(tmp_path / "empty", "ref: refs/heads/main\n")
    assert context.git_commit(tmp_path / "empty") is None
    _repo(tmp_path / "garbage", "not a sha\n")
    assert context.git_commit(tmp_path / "garbage") is None


def test_resolve_tags_user_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_RUN_CONTEXT", '{"from.env": "yes", "mlflow.user": "env"}')
    tags = context.resolve_tags({"mlflow.user": "explicit", "n": 3})
    assert tags["mlflow.user"] == "explicit"
    assert tags["from.env"] == "yes"
    assert tags["n"] == "3"
    assert context.resolve_tags()["mlflow.user"] == "env"
    monkeypatch.setenv("MLFLOW_RUN_CONTEXT", "not json")
    assert "from.env" not in context.resolve_tags()
