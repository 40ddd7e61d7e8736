"""How JSON endpoints are served: the exact-path dispatch in front of the router, where each
handler runs (event loop or worker thread), and the warm-up of a served store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from tests.asgi import SyncASGITransport

from trackline.server import create_app
from trackline.server.errors import handle_http_exception
from trackline.server.routes import (
    API_PREFIX,
    EndpointApp,
    EndpointDispatch,
    EndpointRoute,
    ServerContext,
    all_endpoints,
    build_routes,
)
from trackline.store.sql import runs as run_sql
from trackline.store.sql.tracking import SqlTrackingStore


def _client(app: Any, portal: Any, root_path: str = "") -> httpx.Client:
    transport = SyncASGITransport(app, portal)
    if root_path:
        transport._transport.root_path = root_path
    return httpx.Client(transport=transport, base_url="http://127.0.0.1")


@pytest.fixture
def store(sqlite_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(sqlite_uri, tmp_path.as_uri())
    yield opened
    opened.close()


@pytest.fixture
def both(store: SqlTrackingStore, tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients of the full app (dispatch in front) and of a bare router over the same
    endpoints and store."""
    full = create_app("", store=store)
    bare = Starlette(
        routes=build_routes(all_endpoints(), ServerContext(store, tmp_path.as_uri())),
        exception_handlers={HTTPException: handle_http_exception},
    )
    with start_blocking_portal() as portal, _client(full, portal) as a, _client(bare, portal) as b:
        yield a, b


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code
    if a.status_code != 405:  # its message lists the methods in no fixed order
        assert a.content == b.content
    assert a.headers["content-type"] == b.headers["content-type"]
    assert a.headers["content-length"] == b.headers["content-length"]


def test_the_dispatch_answers_as_the_router(both: tuple[httpx.Client, httpx.Client]) -> None:
    full, bare = both
    experiment = full.post(f"{API_PREFIX}/experiments/create", json={"name": "d"}).json()
    run = full.post(f"{API_PREFIX}/runs/create", json=experiment).json()["run"]
    run_id = run["info"]["run_id"]
    batch = {"run_id": run_id, "metrics": [{"key": "m", "value": 1.5, "timestamp": 1}]}
    assert full.post(f"{API_PREFIX}/runs/log-batch", json=batch).json() == {}
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "runs/get", {"params": {"run_id": run_id}}),
        ("GET", "runs/get", {"params": {"run_id": "nope"}}),
        ("GET", "runs/get", {}),
        ("GET", "metrics/get-history", {"params": {"run_id": run_id, "metric_key": "m"}}),
        ("POST", "runs/search", {"json": {"experiment_ids": [experiment["experiment_id"]]}}),
        ("POST", "runs/search", {"content": b"{", "headers": {"content-type": "text/plain"}}),
        ("POST", "runs/search", {"content": b"{", "headers": {"content-type": "application/json"}}),
        ("POST", "runs/get", {"json": {}}),  # wrong method: 405 from the router
        ("HEAD", "runs/get", {"params": {"run_id": run_id}}),
        ("GET", "runs/nope", {}),
    ]
    for method, path, kwargs in calls:
        _same(
            full.request(method, f"{API_PREFIX}/{path}", **kwargs),
            bare.request(method, f"{API_PREFIX}/{path}", **kwargs),
        )


def test_the_dispatch_serves_exact_paths_only(store: SqlTrackingStore, tmp_path: Path) -> None:
    routes = build_routes(all_endpoints(), ServerContext(store, tmp_path.as_uri()))
    dispatch = EndpointDispatch(Starlette(), routes)
    assert f"{API_PREFIX}/runs/get" in dispatch.table
    assert set(dispatch.table[f"{API_PREFIX}/runs/get"]) == {"GET"}
    assert not any("{" in path for path in dispatch.table)
    exact = [r for r in routes if isinstance(r, EndpointRoute) and not r.param_convertors]
    assert len({r.path for r in exact}) == len(dispatch.table)


def test_a_root_path_is_taken_off_before_the_lookup(store: SqlTrackingStore) -> None:
    app = create_app("", store=store)
    with start_blocking_portal() as portal, _client(app, portal, "/tracking") as client:
        answer = client.get(f"/tracking{API_PREFIX}/experiments/get", params={"experiment_id": 0})
        assert answer.status_code == 200
        assert answer.json()["experiment"]["name"] == "Default"


def test_quick_endpoints_run_on_the_event_loop_with_sqlite_only(
    store: SqlTrackingStore, tmp_path: Path
) -> None:
    context = ServerContext(store, tmp_path.as_uri())
    apps = {
        route.spec.path: route.endpoint
        for route in build_routes(all_endpoints(), context)
        if isinstance(route, EndpointRoute)
    }
    assert all(isinstance(app, EndpointApp) for app in apps.values())
    for quick in ("runs/get", "runs/log-metric", "runs/log-parameter", "runs/set-tag"):
        assert apps[quick].inline, quick
    for slow in ("runs/search", "runs/log-batch", "metrics/get-history", "experiments/search"):
        assert not apps[slow].inline, slow

    class RemoteStore:  # what a store on a database server looks like to the dispatch
        dialect = "postgresql"

    remote = ServerContext(RemoteStore(), tmp_path.as_uri())  # type: ignore[arg-type]
    endpoint = next(e for e in all_endpoints() if e.path == "runs/get")
    assert endpoint.quick
    assert not EndpointApp(endpoint, remote).inline


def test_a_slow_call_in_a_thread_never_holds_up_a_quick_one(store: SqlTrackingStore) -> None:
    """While a search runs in a worker thread, quick calls are answered."""
    app = create_app("", store=store)
    started, release = threading.Event(), threading.Event()
    original = store.search_runs

    def slow_search(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(30)
        return original(*args, **kwargs)

    store.search_runs = slow_search  # type: ignore[method-assign]
    with start_blocking_portal() as portal, _client(app, portal) as client:
        searched: list[int] = []
        search = threading.Thread(
            target=lambda: searched.append(
                client.post(f"{API_PREFIX}/runs/search", json={"experiment_ids": ["0"]}).status_code
            )
        )
        search.start()
        assert started.wait(30)
        run = client.post(f"{API_PREFIX}/runs/create", json={"experiment_id": "0"}).json()["run"]
        fetched = client.get(f"{API_PREFIX}/runs/get", params={"run_id": run["info"]["run_id"]})
        assert fetched.status_code == 200
        assert searched == []  # still searching
        release.set()
        search.join(30)
        assert searched == [200]


def test_warm_up_compiles_the_statements_as_the_app_starts(sqlite_uri: str, tmp_path: Path) -> None:
    app = create_app(sqlite_uri, str(tmp_path / "artifacts"), warm_up=True)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
    ):
        for thread in threading.enumerate():
            if thread.name == "trackline-warm-up":
                thread.join(30)
        assert "sqlite" in run_sql._LOAD_ONE._sql
        with _client(app, portal) as client:
            answer = client.get(f"{API_PREFIX}/experiments/get", params={"experiment_id": "0"})
            assert answer.status_code == 200
