"""The app factory: stores, the lifespan, and the request machinery shared by every route."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette

from trackline.exceptions import InvalidParameterValue
from trackline.server import create_app
from trackline.server.app import ENV_ARTIFACT_ROOT, ENV_BACKEND_STORE_URI, create_app_from_env
from trackline.server.routes import Endpoint, ServerContext, build_routes
from trackline.server.wire import Field, Message, Params
from trackline.store.sql.tracking import SqlTrackingStore

from .conftest import SyncASGITransport


def _serve(app: Starlette) -> Iterator[httpx.Client]:
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with (
            lifespan,
            httpx.Client(
                transport=SyncASGITransport(app, portal), base_url="http://127.0.0.1"
            ) as client,
        ):
            yield client


class _Spy:
    """Records the lifecycle calls made on a store."""

    def __init__(self, store: SqlTrackingStore) -> None:
        self.calls: list[str] = []
        flush, close = store.flush, store.close

        def spy_flush() -> None:
            self.calls.append("flush")
            flush()

        def spy_close() -> None:
            self.calls.append("close")
            close()

        store.flush = spy_flush  # type: ignore[method-assign]
        store.close = spy_close  # type: ignore[method-assign]


def test_owned_store_is_flushed_and_closed_on_shutdown(sqlite_uri: str, tmp_path: Path) -> None:
    app = create_app(sqlite_uri, str(tmp_path))
    spy = _Spy(app.state.context.store)
    for client in _serve(app):
        assert client.get("/health").text == "OK"
        assert spy.calls == []
    assert spy.calls == ["flush", "close"]


def test_injected_store_is_flushed_but_left_open(sqlite_uri: str, tmp_path: Path) -> None:
    store = SqlTrackingStore(sqlite_uri, tmp_path.as_uri())
    spy = _Spy(store)
    app = create_app("ignored://", store=store)
    assert app.state.context.artifact_root == tmp_path.as_uri()
    for client in _serve(app):
        body = {"name": "e", "artifact_location": str(tmp_path / "inside")}
        assert client.post("/api/2.0/mlflow/experiments/create", json=body).status_code == 200
    assert spy.calls == ["flush"]
    assert store.get_experiment_by_name("e") is not None
    store.close()


def test_folder_uri_gets_a_database_in_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mlruns"
    app = create_app(str(folder))
    for client in _serve(app):
        eid = client.post("/api/2.0/mlflow/experiments/create", json={"name": "x"}).json()
        found = client.get("/api/2.0/mlflow/experiments/get", params=eid).json()
        assert found["experiment"]["artifact_location"].startswith(folder.as_uri())
    assert (folder / "trackline.db").is_file()


def test_a_server_does_not_serve_another_server(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="database or a folder"):
        create_app("http://elsewhere:5000", str(tmp_path))


def test_app_from_environment(
    sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_BACKEND_STORE_URI, sqlite_uri)
    monkeypatch.setenv(ENV_ARTIFACT_ROOT, str(tmp_path / "art"))
    app = create_app_from_env()
    assert app.state.context.artifact_root == (tmp_path / "art").as_uri()
    for client in _serve(app):
        found = client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
        assert found.json()["experiment"]["artifact_location"] == (tmp_path / "art" / "0").as_uri()


# -- request machinery ---------------------------------------------------------------------

ECHO = Message("Echo", (Field("name", "string", required=True), Field("ids", "string",
                                                                      repeated=True)))  # fmt: skip


def _echo(ctx: ServerContext, req: Params) -> Mapping[str, Any]:
    return {"got": dict(req)}


@pytest.fixture
def echo_client(sqlite_uri: str, tmp_path: Path) -> Iterator[httpx.Client]:
    store = SqlTrackingStore(sqlite_uri, tmp_path.as_uri())
    endpoint = Endpoint("echo", ("GET", "POST", "DELETE", "PATCH"), ECHO, ECHO, _echo, "Echo.",
                        prefixes=("/x",), max_body_bytes=100)  # fmt: skip
    app = Starlette(routes=build_routes([endpoint], ServerContext(store, tmp_path.as_uri())))
    yield from _serve(app)
    store.close()


def test_delete_reads_a_json_body_or_the_query(echo_client: httpx.Client) -> None:
    response = echo_client.request("DELETE", "/x/echo", json={"name": "a", "ids": ["1"]})
    assert response.json() == {"got": {"name": "a", "ids": ["1"]}}
    response = echo_client.request("DELETE", "/x/echo", params={"name": "q"})
    assert response.json() == {"got": {"name": "q"}}


def test_get_lists_come_from_repeated_keys(echo_client: httpx.Client) -> None:
    response = echo_client.get("/x/echo", params=[("name", "n"), ("ids", "1"), ("ids", "2")])
    assert response.json() == {"got": {"name": "n", "ids": ["1", "2"]}}


def test_post_and_patch_need_json_content_type(echo_client: httpx.Client) -> None:
    for method in ("POST", "PATCH"):
        ok = echo_client.request(
            method,
            "/x/echo",
            content=b'{"name": "a"}',
            headers={"content-type": "application/json; charset=utf-8"},
        )
        assert ok.json() == {"got": {"name": "a"}}
        missing = echo_client.request(method, "/x/echo", content=b'{"name": "a"}')
        assert missing.status_code == 400
        assert missing.json() == {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": "Bad Request. Content-Type header is missing.",
        }
        wrong = echo_client.request(method, "/x/echo", content=b'{"name": "a"}',
                                    headers={"content-type": "text/plain"})  # fmt: skip
        assert wrong.status_code == 400
        assert "Content-Type must be" in wrong.json()["message"]


def test_body_size_limit(echo_client: httpx.Client) -> None:
    response = echo_client.post("/x/echo", json={"name": "a" * 200})
    assert response.status_code == 400
    assert "at most 100 bytes" in response.json()["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"name": "'
        yield b"a" * 200
        yield b'"}'

    response = echo_client.post("/x/echo", content=chunks(),
                                headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 400
