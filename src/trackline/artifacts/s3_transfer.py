"""Moving bytes to and from S3 for :class:`~trackline.artifacts.s3.S3ArtifactRepository`.

Files go through boto3's managed transfer (several files and the parts of a large one in
parallel), with progress on a terminal for large transfers
(:class:`~trackline.artifacts.progress.TransferProgress`); a stream of unknown length goes up
as a multipart upload one part at a time (:meth:`S3TransferMixin.upload_stream`); an object
being read is an :class:`S3Object`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.progress import TransferProgress
from trackline.artifacts.s3_settings import _MIB
from trackline.exceptions import InvalidParameterValue

__all__ = ["S3Object", "S3TransferMixin"]

# The S3 repository's logger, by the name it had before this module was split from it.
_log = logging.getLogger("trackline.artifacts.s3")

_READ_CHUNK = _MIB


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass
class S3Object:
    """An object being read: its size and its body, read piece by piece."""

    size: int
    body: Any

    def chunks(self, size: int = _READ_CHUNK) -> Iterator[bytes]:
        """The body in pieces of at most ``size`` bytes; closes it at the end."""
        try:
            yield from self.body.iter_chunks(size)
        finally:
            self.body.close()


class _Subscriber:
    """Reports one file of a boto3 managed transfer to a progress display."""

    def __init__(self, progress: TransferProgress, size: int | None = None) -> None:
        self.progress = progress
        self.size = size

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        if self.size is not None:  # known from the listing: saves a HEAD per download
            future.meta.provide_transfer_size(self.size)

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        self.progress.advance(bytes_transferred)

    def on_done(self, future: Any, **kwargs: Any) -> None:
        self.progress.file_done()


class S3TransferMixin:
    """Transfer methods of :class:`~trackline.artifacts.s3.S3ArtifactRepository`."""

    bucket: str
    multipart_threshold: int
    multipart_chunksize: int
    max_concurrency: int

    if TYPE_CHECKING:  # provided by S3ArtifactRepository

        @property
        def client(self) -> Any: ...

        def _key(self, rel: str) -> str: ...

        def _content_args(self, name: str) -> dict[str, Any]: ...

        def _errors(self, rel: str | None = None) -> AbstractContextManager[None]: ...

    def _transfer_manager(self) -> Any:
        from boto3.s3.transfer import TransferConfig, create_transfer_manager

        config = TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.max_concurrency,
            preferred_transfer_client="classic",
        )
        return create_transfer_manager(self.client, config)

    def _upload(self, files: list[tuple[Path, str]]) -> None:
        """Upload local files to checked relative paths, in parallel."""
        sizes = [path.stat().st_size for path, _ in files]
        label = f"Uploading {files[0][1] if len(files) == 1 else f'{len(files)} files'}"
        with (
            self._errors(files[0][1] if len(files) == 1 else ""),
            TransferProgress(label, sum(sizes), len(files)) as progress,
            self._transfer_manager() as manager,
        ):
            futures = [
                manager.upload(
                    str(path),
                    self.bucket,
                    self._key(rel),
                    extra_args=self._content_args(path.name),
                    subscribers=[_Subscriber(progress)],
                )
                for path, rel in files
            ]
            for future in futures:
                future.result()

    def _download(self, files: list[tuple[str, int | None]], dst: Path) -> None:
        """Download checked relative paths (with their sizes when known) below ``dst``."""
        label = f"Downloading {files[0][0] if len(files) == 1 else f'{len(files)} files'}"
        total = sum(size or 0 for _, size in files)
        with (
            self._errors(files[0][0] if len(files) == 1 else ""),
            TransferProgress(label, total, len(files)) as progress,
            self._transfer_manager() as manager,
        ):
            futures = []
            for rel, size in files:
                target = dst / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                subscriber = _Subscriber(progress, size)
                futures.append(
                    manager.download(
                        self.bucket, self._key(rel), str(target), subscribers=[subscriber]
                    )
                )
            for future in futures:
                future.result()

    def upload_stream(self, artifact_path: str, stream: _Readable) -> int:
        """Store what ``stream.read(n)`` gives, up to its end, as the file ``artifact_path``;
        return its size. Bodies of at least one part go up as a multipart upload, one part
        in memory at a time, and an upload that fails is aborted: the object appears whole
        or not at all."""
        rel = check_artifact_path(artifact_path)
        if not rel:
            raise InvalidParameterValue("The artifact path is empty: name a file")
        key, part_size = self._key(rel), self.multipart_chunksize
        args = self._content_args(rel.rpartition("/")[2])
        data = _read_part(stream, part_size)
        with self._errors(rel):
            if len(data) < part_size:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **args)
                return len(data)
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **args)
            upload_id, size = upload["UploadId"], 0
            parts: list[dict[str, Any]] = []
            try:
                while data:
                    answer = self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=len(parts) + 1,
                        Body=data,
                    )
                    parts.append({"PartNumber": len(parts) + 1, "ETag": answer["ETag"]})
                    size += len(data)
                    data = bytearray()  # let the part go before reading the next one
                    data = _read_part(stream, part_size)
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            except BaseException:
                try:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
                except Exception:  # the original error matters more
                    _log.warning("Could not abort the multipart upload of %s", key)
                raise
        return size


def _read_part(stream: _Readable, size: int) -> bytearray:
    """Up to ``size`` bytes of ``stream``: fewer only at its end (not copied again: boto3
    sends a bytearray as it is)."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(size - len(buffer), _READ_CHUNK))
        if not chunk:
            break
        buffer += chunk
    return buffer
