"""Host checks, cross-origin writes and safety headers of the server."""

from __future__ import annotations

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from trackline.server.security import SecurityMiddleware, SecurityPolicy


async def _ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _client(policy: SecurityPolicy, host: str = "127.0.0.1:5000") -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/{path:path}", _ok, methods=["GET", "POST", "DELETE"])])
    transport = httpx.ASGITransport(app=SecurityMiddleware(app, policy))
    return httpx.AsyncClient(transport=transport, base_url=f"http://{host}")


def _status(policy: SecurityPolicy, method: str, path: str, **headers: str) -> int:
    host = headers.pop("host", "127.0.0.1:5000")

    async def call() -> int:
        async with _client(policy, host) as client:
            response = await client.request(method, path, headers=headers)
            return response.status_code

    return anyio.run(call)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:5000", 200),
        ("localhost:5000", 200),
        ("[::1]:5000", 200),
        ("10.1.2.3:5000", 200),  # a private-network address literal
        ("192.168.0.7", 200),
        ("evil.example", 403),
        ("127.0.0.1.evil.example", 403),
        ("8.8.8.8:5000", 403),  # a public address literal
    ],
)
def test_host_header(host: str, status: int) -> None:
    policy = SecurityPolicy.build(allowed_hosts=None, allowed_origins=None)
    assert _status(policy, "GET", "/api/2.0/mlflow/experiments/get", host=host) == status


def test_allowed_hosts_patterns_and_wildcard() -> None:
    policy = SecurityPolicy.build(allowed_hosts=["*.corp.example", "tracking.example"])
    assert _status(policy, "GET", "/x", host="ml.corp.example:443") == 200
    assert _status(policy, "GET", "/x", host="tracking.example") == 200
    assert _status(policy, "GET", "/x", host="other.example") == 403
    anything = SecurityPolicy.build(allowed_hosts=["*"])
    assert _status(anything, "GET", "/x", host="other.example") == 200


def test_health_is_answered_for_any_host() -> None:
    policy = SecurityPolicy.build()
    assert _status(policy, "GET", "/health", host="evil.example") == 200


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://evil.example", 403),
        ("null", 403),
        ("http://localhost:3000", 200),
        ("http://127.0.0.1:5000", 200),  # same origin
    ],
)
def test_cross_origin_writes(origin: str, status: int) -> None:
    policy = SecurityPolicy.build()
    path = "/api/2.0/mlflow/experiments/create"
    assert _status(policy, "POST", path, origin=origin) == status


def test_reads_from_other_origins_and_clients_without_origin_pass() -> None:
    policy = SecurityPolicy.build()
    assert _status(policy, "GET", "/x", origin="http://evil.example") == 200
    assert _status(policy, "DELETE", "/x") == 200  # API clients send no Origin


def test_configured_origins_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKLINE_SERVER_CORS_ALLOWED_ORIGINS", "https://notebooks.example")
    policy = SecurityPolicy.build()
    ok = _status(policy, "POST", "/x", origin="https://notebooks.example")
    assert ok == 200
    assert _status(policy, "POST", "/x", origin="https://other.example") == 403


def test_refusal_is_a_json_permission_error_with_safe_headers() -> None:
    async def fetch() -> httpx.Response:
        async with _client(SecurityPolicy.build(), "evil.example") as client:
            return await client.get("/x")

    response = anyio.run(fetch)
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_every_response_carries_the_safety_headers() -> None:
    async def fetch() -> httpx.Response:
        async with _client(SecurityPolicy.build()) as client:
            return await client.get("/x")

    response = anyio.run(fetch)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


def test_the_app_applies_the_policy(sqlite_uri: str, tmp_path: object) -> None:
    from trackline.server import create_app

    app = create_app(sqlite_uri, str(tmp_path))

    async def calls() -> tuple[int, int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as c:
            rebinding = (
                await c.get("/api/2.0/mlflow/experiments/search?max_results=1")
            ).status_code
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            drive_by = await c.post(
                "/api/2.0/mlflow/experiments/create",
                json={"name": "x"},
                headers={"Origin": "http://evil.example"},
            )
            plain = await c.post("/api/2.0/mlflow/experiments/create", json={"name": "x"})
        return rebinding, drive_by.status_code, plain.status_code

    assert anyio.run(calls) == (403, 403, 200)
