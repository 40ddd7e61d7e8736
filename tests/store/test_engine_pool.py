"""The connection pool of PostgreSQL/MySQL engines: its settings from the environment, a pool
with no connection free, and connections lost under it (tests/deploy has the server's side)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from trackline.exceptions import InvalidParameterValue, TemporarilyUnavailable
from trackline.store.sql.engine import Database, is_connection_error, pool_options

DEFAULTS = {
    "pool_size": 5,
    "max_overflow": 5,
    "pool_timeout": 30,
    "pool_recycle": 1800,
    "connect_timeout": 10,
}


def test_defaults() -> None:
    assert pool_options({}) == DEFAULTS


def test_trackline_variables_then_mlflow_twins() -> None:
    env = {
        "TRACKLINE_DB_POOL_SIZE": "8",
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "3",
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "0",
        "TRACKLINE_DB_POOL_TIMEOUT": "5",
        "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE": "-1",
        "TRACKLINE_DB_CONNECT_TIMEOUT": " 3 ",
    }
    assert pool_options(env) == {
        "pool_size": 8,
        "max_overflow": 0,
        "pool_timeout": 5,
        "pool_recycle": -1,
        "connect_timeout": 3,
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRACKLINE_DB_POOL_SIZE", "0"),
        ("TRACKLINE_DB_POOL_SIZE", "five"),
        ("TRACKLINE_DB_MAX_OVERFLOW", "-2"),
        ("TRACKLINE_DB_POOL_TIMEOUT", "1.5"),
        ("MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE", "-5"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(InvalidParameterValue, match=name):
        pool_options({name: value})


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_the_engine_uses_the_settings(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKLINE_DB_POOL_SIZE", "2")
    monkeypatch.setenv("TRACKLINE_DB_MAX_OVERFLOW", "1")
    db = Database(request.getfixturevalue(f"{backend}_uri"))
    try:
        pool = db.engine.pool
        assert isinstance(pool, sa.QueuePool)
        assert (pool.size(), pool._max_overflow) == (2, 1)
        assert db.engine.pool._pre_ping
    finally:
        db.close()


def test_no_connection_free_is_temporarily_unavailable(
    postgres_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("POOL_SIZE", "1"), ("MAX_OVERFLOW", "0"), ("POOL_TIMEOUT", "1")):
        monkeypatch.setenv(f"TRACKLINE_DB_{name}", value)
    db = Database(postgres_uri)
    try:
        with (
            db.read(),
            pytest.raises(TemporarilyUnavailable, match="no connection became free"),
            db.read(),
        ):
            pass
        with db.read() as conn:  # free again
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        db.close()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_a_pooled_connection_killed_by_the_server_is_replaced(
    backend: str, request: pytest.FixtureRequest
) -> None:
    db = Database(request.getfixturevalue(f"{backend}_uri"))
    try:
        with db.read() as conn:
            if backend == "postgres":
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                kill = f"SELECT pg_terminate_backend({pid})"
            else:
                pid = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
                kill = f"KILL {pid}"
        killer = sa.create_engine(db.url, poolclass=sa.NullPool)  # a session of its own
        with killer.connect() as other:
            other.exec_driver_sql(kill)
        killer.dispose()
        with db.read() as conn:  # the pre-ping finds it dead and opens a new one
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        db.close()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_a_connection_killed_during_a_write_is_temporarily_unavailable(
    backend: str, request: pytest.FixtureRequest
) -> None:
    db = Database(request.getfixturevalue(f"{backend}_uri"))
    try:
        suicide = (
            "SELECT pg_terminate_backend(pg_backend_pid())"
            if backend == "postgres"
            else "KILL CONNECTION_ID()"
        )

        def half_written() -> None:
            with db.write() as conn:
                conn.exec_driver_sql("INSERT INTO experiments (name) VALUES ('half')")
                conn.exec_driver_sql(suicide)

        with pytest.raises(TemporarilyUnavailable, match="cannot be reached"):
            half_written()
        with db.read() as conn:
            count = conn.exec_driver_sql("SELECT count(*) FROM experiments WHERE name = 'half'")
            assert count.scalar() == 0
    finally:
        db.close()


def test_statement_errors_are_not_connection_errors(postgres_uri: str) -> None:
    db = Database(postgres_uri)
    try:
        with pytest.raises(sa.exc.DBAPIError) as raised, db.read() as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")
        assert not is_connection_error(raised.value)
    finally:
        db.close()
