"""Artifacts in an S3 bucket (AWS or any S3-compatible store: MinIO, Ceph, moto...).

An artifact root is ``s3://<bucket>/<prefix>``; the artifact ``a/b.txt`` is the object
``<prefix>/a/b.txt``. Every key is built from a path checked by
:func:`~trackline.artifacts.paths.check_artifact_path` (no ``..``, no absolute paths, no
``//``), and keys found in the bucket that no such path could name (``p/../x``, ``p/a//b``)
are left out of listings and downloads.

Settings come from the environment: the endpoint from ``TRACKLINE_S3_ENDPOINT_URL`` or
MLflow's ``MLFLOW_S3_ENDPOINT_URL`` (default: AWS); ``MLFLOW_S3_IGNORE_TLS``,
``MLFLOW_S3_UPLOAD_EXTRA_ARGS`` (JSON) and their ``TRACKLINE_`` twins, which win;
``TRACKLINE_S3_MULTIPART_THRESHOLD`` and ``TRACKLINE_S3_MULTIPART_CHUNKSIZE`` (``8MiB`` by
default; parts are at least 5 MiB, S3's minimum). See ``docs/artifacts.md``.
Credentials and the region come the boto3 way: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (/ ``AWS_SESSION_TOKEN``), ``AWS_PROFILE``, the shared config files,
instance roles. Files go through boto3's managed transfer (several files and the parts of a
large one in parallel); large transfers show progress on a terminal
(:class:`~trackline.artifacts.progress.TransferProgress`).

A missing bucket or an unreachable endpoint is a
:class:`~trackline.exceptions.TemporarilyUnavailable` naming both (a server answers 503); a
denied request is ``PERMISSION_DENIED``; nothing is cached, so things work again as soon as
the bucket exists.

This module holds the repository (keys, errors, listing, deleting, downloading); the
settings and the shared boto3 clients are in :mod:`trackline.artifacts.s3_settings`, the
transfers (managed uploads and downloads with progress, streamed multipart uploads,
:class:`S3Object`) in :mod:`trackline.artifacts.s3_transfer`. Every name stays importable from
here.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository, prepare_destination
from trackline.artifacts.s3_settings import (
    _CHUNKSIZE_ENV,
    _ENDPOINT_ENV,
    _IGNORE_TLS_ENV,
    _THRESHOLD_ENV,
    DEFAULT_MULTIPART_CHUNKSIZE,
    DEFAULT_MULTIPART_THRESHOLD,
    MIN_PART_SIZE,
    _env_first,
    _env_flag,
    _env_size,
    _require_boto3,
    _s3_client,
    _upload_extra_args,
)
from trackline.artifacts.s3_transfer import S3Object, S3TransferMixin
from trackline.entities import FileInfo
from trackline.exceptions import (
    PERMISSION_DENIED,
    InvalidParameterValue,
    MlflowException,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
)

__all__ = [
    "DEFAULT_MULTIPART_CHUNKSIZE",
    "DEFAULT_MULTIPART_THRESHOLD",
    "MIN_PART_SIZE",
    "S3ArtifactRepository",
    "S3Object",
    "parse_s3_uri",
]

_log = logging.getLogger(__name__)

_DELETE_BATCH = 1000  # S3's limit for one DeleteObjects call
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
_DENIED = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
     "InvalidToken", "AllAccessDisabled", "AccountProblem"}
)  # fmt: skip


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``; the prefix is checked like any
    artifact path (``""`` for the bucket's top)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "s3":
        raise InvalidParameterValue(f"Not an S3 URI: {uri!r}")
    if parts.query or parts.fragment:
        raise InvalidParameterValue(f"An S3 URI must not carry a query or a fragment: {uri!r}")
    bucket = parts.netloc
    if not bucket or any(c in bucket for c in "@:/ ") or bucket != bucket.strip("."):
        raise InvalidParameterValue(f"S3 URI {uri!r} does not name a bucket (s3://bucket/path)")
    return bucket, check_artifact_path(parts.path.removeprefix("/"))


class S3ArtifactRepository(S3TransferMixin, ArtifactRepository):
    """Artifacts under ``s3://bucket/prefix``.

    ``endpoint_url`` (default: the environment, else AWS), ``verify`` (default: not
    ``MLFLOW_S3_IGNORE_TLS``), ``multipart_threshold`` and ``multipart_chunksize`` (default:
    the environment, else 8 MiB), ``max_concurrency`` (parallel requests of one transfer)
    and ``list_page_size`` (keys per listing request) override the settings.
    """

    def __init__(
        self,
        artifact_uri: str,
        *,
        endpoint_url: str | None = None,
        verify: bool | None = None,
        multipart_threshold: int | None = None,
        multipart_chunksize: int | None = None,
        max_concurrency: int = 10,
        list_page_size: int = 1000,
    ) -> None:
        super().__init__(artifact_uri)
        self.bucket, self.prefix = parse_s3_uri(artifact_uri)
        _require_boto3()
        self.endpoint_url = endpoint_url or _env_first(_ENDPOINT_ENV)
        self.verify = (not _env_flag(_IGNORE_TLS_ENV)) if verify is None else verify
        self.multipart_threshold = max(
            1, multipart_threshold or _env_size(_THRESHOLD_ENV, DEFAULT_MULTIPART_THRESHOLD)
        )
        chunksize = multipart_chunksize or _env_size(_CHUNKSIZE_ENV, DEFAULT_MULTIPART_CHUNKSIZE)
        self.multipart_chunksize = max(MIN_PART_SIZE, chunksize)
        self.max_concurrency = max(1, max_concurrency)
        self.list_page_size = max(1, min(list_page_size, 1000))
        self.upload_extra_args = _upload_extra_args()

    @property
    def client(self) -> Any:
        """The boto3 S3 client this repository uses."""
        return _s3_client(self.endpoint_url, self.verify)

    def child(self, path: str) -> S3ArtifactRepository:
        """The repository of the folder ``path`` below this root, with the same settings."""
        rel = check_artifact_path(path)
        return S3ArtifactRepository(
            f"s3://{self.bucket}/{_join(self.prefix, rel)}",
            endpoint_url=self.endpoint_url,
            verify=self.verify,
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.max_concurrency,
            list_page_size=self.list_page_size,
        )

    # -- keys ------------------------------------------------------------------------------
    def _key(self, rel: str) -> str:
        """The object key of a checked relative path."""
        return _join(self.prefix, rel)

    def _relative(self, key: str) -> str | None:
        """The artifact path of an object key below the root; None for a key outside it, a
        folder marker (``a/``) or a key no checked path could name (``a//b``, ``../x``)."""
        root = f"{self.prefix}/" if self.prefix else ""
        if not key.startswith(root):
            return None
        rel = key[len(root) :]
        if not rel or rel.endswith("/"):
            return None
        try:
            if check_artifact_path(rel) == rel:
                return rel
        except InvalidParameterValue:
            pass
        _log.warning(
            "Ignoring the S3 object s3://%s/%s: not a valid artifact path", self.bucket, key
        )
        return None

    def _where(self) -> str:
        endpoint = self.endpoint_url or "the default AWS endpoint"
        return f"S3 bucket {self.bucket!r} at {endpoint}"

    def _content_args(self, name: str) -> dict[str, Any]:
        guessed, _ = mimetypes.guess_type(name)
        args = {"ContentType": guessed} if guessed else {}
        return {**args, **self.upload_extra_args}

    # -- errors ----------------------------------------------------------------------------
    @contextmanager
    def _errors(self, rel: str | None = None) -> Iterator[None]:
        """Turn boto3's errors into MlflowExceptions naming the bucket and the endpoint;
        ``rel`` is the artifact concerned (None: the bucket itself)."""
        try:
            yield
        except MlflowException:
            raise
        except Exception as exc:
            translated = self._translate(exc, rel)
            if translated is None:
                raise
            raise translated from exc

    def _translate(self, exc: Exception, rel: str | None) -> MlflowException | None:
        from botocore import exceptions as boto
        from s3transfer.exceptions import RetriesExceededError

        if isinstance(exc, boto.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"{code}: {error.get('Message') or code}"
            if code == "NoSuchBucket" or (rel is None and code in _NOT_FOUND):
                return TemporarilyUnavailable(
                    f"The {self._where()} does not exist: create it (artifacts work as soon "
                    "as it does)."
                )
            if code in _NOT_FOUND:
                return ResourceDoesNotExist(f"No such artifact: '{rel}'")
            if code in _DENIED or status in (401, 403):
                return MlflowException(
                    f"Access to the {self._where()} was denied ({detail}): check the AWS "
                    "credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE).",
                    error_code=PERMISSION_DENIED,
                )
            return TemporarilyUnavailable(f"The {self._where()} refused a request ({detail})")
        credentials = (
            boto.NoCredentialsError, boto.PartialCredentialsError,
            boto.CredentialRetrievalError, boto.ProfileNotFound,
        )  # fmt: skip
        if isinstance(exc, credentials):
            return MlflowException(
                f"No usable AWS credentials for the {self._where()} ({exc}): set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE.",
                error_code=PERMISSION_DENIED,
            )
        if isinstance(exc, (boto.HTTPClientError, boto.ConnectionError, RetriesExceededError)):
            return TemporarilyUnavailable(f"Cannot reach the {self._where()}: {exc}")
        if isinstance(exc, boto.BotoCoreError):
            return TemporarilyUnavailable(f"The {self._where()} failed: {exc}")
        return None

    def check_access(self) -> None:
        """Raise the error that requests would meet if the bucket is missing, unreachable
        or closed to these credentials (one ``HeadBucket`` request)."""
        with self._errors():
            self.client.head_bucket(Bucket=self.bucket)

    # -- writing ---------------------------------------------------------------------------
    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a local file into the folder ``artifact_path`` (the root when None); in
        parts when it is at least ``multipart_threshold`` bytes."""
        source = Path(local_file)
        if not source.is_file():
            raise InvalidParameterValue(f"Not a file, cannot log it as an artifact: {local_file}")
        folder = check_artifact_path(artifact_path)
        self._upload([(source, check_artifact_path(_join(folder, source.name)))])

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload every file of a local folder (recursively) into the folder
        ``artifact_path``. S3 has no folders: empty ones are not kept."""
        source = Path(local_dir)
        if not source.is_dir():
            raise InvalidParameterValue(f"Not a directory, cannot log its artifacts: {local_dir}")
        folder = check_artifact_path(artifact_path)
        files: list[tuple[Path, str]] = []
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            sub = Path(dirpath).relative_to(source).as_posix()
            base = _join(folder, "" if sub == "." else sub)
            for name in sorted(filenames):
                files.append((Path(dirpath) / name, check_artifact_path(_join(base, name))))
        if files:
            self._upload(files)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a folder (everything under the root when None); nothing if it
        is absent."""
        rel = check_artifact_path(artifact_path)
        base = self._key(rel)
        keys = [base] if rel else []
        with self._errors(rel):
            for page in self._pages(f"{base}/" if base else ""):
                keys += [item["Key"] for item in page.get("Contents", [])]
            for start in range(0, len(keys), _DELETE_BATCH):
                batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                errors = answer.get("Errors") or []
                if errors:
                    first = errors[0]
                    raise TemporarilyUnavailable(
                        f"The {self._where()} did not delete {len(errors)} object(s), e.g. "
                        f"{first.get('Key')!r}: {first.get('Code')}: {first.get('Message')}"
                    )

    # -- reading ---------------------------------------------------------------------------
    def _pages(self, prefix: str, delimiter: str | None = None) -> Iterator[dict[str, Any]]:
        """The pages of ``ListObjectsV2`` for ``prefix`` (call inside :meth:`_errors`)."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            args["Delimiter"] = delimiter
        paginator = self.client.get_paginator("list_objects_v2")
        yield from paginator.paginate(**args, PaginationConfig={"PageSize": self.list_page_size})

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of folder ``path`` with sizes for files (folders are the
        common prefixes of the keys); [] for a file or nothing."""
        rel = check_artifact_path(path)
        base = self._key(rel)
        prefix = f"{base}/" if base else ""
        found: dict[tuple[str, bool], FileInfo] = {}
        with self._errors(""):
            for page in self._pages(prefix, "/"):
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix) :].removesuffix("/")
                    self._add_child(found, rel, name, None)
                for item in page.get("Contents", []):
                    self._add_child(found, rel, item["Key"][len(prefix) :], int(item["Size"]))
        return sorted(found.values(), key=lambda info: (info.path, not info.is_dir))

    def _add_child(
        self, found: dict[tuple[str, bool], FileInfo], rel: str, name: str, size: int | None
    ) -> None:
        if not name or "/" in name:
            return  # the folder's own marker object, or a key with "//"
        child = _join(rel, name)
        if self._relative(self._key(child)) != child:
            return
        is_dir = size is None
        found[(child, is_dir)] = FileInfo(child, is_dir, size)

    def _files_under(self, rel: str) -> list[tuple[str, int | None]]:
        """Every file below folder ``rel`` (recursively) with its size, by artifact path."""
        base = self._key(rel)
        files: list[tuple[str, int | None]] = []
        with self._errors(""):
            for page in self._pages(f"{base}/" if base else ""):
                for item in page.get("Contents", []):
                    path = self._relative(item["Key"])
                    if path is not None:
                        files.append((path, int(item["Size"])))
        return files

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        rel = check_artifact_path(remote_file_path)
        with self._errors(rel), self._transfer_manager() as manager:
            manager.download(self.bucket, self._key(rel), local_path).result()

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Download a file or a whole folder into ``dst_path`` (default: a new temporary
        folder), keeping its path relative to the root, and return the local path of it.
        A folder is listed once (all its keys) and its files are fetched in parallel."""
        rel = check_artifact_path(artifact_path)
        dst = prepare_destination(dst_path)
        files = self._files_under(rel)
        if rel and not files:  # not a folder: a file, or nothing
            self._download([(rel, None)], dst)
            return str(dst / rel)
        (dst / rel if rel else dst).mkdir(parents=True, exist_ok=True)
        if files:
            self._download(files, dst)
        return str(dst / rel) if rel else str(dst)

    def open_file(self, artifact_path: str) -> S3Object:
        """The file ``artifact_path`` as a stream (RESOURCE_DOES_NOT_EXIST when absent)."""
        rel = check_artifact_path(artifact_path)
        if not rel:
            raise InvalidParameterValue("The artifact path is empty: name a file")
        with self._errors(rel):
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(rel))
        return S3Object(int(answer.get("ContentLength", 0)), answer["Body"])
