"""The engine: schema creation on first use, its locking, migrations and error translation."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trackline.exceptions import InvalidState, TemporarilyUnavailable
from trackline.store.sql.engine import Database, upgrade
from trackline.store.sql.schema import SCHEMA_REVISION, metadata


def _revision(db: Database) -> str | None:
    with db.read() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def test_fresh_database_is_created_at_head(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new' / 'fresh.db'}")
    assert _revision(db) == SCHEMA_REVISION
    db.close()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_fresh_server_database_is_created_at_head(
    backend: str, request: pytest.FixtureRequest
) -> None:
    db = Database(request.getfixturevalue(f"{backend}_uri"))
    assert _revision(db) == SCHEMA_REVISION
    db.close()


def test_migrations_build_exactly_the_schema(db_uri: str) -> None:
    db = Database(db_uri)
    with db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    db.close()
    assert diff == []


def test_sqlite_uses_wal_and_case_sensitive_like(sqlite_uri: str) -> None:
    db = Database(sqlite_uri)
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("SELECT 'A' LIKE 'a'").scalar() == 0
    db.close()


def test_write_rolls_back_on_error(sqlite_uri: str) -> None:
    db = Database(sqlite_uri)

    def half_written() -> None:
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO experiments (name) VALUES ('half')")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        half_written()
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM experiments").scalar() == 0
    db.close()


def _open_and_write(uri: str, worker: int, queue: multiprocessing.Queue[str]) -> None:
    try:
        db = Database(uri)
        for i in range(40):
            with db.write() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO experiments (name) VALUES (?)", (f"w{worker}-{i}",)
                )
        db.close()
        queue.put("ok")
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(f"{type(exc).__name__}: {exc}")


def test_many_processes_open_a_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'race.db'}"
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[str] = ctx.Queue()
    procs = [ctx.Process(target=_open_and_write, args=(uri, w, queue)) for w in range(8)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert results == ["ok"] * 8
    db = Database(uri)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM experiments").scalar() == 8 * 40
    db.close()


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE something_else (id INTEGER)")
    engine.dispose()
    with pytest.raises(InvalidState, match="did not create"):
        Database(f"sqlite:///{path}")


def test_database_at_another_revision_asks_for_upgrade(sqlite_uri: str) -> None:
    db = Database(sqlite_uri)
    with db.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000_older'")
    db.close()
    with pytest.raises(InvalidState, match="trackline db upgrade"):
        Database(sqlite_uri)


def test_upgrade_creates_a_new_database(tmp_path: Path) -> None:
    before, after = upgrade(f"sqlite:///{tmp_path / 'u.db'}")
    assert (before, after) == (None, SCHEMA_REVISION)
    assert upgrade(f"sqlite:///{tmp_path / 'u.db'}") == (SCHEMA_REVISION, SCHEMA_REVISION)


def test_unreachable_server_is_temporarily_unavailable() -> None:
    with pytest.raises(TemporarilyUnavailable, match="cannot be reached"):
        Database("postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")


def test_databases_of_one_file_share_the_writer_lock(sqlite_uri: str) -> None:
    first, second = Database(sqlite_uri), Database(sqlite_uri)
    assert first._write_lock is second._write_lock
    first.close()
    second.close()


def _write_in_child(db: Database, queue: multiprocessing.Queue[str]) -> None:
    try:
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO experiments (name) VALUES ('from-child')")
        queue.put("ok")
    except Exception as exc:  # reported to the parent
        queue.put(f"{type(exc).__name__}: {exc}")


def test_a_forked_child_writes_on_its_own_connection(sqlite_uri: str) -> None:
    db = Database(sqlite_uri)
    with db.write() as conn:  # the parent's writer connection now exists
        conn.exec_driver_sql("INSERT INTO experiments (name) VALUES ('from-parent')")
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = ctx.Queue()
    child = ctx.Process(target=_write_in_child, args=(db, queue))
    child.start()
    assert queue.get(timeout=60) == "ok"
    child.join(timeout=60)
    with db.write() as conn:  # the parent's connection still works after the child's exit
        conn.exec_driver_sql("INSERT INTO experiments (name) VALUES ('parent-again')")
    with db.read() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM experiments")}
    db.close()
    assert names == {"from-parent", "from-child", "parent-again"}


def test_postgresql_connections_run_without_jit(postgres_uri: str) -> None:
    db = Database(postgres_uri)
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        db.close()
