"""Prepared statements (Core compiled once, run on the driver cursor) and gc_paused."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, insert, literal_column, select

from trackline.store.sql.engine import Database
from trackline.store.sql.prepared import Prepared, gc_paused
from trackline.store.sql.schema import experiments


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    db = Database(request.getfixturevalue(f"{request.param}_uri"))
    yield db
    db.close()


_INSERT = Prepared(
    lambda _: insert(experiments).values(
        experiment_id=bindparam("id"),
        name=bindparam("name"),
        lifecycle_stage=literal_column("'active'"),
    ),
    ("id", "name"),
)
_e = experiments.c
_PAGE = Prepared(
    lambda _: (
        select(_e.name)
        .where(_e.name != bindparam("skip"))
        .order_by(_e.experiment_id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    ),
    ("skip", "limit", "offset"),
)


def test_execute_fetch_and_parameter_order(database: Database) -> None:
    with database.write() as conn:
        assert _INSERT.executemany(conn, [(i, f"e{i}") for i in range(1, 6)]) in (5, 1, -1)
        assert _INSERT.executemany(conn, []) == 0
    with database.read() as conn:
        # MySQL writes LIMIT offset, count: the tuple is reordered for it.
        assert _PAGE.fetchall(conn, ("e1", 2, 1)) == [("e3",), ("e4",)]
        assert _PAGE.fetchone(conn, ("e1", 1, 0)) == ("e2",)
        assert _PAGE.fetchone(conn, ("e1", 1, 10)) is None


def test_driver_errors_become_sqlalchemy_errors(database: Database) -> None:
    with database.write() as conn:
        _INSERT.execute(conn, (1, "one"))
    with pytest.raises(sa.exc.IntegrityError), database.write() as conn:
        _INSERT.execute(conn, (2, "one"))  # the name is unique
    with database.read() as conn:
        assert _PAGE.fetchall(conn, ("", 10, 0)) == [("one",)]


def test_declared_parameters_must_match() -> None:
    wrong = Prepared(lambda _: select(_e.name).where(_e.name == bindparam("name")), ("other",))
    with pytest.raises(AssertionError, match="declared"):
        wrong.sql("sqlite")
    constant = Prepared(lambda _: select(_e.name).where(_e.name == "x"), ())
    with pytest.raises(AssertionError, match="declared"):  # constants must be literal_column
        constant.sql("sqlite")
    assert Prepared(lambda _: select(_e.name), ()).sql("postgresql").startswith("SELECT")
    with pytest.raises(ValueError, match="unsupported"):
        Prepared(lambda _: select(_e.name), ()).sql("oracle")


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()
