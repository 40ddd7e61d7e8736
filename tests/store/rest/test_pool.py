"""The keep-alive path of the REST client: plain ``http://`` calls over its own connections.

Real sockets on loopback: the real server app under uvicorn in a thread, and for the odd
answers (chunks, interim answers, closed connections, redirects) a small scripted HTTP
server that speaks raw bytes.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from trackline.entities import Metric, Param, RunTag
from trackline.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from trackline.server import create_app
from trackline.store.rest import RestTrackingStore
from trackline.store.rest.http import HttpSession, _query_pairs
from trackline.store.rest.pool import ConnectionPool, StaleConnection

# -- the real server -------------------------------------------------------------------------


@pytest.fixture
def server_url(sqlite_uri: str, tmp_path: Path) -> Iterator[str]:
    """The tracking server on a loopback port (keep-alive timeout 1 s), for this test."""
    app = create_app(sqlite_uri, str(tmp_path / "artifacts"))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", timeout_keep_alive=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_plain_http_calls_take_the_keepalive_pool(server_url: str) -> None:
    store = RestTrackingStore(server_url)
    pool = store.session._pool
    assert isinstance(pool, ConnectionPool)
    experiment_id = store.create_experiment("pooled é")
    run_id = store.create_run(experiment_id, "ann", 5, [RunTag("t", "1")], "r").info.run_id
    store.log_metric(run_id, Metric("loss", math.nan, 7, 0))
    store.log_batch(
        run_id,
        metrics=[Metric("acc", i / 10, 8, i) for i in range(30)],
        params=[Param("lr", "0.1"), Param("名前", "値")],
        tags=[RunTag("stage", "dev")],
    )
    run = store.get_run(run_id)
    assert run.info.run_name == "r"
    assert math.isnan(run.data.metrics["loss"])
    assert run.data.params == {"lr": "0.1", "名前": "値"}
    page = store.get_metric_history(run_id, "acc", max_results=7)
    assert [m.step for m in page] == list(range(7))
    assert len(store.get_metric_history(run_id, "acc")) == 30
    assert [r.info.run_id for r in store.search_runs([experiment_id], "params.lr = '0.1'")] == [
        run_id
    ]
    with pytest.raises(MlflowException) as raised:
        store.get_run("f" * 32)
    assert raised.value.error_code == RESOURCE_DOES_NOT_EXIST
    # one connection, kept open and reused all along
    assert len(pool._idle) == 1
    store.close()
    assert pool._idle == []


def test_a_connection_the_server_closed_while_idle_is_replaced(server_url: str) -> None:
    store = RestTrackingStore(server_url)
    experiment_id = store.create_experiment("idle")
    pool = store.session._pool
    assert pool is not None
    first = pool._idle[0]
    time.sleep(1.6)  # past the server's keep-alive timeout: it closes the connection
    assert store.get_experiment(experiment_id).name == "idle"
    assert pool._idle[0] is not first
    store.close()


def test_calls_from_many_threads_share_the_pool(server_url: str) -> None:
    store = RestTrackingStore(server_url)
    run_id = store.create_run(store.create_experiment("threads"), None, 1, [], "r").info.run_id
    errors: list[BaseException] = []

    def log(worker: int) -> None:
        try:
            for step in range(20):
                store.log_metric(run_id, Metric(f"w{worker}", float(step), 1, step))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(len(store.get_metric_history(run_id, f"w{w}")) == 20 for w in range(4))
    store.close()


# -- when the pool is not used ---------------------------------------------------------------


def test_proxies_tls_and_transports_keep_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert HttpSession("http://127.0.0.1:5000")._pool is not None
    assert HttpSession("https://127.0.0.1:5000")._pool is None
    assert HttpSession("http://h:1", transport=httpx.MockTransport(httpx.Response))._pool is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert HttpSession("http://tracking.example:5000")._pool is None
    monkeypatch.setenv("NO_PROXY", "tracking.example")
    assert HttpSession("http://tracking.example:5000")._pool is not None


def test_query_pairs_are_httpx_s() -> None:
    params = {"a": [1, "x y"], "b": True, "c": False, "d": None, "e": "é"}
    assert _query_pairs(params) == [
        ("a", "1"),
        ("a", "x y"),
        ("b", "true"),
        ("c", "false"),
        ("d", ""),
        ("e", "é"),
    ]
    assert httpx.QueryParams(params).multi_items() == _query_pairs(params)


# -- a scripted server -----------------------------------------------------------------------

#: Answers one request's bytes with the bytes to send back, or None to close without one.
Script = Callable[[int, bytes], bytes | None]


class RawServer:
    """A loopback HTTP server that answers from a script (a thread per connection); it
    records each request (connection number, bytes)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            connection += 1
            threading.Thread(target=self._talk, args=(conn, connection), daemon=True).start()

    def _talk(self, conn: socket.socket, connection: int) -> None:
        with conn:
            while self._answer(conn, connection):
                pass

    def _answer(self, conn: socket.socket, connection: int) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
                while len(body) < length:
                    body += conn.recv(65536)
        with self._lock:
            self.requests.append((connection, data))
            answer = self.script(len(self.requests), data)
        if answer is None:
            return False
        conn.sendall(answer)
        return b"connection: close" not in answer.lower() and not answer.startswith(b"HTTP/1.0")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Script], RawServer]]:
    servers: list[RawServer] = []

    def start(script: Script) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _ok(body: bytes = b'{"ok": 1}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_answers_framed_by_chunks_interim_answers_and_the_end(
    raw_server: Callable[[Script], RawServer],
) -> None:
    answers = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;ext=1\r\n{"a"\r\n5\r\n: 12}\r\n0\r\nTrailer: x\r\n\r\n',
        b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b'{"b": 2}'),
        b'HTTP/1.0 200 OK\r\n\r\n{"c": 3}',
        _ok(b'{"d": 4}', b"X-Many: 1\r\nx-many: 2\r\n"),
    ]
    server = raw_server(lambda n, _: answers[n - 1])
    session = HttpSession(f"http://127.0.0.1:{server.port}")
    assert session.call("GET", "a") == {"a": 12}
    assert session.call("GET", "b") == {"b": 2}
    assert session.call("GET", "c") == {"c": 3}  # HTTP/1.0: the connection ends the body
    assert session.call("GET", "d") == {"d": 4}
    assert [c for c, _ in server.requests] == [1, 1, 1, 2]
    session.close()


def test_requests_leave_whole_with_headers_and_credentials(
    raw_server: Callable[[Script], RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "s3cret")
    server = raw_server(lambda n, _: _ok())
    session = HttpSession(f"http://127.0.0.1:{server.port}/prefix/")
    session.call("POST", "api/2.0/mlflow/runs/log-metric", body=b'{"k": 1}')
    session.call("GET", "api/2.0/mlflow/runs/get", params={"run_id": "a b", "x": ["1", "2"]})
    head, _, body = server.requests[0][1].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /prefix/api/2.0/mlflow/runs/log-metric HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert b"Content-Type: application/json" in lines
    assert b"Content-Length: 8" in lines
    assert b"Authorization: Bearer s3cret" in lines
    assert any(line.startswith(b"User-Agent: trackline/") for line in lines)
    assert body == b'{"k": 1}'
    get_line = server.requests[1][1].split(b"\r\n")[0]
    assert get_line == b"GET /prefix/api/2.0/mlflow/runs/get?run_id=a%20b&x=1&x=2 HTTP/1.1"
    session.close()


def test_a_request_lost_on_a_kept_alive_connection_is_sent_again_at_once(
    raw_server: Callable[[Script], RawServer],
) -> None:
    # The second request arrives on the kept-alive connection, which then closes without an
    # answer (the server timed the connection out just as the request came).
    server = raw_server(lambda n, _: None if n == 2 else _ok(b'{"n": %d}' % n))
    slept: list[float] = []
    session = HttpSession(f"http://127.0.0.1:{server.port}", sleep=slept.append)
    assert session.call("GET", "x") == {"n": 1}
    assert session.call("POST", "x", body=b"{}") == {"n": 3}
    assert [c for c, _ in server.requests] == [1, 1, 2]
    assert slept == []  # resent at once, not after a backoff
    session.close()


def test_a_connection_closed_before_any_answer_is_retried_as_maybe_applied(
    raw_server: Callable[[Script], RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    server = raw_server(lambda n, _: None)  # every connection closes without an answer
    slept: list[float] = []
    session = HttpSession(f"http://127.0.0.1:{server.port}", sleep=slept.append)
    with pytest.raises(MlflowException, match="after 3 attempts: RemoteProtocolError"):
        session.call("POST", "x", body=b"{}")
    assert len(server.requests) == 3
    assert len(slept) == 2
    session.close()


def test_redirects_are_followed(raw_server: Callable[[Script], RawServer]) -> None:
    def script(n: int, request: bytes) -> bytes:
        if request.startswith(b"GET /old"):
            return b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"
        return _ok(b'{"moved": true}')

    server = raw_server(script)
    session = HttpSession(f"http://127.0.0.1:{server.port}")
    assert session.call("GET", "old") == {"moved": True}
    session.close()


def test_line_breaks_never_reach_the_request_head() -> None:
    pool = ConnectionPool("127.0.0.1", 9, 5.0)
    with pytest.raises(httpx.LocalProtocolError):
        pool.request("GET", "/x", None, {"Authorization": "Bearer a\r\nX-Evil: 1"})
    with pytest.raises(httpx.LocalProtocolError):
        pool.request("GET", "/x\r\nX-Evil: 1", None, {})


def test_stale_connection_is_a_transient_protocol_error() -> None:
    assert issubclass(StaleConnection, httpx.RemoteProtocolError)
