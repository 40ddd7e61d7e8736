"""Clean tracking state around each test, and the backends the model tests run on:
a SQLite or PostgreSQL store (embedded) and a tracking server on SQLite, in process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import start_blocking_portal
from tests.asgi import SyncASGITransport

import trackline
from trackline.server import create_app
from trackline.store import uri as store_uri
from trackline.store.rest import RestTrackingStore
from trackline.tracking import context, fluent

BASE_URL = "http://127.0.0.1"

_ENV = (
    "TRACKLINE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "TRACKLINE_REGISTRY_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
    "MLFLOW_ENABLE_ASYNC_LOGGING",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_RUN_CONTEXT",
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION",
    "TRACKLINE_DEFAULT_ARTIFACT_ROOT",
)


def _reset() -> None:
    while trackline.active_run() is not None:
        try:
            trackline.end_run()
        except Exception:
            pass  # the run is popped either way
    fluent._reset()
    trackline.set_tracking_uri(None)
    trackline.set_registry_uri(None)
    context.static_tags.cache_clear()
    store_uri._reset_cache()


@pytest.fixture(autouse=True)
def _clean_tracking_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    monkeypatch.chdir(tmp_path)
    _reset()
    yield
    _reset()


@pytest.fixture(params=["sqlite", "postgres", "server"])
def backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    """The tracking URI is set to a SQLite or PostgreSQL store, or to a tracking server (on
    SQLite, proxying artifacts into ``<tmp>/mlartifacts``) reached in process; the value is
    the backend's name."""
    if request.param != "server":
        uri: str = request.getfixturevalue(f"{request.param}_uri")
        trackline.set_tracking_uri(uri)
        yield request.param
        return
    sqlite_uri: str = request.getfixturevalue("sqlite_uri")
    app = create_app(sqlite_uri, artifacts_destination=str(tmp_path / "mlartifacts"))
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with lifespan:
            transport = SyncASGITransport(app, portal)
            monkeypatch.setitem(
                store_uri._builders, "http", lambda u: RestTrackingStore(u, transport=transport)
            )
            trackline.set_tracking_uri(BASE_URL)
            yield "server"
            _reset()


@pytest.fixture
def sqlite_tracking(sqlite_uri: str) -> str:
    """The tracking URI set to a fresh SQLite store."""
    trackline.set_tracking_uri(sqlite_uri)
    return sqlite_uri
