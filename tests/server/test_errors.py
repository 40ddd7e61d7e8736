"""Every client mistake is a 4xx JSON error, never a 500 (MLflow clients retry 5xx for
minutes); genuine bugs are a generic 500 with the details kept in the server log."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from trackline.exceptions import InvalidState, MlflowException, ResourceDoesNotExist
from trackline.server.errors import error_response
from trackline.server.routes import API_PREFIX, Endpoint, all_endpoints
from trackline.server.wire import Field, Message

from .conftest import Api, SyncASGITransport

# Values of every JSON type, and strings that probe ids, paths, encodings and sizes.
BAD_VALUES: list[Any] = [
    "", [], {}, [1], [[]], [{}], True, -1, 1.5, 2**70, "x" * 300, "../../etc/passwd",
    "9" * 40, "-1", "1.5", " 1", "NaN", "\x00", "é", {"key": None}, [{"key": 1}],
]  # fmt: skip
BAD_BODIES: list[bytes] = [
    b"{", b"nul", b"\xff\xfe", b"[" * 5000, b'{"a": }', b"[]", b"[{}]", b'"str"', b"123",
    b"null", b"true", b'"{\\"run_id\\": 1}"', b"{}",
]  # fmt: skip
BAD_FILTERS = [
    "metrics.x = 'a'", "params.p = 1", "((", "name = ", "tags.`x` LIKE", "attributes.nope = 1",
    "name = 'a' OR", "metrics.m > 1; DROP TABLE runs", "'", "name IN ()", "run_name ILIKE 5",
    "name = 'a' AND AND name = 'b'", "(name = 'a'",
]  # fmt: skip
BAD_ORDER_BY = [["metrics.`x` sideways"], ["'"], ["name DESC DESC"], [""], ["nope.field"]]
BAD_TOKENS = ["garbage", "eyJvZmZzZXQiOiAtMX0=", "e30=", "%%%", "bnVsbA=="]


def _base(endpoint: Endpoint, run_id: str, experiment_id: str) -> dict[str, Any]:
    """A plausible request body for an endpoint (it need not succeed)."""
    values = {
        "run_id": run_id, "experiment_id": experiment_id, "experiment_ids": [experiment_id],
        "experiment_name": "Default", "name": "n", "new_name": "n2", "key": "k", "value": "v",
        "metric_key": "m", "timestamp": 1, "max_results": 5,
    }  # fmt: skip
    body: dict[str, Any] = {}
    for field in endpoint.request.fields:
        if field.name in values:
            body[field.name] = values[field.name]
        elif field.kind == "double":
            body[field.name] = 1.0
    if endpoint.path == "runs/log-metric":
        body["value"] = 1.0
    return body


def _check(response: httpx.Response, context: object) -> None:
    assert response.status_code < 500, (context, response.status_code, response.text)
    if response.status_code != 200:
        assert response.headers["content-type"].startswith("application/json"), context
        body = response.json()
        assert isinstance(body["error_code"], str), context
        assert isinstance(body["message"], str), context


def _send(client: httpx.Client, endpoint: Endpoint, body: Mapping[str, Any]) -> httpx.Response:
    url = (
        f"{API_PREFIX}/{endpoint.path}"
        if API_PREFIX in endpoint.prefixes
        else (f"{endpoint.prefixes[0]}/{endpoint.path}")
    )
    if endpoint.methods[0] == "GET":
        flat = {k: v if isinstance(v, (str, list)) else str(v) for k, v in body.items()}
        return client.get(url, params=flat)
    return client.request(endpoint.methods[0], url, json=body)


TRACKING = [e for e in all_endpoints() if e.path != "server-info"]


@pytest.fixture
def fuzz_api(client: httpx.Client) -> Api:
    return Api(client, API_PREFIX)


@pytest.mark.parametrize("endpoint", TRACKING, ids=lambda e: e.path)
def test_malformed_field_values_never_cause_500(fuzz_api: Api, endpoint: Endpoint) -> None:
    run_id = fuzz_api.run()
    experiment_id = fuzz_api.experiment("fuzz")
    base = _base(endpoint, run_id, experiment_id)
    _check(_send(fuzz_api.client, endpoint, base), (endpoint.path, base))
    _check(_send(fuzz_api.client, endpoint, {}), (endpoint.path, {}))
    for field in endpoint.request.fields:
        for bad in BAD_VALUES:
            body = {**base, field.name: bad}
            _check(_send(fuzz_api.client, endpoint, body), (endpoint.path, field.name, bad))
        if field.kind == "message":
            for bad in BAD_VALUES:
                nested = {**base, field.name: [bad] if field.repeated else bad}
                _check(_send(fuzz_api.client, endpoint, nested), (endpoint.path, field.name, bad))
            assert field.message is not None
            _fuzz_nested(fuzz_api.client, endpoint, base, field)


def _fuzz_nested(client: httpx.Client, endpoint: Endpoint, base: dict[str, Any], field: Field
                 ) -> None:  # fmt: skip
    message: Message = field.message  # type: ignore[assignment]
    good = {f.name: (1.0 if f.kind == "double" else 1 if f.kind == "int64" else "x")
            for f in message.fields if f.kind != "message"}  # fmt: skip
    for inner in message.fields:
        for bad in BAD_VALUES:
            item = {**good, inner.name: bad}
            body = {**base, field.name: [item] if field.repeated else item}
            _check(_send(client, endpoint, body), (endpoint.path, field.name, inner.name, bad))


@pytest.mark.parametrize("endpoint", [e for e in TRACKING if "POST" in e.methods],
                         ids=lambda e: e.path)  # fmt: skip
def test_malformed_bodies_never_cause_500(client: httpx.Client, endpoint: Endpoint) -> None:
    url = endpoint.full_paths()[0]
    for raw in BAD_BODIES:
        response = client.post(url, content=raw, headers={"content-type": "application/json"})
        _check(response, (endpoint.path, raw[:20]))
        assert response.status_code != 200 or raw in (b"{}", b'"{\\"run_id\\": 1}"'), raw
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        headers = {"content-type": content_type} if content_type else {}
        response = client.post(url, content=b"{}", headers=headers)
        _check(response, (endpoint.path, content_type))
        assert response.status_code == 400


@pytest.mark.parametrize("path", ["runs/search", "experiments/search"])
def test_bad_searches_are_400(fuzz_api: Api, path: str) -> None:
    experiment_id = fuzz_api.experiment()
    base: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 10}
    bodies = [{**base, "filter": f} for f in BAD_FILTERS]
    bodies += [{**base, "order_by": o} for o in BAD_ORDER_BY]
    bodies += [{**base, "page_token": t} for t in BAD_TOKENS]
    for body in bodies:
        response = fuzz_api.request("POST", path, body)
        _check(response, body)
        assert response.status_code == 400, (body, response.text)


def test_unknown_ids_are_404_and_bad_ids_400(fuzz_api: Api) -> None:
    missing_run = "0" * 32
    for path in ("runs/delete", "runs/restore", "runs/update"):
        fuzz_api.fail("POST", path, {"run_id": missing_run}, 404, "RESOURCE_DOES_NOT_EXIST")
    for path in ("experiments/delete", "experiments/restore"):
        fuzz_api.fail("POST", path, {"experiment_id": "424242"}, 404, "RESOURCE_DOES_NOT_EXIST")
    for bad_id in ("abc", "1.5", "9" * 40, "-1", "1 OR 1=1"):
        response = fuzz_api.request("GET", "experiments/get", {"experiment_id": bad_id})
        assert response.status_code in (400, 404), (bad_id, response.text)
        _check(response, bad_id)
    for bad_run in ("../x", "a b", "x" * 300):
        fuzz_api.fail("GET", "runs/get", {"run_id": bad_run}, 400, "INVALID_PARAMETER_VALUE")


def test_huge_log_batch_is_refused_before_reading_it_all(fuzz_api: Api) -> None:
    run_id = fuzz_api.run()
    payload = b'{"run_id": "%s", "tags": [' % run_id.encode() + b'{"key":"k","value":"v"},' * 60000
    response = fuzz_api.client.post(
        f"{API_PREFIX}/runs/log-batch",
        content=payload[:-1] + b"]}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_unknown_route_is_404_json(client: httpx.Client) -> None:
    for path in ("/nope", "/api/2.0/mlflow/runs/nope", "/api/2.0/mlflow/registered-models/nope"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_wrong_method_is_405(client: httpx.Client) -> None:
    response = client.get(f"{API_PREFIX}/runs/create")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    response = client.post(f"{API_PREFIX}/runs/get", json={})
    assert response.status_code == 405


# -- the handler itself --------------------------------------------------------------------


def test_mlflow_exceptions_keep_their_code_and_status() -> None:
    response = error_response(ResourceDoesNotExist("gone"))
    assert response.status_code == 404
    assert response.body == b'{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}'
    assert error_response(MlflowException("x", error_code="ABORTED")).status_code == 409
    assert error_response(InvalidState("x")).status_code == 500


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (IntegrityError("INSERT", {}, Exception("UNIQUE")), 400, "BAD_REQUEST"),
        (DataError("INSERT", {}, Exception("too long")), 400, "INVALID_PARAMETER_VALUE"),
        (
            OperationalError("SELECT", {}, Exception("database is locked")),
            503,
            "TEMPORARILY_UNAVAILABLE",
        ),
        (
            OperationalError("SELECT", {}, Exception("too many SQL variables")),
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (OperationalError("SELECT", {}, Exception("no such column: x")), 500, "INTERNAL_ERROR"),
    ],
)
def test_database_errors_are_mapped(exc: Exception, status: int, code: str) -> None:
    response = error_response(exc)
    assert response.status_code == status
    assert code.encode() in bytes(response.body)


def test_bugs_are_a_generic_500_logged_on_the_server(
    sqlite_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from trackline.server import create_app

    app = create_app(sqlite_uri, str(tmp_path))
    context = app.state.context

    def broken(*args: object) -> None:
        raise RuntimeError("secret detail /etc/shadow")

    context.store.get_run = broken  # type: ignore[method-assign]
    with start_blocking_portal() as portal, caplog.at_level(logging.ERROR, "trackline.server"):
        client = httpx.Client(transport=SyncASGITransport(app, portal), base_url="http://127.0.0.1")
        response = client.get(f"{API_PREFIX}/runs/get", params={"run_id": "a" * 32})
    assert response.status_code == 500
    body = response.json()
    assert body["error_code"] == "INTERNAL_ERROR"
    assert "secret" not in body["message"]
    assert "secret detail" in caplog.text
    context.store.close()
