"""Fixtures: the real REST client against the real server app, in process, no sockets.

The app runs on a private event loop (an anyio blocking portal) behind :class:`SyncASGITransport`,
a small synchronous httpx transport. This uses public APIs only (``httpx.ASGITransport`` and
``anyio.from_thread``), unlike borrowing the private transport of Starlette's ``TestClient``,
and it runs the app's lifespan around each test like a real server. :class:`Wire` sits in
front of it: it records every request and plays scripted faults (refused connections, lost
answers, error statuses) so that retries can be checked against the server's real state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette
from tests.asgi import SyncASGITransport

from trackline.server import create_app
from trackline.store.rest import RestTrackingStore

BASE_URL = "http://127.0.0.1"

#: Environment variables that would change the client's behaviour; cleared for every test.
CLIENT_ENV = [
    f"{prefix}_{name}"
    for prefix in ("MLFLOW", "TRACKLINE")
    for name in (
        "TRACKING_USERNAME",
        "TRACKING_PASSWORD",
        "TRACKING_TOKEN",
        "TRACKING_INSECURE_TLS",
        "TRACKING_SERVER_CERT_PATH",
        "TRACKING_CLIENT_CERT_PATH",
        "HTTP_REQUEST_MAX_RETRIES",
        "HTTP_REQUEST_BACKOFF_FACTOR",
        "HTTP_REQUEST_BACKOFF_JITTER",
        "HTTP_REQUEST_TIMEOUT",
    )
]


@dataclass
class Sent:
    """A request as it left the client."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: httpx.Headers
    body: Any


#: A scripted fault: "refused" (connection refused, nothing sent), "lost" (the server did the
#: work, the answer never came back), "applied-503" (the server did the work, a proxy answered
#: 503), or an HTTP status answered without reaching the server (with a JSON or text body).
Fault = str | int | httpx.Response


@dataclass
class Wire(httpx.BaseTransport):
    """Records requests and plays scripted faults in front of an inner transport."""

    inner: httpx.BaseTransport
    sent: list[Sent] = field(default_factory=list)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)

    def script(self, endpoint: str, *faults: Fault) -> None:
        """Play these faults, in order, on the next requests to ``endpoint`` (a path suffix)."""
        self._faults.setdefault(endpoint, []).extend(faults)

    def calls(self, endpoint: str) -> list[Sent]:
        """The requests sent to ``endpoint`` (a path suffix), retries included."""
        return [s for s in self.sent if s.path.endswith("/" + endpoint)]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        params: dict[str, list[str]] = {}
        for key, value in request.url.params.multi_items():
            params.setdefault(key, []).append(value)
        body = json.loads(content) if content else None
        self.sent.append(Sent(request.method, request.url.path, params, request.headers, body))
        fault = self._next_fault(request.url.path)
        if fault is None:
            return self.inner.handle_request(request)
        if fault == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if fault == "lost":
            self.inner.handle_request(request).close()
            raise httpx.ReadError("the connection was reset", request=request)
        if fault == "applied-503":
            self.inner.handle_request(request).close()
            return httpx.Response(503, text="upstream went away")
        if isinstance(fault, httpx.Response):
            return fault
        assert isinstance(fault, int), fault
        return httpx.Response(fault, text=f"<html>status {fault}</html>")

    def _next_fault(self, path: str) -> Fault | None:
        for endpoint, faults in self._faults.items():
            if path.endswith("/" + endpoint) and faults:
                return faults.pop(0)
        return None


@pytest.fixture(autouse=True)
def _client_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials or TLS settings from the machine; retries without pauses."""
    for name in CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")


@pytest.fixture
def app(sqlite_uri: str, tmp_path: Path) -> Starlette:
    """The tracking server app on a fresh SQLite store."""
    root = tmp_path / "artifacts"
    root.mkdir()
    return create_app(sqlite_uri, str(root))


@pytest.fixture
def app_transport(app: Starlette) -> Iterator[SyncASGITransport]:
    """A transport into ``app``, whose lifespan runs around the test."""
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with lifespan:
            yield SyncASGITransport(app, portal)


@pytest.fixture
def wire(app_transport: SyncASGITransport) -> Wire:
    """The recording, fault-playing transport in front of the app."""
    return Wire(app_transport)


@pytest.fixture
def store(wire: Wire) -> Iterator[RestTrackingStore]:
    """A REST store talking to the in-process server through :func:`wire`."""
    opened = RestTrackingStore(BASE_URL, transport=wire)
    yield opened
    opened.close()
