"""The server with S3 artifact stores, against a real S3-protocol server (moto in server mode,
tests/s3.py): proxied (``--artifacts-destination s3://...``: the server streams) and direct
(``--default-artifact-root s3://...``: clients talk to S3). In process for the routes, then
real ``trackline server`` processes with the stock ``mlflow`` client and trackline's."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette
from tests.asgi import SyncASGITransport
from tests.compat.conftest import (  # noqa: F401 (_restore_environ is a fixture)
    ServerProcess,
    _restore_environ,
    import_stock_mlflow,
    reset_stock_mlflow,
    reset_trackline,
    start_server,
    stop_server,
    trackline_command,
)
from tests.s3 import (
    _free_port,
    keys,
    new_bucket_name,
    remove_bucket,
    s3_client,
    s3_environment,
)

from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.s3 import MIN_PART_SIZE, S3ArtifactRepository
from trackline.server import create_app

from .conftest import check_error
from .test_path_safety import PAYLOADS, ROOT_NAMES, _encodings

MIB = 1024 * 1024
DEST = "mlartifacts"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
AJAX_ARTIFACTS = "/ajax-api/2.0/mlflow-artifacts/artifacts"


@contextmanager
def _served(app: Starlette) -> Iterator[httpx.Client]:
    """An in-process client of ``app``, its lifespan around it (closing the store)."""
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with (
            lifespan,
            httpx.Client(
                transport=SyncASGITransport(app, portal), base_url="http://127.0.0.1"
            ) as client,
        ):
            yield client


Receive = Callable[[], Any]


def _call(app: Starlette, method: str, target: str, receive: Receive) -> dict[str, Any]:
    """Send one request to the ASGI app as uvicorn would pass it on (``target`` is the raw
    request target: the path decoded once, the raw form beside it); the answer's status,
    headers and body chunks."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": unquote(path), "raw_path": path.encode("ascii"),
        "query_string": query.encode("ascii"), "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }  # fmt: skip
    answer: dict[str, Any] = {"chunks": [], "headers": {}}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = dict(message["headers"])
        elif message["type"] == "http.response.body":
            answer["chunks"].append(message.get("body", b""))

    anyio.run(app, scope, receive, send)
    return answer


def _body(data: bytes = b"") -> Receive:
    """A receive() that sends ``data`` once, then waits (the client stays connected)."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await anyio.sleep_forever()
        sent = True
        return {"type": "http.request", "body": data, "more_body": False}

    return receive


@pytest.fixture
def bucket_client(s3_env: str) -> Any:
    return s3_client(s3_env)


@pytest.fixture
def app(sqlite_uri: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> Starlette:
    """A server proxying artifacts into ``s3://<bucket>/mlartifacts`` (parts of 5 MiB)."""
    monkeypatch.setenv("TRACKLINE_S3_MULTIPART_CHUNKSIZE", str(MIN_PART_SIZE))
    return create_app(sqlite_uri, artifacts_destination=f"s3://{s3_bucket}/{DEST}")


@pytest.fixture
def client(app: Starlette) -> Iterator[httpx.Client]:
    with _served(app) as http:
        yield http


def _put(client: httpx.Client, url: str, content: bytes) -> None:
    response = client.put(url, content=content)
    assert (response.status_code, response.json()) == (200, {}), response.text


# -- proxied: the mlflow-artifacts routes on S3 --------------------------------------------------


@pytest.mark.parametrize("files", [ARTIFACTS, AJAX_ARTIFACTS], ids=["api", "ajax"])
def test_upload_download_list_delete(
    client: httpx.Client, files: str, s3_bucket: str, bucket_client: Any
) -> None:
    _put(client, f"{files}/1/r/artifacts/model/model.pkl", b"\x80\x04pickle")
    _put(client, f"{files}/1/r/artifacts/model/MLmodel", b"flavors: {}\n")
    _put(client, f'{files}/1/r/artifacts/r\u00e9sum\u00e9 "x".txt', b"hi")
    assert keys(bucket_client, s3_bucket) == [
        f"{DEST}/1/r/artifacts/model/MLmodel",
        f"{DEST}/1/r/artifacts/model/model.pkl",
        f'{DEST}/1/r/artifacts/r\u00e9sum\u00e9 "x".txt',
    ]
    got = client.get(f"{files}/1/r/artifacts/model/model.pkl")
    assert (got.status_code, got.content) == (200, b"\x80\x04pickle")
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-length"] == "8"
    assert got.headers["content-disposition"] == 'attachment; filename="model.pkl"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"
    text = client.get(f"{files}/1/r/artifacts/model/MLmodel")
    assert text.headers["content-type"].startswith("text/plain")
    odd = client.get(f'{files}/1/r/artifacts/r\u00e9sum\u00e9 "x".txt')
    assert odd.content == b"hi"
    disposition = odd.headers["content-disposition"]
    assert unquote(disposition.split("''", 1)[1]) == 'r\u00e9sum\u00e9 "x".txt'
    assert client.get(files, params={"path": "1/r/artifacts"}).json() == {
        "files": [
            {"path": "model", "is_dir": True},
            {"path": 'r\u00e9sum\u00e9 "x".txt', "is_dir": False, "file_size": 2},
        ]
    }
    for path in ("1/r/artifacts/model/MLmodel", "1/r/nothing"):  # a file, nothing: {}
        assert client.get(files, params={"path": path}).json() == {}
    assert client.get(files).json() == {"files": [{"path": "1", "is_dir": True}]}
    assert client.delete(f"{files}/1/r/artifacts/model/model.pkl").json() == {}
    missing = client.get(f"{files}/1/r/artifacts/model/model.pkl")
    assert "model/model.pkl" in check_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
    check_error(client.get(f"{files}/1/r/artifacts/model"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert client.delete(f"{files}/1/r/artifacts").json() == {}  # a folder
    assert client.delete(f"{files}/1/never").json() == {}
    assert keys(bucket_client, s3_bucket) == []


def test_a_proxied_runs_artifacts_are_read_from_s3(client: httpx.Client) -> None:
    api = "/api/2.0/mlflow"
    experiment_id = client.post(f"{api}/experiments/create", json={"name": "e"}).json()[
        "experiment_id"
    ]
    run = client.post(f"{api}/runs/create", json={"experiment_id": experiment_id}).json()
    run_id, root = run["run"]["info"]["run_id"], run["run"]["info"]["artifact_uri"]
    assert root == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    rel = root.removeprefix("mlflow-artifacts:/")
    _put(client, f"{ARTIFACTS}/{rel}/model/MLmodel", b"flavors: {}\n")
    _put(client, f"{ARTIFACTS}/{rel}/a.txt", b"12345")
    listing = client.get(f"{api}/artifacts/list", params={"run_id": run_id}).json()
    assert listing == {
        "root_uri": root,
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "model", "is_dir": True},
        ],
    }
    sub = client.get(f"{api}/artifacts/list", params={"run_id": run_id, "path": "model"})
    assert sub.json()["files"] == [{"path": "model/MLmodel", "is_dir": False, "file_size": 12}]
    got = client.get("/get-artifact", params={"run_id": run_id, "path": "model/MLmodel"})
    assert (got.status_code, got.content) == (200, b"flavors: {}\n")
    assert got.headers["content-disposition"] == 'attachment; filename="MLmodel"'
    for path in ("model", "model/nothing"):
        missing = client.get("/get-artifact", params={"run_id": run_id, "path": path})
        check_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_traversal_payloads_never_reach_outside_the_prefix(
    app: Starlette, s3_bucket: str, bucket_client: Any
) -> None:
    """security.md §4.2's payloads, encoded every way, on every proxied route: refused (4xx)
    at the destination's top; below a folder a few are mere names, but every key written
    stays a checked path below the prefix."""
    bucket_client.put_object(Bucket=s3_bucket, Key="canary.txt", Body=b"canary")
    bucket_client.put_object(Bucket=s3_bucket, Key=f"{DEST}/exp/ok.txt", Body=b"ok")
    before = keys(bucket_client, s3_bucket)
    for payload in PAYLOADS:
        for encoded in _encodings(payload):
            for method in ("GET", "PUT", "DELETE"):
                answer = _call(app, method, f"{ARTIFACTS}/{encoded}", _body(b"planted"))
                assert 400 <= answer["status"] < 500, (method, encoded, answer)
            if payload not in ROOT_NAMES:
                answer = _call(app, "GET", f"{ARTIFACTS}?path={encoded}", _body())
                assert 400 <= answer["status"] < 500, ("list", encoded, answer)
    assert keys(bucket_client, s3_bucket) == before
    for payload in PAYLOADS:
        if payload in ROOT_NAMES:
            continue
        for encoded in _encodings(f"exp/{payload}"):
            for method in ("PUT", "GET", "DELETE"):
                answer = _call(app, method, f"{AJAX_ARTIFACTS}/{encoded}", _body(b"planted"))
                assert answer["status"] < 500, (method, encoded, answer)
    after = keys(bucket_client, s3_bucket)
    assert "canary.txt" in after
    for key in after:
        if key != "canary.txt":
            assert key.startswith(f"{DEST}/exp/"), key
            assert check_artifact_path(key) == key, key
    app.state.context.store.close()


# -- proxied: streaming --------------------------------------------------------------------------


def test_upload_streams_to_s3_one_part_at_a_time(
    app: Starlette, s3_bucket: str, bucket_client: Any
) -> None:
    chunk = bytes(range(256)) * 256  # 64 KiB, sent again and again
    total_chunks = 640  # 40 MiB: eight parts of 5 MiB
    digest = hashlib.sha256()
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent == total_chunks:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent += 1
        digest.update(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    warm_up = _call(app, "PUT", f"{ARTIFACTS}/big/small.txt", _body(b"x"))  # loads boto3's model
    assert warm_up["status"] == 200
    tracemalloc.start()
    try:
        answer = _call(app, "PUT", f"{ARTIFACTS}/big/blob.bin", receive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    app.state.context.store.close()
    assert answer["status"] == 200
    assert peak < 3 * MIN_PART_SIZE  # a part or two, never the 40 MiB body
    head = bucket_client.head_object(Bucket=s3_bucket, Key=f"{DEST}/big/blob.bin")
    assert head["ContentLength"] == total_chunks * len(chunk)
    assert head["ETag"].strip('"').endswith("-8")
    stored = bucket_client.get_object(Bucket=s3_bucket, Key=f"{DEST}/big/blob.bin")["Body"]
    on_s3 = hashlib.sha256()
    for block in stored.iter_chunks(MIB):
        on_s3.update(block)
    assert on_s3.hexdigest() == digest.hexdigest()


def test_download_streams_from_s3_in_chunks(
    app: Starlette, s3_bucket: str, bucket_client: Any
) -> None:
    size = 3 * MIB + 7
    data = os.urandom(size)
    bucket_client.put_object(Bucket=s3_bucket, Key=f"{DEST}/big/blob.bin", Body=data)
    answer = _call(app, "GET", f"{ARTIFACTS}/big/blob.bin", _body())
    app.state.context.store.close()
    assert answer["status"] == 200
    assert answer["headers"][b"content-length"] == str(size).encode()
    assert b"".join(answer["chunks"]) == data
    assert max(len(c) for c in answer["chunks"]) <= MIB < size  # piece by piece


def test_an_interrupted_upload_leaves_nothing(
    app: Starlette, s3_bucket: str, bucket_client: Any
) -> None:
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent >= MIN_PART_SIZE + MIB:  # the multipart upload has begun
            return {"type": "http.disconnect"}
        sent += 64 * 1024
        return {"type": "http.request", "body": b"x" * 64 * 1024, "more_body": True}

    answer = _call(app, "PUT", f"{ARTIFACTS}/cut/file.bin", receive)
    app.state.context.store.close()
    assert answer["status"] == 400
    assert keys(bucket_client, s3_bucket) == []
    assert bucket_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


# -- proxied: a bucket that is missing, an endpoint that is down ----------------------------------


def test_a_missing_bucket_answers_503_until_it_exists(
    sqlite_uri: str, s3_env: str, bucket_client: Any
) -> None:
    bucket = new_bucket_name()
    app = create_app(sqlite_uri, artifacts_destination=f"s3://{bucket}/{DEST}")
    (problem,) = app.state.artifacts.problems()
    assert bucket in problem
    assert s3_env in problem
    try:
        with _served(app) as client:
            for response in (
                client.put(f"{ARTIFACTS}/e/a.txt", content=b"x"),
                client.get(f"{ARTIFACTS}/e/a.txt"),
                client.get(ARTIFACTS, params={"path": "e"}),
                client.delete(f"{ARTIFACTS}/e/a.txt"),
            ):
                message = check_error(response, 503, "TEMPORARILY_UNAVAILABLE")
                assert bucket in message
                assert "does not exist" in message
            bucket_client.create_bucket(Bucket=bucket)  # and it works again
            _put(client, f"{ARTIFACTS}/e/a.txt", b"x")
            assert client.get(f"{ARTIFACTS}/e/a.txt").content == b"x"
            assert app.state.artifacts.problems() == []
    finally:
        remove_bucket(bucket_client, bucket)


def test_an_unreachable_endpoint_answers_503(
    sqlite_uri: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", endpoint)
    app = create_app(sqlite_uri, artifacts_destination="s3://bucket-down/x")
    with _served(app) as client:
        for response in (
            client.put(f"{ARTIFACTS}/e/a.txt", content=b"x"),
            client.get(ARTIFACTS, params={"path": "e"}),
        ):
            message = check_error(response, 503, "TEMPORARILY_UNAVAILABLE")
            assert "Cannot reach" in message
            assert endpoint in message


def test_the_cli_warns_about_a_missing_bucket_and_serves(
    s3_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from click.testing import CliRunner

    from trackline.cli import main

    served: list[Starlette] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    bucket = new_bucket_name()
    options = [
        "--backend-store-uri",
        "sqlite:///b.db",
        "--artifacts-destination",
        f"s3://{bucket}/a",
    ]
    result = CliRunner().invoke(main, ["server", *options])
    assert result.exit_code == 0, result.output
    assert "Warning" in result.stderr
    assert f"'{bucket}'" in result.stderr
    assert "does not exist" in result.stderr
    (app,) = served
    app.state.context.store.close()


# -- direct: the server hands out s3:// locations ---------------------------------------------


def test_direct_mode_locations_and_reads(sqlite_uri: str, s3_bucket: str, tmp_path: Path) -> None:
    root = f"s3://{s3_bucket}/direct"
    app = create_app(sqlite_uri, root, serve_artifacts=False)
    assert app.state.artifacts.problems() == []
    api = "/api/2.0/mlflow"
    with _served(app) as client:
        created = client.post(f"{api}/experiments/create", json={"name": "d"}).json()
        experiment = client.get(f"{api}/experiments/get", params=created).json()["experiment"]
        assert experiment["artifact_location"] == f"{root}/{created['experiment_id']}"
        team = {"name": "team", "artifact_location": f"{root}/team/a"}
        assert client.post(f"{api}/experiments/create", json=team).status_code == 200
        refused = [f"s3://other-{s3_bucket}/direct/a", f"s3://{s3_bucket}/directx/a",
                   f"s3://{s3_bucket}/direct/../x", f"s3://{s3_bucket}/direct//x",
                   "mlflow-artifacts:/x", (tmp_path / "x").as_uri()]  # fmt: skip
        for index, location in enumerate(refused):
            body = {"name": f"bad{index}", "artifact_location": location}
            response = client.post(f"{api}/experiments/create", json=body)
            check_error(response, 400, "INVALID_PARAMETER_VALUE")
        run = client.post(f"{api}/runs/create", json=created).json()["run"]["info"]
        assert run["artifact_uri"].startswith(f"{root}/{created['experiment_id']}/")
        source = tmp_path / "model.txt"
        source.write_text("direct")
        S3ArtifactRepository(run["artifact_uri"]).log_artifact(source, "m")  # a client's write
        listing = client.get(f"{api}/artifacts/list", params={"run_id": run["run_id"]}).json()
        assert listing == {
            "root_uri": run["artifact_uri"],
            "files": [{"path": "m", "is_dir": True}],
        }
        params = {"run_id": run["run_id"], "path": "m/model.txt"}
        got = client.get("/get-artifact", params=params)
        assert (got.status_code, got.content) == (200, b"direct")
        check_error(client.get(f"{ARTIFACTS}/x"), 503, "TEMPORARILY_UNAVAILABLE")


# -- real servers, real clients -----------------------------------------------------------------


@pytest.fixture(scope="module")
def module_bucket(moto_endpoint: str) -> Iterator[str]:
    client = s3_client(moto_endpoint)
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        remove_bucket(client, name)


def _start(root: Path, endpoint: str, *options: str) -> ServerProcess:
    """``trackline server`` with ``options``, its environment pointing at the moto server."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_environment(endpoint, root).items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        backend = ("--backend-store-uri", f"sqlite:///{root / 'backend.db'}")
        return start_server(trackline_command(*backend, *options), root, root / "unused")


@pytest.fixture(scope="module")
def proxied_server(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, module_bucket: str
) -> Iterator[ServerProcess]:
    """``trackline server --artifacts-destination s3://<bucket>/mlartifacts``."""
    root = tmp_path_factory.mktemp("s3-proxied")
    server = _start(root, moto_endpoint, "--artifacts-destination", f"s3://{module_bucket}/{DEST}")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def direct_server(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, module_bucket: str
) -> Iterator[ServerProcess]:
    """``trackline server --default-artifact-root s3://<bucket>/direct --no-serve-artifacts``."""
    root = tmp_path_factory.mktemp("s3-direct")
    server = _start(
        root, moto_endpoint, "--default-artifact-root", f"s3://{module_bucket}/direct",
        "--no-serve-artifacts",
    )  # fmt: skip
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A file of 12 MiB (two parts at the default 8 MiB) and a small nested tree."""
    folder = tmp_path / "files"
    (folder / "tree" / "sub").mkdir(parents=True)
    (folder / "tree" / "a.txt").write_text("aaa")
    (folder / "tree" / "sub" / "\u6a21\u578b.json").write_text('{"k": 1}')
    with open(folder / "weights.bin", "wb") as f:
        f.write(os.urandom(12 * MIB))
    return folder


def _same(a: Path, b: Path) -> bool:
    return hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


@pytest.mark.usefixtures("_restore_environ")
def test_stock_mlflow_client_through_the_s3_proxy(
    proxied_server: ServerProcess, module_bucket: str, s3_env: str, files: Path, tmp_path: Path
) -> None:
    mlflow: ModuleType = import_stock_mlflow()
    mlflow.set_tracking_uri(proxied_server.url)
    try:
        mlflow.set_experiment("s3-stock")
        with mlflow.start_run() as run:
            mlflow.log_artifact(str(files / "weights.bin"), "model")
            mlflow.log_artifacts(str(files / "tree"), "tree")
            mlflow.log_text("hello", "notes/hello.txt")
        run_id = run.info.run_id
        assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
        client = mlflow.MlflowClient()
        listed = sorted((f.path, f.is_dir) for f in client.list_artifacts(run_id))
        assert listed == [("model", True), ("notes", True), ("tree", True)]
        dst = tmp_path / "dst"
        dst.mkdir()
        local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(dst)))
        assert _same(local / "model" / "weights.bin", files / "weights.bin")
        assert (local / "tree" / "sub" / "\u6a21\u578b.json").read_text() == '{"k": 1}'
        assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello"
    finally:
        reset_stock_mlflow(mlflow)
    bucket = s3_client(s3_env)
    root = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    stored = keys(bucket, module_bucket)
    assert f"{DEST}/{root}/tree/sub/\u6a21\u578b.json" in stored
    head = bucket.head_object(Bucket=module_bucket, Key=f"{DEST}/{root}/model/weights.bin")
    assert head["ETag"].strip('"').endswith("-2")  # streamed up in 8 MiB parts


@pytest.mark.usefixtures("_restore_environ")
def test_trackline_client_through_the_s3_proxy(
    proxied_server: ServerProcess, module_bucket: str, s3_env: str, files: Path, tmp_path: Path
) -> None:
    import trackline

    trackline.set_tracking_uri(proxied_server.url)
    try:
        trackline.set_experiment("s3-trackline")
        with trackline.start_run() as run:
            trackline.log_artifact(str(files / "weights.bin"), "model")
            trackline.log_artifacts(str(files / "tree"), "tree")
        run_id = run.info.run_id
        client = trackline.MlflowClient()
        assert [f.path for f in client.list_artifacts(run_id, "tree")] == ["tree/a.txt", "tree/sub"]
        local = Path(client.download_artifacts(run_id, "", str(tmp_path)))
        assert _same(local / "model" / "weights.bin", files / "weights.bin")
        assert (local / "tree" / "sub" / "\u6a21\u578b.json").read_text() == '{"k": 1}'
    finally:
        reset_trackline()
    root = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    assert f"{DEST}/{root}/model/weights.bin" in keys(s3_client(s3_env), module_bucket)


@pytest.mark.usefixtures("_restore_environ")
def test_clients_write_s3_directly(
    direct_server: ServerProcess, module_bucket: str, s3_env: str, files: Path, tmp_path: Path
) -> None:
    """Direct mode: trackline's client and the stock one write the bucket themselves (the
    server never sees the bytes); each reads what the other wrote, and so does the server."""
    import trackline

    trackline.set_tracking_uri(direct_server.url)
    try:
        trackline.set_experiment("s3-direct")
        with trackline.start_run() as run:
            trackline.log_artifact(str(files / "weights.bin"), "model")
            trackline.log_artifacts(str(files / "tree"), "tree")
        assert run.info.artifact_uri.startswith(f"s3://{module_bucket}/direct/")
        listed = [f.path for f in trackline.MlflowClient().list_artifacts(run.info.run_id)]
        assert listed == ["model", "tree"]
    finally:
        reset_trackline()
    prefix = run.info.artifact_uri.removeprefix(f"s3://{module_bucket}/")
    bucket = s3_client(s3_env)
    head = bucket.head_object(Bucket=module_bucket, Key=f"{prefix}/model/weights.bin")
    assert head["ETag"].strip('"').endswith("-2")  # multipart, from the client itself
    mlflow: ModuleType = import_stock_mlflow()
    mlflow.set_tracking_uri(direct_server.url)
    try:
        local = Path(
            mlflow.artifacts.download_artifacts(
                run_id=run.info.run_id, artifact_path="tree", dst_path=str(tmp_path)
            )
        )
        assert (local / "sub" / "\u6a21\u578b.json").read_text() == '{"k": 1}'
        with mlflow.start_run(experiment_id=run.info.experiment_id) as stock_run:
            mlflow.log_text("from mlflow", "notes/stock.txt")
    finally:
        reset_stock_mlflow(mlflow)
    trackline.set_tracking_uri(direct_server.url)
    try:
        text = trackline.MlflowClient().download_artifacts(stock_run.info.run_id, "notes/stock.txt")
        assert Path(text).read_text() == "from mlflow"
    finally:
        reset_trackline()
    listing = httpx.get(
        f"{direct_server.url}/api/2.0/mlflow/artifacts/list",
        params={"run_id": stock_run.info.run_id, "path": "notes"},
    ).json()
    assert listing["files"] == [{"path": "notes/stock.txt", "is_dir": False, "file_size": 11}]
