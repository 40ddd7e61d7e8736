"""The artifact routes: proxied ``mlflow-artifacts`` files and listings, ``artifacts/list`` and
``get-artifact``, on a server that proxies artifacts into ``destination``."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from trackline.server import create_app
from trackline.server.routes.artifacts import content_type, local_destination

from ..conftest import Api, check_error

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
AJAX_ARTIFACTS = "/ajax-api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    """The server's ``--artifacts-destination`` (not created: the first upload makes it)."""
    return tmp_path / "mlartifacts"


@pytest.fixture
def app(sqlite_uri: str, destination: Path) -> Starlette:
    """A server that proxies artifacts into ``destination`` (no default artifact root)."""
    return create_app(sqlite_uri, artifacts_destination=str(destination))


@pytest.fixture(params=[ARTIFACTS, AJAX_ARTIFACTS], ids=["api", "ajax"])
def files(request: pytest.FixtureRequest) -> str:
    """Each of the two prefixes of the proxied-artifact routes."""
    value: str = request.param
    return value


def _run(api: Api) -> tuple[str, str]:
    """A new run: (run id, its root relative to the destination)."""
    experiment_id = api.experiment()
    run_id = api.run(experiment_id)
    return run_id, f"{experiment_id}/{run_id}/artifacts"


def _put(client: httpx.Client, url: str, content: bytes) -> None:
    response = client.put(url, content=content)
    assert response.status_code == 200, response.text
    assert response.json() == {}


# -- the proxied-artifact service --------------------------------------------------------


def test_new_experiments_and_runs_get_proxied_roots(api: Api) -> None:
    default = api.ok("GET", "experiments/get", {"experiment_id": "0"})["experiment"]
    assert default["artifact_location"] == "mlflow-artifacts:/0"
    experiment_id = api.experiment()
    found = api.ok("GET", "experiments/get", {"experiment_id": experiment_id})["experiment"]
    assert found["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    run = api.ok("POST", "runs/create", {"experiment_id": experiment_id})["run"]["info"]
    assert run["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run['run_id']}/artifacts"


def test_upload_download_delete(client: httpx.Client, files: str, destination: Path) -> None:
    _put(client, f"{files}/1/r/artifacts/model/model.pkl", b"\x80\x04pickle")
    stored = destination / "1" / "r" / "artifacts" / "model" / "model.pkl"
    assert stored.read_bytes() == b"\x80\x04pickle"
    assert [p.name for p in stored.parent.iterdir()] == ["model.pkl"]  # no temp file left
    got = client.get(f"{files}/1/r/artifacts/model/model.pkl")
    assert got.status_code == 200
    assert got.content == b"\x80\x04pickle"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"] == 'attachment; filename="model.pkl"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"
    deleted = client.delete(f"{files}/1/r/artifacts/model/model.pkl")
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert not stored.exists()
    missing = client.get(f"{files}/1/r/artifacts/model/model.pkl")
    assert "model/model.pkl" in check_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_upload_replaces_a_file_and_refuses_folders(
    client: httpx.Client, destination: Path
) -> None:
    _put(client, f"{ARTIFACTS}/e/a.txt", b"first")
    _put(client, f"{ARTIFACTS}/e/a.txt", b"second")
    assert (destination / "e" / "a.txt").read_bytes() == b"second"
    _put(client, f"{ARTIFACTS}/e/d/b.txt", b"b")
    check_error(client.put(f"{ARTIFACTS}/e/d", content=b"x"), 400, "INVALID_PARAMETER_VALUE")
    under_a_file = client.put(f"{ARTIFACTS}/e/a.txt/c.txt", content=b"x")
    check_error(under_a_file, 400, "INVALID_PARAMETER_VALUE")
    assert (destination / "e" / "a.txt").read_bytes() == b"second"
    check_error(client.get(f"{ARTIFACTS}/e/d"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_delete_removes_folders_and_ignores_missing_paths(
    client: httpx.Client, destination: Path
) -> None:
    _put(client, f"{ARTIFACTS}/e/d/b.txt", b"b")
    _put(client, f"{ARTIFACTS}/e/d/deeper/c.txt", b"c")
    assert client.delete(f"{ARTIFACTS}/e/d").json() == {}
    assert not (destination / "e" / "d").exists()
    assert client.delete(f"{ARTIFACTS}/e/never").json() == {}


def test_file_routes_need_a_path_and_take_no_query(client: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE"):
        check_error(client.request(method, f"{ARTIFACTS}/"), 400, "INVALID_PARAMETER_VALUE")
        with_query = client.request(method, f"{ARTIFACTS}/e/a.txt", params={"x": "1"})
        check_error(with_query, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MLmodel", "text/plain"),
        ("conda.yaml", "text/plain"),
        ("input_example.json", "text/plain"),
        ("requirements.txt", "text/plain"),
        ("model.pkl", "application/octet-stream"),
        ("model.ubj", "application/octet-stream"),
        ("plot.png", "image/png"),
        ("page.html", "text/html"),
    ],
)
def test_content_type_by_name(name: str, expected: str) -> None:
    assert content_type(name) == expected


def test_download_headers_for_text_and_unusual_names(client: httpx.Client) -> None:
    _put(client, f"{ARTIFACTS}/e/MLmodel", b"flavors: {}\n")
    got = client.get(f"{ARTIFACTS}/e/MLmodel")
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == 'attachment; filename="MLmodel"'
    _put(client, f'{ARTIFACTS}/e/r\u00e9sum\u00e9 "x".txt', b"hi")
    odd = client.get(f'{ARTIFACTS}/e/r\u00e9sum\u00e9 "x".txt')
    assert odd.content == b"hi"
    disposition = odd.headers["content-disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert unquote(disposition.split("''", 1)[1]) == 'r\u00e9sum\u00e9 "x".txt'


def test_listing_shape(client: httpx.Client, files: str, destination: Path) -> None:
    _put(client, f"{files}/1/r/artifacts/a.txt", b"12345")
    _put(client, f"{files}/1/r/artifacts/d/b.txt", b"b")
    (destination / "1" / "r" / "artifacts" / "empty").mkdir()
    listing = client.get(files, params={"path": "1/r/artifacts"}).json()
    assert listing == {
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "d", "is_dir": True},
            {"path": "empty", "is_dir": True},
        ]
    }
    assert client.get(files, params={"path": "1/r/artifacts/d"}).json() == {
        "files": [{"path": "b.txt", "is_dir": False, "file_size": 1}]
    }
    # a file, a missing path and an empty folder all list as {}
    for path in ("1/r/artifacts/a.txt", "1/r/nothing", "1/r/artifacts/empty"):
        response = client.get(files, params={"path": path})
        assert (response.status_code, response.json()) == (200, {}), path
    assert client.get(files).json() == {"files": [{"path": "1", "is_dir": True}]}


def test_listing_hides_uploads_in_progress(client: httpx.Client, destination: Path) -> None:
    _put(client, f"{ARTIFACTS}/e/done.txt", b"x")
    (destination / "e" / ".tmp-abc.part").write_bytes(b"half")
    assert client.get(ARTIFACTS, params={"path": "e"}).json() == {
        "files": [{"path": "done.txt", "is_dir": False, "file_size": 1}]
    }


def test_destination_must_be_local(tmp_path: Path) -> None:
    assert local_destination(str(tmp_path / "a")) == (tmp_path / "a").resolve()
    assert local_destination((tmp_path / "b").as_uri()) == (tmp_path / "b").resolve()
    with pytest.raises(Exception, match="local folder"):
        local_destination("s3://bucket/artifacts")


# -- streaming -----------------------------------------------------------------------------


def _scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip


def test_upload_streams_to_disk_without_holding_the_body(app: Starlette, destination: Path) -> None:
    chunk = bytes(range(256)) * 256  # 64 KiB, one object sent again and again
    total_chunks = 800  # 50 MiB
    digest = hashlib.sha256()
    seen_on_disk: list[int] = []
    sent = 0
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent == total_chunks // 2:
            parts = list((destination / "big").glob(".tmp-*.part"))
            seen_on_disk.append(parts[0].stat().st_size if parts else 0)
        if sent == total_chunks:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent += 1
        digest.update(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    tracemalloc.start()
    try:
        anyio.run(app, _scope("PUT", f"{ARTIFACTS}/big/blob.bin"), receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == [200]
    # half-way through the body, most of what was sent is already in the temporary file
    assert seen_on_disk
    assert seen_on_disk[0] >= (total_chunks // 2 - 32) * len(chunk)
    assert peak < 16 * 1024 * 1024  # the server never held the 50 MiB body
    stored = destination / "big" / "blob.bin"
    assert stored.stat().st_size == total_chunks * len(chunk)
    on_disk = hashlib.sha256()
    with open(stored, "rb") as f:
        while block := f.read(1 << 20):
            on_disk.update(block)
    assert on_disk.hexdigest() == digest.hexdigest()
    assert os.listdir(stored.parent) == ["blob.bin"]


def test_download_streams_in_chunks(app: Starlette, destination: Path) -> None:
    folder = destination / "big"
    folder.mkdir(parents=True)
    size = 20 * 1024 * 1024 + 7
    with open(folder / "blob.bin", "wb") as f:
        f.truncate(size)
    chunks: list[int] = []
    headers: dict[bytes, bytes] = {}
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # then the client stays connected: wait (the response watches this)
            await anyio.sleep_forever()
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers.update(message["headers"])
        elif message["type"] == "http.response.body":
            chunks.append(len(message.get("body", b"")))

    anyio.run(app, _scope("GET", f"{ARTIFACTS}/big/blob.bin"), receive, send)
    assert headers[b"content-length"] == str(size).encode()
    assert sum(chunks) == size
    assert max(chunks) <= 1024 * 1024 < size  # sent piece by piece, not as one body


def test_interrupted_upload_leaves_nothing(app: Starlette, destination: Path) -> None:
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > 3:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        pass

    anyio.run(app, _scope("PUT", f"{ARTIFACTS}/cut/file.bin"), receive, send)
    assert list((destination / "cut").iterdir()) == []


# -- serving disabled ------------------------------------------------------------------------


@pytest.mark.parametrize("destination_given", [True, False], ids=["no-serve", "no-destination"])
def test_without_serving_the_proxied_routes_answer_503(
    sqlite_uri: str, tmp_path: Path, destination_given: bool
) -> None:
    app = create_app(
        sqlite_uri,
        serve_artifacts=not destination_given,
        artifacts_destination=str(tmp_path / "dest") if destination_given else None,
    )
    transport = httpx.ASGITransport(app=app)

    async def calls() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [
                await client.put(f"{ARTIFACTS}/e/a.txt", content=b"x"),
                await client.get(f"{ARTIFACTS}/e/a.txt"),
                await client.delete(f"{AJAX_ARTIFACTS}/e/a.txt"),
                await client.get(ARTIFACTS, params={"path": "e"}),
                await client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": 0}),
            ]

    *proxied, experiment = anyio.run(calls)
    for response in proxied:
        assert "--no-serve-artifacts" in check_error(response, 503, "TEMPORARILY_UNAVAILABLE")
    assert not (tmp_path / "dest").exists()
    # without proxying, new experiments keep the store's local default root
    location = experiment.json()["experiment"]["artifact_location"]
    assert location.startswith("file://")
    app.state.context.store.close()


# -- a run's artifacts: artifacts/list and get-artifact ----------------------------------------


def test_artifacts_list_of_a_proxied_run(api: Api, client: httpx.Client) -> None:
    run_id, root = _run(api)
    _put(client, f"{ARTIFACTS}/{root}/a.txt", b"12345")
    _put(client, f"{ARTIFACTS}/{root}/d/b.txt", b"b")
    listing = api.ok("GET", "artifacts/list", {"run_id": run_id})
    assert listing == {
        "root_uri": f"mlflow-artifacts:/{root}",
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 5},
            {"path": "d", "is_dir": True},
        ],
    }
    sub = api.ok("GET", "artifacts/list", {"run_uuid": run_id, "path": "d"})
    assert sub["files"] == [{"path": "d/b.txt", "is_dir": False, "file_size": 1}]
    assert api.ok("GET", "artifacts/list", {"run_id": run_id, "path": "a.txt"}) == {
        "root_uri": f"mlflow-artifacts:/{root}"
    }
    api.fail("GET", "artifacts/list", {"run_id": "f" * 32}, 404, "RESOURCE_DOES_NOT_EXIST")
    api.fail("GET", "artifacts/list", {}, 400, "INVALID_PARAMETER_VALUE")


def test_get_artifact_of_a_proxied_run(api: Api, client: httpx.Client) -> None:
    run_id, root = _run(api)
    _put(client, f"{ARTIFACTS}/{root}/model/MLmodel", b"flavors: {}\n")
    got = client.get("/get-artifact", params={"run_id": run_id, "path": "model/MLmodel"})
    assert got.status_code == 200
    assert got.content == b"flavors: {}\n"
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == 'attachment; filename="MLmodel"'
    assert got.headers["x-content-type-options"] == "nosniff"
    by_uuid = client.get("/get-artifact", params={"run_uuid": run_id, "path": "model/MLmodel"})
    assert by_uuid.content == b"flavors: {}\n"
    for path in ("model", "model/nothing"):
        missing = client.get("/get-artifact", params={"run_id": run_id, "path": path})
        check_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
    no_path = client.get("/get-artifact", params={"run_id": run_id})
    check_error(no_path, 400, "INVALID_PARAMETER_VALUE")


def test_model_version_and_logged_model_files(api: Api, client: httpx.Client) -> None:
    run_id, root = _run(api)
    _put(client, f"{ARTIFACTS}/{root}/model/MLmodel", b"flavors: {}\n")
    api.ok("POST", "registered-models/create", {"name": "files"})
    source = f"mlflow-artifacts:/{root}/model"
    api.ok("POST", "model-versions/create", {"name": "files", "source": source, "run_id": run_id})
    query = {"name": "files", "version": "1", "path": "MLmodel"}
    got = client.get("/model-versions/get-artifact", params=query)
    assert got.content == b"flavors: {}\n"
    assert got.headers["content-disposition"] == 'attachment; filename="MLmodel"'
    assert got.headers["x-content-type-options"] == "nosniff"
    for params, status, code in (
        ({**query, "version": "2"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({**query, "name": "nobody"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({**query, "path": "nothing"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({**query, "version": "one"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"name": "files", "version": "1"}, 400, "INVALID_PARAMETER_VALUE"),
    ):
        check_error(client.get("/model-versions/get-artifact", params=params), status, code)
    experiment_id = api.experiment("logged")
    model = api.ok("POST", "logged-models", {"experiment_id": experiment_id})["model"]["info"]
    location = model["artifact_uri"].removeprefix("mlflow-artifacts:/")
    _put(client, f"{ARTIFACTS}/{location}/MLmodel", b"model\n")
    for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        url = f"{prefix}/logged-models/{model['model_id']}/artifacts/files"
        assert client.get(url, params={"artifact_file_path": "MLmodel"}).content == b"model\n"
        check_error(client.get(url), 400, "INVALID_PARAMETER_VALUE")
    missing = "/api/2.0/mlflow/logged-models/m-" + "0" * 32 + "/artifacts/files"
    check_error(
        client.get(missing, params={"artifact_file_path": "MLmodel"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_runs_with_a_local_root_are_read_from_it(sqlite_uri: str, tmp_path: Path) -> None:
    local_root = tmp_path / "artifacts_local"
    app = create_app(sqlite_uri, str(local_root), artifacts_destination=str(tmp_path / "dest"))
    store = app.state.context.store
    experiment_id = store.create_experiment("local")
    run = store.create_run(experiment_id, "u", 0, [], "r")
    root = Path(unquote(run.info.artifact_uri.removeprefix("file://")))
    assert root.is_relative_to(local_root)
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "f.txt").write_text("local")
    for client in _clients(app):
        listing = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id})
        assert listing.json()["files"] == [{"path": "sub", "is_dir": True}]
        params = {"run_id": run.info.run_id, "path": "sub/f.txt"}
        assert client.get("/get-artifact", params=params).text == "local"


def test_runs_outside_the_servers_roots_are_not_served(
    sqlite_uri: str, tmp_path: Path, destination: Path
) -> None:
    app = create_app(sqlite_uri, artifacts_destination=str(destination))
    store = app.state.context.store
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "secret.txt").parent.mkdir()
    (elsewhere / "secret.txt").write_text("secret")
    # a location no client could set through the server, written into the database directly
    outside = store.create_experiment("planted", elsewhere.as_uri())
    beside = store.create_experiment("beside", (tmp_path / "mlruns" / "b").as_uri())
    planted = store.create_run(outside, "u", 0, [], "p").info.run_id
    local = store.create_run(beside, "u", 0, [], "l").info.run_id
    for client in _clients(app):
        listing = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": planted})
        assert "outside this server's artifact roots" in check_error(
            listing, 400, "INVALID_PARAMETER_VALUE"
        )
        got = client.get("/get-artifact", params={"run_id": planted, "path": "secret.txt"})
        check_error(got, 400, "INVALID_PARAMETER_VALUE")
        # the store's own default root (beside the database) is one of the server's roots
        beside_listing = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": local})
        assert beside_listing.status_code == 200


def test_experiment_locations_in_proxied_mode(api: Api) -> None:
    body = {"name": "team", "artifact_location": "mlflow-artifacts:/team/x"}
    experiment_id = api.ok("POST", "experiments/create", body)["experiment_id"]
    run_id = api.run(experiment_id)
    run = api.ok("GET", "runs/get", {"run_id": run_id})["run"]["info"]
    assert run["artifact_uri"] == f"mlflow-artifacts:/team/x/{run_id}/artifacts"
    refused = [
        "mlflow-artifacts:/../x",
        "mlflow-artifacts:/team/../../x",
        "mlflow-artifacts:/%2e%2e/x",
        "mlflow-artifacts://evil.example/x",
        "mlflow-artifacts:/a?b=/../..",
        "mlflow-artifacts:/a#/../..",
        "file:///tmp/x",
        "/tmp/x",
        "s3://bucket/x",
        "http://evil.example/api/2.0/mlflow-artifacts/artifacts/x",
    ]
    for index, location in enumerate(refused):
        body = {"name": f"bad{index}", "artifact_location": location}
        api.fail("POST", "experiments/create", body, 400, "INVALID_PARAMETER_VALUE")


def _clients(app: Starlette) -> Iterator[httpx.Client]:
    """One in-process client of ``app`` (its lifespan around it, closing the store)."""
    from anyio.from_thread import start_blocking_portal

    from ..conftest import SyncASGITransport

    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with (
            lifespan,
            httpx.Client(
                transport=SyncASGITransport(app, portal), base_url="http://127.0.0.1"
            ) as client,
        ):
            yield client


# -- configuration -----------------------------------------------------------------------------


def test_app_from_environment_proxies_artifacts(
    sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackline.server.app import (
        ENV_ARTIFACTS_DESTINATION,
        ENV_BACKEND_STORE_URI,
        ENV_SERVE_ARTIFACTS,
        create_app_from_env,
    )

    monkeypatch.setenv(ENV_BACKEND_STORE_URI, sqlite_uri)
    monkeypatch.setenv(ENV_ARTIFACTS_DESTINATION, str(tmp_path / "dest"))
    monkeypatch.setenv(ENV_SERVE_ARTIFACTS, "true")
    app = create_app_from_env()
    assert app.state.context.artifact_root == "mlflow-artifacts:/"
    for client in _clients(app):
        _put(client, f"{ARTIFACTS}/e/a.txt", b"x")
    assert (tmp_path / "dest" / "e" / "a.txt").read_bytes() == b"x"
    monkeypatch.setenv(ENV_SERVE_ARTIFACTS, "false")
    off = create_app_from_env()
    assert off.state.context.artifact_root.startswith("file://")
    for client in _clients(off):
        check_error(client.get(f"{ARTIFACTS}/e/a.txt"), 503, "TEMPORARILY_UNAVAILABLE")


def test_cli_server_proxies_into_mlartifacts_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from click.testing import CliRunner

    from trackline.cli import main

    served: list[Starlette] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    result = CliRunner().invoke(main, ["server", "--backend-store-uri", "sqlite:///b.db"])
    assert result.exit_code == 0, result.output
    (app,) = served
    assert app.state.context.artifact_root == "mlflow-artifacts:/"
    for client in _clients(app):
        _put(client, f"{ARTIFACTS}/e/a.txt", b"x")
    assert (tmp_path / "mlartifacts" / "e" / "a.txt").read_bytes() == b"x"
    result = CliRunner().invoke(main, ["server", "--artifacts-destination", "gs://b/x"])
    assert result.exit_code == 1
    assert "must be a local folder (a path or file: URI) or an s3:// URI" in result.output
