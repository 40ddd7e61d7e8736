"""A PostgreSQL backend that goes away and comes back, under real ``trackline server`` processes.

Each test works on a database of its own (tests/deploy/conftest.py), never on the settings of
``test`` or ``postgres``: the outage is ``ALTER DATABASE <scratch> ALLOW_CONNECTIONS false``
plus ending the scratch database's sessions, the recovery ``ALLOW_CONNECTIONS true``. The
server must refuse to start without its database (a one-line error), answer 503
TEMPORARILY_UNAVAILABLE with a message while it is unreachable (no 500, no crash), never keep
half of a write that was cut off, and serve again once the database is back, without a
restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.compat.conftest import ServerProcess, stop_server

from .conftest import admin, database_uri, scratch_database, start_scenario_server, trackline_cli

API = "/api/2.0/mlflow"
WAIT_SECONDS = 30.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    """``trackline server --workers 2`` on a new database (upgraded first); it and the
    database's name."""
    with scratch_database("outage") as name:
        upgraded = trackline_cli("db", "upgrade", database_uri(name))
        assert upgraded.returncode == 0, upgraded.stderr
        options = (
            "--backend-store-uri", database_uri(name), "--workers", "2",
            "--artifacts-destination", str(tmp_path / "artifacts"),
        )  # fmt: skip
        server = start_scenario_server(tmp_path / "server", None, options)
        try:
            yield server, name
        finally:
            stop_server(server)


def _sessions(database: str, *, waiting_on_lock: bool = False) -> list[int]:
    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    if waiting_on_lock:
        query += " AND wait_event_type = 'Lock'"
    with admin() as conn:
        return [int(row[0]) for row in conn.exec_driver_sql(query, (database,))]


def _terminate(pids: list[int]) -> None:
    with admin() as conn:
        for pid in pids:
            conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))


def _allow_connections(database: str, allowed: bool) -> None:
    with admin() as conn:
        conn.exec_driver_sql(
            f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"true" if allowed else "false"}'
        )
    if not allowed:
        _terminate(_sessions(database))


def _new_run(http: httpx.Client) -> str:
    created = http.post(f"{API}/experiments/create", json={"name": "outage"})
    assert created.status_code == 200, created.text
    experiment_id = created.json()["experiment_id"]
    run = http.post(f"{API}/runs/create", json={"experiment_id": experiment_id})
    assert run.status_code == 200, run.text
    return str(run.json()["run"]["info"]["run_id"])


def _batch(run_id: str, tag: str) -> dict[str, Any]:
    """A log-batch that touches metrics, params and tags (written in that order)."""
    return {
        "run_id": run_id,
        "metrics": [{"key": f"m-{tag}", "value": 1.5, "timestamp": 1, "step": s} for s in range(5)],
        "params": [{"key": f"p-{tag}", "value": tag}],
        "tags": [{"key": f"t-{tag}", "value": tag}],
    }


def _data(http: httpx.Client, run_id: str) -> dict[str, Any]:
    answer = http.get(f"{API}/runs/get", params={"run_id": run_id})
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["run"]["data"]
    return data


def _keys(data: dict[str, Any], kind: str) -> set[str]:
    return {item["key"] for item in data.get(kind, [])}


def _unavailable(answer: httpx.Response) -> str:
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
    message: str = body["message"]
    assert message
    return message


def test_the_server_refuses_to_start_without_its_database() -> None:
    with scratch_database("missing", create=False) as name:
        started = trackline_cli("server", "--backend-store-uri", database_uri(name), "-p", "0")
        assert started.returncode != 0
        assert "cannot be reached" in started.stderr
        assert f'database "{name}" does not exist' in started.stderr
        assert "Traceback" not in started.stderr

        upgraded = trackline_cli("db", "upgrade", database_uri(name))
        assert upgraded.returncode != 0
        assert "cannot be reached" in upgraded.stderr
        assert "Traceback" not in upgraded.stderr


def test_requests_answer_503_while_the_database_is_down_then_recover(
    served: tuple[ServerProcess, str],
) -> None:
    server, database = served
    with httpx.Client(base_url=server.url, timeout=60) as http:
        run_id = _new_run(http)
        assert http.post(f"{API}/runs/log-batch", json=_batch(run_id, "before")).status_code == 200

        _allow_connections(database, False)
        try:
            # Several of each, so that both workers (and their pooled connections) answer.
            for _ in range(6):
                message = _unavailable(http.get(f"{API}/runs/get", params={"run_id": run_id}))
                assert "cannot be reached" in message
                assert "not currently accepting connections" in message
                _unavailable(http.post(f"{API}/runs/log-batch", json=_batch(run_id, "down")))
                _unavailable(http.post(f"{API}/experiments/search", json={"max_results": 5}))
            assert http.get("/health").text.strip() == "OK"
            assert server.process.poll() is None
        finally:
            _allow_connections(database, True)

        for _ in range(6):
            data = _data(http, run_id)
            assert _keys(data, "params") == {"p-before"}
            assert _keys(data, "metrics") == {"m-before"}
        assert http.post(f"{API}/runs/log-batch", json=_batch(run_id, "after")).status_code == 200
        data = _data(http, run_id)
        assert _keys(data, "params") == {"p-before", "p-after"}
    assert server.process.poll() is None
    assert "Traceback" not in server.log.read_text(errors="replace")


def test_a_write_cut_off_halfway_leaves_nothing(served: tuple[ServerProcess, str]) -> None:
    """log-batch writes metrics, then params, then tags in one transaction. With the tags
    table locked, the request stops at its last step; its database session is then ended:
    the answer is 503 and none of the batch's metrics or params remain."""
    server, database = served
    with httpx.Client(base_url=server.url, timeout=60) as http:
        run_id = _new_run(http)
        answers: list[httpx.Response] = []
        with admin(database) as locker:
            locker.exec_driver_sql("BEGIN")
            locker.exec_driver_sql("LOCK TABLE tags IN ACCESS EXCLUSIVE MODE")
            writer = threading.Thread(
                target=lambda: answers.append(
                    http.post(f"{API}/runs/log-batch", json=_batch(run_id, "cut"))
                )
            )
            writer.start()
            deadline = time.monotonic() + WAIT_SECONDS
            blocked: list[int] = []
            while not blocked and time.monotonic() < deadline:
                blocked = _sessions(database, waiting_on_lock=True)
                time.sleep(0.05)
            assert blocked, "the log-batch never reached the locked table"
            _terminate(blocked)
            locker.exec_driver_sql("ROLLBACK")
        writer.join(WAIT_SECONDS)
        assert not writer.is_alive()
        _unavailable(answers[0])

        data = _data(http, run_id)
        assert not _keys(data, "params")
        assert not _keys(data, "metrics")
        history = http.get(
            f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m-cut"}
        )
        assert history.status_code == 200
        assert history.json().get("metrics", []) == []
        retried = http.post(f"{API}/runs/log-batch", json=_batch(run_id, "cut"))
        assert retried.status_code == 200, retried.text
        assert _keys(_data(http, run_id), "tags") >= {"t-cut"}
    assert server.process.poll() is None
