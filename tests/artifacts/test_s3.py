"""The S3 artifact repository against a real S3-protocol server (moto, in server mode, on a
loopback port; see tests/s3.py): log, list, download, delete, multipart, streams, errors."""

from __future__ import annotations

import hashlib
import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.s3 import keys, s3_client

from trackline.artifacts import get_artifact_repository
from trackline.artifacts.progress import TransferProgress
from trackline.artifacts.s3 import MIN_PART_SIZE, S3ArtifactRepository, parse_s3_uri
from trackline.entities import FileInfo
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    TEMPORARILY_UNAVAILABLE,
    InvalidParameterValue,
    MissingDependency,
    MlflowException,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
)

MIB = 1024 * 1024
PREFIX = "root/prefix"


@pytest.fixture
def client(s3_env: str) -> Any:
    """The tests' own boto3 client of the moto server."""
    return s3_client(s3_env)


@pytest.fixture
def repo(s3_bucket: str) -> S3ArtifactRepository:
    return S3ArtifactRepository(f"s3://{s3_bucket}/{PREFIX}")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A tree: a file, a nested folder with a binary and a unicode name, an empty folder."""
    folder = tmp_path / "src"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "a.txt").write_text("aaa")
    (folder / "sub" / "b.bin").write_bytes(b"\x00\x01")
    (folder / "sub" / "deeper" / "r\u00e9sum\u00e9 \u6a21\u578b.txt").write_text("unicode")
    (folder / "empty").mkdir()
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(MIB):
            digest.update(block)
    return digest.hexdigest()


# -- URIs and settings (no server needed) ------------------------------------------------------


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b")
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    assert parse_s3_uri("S3://bucket/x") == ("bucket", "x")
    bad_uris = [
        "s3:///x",
        "s3://bucket/../x",
        "s3://bucket/a//b",
        "s3://bucket/x?versionId=1",
        "s3://bucket/x#f",
        "gs://bucket/x",
        "s3://user@bucket/x",
        "s3://b/%2e%2e/x",
    ]
    for bad in bad_uris:
        with pytest.raises(InvalidParameterValue):
            parse_s3_uri(bad)


def test_the_scheme_table_serves_s3() -> None:
    repo = get_artifact_repository("s3://bucket/artifacts/1")
    assert isinstance(repo, S3ArtifactRepository)
    assert (repo.bucket, repo.prefix) == ("bucket", "artifacts/1")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRACKLINE_S3_ENDPOINT_URL", "TRACKLINE_S3_IGNORE_TLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("MLFLOW_S3_IGNORE_TLS", "true")
    monkeypatch.setenv("TRACKLINE_S3_MULTIPART_THRESHOLD", "64MB")
    monkeypatch.setenv("TRACKLINE_S3_MULTIPART_CHUNKSIZE", "1MiB")
    repo = S3ArtifactRepository("s3://bucket/x")
    assert repo.endpoint_url == "http://127.0.0.1:9000"
    assert repo.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert repo.verify is False
    assert repo.multipart_threshold == 64 * MIB
    assert repo.multipart_chunksize == MIN_PART_SIZE  # S3's minimum part size
    monkeypatch.setenv("TRACKLINE_S3_ENDPOINT_URL", "http://127.0.0.1:9001")
    monkeypatch.setenv("MLFLOW_S3_IGNORE_TLS", "false")
    other = S3ArtifactRepository("s3://bucket/x", multipart_threshold=6 * MIB)
    assert other.endpoint_url == "http://127.0.0.1:9001"  # the trackline twin wins
    assert other.client.meta.endpoint_url == "http://127.0.0.1:9001"
    assert other.verify is True
    assert other.multipart_threshold == 6 * MIB
    assert other.child("a/b").artifact_uri == "s3://bucket/x/a/b"
    assert other.child("a/b").endpoint_url == "http://127.0.0.1:9001"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRACKLINE_S3_MULTIPART_THRESHOLD", "lots"),
        ("MLFLOW_S3_UPLOAD_EXTRA_ARGS", "not json"),
        ("MLFLOW_S3_UPLOAD_EXTRA_ARGS", '{"Bucket": "other"}'),
    ],
)
def test_bad_settings_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(MlflowException) as info:
        S3ArtifactRepository("s3://bucket/x")
    assert info.value.error_code == INVALID_PARAMETER_VALUE


def test_without_boto3_a_one_line_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # what an absent package looks like
    with pytest.raises(MissingDependency) as info:
        get_artifact_repository("s3://bucket/x")
    assert "pip install 'trackline[s3]'" in info.value.message


# -- the repository suite, on the moto server ---------------------------------------------------


def test_log_artifact_into_a_folder_and_the_root(
    repo: S3ArtifactRepository, source: Path, client: Any, s3_bucket: str
) -> None:
    repo.log_artifact(source / "a.txt", "models_pickle")
    repo.log_artifact(source / "sub" / "b.bin")
    assert keys(client, s3_bucket) == [f"{PREFIX}/b.bin", f"{PREFIX}/models_pickle/a.txt"]
    stored = client.get_object(Bucket=s3_bucket, Key=f"{PREFIX}/models_pickle/a.txt")
    assert stored["Body"].read() == b"aaa"
    assert stored["ContentType"] == "text/plain"
    with pytest.raises(InvalidParameterValue):
        repo.log_artifact(source)  # a folder
    with pytest.raises(InvalidParameterValue):
        repo.log_artifacts(source / "a.txt")  # a file


def test_log_artifact_replaces_an_existing_file(repo: S3ArtifactRepository, tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("one")
    repo.log_artifact(f)
    f.write_text("two")
    repo.log_artifact(f)
    assert Path(repo.download_artifacts("x.txt")).read_text() == "two"


def test_log_artifacts_and_list_a_nested_tree(
    repo: S3ArtifactRepository, source: Path, client: Any, s3_bucket: str
) -> None:
    repo.log_artifacts(source, "tree")
    unicode_name = "r\u00e9sum\u00e9 \u6a21\u578b.txt"
    assert keys(client, s3_bucket) == sorted(
        [f"{PREFIX}/tree/a.txt", f"{PREFIX}/tree/sub/b.bin",
         f"{PREFIX}/tree/sub/deeper/{unicode_name}"]
    )  # fmt: skip
    assert repo.list_artifacts() == [FileInfo("tree", True, None)]
    assert repo.list_artifacts("tree") == [
        FileInfo("tree/a.txt", False, 3),
        FileInfo("tree/sub", True, None),
    ]
    assert repo.list_artifacts("tree/sub/") == [
        FileInfo("tree/sub/b.bin", False, 2),
        FileInfo("tree/sub/deeper", True, None),
    ]
    assert repo.list_artifacts("tree/sub/deeper") == [
        FileInfo(f"tree/sub/deeper/{unicode_name}", False, len("unicode"))
    ]
    assert repo.list_artifacts("tree/a.txt") == []  # a file
    assert repo.list_artifacts("missing") == []


def test_listings_page_through_many_keys(s3_bucket: str, tmp_path: Path) -> None:
    repo = S3ArtifactRepository(f"s3://{s3_bucket}/{PREFIX}", list_page_size=2)
    folder = tmp_path / "many"
    for index in range(7):
        (folder / f"d{index % 3}").mkdir(parents=True, exist_ok=True)
        (folder / f"f{index}.txt").write_text(str(index))
        (folder / f"d{index % 3}" / f"g{index}.txt").write_text(str(index))
    repo.log_artifacts(folder)
    listed = repo.list_artifacts()
    assert [info.path for info in listed] == [
        "d0", "d1", "d2", *(f"f{index}.txt" for index in range(7))
    ]  # fmt: skip
    assert [info.is_dir for info in listed] == [True] * 3 + [False] * 7
    dst = Path(repo.download_artifacts(""))
    assert len(list(dst.rglob("*.txt"))) == 14


def test_download_a_folder_a_file_and_the_root(
    repo: S3ArtifactRepository, source: Path, tmp_path: Path
) -> None:
    repo.log_artifacts(source, "tree")
    dst = tmp_path / "dst"
    dst.mkdir()
    local = repo.download_artifacts("tree/sub", str(dst))
    assert local == str(dst / "tree" / "sub")
    assert (dst / "tree" / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    assert (dst / "tree" / "sub" / "deeper" / "r\u00e9sum\u00e9 \u6a21\u578b.txt").exists()
    one = repo.download_artifacts("tree/a.txt")
    assert Path(one).read_text() == "aaa"
    assert one.endswith(os.path.join("tree", "a.txt"))
    everything = Path(repo.download_artifacts(""))
    assert sorted(p.relative_to(everything).as_posix() for p in everything.rglob("*")) == [
        "tree", "tree/a.txt", "tree/sub", "tree/sub/b.bin", "tree/sub/deeper",
        "tree/sub/deeper/r\u00e9sum\u00e9 \u6a21\u578b.txt",
    ]  # fmt: skip


def test_download_errors(repo: S3ArtifactRepository, source: Path, tmp_path: Path) -> None:
    repo.log_artifacts(source)
    with pytest.raises(ResourceDoesNotExist, match="No such artifact"):
        repo.download_artifacts("nope.txt")
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        repo.download_artifacts("a.txt", str(tmp_path / "no-such-dir"))
    empty = S3ArtifactRepository(f"{repo.artifact_uri}/nothing-here")
    assert list(Path(empty.download_artifacts("")).iterdir()) == []


def test_delete_files_folders_and_everything_but_nothing_beside(
    repo: S3ArtifactRepository, source: Path, client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    neighbours = [f"{PREFIX}x/keep.txt", f"{PREFIX}-sibling/keep.txt", "root/keep.txt"]
    for key in neighbours:  # keys that share the prefix's characters but not its folder
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"keep")
    repo.log_artifacts(source)
    repo.delete_artifacts("sub")
    repo.delete_artifacts("never-there")
    assert keys(client, s3_bucket) == sorted([f"{PREFIX}/a.txt", *neighbours])
    repo.delete_artifacts("a.txt")
    repo.log_artifacts(source, "again")
    repo.delete_artifacts()
    assert keys(client, s3_bucket) == sorted(neighbours)


def test_a_large_file_goes_up_in_parts(s3_bucket: str, client: Any, tmp_path: Path) -> None:
    repo = S3ArtifactRepository(
        f"s3://{s3_bucket}/{PREFIX}", multipart_threshold=MIN_PART_SIZE, multipart_chunksize=1
    )
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 * MIN_PART_SIZE + 12345))
    repo.log_artifact(big, "model")
    head = client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/model/big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    assert head["ContentLength"] == big.stat().st_size
    back = Path(repo.download_artifacts("model/big.bin"))
    assert _sha256(back) == _sha256(big)
    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 1000)
    repo.log_artifact(small, "model")
    small_head = client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/model/small.bin")
    assert "-" not in small_head["ETag"]  # below the threshold: one request


_PATTERN = bytes(range(251)) * (MIB // 251 + 2)


class _Source(io.RawIOBase):
    """A readable stream of ``size`` bytes (0, 1, ..., 250, 0, ...) that may break off
    once ``fail_at`` bytes are sent."""

    def __init__(self, size: int, fail_at: int | None = None) -> None:
        self.size, self.fail_at, self.sent = size, fail_at, 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.fail_at is not None and self.sent >= self.fail_at:
            raise ConnectionResetError("the client went away")
        n = min(MIB if n < 0 else n, MIB, self.size - self.sent)
        start = self.sent % 251
        data = _PATTERN[start : start + n]
        self.sent += len(data)
        self.digest.update(data)
        return data


def test_upload_stream_small_large_and_broken(s3_bucket: str, client: Any, tmp_path: Path) -> None:
    repo = S3ArtifactRepository(f"s3://{s3_bucket}/{PREFIX}", multipart_chunksize=MIN_PART_SIZE)
    assert repo.upload_stream("s/small.bin", _Source(1000)) == 1000
    assert "-" not in client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/s/small.bin")["ETag"]
    large = _Source(2 * MIN_PART_SIZE + 1)
    assert repo.upload_stream("s/large.bin", large) == large.size
    head = client.head_object(Bucket=s3_bucket, Key=f"{PREFIX}/s/large.bin")
    assert head["ETag"].strip('"').endswith("-3")
    assert _sha256(Path(repo.download_artifacts("s/large.bin"))) == large.digest.hexdigest()
    with pytest.raises(ConnectionResetError):
        repo.upload_stream("s/broken.bin", _Source(3 * MIN_PART_SIZE, fail_at=MIN_PART_SIZE + 1))
    assert f"{PREFIX}/s/broken.bin" not in keys(client, s3_bucket)
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []  # aborted
    with pytest.raises(InvalidParameterValue):
        repo.upload_stream("", _Source(1))
    opened = repo.open_file("s/small.bin")
    assert opened.size == 1000
    assert b"".join(opened.chunks(100)) == bytes(i % 251 for i in range(1000))
    with pytest.raises(ResourceDoesNotExist):
        repo.open_file("s/missing.bin")


@pytest.mark.parametrize(
    "bad",
    ["../escape", "/etc", "a/%2e%2e/%2e%2e/x", "a\\b", "a//b", "%252e%252e/x", "C:/x", "a/./../b",
     "file:///etc", "\uff0e\uff0e/x", "a\x00b"],
)  # fmt: skip
def test_every_operation_checks_its_path(
    repo: S3ArtifactRepository, source: Path, client: Any, s3_bucket: str, bad: str
) -> None:
    for call in (
        lambda: repo.log_artifact(source / "a.txt", bad),
        lambda: repo.log_artifacts(source, bad),
        lambda: repo.list_artifacts(bad),
        lambda: repo.download_artifacts(bad),
        lambda: repo.delete_artifacts(bad),
        lambda: repo.upload_stream(f"{bad}/x", _Source(10)),
        lambda: repo.open_file(bad),
        lambda: repo.child(bad),
    ):
        with pytest.raises(InvalidParameterValue):
            call()
    assert keys(client, s3_bucket) == []


def test_keys_no_artifact_path_names_are_ignored(
    repo: S3ArtifactRepository, client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    """Objects put into the bucket by someone else, with hostile keys, never make a listing
    or a download step outside (a download writes only below its folder)."""
    for key in (f"{PREFIX}/ok.txt", f"{PREFIX}/../escape.txt", f"{PREFIX}/a//b.txt",
                f"{PREFIX}/d/./c.txt", f"{PREFIX}/d/", f"{PREFIX}/%2e%2e/x.txt",
                f"{PREFIX}/d/../../../escape2.txt"):  # fmt: skip
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    # "a" and "d" are folders (of unreachable keys only): harmless, and empty when listed
    assert repo.list_artifacts() == [
        FileInfo("a", True, None), FileInfo("d", True, None), FileInfo("ok.txt", False, 1)
    ]  # fmt: skip
    assert repo.list_artifacts("a") == repo.list_artifacts("d") == []
    dst = tmp_path / "deep" / "dst"
    dst.mkdir(parents=True)
    repo.download_artifacts("", str(dst))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "deep", "deep/dst", "deep/dst/ok.txt"
    ]  # fmt: skip


def test_a_missing_bucket_is_a_clear_error_until_it_exists(
    s3_env: str, source: Path, client: Any
) -> None:
    from tests.s3 import new_bucket_name, remove_bucket

    bucket = new_bucket_name()
    repo = S3ArtifactRepository(f"s3://{bucket}/x")
    for call in (
        repo.check_access,
        lambda: repo.log_artifact(source / "a.txt"),
        lambda: repo.log_artifacts(source),
        repo.list_artifacts,
        lambda: repo.download_artifacts("a.txt"),
        lambda: repo.delete_artifacts("a.txt"),
        lambda: repo.upload_stream("a.txt", _Source(10)),
        lambda: repo.open_file("a.txt"),
    ):
        with pytest.raises(TemporarilyUnavailable) as info:
            call()
        assert info.value.error_code == TEMPORARILY_UNAVAILABLE
        assert bucket in info.value.message
        assert s3_env in info.value.message
        assert "does not exist" in info.value.message
    client.create_bucket(Bucket=bucket)
    try:
        repo.check_access()
        repo.log_artifact(source / "a.txt")
        assert repo.list_artifacts() == [FileInfo("a.txt", False, 3)]
    finally:
        remove_bucket(client, bucket)


def test_an_unreachable_endpoint_is_a_clear_error(
    s3_env: str, monkeypatch: pytest.MonkeyPatch, source: Path
) -> None:
    from tests.s3 import _free_port

    endpoint = f"http://127.0.0.1:{_free_port()}"  # nobody listens there
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", endpoint)
    repo = S3ArtifactRepository("s3://bucket-down/x")
    for call in (repo.list_artifacts, lambda: repo.log_artifact(source / "a.txt")):
        with pytest.raises(TemporarilyUnavailable) as info:
            call()
        assert endpoint in info.value.message
        assert "Cannot reach" in info.value.message


# -- progress -----------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_for_large_transfers_only() -> None:
    screen = _Terminal()
    with TransferProgress("Uploading 3 files", 300, 3, stream=screen, threshold=100) as bar:
        for _ in range(3):
            bar.advance(100)
            bar.file_done()
    assert screen.getvalue().startswith("\rUploading 3 files:   0% (0.0/0.0 MB, 0/3 files)")
    assert screen.getvalue().endswith("100% (0.0/0.0 MB, 3/3 files)\n")
    for stream, total in ((io.StringIO(), 300), (_Terminal(), 50)):  # not a terminal; small
        with TransferProgress("x", total, 1, stream=stream, threshold=100) as quiet:
            quiet.advance(total)
        assert stream.getvalue() == ""


def test_many_files_show_progress(
    repo: S3ArtifactRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(100):
        (folder / f"f{index:03}.txt").write_text("x")
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    repo.log_artifacts(folder)
    repo.download_artifacts("")
    lines = screen.getvalue().split("\n")
    assert lines[0].endswith("Uploading 100 files: 100% (0.0/0.0 MB, 100/100 files)")
    assert lines[1].endswith("Downloading 100 files: 100% (0.0/0.0 MB, 100/100 files)")
