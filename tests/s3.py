"""An S3-protocol server for the tests: moto in server mode, as a subprocess on a loopback port.

Nothing is patched in process: trackline's S3 code and the real boto3 client talk HTTP to
the moto server, as they would to AWS or MinIO. The fixtures in ``tests/conftest.py``
(``moto_endpoint``, ``s3_env``, ``s3_bucket``) use these helpers; a test that needs the
server skips when it cannot start (and fails under ``TRACKLINE_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT_SECONDS = 30.0
_START_ATTEMPTS = 3

#: Fake credentials and a region: the moto server accepts any signature.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
#: Settings of the developer's machine that must not leak into the tests.
_CLEARED = (
    "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3", "TRACKLINE_S3_ENDPOINT_URL", "TRACKLINE_S3_IGNORE_TLS",
    "MLFLOW_S3_IGNORE_TLS", "TRACKLINE_S3_UPLOAD_EXTRA_ARGS", "MLFLOW_S3_UPLOAD_EXTRA_ARGS",
    "TRACKLINE_S3_MULTIPART_THRESHOLD", "TRACKLINE_S3_MULTIPART_CHUNKSIZE",
)  # fmt: skip


@dataclass(frozen=True)
class MotoServer:
    """A running ``moto_server``: its endpoint URL, process and log file."""

    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output (for failure messages)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def s3_environment(endpoint: str, folder: Path) -> dict[str, str | None]:
    """The variables of a process that uses the moto server at ``endpoint`` (None: unset);
    the AWS config files point into ``folder``, where there are none."""
    env: dict[str, str | None] = dict.fromkeys(_CLEARED)
    env.update(FAKE_AWS)
    env["AWS_CONFIG_FILE"] = str(folder / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(folder / "no-aws-credentials")
    env["MLFLOW_S3_ENDPOINT_URL"] = endpoint
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(server: MotoServer, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            httpx.get(server.endpoint, timeout=2)
            return True
        except httpx.TransportError:
            time.sleep(0.2)
    return False


def start_moto(folder: Path) -> MotoServer:
    """Start ``python -m moto.server`` on a free loopback port; RuntimeError with the reason
    when moto is not installed or does not answer."""
    if importlib.util.find_spec("moto") is None:
        raise RuntimeError("moto is not installed (pip install 'moto[server]')")
    reason = "it did not start"
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        log = folder / f"moto-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = MotoServer(f"http://127.0.0.1:{port}", process, log)
        if _ready(server, time.monotonic() + STARTUP_TIMEOUT_SECONDS):
            return server
        reason = server.log_tail() or reason
        stop_moto(server)
    raise RuntimeError(f"moto_server did not answer: {reason}")


def stop_moto(server: MotoServer) -> None:
    """Stop the server (SIGTERM, a bounded wait, then SIGKILL of its process group)."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def s3_client(endpoint: str) -> Any:
    """A plain boto3 client of the moto server (the tests' own view of the bucket)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def new_bucket_name() -> str:
    """A bucket name no other test uses."""
    return f"trackline-{uuid.uuid4().hex[:16]}"


def keys(client: Any, bucket: str) -> list[str]:
    """Every object key of the bucket, sorted."""
    found: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found += [item["Key"] for item in page.get("Contents", [])]
    return sorted(found)


def remove_bucket(client: Any, bucket: str) -> None:
    """Delete the bucket and everything in it (pending multipart uploads included)."""
    try:
        for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        found = keys(client, bucket)
        for start in range(0, len(found), 1000):
            batch = [{"Key": key} for key in found[start : start + 1000]]
            client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except client.exceptions.NoSuchBucket:
        pass
