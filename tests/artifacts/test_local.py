"""The local artifact repository: log, list, download, delete, and nothing outside the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trackline.artifacts.local import LocalArtifactRepository, local_path_of
from trackline.entities import FileInfo
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "artifacts root"


@pytest.fixture
def repo(root: Path) -> LocalArtifactRepository:
    return LocalArtifactRepository(root.as_uri())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("aaa")
    (folder / "sub" / "b.bin").write_bytes(b"\x00\x01")
    (folder / "empty").mkdir()
    return folder


def test_local_path_of_file_uris_and_plain_paths(tmp_path: Path) -> None:
    assert local_path_of((tmp_path / "a b").as_uri()) == tmp_path / "a b"
    assert local_path_of(f"file://localhost{tmp_path}") == tmp_path
    assert local_path_of(str(tmp_path)) == tmp_path
    with pytest.raises(InvalidParameterValue):
        local_path_of("file://otherhost/etc")
    with pytest.raises(InvalidParameterValue):
        local_path_of(f"file://{tmp_path}?x=1")


def test_log_artifact_copies_into_a_folder(
    repo: LocalArtifactRepository, root: Path, source: Path
) -> None:
    repo.log_artifact(source / "a.txt", "models_pickle")
    repo.log_artifact(source / "sub" / "b.bin")
    assert (root / "models_pickle" / "a.txt").read_text() == "aaa"
    assert (root / "b.bin").read_bytes() == b"\x00\x01"
    assert not [p for p in root.rglob("*") if p.name.endswith(".part")]


def test_log_artifact_replaces_an_existing_file(
    repo: LocalArtifactRepository, root: Path, tmp_path: Path
) -> None:
    f = tmp_path / "x.txt"
    f.write_text("one")
    repo.log_artifact(f)
    f.write_text("two")
    repo.log_artifact(f)
    assert (root / "x.txt").read_text() == "two"


def test_log_artifact_needs_a_file(repo: LocalArtifactRepository, source: Path) -> None:
    with pytest.raises(InvalidParameterValue):
        repo.log_artifact(source)
    with pytest.raises(InvalidParameterValue):
        repo.log_artifacts(source / "a.txt")


def test_log_artifacts_copies_a_tree(
    repo: LocalArtifactRepository, root: Path, source: Path
) -> None:
    repo.log_artifacts(source, "tree")
    assert (root / "tree" / "a.txt").read_text() == "aaa"
    assert (root / "tree" / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    assert (root / "tree" / "empty").is_dir()


def test_list_artifacts_gives_relative_paths_and_sizes(
    repo: LocalArtifactRepository, source: Path
) -> None:
    repo.log_artifacts(source)
    assert repo.list_artifacts() == [
        FileInfo("a.txt", False, 3),
        FileInfo("empty", True, None),
        FileInfo("sub", True, None),
    ]
    assert repo.list_artifacts("sub") == [FileInfo("sub/b.bin", False, 2)]
    assert repo.list_artifacts("sub/") == [FileInfo("sub/b.bin", False, 2)]
    assert repo.list_artifacts("a.txt") == []
    assert repo.list_artifacts("missing") == []


def test_download_a_folder_keeps_its_relative_path(
    repo: LocalArtifactRepository, source: Path, tmp_path: Path
) -> None:
    repo.log_artifacts(source, "tree")
    dst = tmp_path / "dst"
    dst.mkdir()
    local = repo.download_artifacts("tree", str(dst))
    assert local == str(dst / "tree")
    assert (dst / "tree" / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    assert (dst / "tree" / "empty").is_dir()


def test_download_a_file_and_the_whole_root(repo: LocalArtifactRepository, source: Path) -> None:
    repo.log_artifacts(source)
    one = repo.download_artifacts("sub/b.bin")
    assert Path(one).read_bytes() == b"\x00\x01"
    assert one.endswith(os.path.join("sub", "b.bin"))
    everything = Path(repo.download_artifacts(""))
    assert sorted(p.relative_to(everything).as_posix() for p in everything.rglob("*")) == [
        "a.txt",
        "empty",
        "sub",
        "sub/b.bin",
    ]


def test_download_errors(repo: LocalArtifactRepository, source: Path, tmp_path: Path) -> None:
    repo.log_artifacts(source)
    with pytest.raises(ResourceDoesNotExist, match="No such artifact"):
        repo.download_artifacts("nope.txt")
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        repo.download_artifacts("a.txt", str(tmp_path / "no-such-dir"))
    with pytest.raises(InvalidParameterValue):
        repo.download_artifacts("../src/a.txt")


def test_delete_artifacts(repo: LocalArtifactRepository, root: Path, source: Path) -> None:
    repo.log_artifacts(source)
    repo.delete_artifacts("sub")
    repo.delete_artifacts("a.txt")
    repo.delete_artifacts("never-there")
    assert sorted(p.name for p in root.iterdir()) == ["empty"]
    repo.delete_artifacts()
    assert not root.exists()


@pytest.mark.parametrize("bad", ["../escape", "/etc", "a/%2e%2e/%2e%2e/x", "a\\b"])
def test_every_operation_checks_its_path(
    repo: LocalArtifactRepository, source: Path, tmp_path: Path, bad: str
) -> None:
    for call in (
        lambda: repo.log_artifact(source / "a.txt", bad),
        lambda: repo.log_artifacts(source, bad),
        lambda: repo.list_artifacts(bad),
        lambda: repo.download_artifacts(bad),
        lambda: repo.delete_artifacts(bad),
    ):
        with pytest.raises(InvalidParameterValue):
            call()
    assert not (tmp_path / "escape").exists()


def test_symlinks_out_of_the_root_are_refused(
    repo: LocalArtifactRepository, root: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("s3cr3t")
    root.mkdir(parents=True)
    (root / "link").symlink_to(secret)
    (root / "file-link").symlink_to(secret / "key")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(InvalidParameterValue, match="outside"):
        repo.download_artifacts("link/key")
    with pytest.raises(InvalidParameterValue, match="outside"):
        repo.download_artifacts("file-link")
    with pytest.raises(InvalidParameterValue, match="outside"):
        repo.log_artifact(tmp_path / "x.txt", "link")
    with pytest.raises(InvalidParameterValue, match="outside"):
        repo.download_artifacts("")
    assert repo.list_artifacts() == []
    assert sorted(p.name for p in secret.iterdir()) == ["key"]
