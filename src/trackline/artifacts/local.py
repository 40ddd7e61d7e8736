"""Artifacts in a local folder, named by a ``file:`` URI or a plain path.

Every operation checks its path with :func:`~trackline.artifacts.paths.check_artifact_path`
and then checks that the real path (symlinks resolved) stays inside the root, so neither a
crafted path nor a symlink planted in the folder reaches outside it. Files are written to a
temporary name in the destination folder and renamed into place, so a reader never sees a
half-written artifact.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository, prepare_destination
from trackline.entities import FileInfo
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist

__all__ = ["LocalArtifactRepository", "local_path_of"]


def local_path_of(uri: str) -> Path:
    """The absolute local path named by a ``file:`` URI or a plain path."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidParameterValue(f"file: URIs must name a local path, got {uri!r}")
        if parsed.query or parsed.fragment or parsed.params:
            raise InvalidParameterValue(f"file: URIs must not carry ';', '?' or '#': {uri!r}")
        return Path(os.path.abspath(unquote(parsed.path)))
    return Path(os.path.abspath(os.path.expanduser(uri)))


class LocalArtifactRepository(ArtifactRepository):
    """Artifacts stored as plain files under a local root folder."""

    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        self.root = local_path_of(artifact_uri)

    # -- paths -----------------------------------------------------------------------------
    def _path(self, rel: str) -> Path:
        """The local path of a checked relative path, refused if it resolves outside the root."""
        target = self.root / rel if rel else self.root
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(target)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise InvalidParameterValue(f"Artifact path {rel!r} resolves outside the artifact root")
        return target

    # -- writing ---------------------------------------------------------------------------
    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local file into the folder ``artifact_path`` (the root when None)."""
        source = Path(local_file)
        if not source.is_file():
            raise InvalidParameterValue(f"Not a file, cannot log it as an artifact: {local_file}")
        folder = check_artifact_path(artifact_path)
        rel = check_artifact_path(f"{folder}/{source.name}" if folder else source.name)
        self._copy_in(source, rel)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy the contents of a local folder (recursively) into the folder ``artifact_path``."""
        source = Path(local_dir)
        if not source.is_dir():
            raise InvalidParameterValue(f"Not a directory, cannot log its artifacts: {local_dir}")
        folder = check_artifact_path(artifact_path)
        self._make_dirs(folder)
        for dirpath, dirnames, filenames in os.walk(source):
            sub = Path(dirpath).relative_to(source).as_posix()
            base = "/".join(p for p in (folder, "" if sub == "." else sub) if p)
            for name in dirnames:
                self._make_dirs(check_artifact_path(f"{base}/{name}" if base else name))
            for name in filenames:
                rel = check_artifact_path(f"{base}/{name}" if base else name)
                self._copy_in(Path(dirpath) / name, rel)

    def _make_dirs(self, rel: str) -> Path:
        target = self._path(rel)
        target.mkdir(parents=True, exist_ok=True)
        self._path(rel)  # re-check: a component may be a symlink created meanwhile
        return target

    def _copy_in(self, source: Path, rel: str) -> None:
        parent, _, _ = rel.rpartition("/")
        folder = self._make_dirs(parent)
        target = self._path(rel)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            shutil.copymode(source, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a folder (the whole root when None); nothing if it is absent."""
        rel = check_artifact_path(artifact_path)
        target = self._path(rel)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)

    # -- reading ---------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Direct children of folder ``path`` with sizes for files; [] for a file or nothing."""
        rel = check_artifact_path(path)
        folder = self._path(rel)
        if not folder.is_dir():
            return []
        out = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            child = f"{rel}/{entry.name}" if rel else entry.name
            if _is_partial(entry.name):
                continue  # a write in progress
            try:
                check_artifact_path(child)
                self._path(child)
            except InvalidParameterValue:
                continue  # a name or symlink that no artifact path can reach
            if entry.is_dir():
                out.append(FileInfo(child, True, None))
            else:
                out.append(FileInfo(child, False, entry.stat().st_size))
        return out

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        source = self._path(check_artifact_path(remote_file_path))
        if not source.is_file():
            raise ResourceDoesNotExist(f"No such artifact: '{remote_file_path}'")
        shutil.copyfile(source, local_path)

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Copy a file or a whole folder into ``dst_path`` (default: a new temporary folder),
        keeping its path relative to the root, and return the local path of the copy."""
        rel = check_artifact_path(artifact_path)
        source = self._path(rel)
        if not source.exists():
            raise ResourceDoesNotExist(f"No such artifact: '{artifact_path}'")
        dst = prepare_destination(dst_path)
        target = dst / rel if rel else dst
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            return str(target)
        target.mkdir(parents=True, exist_ok=True)
        for dirpath, dirnames, filenames in os.walk(source):
            sub = Path(dirpath).relative_to(self.root).as_posix()
            for name in dirnames:
                child = check_artifact_path(f"{sub}/{name}" if sub != "." else name)
                self._path(child)
                (dst / child).mkdir(parents=True, exist_ok=True)
            for name in filenames:
                if _is_partial(name):
                    continue
                child = check_artifact_path(f"{sub}/{name}" if sub != "." else name)
                shutil.copyfile(self._path(child), dst / child)
        return str(target)


def _is_partial(name: str) -> bool:
    """Whether a file name is the temporary name of a write in progress."""
    return name.startswith(".tmp-") and name.endswith(".part")
