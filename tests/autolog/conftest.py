"""Clean tracking and autologging state around each test, and the backends the autolog tests
run on: a SQLite store (embedded) and a tracking server on SQLite, in process (the models
tests' fixtures), plus a server whose requests are counted."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from tests.asgi import SyncASGITransport
from tests.models.conftest import (  # noqa: F401 - fixtures, used by name
    BASE_URL,
    _clean_tracking_state,
    backend,
    sqlite_tracking,
)

import trackline
from trackline.autolog import hooks, patching
from trackline.server import create_app
from trackline.store import uri as store_uri
from trackline.store.rest import RestTrackingStore


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    """Every integration disabled (and unpatched) after each test."""
    yield
    trackline.autolog(disable=True)
    for flavor in list(patching._patches):
        patching.revert(flavor)
        patching.configure(flavor, None)
    hooks._callbacks.clear()


class CountingTransport(httpx.BaseTransport):
    """The in-process transport, counting requests per path (``runs/log-batch``...)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.paths: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path.split("/mlflow/", 1)[-1]] += 1
        return self.inner.handle_request(request)


@pytest.fixture
def counted_server(
    sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CountingTransport]:
    """The tracking URI set to an in-process server on SQLite whose requests are counted."""
    app = create_app(sqlite_uri, artifacts_destination=str(tmp_path / "mlartifacts"))
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with lifespan:
            transport = CountingTransport(SyncASGITransport(app, portal))
            monkeypatch.setitem(
                store_uri._builders, "http", lambda u: RestTrackingStore(u, transport=transport)
            )
            trackline.set_tracking_uri(BASE_URL)
            yield transport
            while trackline.active_run() is not None:
                trackline.end_run()
            store_uri._reset_cache()
