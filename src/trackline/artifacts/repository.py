"""The artifact repository interface: files of runs and models under one root URI.

Every path a repository takes or returns is relative to its root and goes through
:func:`~trackline.artifacts.paths.check_artifact_path`, including the paths a remote store
lists (a hostile listing must not make a download write outside ``dst_path``).
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

from trackline.artifacts.paths import check_artifact_path
from trackline.entities import FileInfo
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist

__all__ = ["ArtifactRepository", "prepare_destination"]


class ArtifactRepository(ABC):
    """Files under one artifact root URI (a run's ``artifact_uri``, a model's location...)."""

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.artifact_uri!r})"

    @abstractmethod
    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local file into the folder ``artifact_path`` (the root when None)."""

    @abstractmethod
    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy the contents of a local folder into the folder ``artifact_path``."""

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of folder ``path``, sorted by path; [] for a file or nothing."""

    @abstractmethod
    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        """Write the artifact file ``remote_file_path`` (checked, relative) to ``local_path``."""

    @abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or folder (everything when None)."""

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Download a file or a whole folder into ``dst_path`` (default: a new temporary
        folder), keeping its path relative to the root, and return the local path of it."""
        rel = check_artifact_path(artifact_path)
        dst = prepare_destination(dst_path)
        files = self._list_files_recursive(rel)
        if files is None:  # a single file, or nothing
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            self._download_file(rel, str(target))
            return str(target)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for info in files:
            target = dst / info.path
            if info.is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            self._download_file(info.path, str(target))
        return str(dst / rel) if rel else str(dst)

    def _list_files_recursive(self, rel: str) -> list[FileInfo] | None:
        """Every entry under folder ``rel``, or None when ``rel`` is not a folder."""
        listing = self._checked_listing(rel)
        if rel and (not listing or [f.path for f in listing] == [rel]):
            return None
        out: list[FileInfo] = []
        pending = [listing]
        while pending:
            for info in pending.pop():
                out.append(info)
                if info.is_dir:
                    pending.append(self._checked_listing(info.path))
        return out

    def _checked_listing(self, rel: str) -> list[FileInfo]:
        prefix = f"{rel}/" if rel else ""
        checked = []
        for info in self.list_artifacts(rel or None):
            path = check_artifact_path(info.path)
            if path != rel and not path.startswith(prefix):
                raise InvalidParameterValue(
                    f"Artifact listing of {rel!r} returned {info.path!r}, which is outside it"
                )
            checked.append(FileInfo(path, info.is_dir, info.file_size))
        return checked


def prepare_destination(dst_path: str | os.PathLike[str] | None) -> Path:
    """The folder a download writes into: ``dst_path`` (which must exist) or a new temp dir."""
    if dst_path is None:
        return Path(tempfile.mkdtemp(prefix="trackline-artifacts-"))
    dst = Path(dst_path).resolve()
    if not dst.exists():
        raise ResourceDoesNotExist(
            f"The destination path for downloaded artifacts does not exist! "
            f"Destination path: {dst_path}"
        )
    if not dst.is_dir():
        raise InvalidParameterValue(
            f"The destination path for downloaded artifacts must be a directory! "
            f"Destination path: {dst_path}"
        )
    return dst
