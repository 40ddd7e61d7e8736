"""HttpSession: authentication, secrets, TLS settings, retry policy, error mapping."""

from __future__ import annotations

import base64
import socket
import ssl
from pathlib import Path

import certifi
import httpx
import pytest

from trackline.exceptions import (
    InvalidParameterValue,
    MlflowException,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
)
from trackline.store.rest import RestTrackingStore
from trackline.store.rest.http import (
    MAX_BACKOFF,
    HttpSession,
    RetryPolicy,
    env_setting,
    redact_url,
    tls_verify,
)

from .conftest import BASE_URL, Wire

PASSWORD = "pa55-w0rd-secret"
TOKEN = "tok-3f9a-secret"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- authentication ------------------------------------------------------------------------


def test_basic_auth_from_the_environment(
    store: RestTrackingStore, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)  # Basic wins, as in MLflow's client
    store.get_experiment("0")
    assert wire.sent[-1].headers["authorization"] == _basic("alice", PASSWORD)


def test_bearer_token_and_trackline_twins(
    store: RestTrackingStore, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    store.get_experiment("0")
    assert wire.sent[-1].headers["authorization"] == f"Bearer {TOKEN}"
    monkeypatch.setenv("TRACKLINE_TRACKING_TOKEN", "newer")  # read again on every request
    store.get_experiment("0")
    assert wire.sent[-1].headers["authorization"] == "Bearer newer"
    monkeypatch.setenv("TRACKLINE_TRACKING_USERNAME", "bob")
    monkeypatch.setenv("TRACKLINE_TRACKING_PASSWORD", "pw")
    store.get_experiment("0")
    assert wire.sent[-1].headers["authorization"] == _basic("bob", "pw")


def test_credentials_in_the_uri_become_basic_auth(
    app_transport: httpx.BaseTransport,
) -> None:
    wire = Wire(app_transport)
    store = RestTrackingStore(f"http://alice:{PASSWORD}@127.0.0.1", transport=wire)
    store.get_experiment("0")
    assert wire.sent[-1].headers["authorization"] == _basic("alice", PASSWORD)
    assert PASSWORD not in wire.sent[-1].path
    assert store.uri == "http://127.0.0.1"
    assert PASSWORD not in repr(store) + str(store) + repr(store.session)
    store.close()


def test_secrets_never_show_in_reprs_or_errors(
    app_transport: httpx.BaseTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    monkeypatch.setenv("TRACKLINE_TRACKING_TOKEN", TOKEN)
    wire = Wire(app_transport)
    store = RestTrackingStore(f"https://bob:{PASSWORD}x@tracking.test:8443", transport=wire)
    shown = [repr(store), str(store), repr(store.session), store.uri]
    # A proxy that echoes the request's credentials back in its error pages.
    echo = f"Authorization: {_basic('alice', PASSWORD)} token={TOKEN} password={PASSWORD}"
    wire.script("experiments/get", httpx.Response(401, text=echo))
    missing_body = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": echo}
    wire.script("runs/get", httpx.Response(404, json=missing_body))
    wire.script("runs/set-tag", httpx.Response(200, text=echo))
    with pytest.raises(MlflowException) as unauthenticated:
        store.get_experiment("0")
    with pytest.raises(ResourceDoesNotExist) as missing:
        store.get_run("r")
    with pytest.raises(MlflowException) as garbled:
        store.session.call("POST", "api/2.0/mlflow/runs/set-tag", body=b"{}")
    shown += [str(e.value) for e in (unauthenticated, missing, garbled)]
    assert "***" in shown[-1]
    basic = _basic("alice", PASSWORD).split()[1]
    for text in shown:
        for secret in (PASSWORD, TOKEN, basic):
            assert secret not in text, text
    store.close()


# -- configuration -------------------------------------------------------------------------


def test_env_setting_prefers_the_trackline_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env_setting("TRACKING_TOKEN") is None
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "a")
    assert env_setting("TRACKING_TOKEN") == "a"
    monkeypatch.setenv("TRACKLINE_TRACKING_TOKEN", "b")
    assert env_setting("TRACKING_TOKEN") == "b"
    monkeypatch.setenv("TRACKLINE_TRACKING_TOKEN", "")  # empty counts as unset
    assert env_setting("TRACKING_TOKEN") == "a"


def test_retry_policy_and_timeout_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER")
    assert RetryPolicy.from_env() == RetryPolicy(5, 2.0, 1.0)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "7")
    monkeypatch.setenv("TRACKLINE_HTTP_REQUEST_BACKOFF_FACTOR", "0.5")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "12.5")
    assert RetryPolicy.from_env() == RetryPolicy(7, 0.5, 1.0)
    for timeout, expected in ((None, 12.5), (3, 3.0)):
        session = HttpSession(BASE_URL, timeout=timeout)
        assert session.timeout == expected
        session.close()
    for bad in ("many", "-1", "nan"):
        monkeypatch.setenv("TRACKLINE_HTTP_REQUEST_BACKOFF_FACTOR", bad)
        with pytest.raises(InvalidParameterValue, match="BACKOFF_FACTOR"):
            RetryPolicy.from_env()
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2.5")
    with pytest.raises(InvalidParameterValue, match="MAX_RETRIES"):
        RetryPolicy.from_env()


def test_backoff_doubles_honours_retry_after_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=5, backoff_factor=2.0, backoff_jitter=0.0)
    assert [policy.pause(n) for n in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert policy.pause(0, retry_after="30") == 30.0
    assert policy.pause(3, retry_after="1") == 16.0
    assert policy.pause(0, retry_after="Wed, 21 Oct 2015 07:28:00 GMT") == 2.0
    assert policy.pause(10) == MAX_BACKOFF
    assert policy.pause(10_000) == MAX_BACKOFF
    jittery = RetryPolicy(backoff_factor=1.0, backoff_jitter=0.5)
    assert all(1.0 <= jittery.pause(0) <= 1.5 for _ in range(20))


def test_the_session_sleeps_the_backoff_between_attempts() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            return httpx.Response(503, headers={"Retry-After": "7"})
        return httpx.Response(200, json={"ok": True})

    pauses: list[float] = []
    session = HttpSession(
        BASE_URL,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_retries=3, backoff_factor=1.0, backoff_jitter=0.0),
        sleep=pauses.append,
    )
    assert session.call("GET", "api/2.0/mlflow/x") == {"ok": True}
    assert pauses == [7.0, 7.0]
    session.close()


def test_tls_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert tls_verify() is True
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    assert tls_verify() is False
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", certifi.where())
    with pytest.raises(InvalidParameterValue, match="cannot both be set"):
        tls_verify()
    monkeypatch.delenv("MLFLOW_TRACKING_INSECURE_TLS")
    context = tls_verify()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.get_ca_certs()  # the bundle was loaded
    monkeypatch.setenv("TRACKLINE_TRACKING_SERVER_CERT_PATH", str(tmp_path / "missing.pem"))
    with pytest.raises(InvalidParameterValue, match="TLS certificates"):
        tls_verify()
    # The settings reach the client: a bad path fails when the store is built.
    with pytest.raises(InvalidParameterValue):
        RestTrackingStore("https://tracking.test")


def test_redact_url() -> None:
    assert redact_url("https://u:p@host:1/x") == "https://host:1/x"
    assert redact_url("http://host/x") == "http://host/x"


def test_only_http_uris_are_accepted() -> None:
    with pytest.raises(InvalidParameterValue, match="http"):
        HttpSession(f"ftp://u:{PASSWORD}@host")
    with pytest.raises(InvalidParameterValue) as raised:
        HttpSession(f"http://u:{PASSWORD}@")
    assert PASSWORD not in str(raised.value)


# -- real sockets --------------------------------------------------------------------------


def test_refused_connections_are_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on once this socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    store = RestTrackingStore(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(TemporarilyUnavailable, match="after 3 attempts: ConnectError") as raised:
        store.get_experiment("0")
    assert f"127.0.0.1:{port}/api/2.0/mlflow/experiments/get" in str(raised.value)
    store.close()
