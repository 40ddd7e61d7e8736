"""Where a server keeps the artifacts it proxies (``--artifacts-destination``): a local folder
or an S3 bucket, behind one interface, :class:`ArtifactDestination`.

============================  ===================================================
destination                   how it stores
============================  ===================================================
a path, ``file:`` URI         :class:`LocalDestination`: files below the folder; an upload
                              streams into a temporary file beside its target, is synced
                              and renamed into place
``s3://bucket/prefix``        :class:`S3Destination`: objects below the prefix; an upload
                              streams to S3 in parts (one part in memory at a time), a
                              download streams from S3
============================  ===================================================

Either way a reader never sees half a file, and a failed or interrupted upload leaves nothing.
Downloads are attachments with ``X-Content-Type-Options: nosniff`` and
``Content-Security-Policy: sandbox``. Paths arrive checked
(:func:`~trackline.artifacts.paths.check_artifact_path`); a local destination also refuses
any path that resolves, symlinks followed, outside its folder.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import anyio.from_thread
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse

from trackline.artifacts.local import LocalArtifactRepository, local_path_of
from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository
from trackline.entities import FileInfo
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist

if TYPE_CHECKING:
    from trackline.artifacts.s3 import S3ArtifactRepository

__all__ = [
    "ArtifactDestination",
    "LocalDestination",
    "S3Destination",
    "content_type",
    "destination_of",
    "local_destination",
    "local_file_response",
    "open_destination",
]

_WRITE_CHUNK = 1024 * 1024
#: File names (or extensions) served as text/plain: MLflow's text artifacts.
_TEXT = frozenset(
    ("txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon",
     "toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst",
     "mlmodel", "mlproject")
)  # fmt: skip
_SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def content_type(name: str) -> str:
    """The ``Content-Type`` of a downloaded artifact, from its name: ``text/plain`` for text
    files (``MLmodel``, ``.yaml``, ``.json``...), else the guessed type, else
    ``application/octet-stream``."""
    extension = name.rpartition(".")[2] if "." in name else name
    if extension.lower() in _TEXT:
        return "text/plain"
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def _disposition(name: str) -> str:
    """``Content-Disposition`` of an attachment, RFC 6266 style for names that are not
    plain ASCII (as Starlette's FileResponse writes it)."""
    quoted = quote(name)
    if quoted != name:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{name}"'


class ArtifactDestination(ABC):
    """The store behind ``mlflow-artifacts:`` URIs. Paths are checked, relative to it."""

    uri: str

    @abstractmethod
    def repository(self, path: str = "") -> ArtifactRepository:
        """The repository of the folder ``path`` (the destination itself for ``""``)."""

    @abstractmethod
    async def write(self, path: str, body: AsyncIterator[bytes]) -> None:
        """Store the streamed ``body`` as the file ``path`` (replacing it), whole or not
        at all."""

    @abstractmethod
    def file_response(self, path: str) -> Response:
        """The file ``path`` as a streamed download (blocking: call it in a worker thread);
        RESOURCE_DOES_NOT_EXIST when it is not a file."""

    def list(self, path: str) -> list[FileInfo]:
        """The direct children of folder ``path`` (blocking)."""
        return self.repository().list_artifacts(path or None)

    def delete(self, path: str) -> None:
        """Delete the file or folder ``path``; nothing when it is absent (blocking)."""
        self.repository().delete_artifacts(path)

    def check(self) -> None:
        """Raise the error artifact requests would meet now (a missing bucket...); a
        destination that needs nothing to exist beforehand passes (blocking)."""
        return None


def local_destination(uri: str) -> Path:
    """The absolute real local folder named by a path or ``file:`` URI."""
    scheme = urlsplit(uri).scheme.lower()
    if len(scheme) > 1 and scheme != "file":
        raise InvalidParameterValue(
            f"The artifacts destination must be a local folder (a path or file: URI) or an "
            f"s3:// URI; {uri!r} is not supported."
        )
    return Path(os.path.realpath(local_path_of(uri)))


def open_destination(uri: str) -> ArtifactDestination:
    """The destination named by ``--artifacts-destination``: a local folder (a path or
    ``file:`` URI) or ``s3://bucket/prefix``."""
    if urlsplit(uri).scheme.lower() == "s3":
        from trackline.artifacts.s3 import S3ArtifactRepository

        return S3Destination(S3ArtifactRepository(uri))
    return LocalDestination(local_destination(uri))


def destination_of(repository: ArtifactRepository) -> ArtifactDestination | None:
    """The destination that serves a repository's files directly (a local folder, an S3
    prefix), or None for other kinds of repositories."""
    if isinstance(repository, LocalArtifactRepository):
        return LocalDestination(repository.root)
    if urlsplit(repository.artifact_uri).scheme.lower() == "s3":
        from trackline.artifacts.s3 import S3ArtifactRepository

        if isinstance(repository, S3ArtifactRepository):
            return S3Destination(repository)
    return None


# -- a local folder ------------------------------------------------------------------------


class LocalDestination(ArtifactDestination):
    """A local root folder: paths below it, checked to resolve inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = root.as_uri()
        self._repository = LocalArtifactRepository(self.uri)

    def inside(self, rel: str) -> Path:
        """The real path of ``root/rel``; refused if it resolves (symlinks followed) outside."""
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(self.root / rel if rel else self.root)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise InvalidParameterValue(f"Artifact path {rel!r} resolves outside its root")
        return Path(real)

    def repository(self, path: str = "") -> ArtifactRepository:
        """The local repository of the folder ``path`` (checked to stay inside)."""
        rel = check_artifact_path(path)
        if not rel:
            return self._repository
        return LocalArtifactRepository(self.inside(rel).as_uri())

    def existing_file(self, rel: str) -> Path:
        """The real path of the file ``rel``; RESOURCE_DOES_NOT_EXIST when it is not one."""
        path = self.inside(rel)
        if not path.is_file():
            raise ResourceDoesNotExist(f"No artifact file at '{rel}'")
        return path

    def prepare_write(self, rel: str) -> Path:
        """Make the folders of the file ``rel`` and return where it goes (checked)."""
        target = self.root / rel
        self.inside(rel)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameterValue(
                f"Cannot write '{rel}': a part of its folder is a file"
            ) from None
        self.inside(rel)  # again: a component may have been replaced by a symlink meanwhile
        if target.is_dir():
            raise InvalidParameterValue(f"Cannot write '{rel}': it is a folder")
        return target

    async def write(self, path: str, body: AsyncIterator[bytes]) -> None:
        """Stream ``body`` into a temporary file beside the target, then rename it."""
        target = await run_in_threadpool(self.prepare_write, path)
        fd, tmp = await run_in_threadpool(
            tempfile.mkstemp, dir=target.parent, prefix=".tmp-", suffix=".part"
        )
        try:
            with os.fdopen(fd, "wb") as out:
                buffer = bytearray()
                async for chunk in body:
                    buffer += chunk
                    if len(buffer) >= _WRITE_CHUNK:
                        await run_in_threadpool(out.write, buffer)
                        buffer = bytearray()
                await run_in_threadpool(_finish, out, buffer)
            await run_in_threadpool(os.replace, tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def file_response(self, path: str) -> Response:
        """The file, streamed from disk."""
        return local_file_response(self.existing_file(path), path.rpartition("/")[2])


def _finish(out: Any, tail: bytearray) -> None:
    out.write(tail)
    out.flush()
    os.fsync(out.fileno())


def local_file_response(
    path: Path, name: str, background: BackgroundTask | None = None
) -> Response:
    """A local file as an attachment download named ``name``."""
    return FileResponse(
        path,
        media_type=content_type(name),
        filename=name,
        content_disposition_type="attachment",
        headers=_SAFE_HEADERS,
        background=background,
    )


# -- an S3 prefix --------------------------------------------------------------------------


class _BodyReader:
    """A blocking ``read(n)`` over a request's async body, for a worker thread started by
    anyio (``run_in_threadpool``): each read fetches chunks from the event loop."""

    def __init__(self, body: AsyncIterator[bytes]) -> None:
        self._body = body
        self._buffer = bytearray()
        self._ended = False

    async def _next(self) -> bytes | None:
        try:
            return await self._body.__anext__()
        except StopAsyncIteration:
            return None

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (all that is left for -1); b"" at the end."""
        while not self._ended and (size < 0 or len(self._buffer) < size):
            chunk = anyio.from_thread.run(self._next)
            if chunk is None:
                self._ended = True
            else:
                self._buffer += chunk
        count = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        out = bytes(self._buffer[:count])
        del self._buffer[:count]
        return out


class S3Destination(ArtifactDestination):
    """Objects below an S3 prefix (see :mod:`trackline.artifacts.s3` for the settings)."""

    def __init__(self, repository: S3ArtifactRepository) -> None:
        self._repository = repository
        self.uri = repository.artifact_uri

    def repository(self, path: str = "") -> ArtifactRepository:
        """The S3 repository of the folder ``path``, with the destination's settings."""
        rel = check_artifact_path(path)
        return self._repository.child(rel) if rel else self._repository

    async def write(self, path: str, body: AsyncIterator[bytes]) -> None:
        """Stream ``body`` to S3: a single request for a small file, else a multipart
        upload of one part at a time, aborted if the body breaks off."""
        await run_in_threadpool(self._repository.upload_stream, path, _BodyReader(body))

    def file_response(self, path: str) -> Response:
        """The object, streamed from S3 piece by piece."""
        name = path.rpartition("/")[2]
        obj = self._repository.open_file(path)
        headers = {
            **_SAFE_HEADERS,
            "Content-Length": str(obj.size),
            "Content-Disposition": _disposition(name),
        }
        return StreamingResponse(obj.chunks(), media_type=content_type(name), headers=headers)

    def check(self) -> None:
        """Whether the bucket exists and answers (one ``HeadBucket`` request)."""
        self._repository.check_access()
