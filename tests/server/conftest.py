"""Fixtures: the server app on a fresh SQLite store, and a synchronous httpx client that
talks to it in process (no sockets) through :class:`SyncASGITransport`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from starlette.applications import Starlette
from tests.asgi import SyncASGITransport

from trackline.server import create_app

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")


@pytest.fixture
def artifact_root(tmp_path: Path) -> Path:
    """The server's default artifact root (a folder in the test's tmp dir)."""
    root = tmp_path / "artifacts"
    root.mkdir()
    return root


@pytest.fixture
def app(sqlite_uri: str, artifact_root: Path) -> Starlette:
    """A server app on a fresh SQLite store."""
    return create_app(sqlite_uri, str(artifact_root))


@pytest.fixture
def client(app: Starlette) -> Iterator[httpx.Client]:
    """An httpx client of ``app``; the app's lifespan runs around the test."""
    with start_blocking_portal() as portal:
        lifespan = portal.wrap_async_context_manager(app.router.lifespan_context(app))
        with (
            lifespan,
            httpx.Client(
                transport=SyncASGITransport(app, portal), base_url="http://127.0.0.1"
            ) as http,
        ):
            yield http


@pytest.fixture(params=PREFIXES, ids=["api", "ajax"])
def prefix(request: pytest.FixtureRequest) -> str:
    """Each of the two prefixes every tracking route lives under."""
    value: str = request.param
    return value


class Api:
    """Calls to the tracking routes under one prefix, with assertions on the answers."""

    def __init__(self, client: httpx.Client, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def request(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        """Send ``body`` as JSON (as query parameters for GET) to ``<prefix>/<path>``."""
        url = f"{self.prefix}/{path}"
        if method == "GET":
            return self.client.get(url, params=body, **kw)
        return self.client.request(method, url, json=body if body is not None else {}, **kw)

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        """The JSON of a call that must succeed."""
        response = self.request(method, path, body, **kw)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        data: dict[str, Any] = response.json()
        return data

    def fail(self, method: str, path: str, body: Any, status: int, code: str, **kw: Any) -> str:
        """Assert that a call fails with this status and error code; return the message."""
        return check_error(self.request(method, path, body, **kw), status, code)

    # shorthands for the common set-up steps
    def experiment(self, name: str = "exp") -> str:
        """Create an experiment; its id."""
        experiment_id: str = self.ok("POST", "experiments/create", {"name": name})["experiment_id"]
        return experiment_id

    def run(self, experiment_id: str | None = None, **fields: Any) -> str:
        """Create a run (in a new experiment unless one is given); its id."""
        eid = experiment_id if experiment_id is not None else self.experiment()
        body = {"experiment_id": eid, "start_time": 1000, **fields}
        run_id: str = self.ok("POST", "runs/create", body)["run"]["info"]["run_id"]
        return run_id


def check_error(response: httpx.Response, status: int, code: str) -> str:
    """Assert a JSON error body with this status and code; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error_code"] == code, body
    message: str = body["message"]
    return message


@pytest.fixture
def api(client: httpx.Client, prefix: str) -> Api:
    """An :class:`Api` under each of the two prefixes in turn."""
    return Api(client, prefix)
