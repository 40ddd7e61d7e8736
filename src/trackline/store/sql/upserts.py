"""Dialect-specific INSERT statements: insert-or-ignore, insert-or-replace, and the
conditional upsert that keeps ``latest_metrics`` at the max (step, timestamp, value).

SQLite and PostgreSQL share ``INSERT .. ON CONFLICT``; MySQL and MariaDB use
``INSERT .. ON DUPLICATE KEY UPDATE``. Each statement is built once per dialect and table and
then reused, so SQLAlchemy's compiled cache serves every later execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, case, select, tuple_
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from trackline.store.sql.schema import latest_metrics, runs

#: Bound parameters of :func:`latest_metric_upsert`, in this order.
LATEST_METRIC_PARAMS = ("run_uuid", "key", "value", "timestamp", "step", "is_nan", "run_id")

__all__ = ["insert_ignore", "insert_replace", "latest_metric_upsert", "on_conflict_ignore"]


def _insert(dialect: str, table: Table) -> Any:
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "mysql":
        return mysql.insert(table)
    raise ValueError(f"unsupported dialect {dialect!r}")


@cache
def insert_ignore(dialect: str, table: Table) -> Insert:
    """``INSERT`` that silently skips rows whose primary key (or a unique key) is taken."""
    stmt = _insert(dialect, table)
    if dialect == "mysql":
        # A no-op assignment; unlike INSERT IGNORE it does not hide other errors.
        first = next(iter(table.primary_key.columns))
        return stmt.on_duplicate_key_update({first.name: first})  # type: ignore[no-any-return]
    return stmt.on_conflict_do_nothing()  # type: ignore[no-any-return]


def on_conflict_ignore(
    dialect: str, table: Table, source: Select[Any], columns: Sequence[str]
) -> Insert:
    """``INSERT INTO table (columns) <source>`` skipping rows whose key is taken."""
    stmt = _insert(dialect, table).from_select(list(columns), source)
    if dialect == "mysql":
        first = next(iter(table.primary_key.columns))
        return stmt.on_duplicate_key_update({first.name: first})  # type: ignore[no-any-return]
    return stmt.on_conflict_do_nothing()  # type: ignore[no-any-return]


@cache
def insert_replace(dialect: str, table: Table, update: Sequence[str] = ("value",)) -> Insert:
    """``INSERT`` that overwrites the ``update`` columns of a row whose primary key is taken."""
    stmt = _insert(dialect, table)
    if dialect == "mysql":
        return stmt.on_duplicate_key_update(  # type: ignore[no-any-return]
            {name: stmt.inserted[name] for name in update}
        )
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=keys, set_={name: stmt.excluded[name] for name in update}
    )


@cache
def latest_metric_upsert(dialect: str) -> Insert:
    """Insert a run's latest point of a metric, or replace the stored one only when the new
    point is larger by (step, timestamp, value).

    The comparison runs inside the database, so concurrent writers can never move the
    latest point backwards.
    """
    lm = latest_metrics.c
    values: dict[str, Any] = {
        name: bindparam(name, type_=lm[name].type) for name in LATEST_METRIC_PARAMS[:-1]
    }
    # The run's experiment, copied so searches of one experiment walk one index range.
    values["experiment_id"] = (
        select(runs.c.experiment_id).where(runs.c.run_uuid == bindparam("run_id")).scalar_subquery()
    )
    stmt = _insert(dialect, latest_metrics).values(values)
    if dialect == "mysql":
        new = stmt.inserted

        def newer() -> Any:
            return tuple_(new.step, new.timestamp, new.value) > tuple_(
                lm.step, lm.timestamp, lm.value
            )

        # MySQL applies the assignments left to right and later ones see the earlier ones'
        # results. In this order (is_nan, value, timestamp, step) each re-evaluated
        # condition still decides correctly: once value (then timestamp) holds the new
        # point's, the comparison reduces to the columns not yet assigned.
        return stmt.on_duplicate_key_update(  # type: ignore[no-any-return]
            [
                (name, case((newer(), new[name]), else_=lm[name]))
                for name in ("is_nan", "value", "timestamp", "step")
            ]
        )
    new = stmt.excluded
    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=["run_uuid", "key"],
        set_={name: new[name] for name in ("value", "timestamp", "step", "is_nan")},
        where=tuple_(new.step, new.timestamp, new.value) > tuple_(lm.step, lm.timestamp, lm.value),
    )
