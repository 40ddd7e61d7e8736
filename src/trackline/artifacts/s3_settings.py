"""The S3 artifact store's settings from the environment, and the boto3 clients made from them.

The endpoint comes from ``TRACKLINE_S3_ENDPOINT_URL`` or MLflow's ``MLFLOW_S3_ENDPOINT_URL``;
``MLFLOW_S3_IGNORE_TLS``, ``MLFLOW_S3_UPLOAD_EXTRA_ARGS`` (JSON) and their ``TRACKLINE_``
twins, which win; ``TRACKLINE_S3_MULTIPART_THRESHOLD`` and ``TRACKLINE_S3_MULTIPART_CHUNKSIZE``
(sizes such as ``8MiB``). One boto3 client is shared by every repository with the same
settings and AWS environment. :class:`~trackline.artifacts.s3.S3ArtifactRepository` reads
them; boto3 is imported when a repository is made, not with this module.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

from trackline.exceptions import InvalidParameterValue, MissingDependency

__all__ = ["DEFAULT_MULTIPART_CHUNKSIZE", "DEFAULT_MULTIPART_THRESHOLD", "MIN_PART_SIZE"]

_MIB = 1024 * 1024
#: boto3's defaults: files of 8 MiB and more go up in parts of 8 MiB.
DEFAULT_MULTIPART_THRESHOLD = 8 * _MIB
DEFAULT_MULTIPART_CHUNKSIZE = 8 * _MIB
#: S3 refuses parts smaller than this (except the last one of an upload).
MIN_PART_SIZE = 5 * _MIB

_ENDPOINT_ENV = ("TRACKLINE_S3_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
_IGNORE_TLS_ENV = ("TRACKLINE_S3_IGNORE_TLS", "MLFLOW_S3_IGNORE_TLS")
_EXTRA_ARGS_ENV = ("TRACKLINE_S3_UPLOAD_EXTRA_ARGS", "MLFLOW_S3_UPLOAD_EXTRA_ARGS")
_THRESHOLD_ENV = "TRACKLINE_S3_MULTIPART_THRESHOLD"
_CHUNKSIZE_ENV = "TRACKLINE_S3_MULTIPART_CHUNKSIZE"
# What makes a boto3 client differ: a change of any of these gets a new one.
_CLIENT_ENV = (
    "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
)  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?)?\s*$", re.IGNORECASE)

_clients: dict[tuple[object, ...], Any] = {}
_clients_lock = threading.Lock()


def _require_boto3() -> None:
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise MissingDependency("boto3", "s3", "S3 artifact stores") from None


def _env_first(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _env_flag(names: tuple[str, ...]) -> bool:
    return (_env_first(names) or "").strip().lower() in ("1", "true", "yes", "on")


def _env_size(name: str, default: int) -> int:
    """A size in bytes from the environment: ``8388608``, ``8MB``, ``8MiB``, ``512k``."""
    text = os.environ.get(name)
    if not text:
        return default
    match = _SIZE.match(text)
    if not match:
        raise InvalidParameterValue(f"{name}={text!r} is not a size (e.g. 8388608, 64MB, 1GiB)")
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * {"": 1, "k": 1024, "m": _MIB, "g": 1024 * _MIB}[unit]


def _upload_extra_args() -> dict[str, Any]:
    from s3transfer.manager import TransferManager

    text = _env_first(_EXTRA_ARGS_ENV)
    if not text:
        return {}
    try:
        extra = json.loads(text)
    except ValueError:
        extra = None
    if not isinstance(extra, dict):
        raise InvalidParameterValue(f"S3 upload extra arguments must be a JSON object: {text!r}")
    unknown = sorted(set(extra) - set(TransferManager.ALLOWED_UPLOAD_ARGS))
    if unknown:
        raise InvalidParameterValue(f"Unknown S3 upload arguments: {', '.join(unknown)}")
    return extra


def _s3_client(endpoint_url: str | None, verify: bool) -> Any:
    """A boto3 S3 client, shared by repositories with the same settings (clients are
    thread-safe and slow to make)."""
    key = (endpoint_url, verify, *(os.environ.get(name) for name in _CLIENT_ENV))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            import boto3.session
            from botocore.config import Config

            options: dict[str, Any] = {"connect_timeout": 10, "read_timeout": 60}
            if not (os.environ.get("AWS_RETRY_MODE") or os.environ.get("AWS_MAX_ATTEMPTS")):
                options["retries"] = {"mode": "standard", "max_attempts": 3}
            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, verify=verify, config=Config(**options)
            )
            _clients[key] = client
    return client
