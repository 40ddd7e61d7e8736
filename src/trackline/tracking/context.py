"""System tags: who started a run, from which source, at which git commit.

The static part (user, source, git commit) is computed once per process; user tags given to
:func:`resolve_tags` win over every system tag.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "MLFLOW_GIT_COMMIT",
    "MLFLOW_PARENT_RUN_ID",
    "MLFLOW_RUN_NAME",
    "MLFLOW_RUN_NOTE",
    "MLFLOW_SOURCE_NAME",
    "MLFLOW_SOURCE_TYPE",
    "MLFLOW_USER",
    "git_commit",
    "resolve_tags",
    "static_tags",
]

MLFLOW_USER = "mlflow.user"
MLFLOW_SOURCE_NAME = "mlflow.source.name"
MLFLOW_SOURCE_TYPE = "mlflow.source.type"
MLFLOW_GIT_COMMIT = "mlflow.source.git.commit"
MLFLOW_RUN_NAME = "mlflow.runName"
MLFLOW_PARENT_RUN_ID = "mlflow.parentRunId"
MLFLOW_RUN_NOTE = "mlflow.note.content"


def _user() -> str:
    name = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if name:
        return name
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (containers)
        return "unknown"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    get_ipython = getattr(shell, "get_ipython", None)
    instance = get_ipython() if get_ipython is not None else None
    return instance is not None and "IPKernelApp" in getattr(instance, "config", {})


def _source() -> tuple[str, str, Path | None]:
    """(source name, source type, the file or folder the git lookup starts from)."""
    from pathlib import Path

    if _in_notebook():
        notebook = os.environ.get("JPY_SESSION_NAME")
        if notebook:
            return notebook, "NOTEBOOK", Path(notebook).parent
        return "<notebook>", "NOTEBOOK", Path.cwd()
    argv0 = sys.argv[0] if sys.argv else ""
    if not argv0:
        return "<console>", "LOCAL", None
    path = Path(argv0)
    return argv0, "LOCAL", path.resolve().parent if path.is_file() else None


def _git_dir(start: Path) -> Path | None:
    from pathlib import Path

    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # worktree or submodule: "gitdir: <path>"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                return target if target.is_absolute() else (folder / target).resolve()
            return None
    return None


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text(encoding="utf-8").strip()).resolve()
    for base in dict.fromkeys((git_dir, common)):
        loose = base / ref
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip() or None
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name.strip() == ref and not line.startswith(("#", "^")):
                    return sha
    return None


def git_commit(start: Path) -> str | None:
    """The commit checked out in the git repository containing ``start``, read from
    ``.git`` directly (no git executable or GitPython needed); None outside a repository."""
    try:
        git_dir = _git_dir(start.resolve())
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        sha = (
            _resolve_ref(git_dir, head[len("ref:") :].strip()) if head.startswith("ref:") else head
        )
    except OSError:
        return None
    if sha and len(sha) in (40, 64) and all(c in "0123456789abcdef" for c in sha.lower()):
        return sha
    return None


@cache
def static_tags() -> dict[str, str]:
    """The system tags that do not change during the process (computed once)."""
    name, kind, start = _source()
    tags = {MLFLOW_USER: _user(), MLFLOW_SOURCE_NAME: name, MLFLOW_SOURCE_TYPE: kind}
    commit = git_commit(start) if start is not None else None
    if commit:
        tags[MLFLOW_GIT_COMMIT] = commit
    return tags


def _environment_tags() -> dict[str, str]:
    # MLFLOW_RUN_CONTEXT: a JSON object of extra tags, as MLflow reads it.
    raw = os.environ.get("MLFLOW_RUN_CONTEXT")
    if not raw:
        return {}
    try:
        import json  # rarely needed: keep it off the import path

        parsed = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def resolve_tags(user_tags: Mapping[str, Any] | None = None) -> dict[str, str]:
    """System tags merged with ``user_tags`` (values made strings); user tags win."""
    tags = dict(static_tags())
    tags.update(_environment_tags())
    if user_tags:
        tags.update({str(k): str(v) for k, v in user_tags.items()})
    return tags
