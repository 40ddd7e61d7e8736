"""Metric points in the SQL tracking store: logging them and reading a metric's history.

Every point goes to ``metrics`` (an exact repeat is ignored by its primary key) and the
largest point of each key by (step, timestamp, value) to ``latest_metrics``, through an
upsert whose comparison runs in the database (see :mod:`trackline.store.sql.upserts`).
NaN is stored as 0 with ``is_nan`` set and ±inf as ±1.7976931348623157e308.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from itertools import compress
from typing import Any

from sqlalchemy import Connection, bindparam, exists, literal_column, select
from sqlalchemy.sql.dml import Insert

from trackline.entities import Metric, MetricHistory
from trackline.store.sql.prepared import Prepared, gc_paused
from trackline.store.sql.runs import require_active_run
from trackline.store.sql.schema import metrics, runs
from trackline.store.sql.upserts import (
    LATEST_METRIC_PARAMS,
    insert_ignore,
    latest_metric_upsert,
    on_conflict_ignore,
)
from trackline.validation import METRIC_VALUE_MAX

__all__ = ["compile_statements", "metric_history", "write_metrics"]

_INF = math.inf
_m = metrics.c
# Parameter order of the inserts (checked against the compiled SQL by Prepared).
_COLUMNS = ("run_uuid", "key", "timestamp", "step", "value", "is_nan")
_INSERT = Prepared(lambda dialect: insert_ignore(dialect, metrics), _COLUMNS)


#: Up to this many points are inserted with the run check folded in (below); larger
#: batches check the run once and insert plainly, which is cheaper per row.
_GUARD_LIMIT = 10


def _insert_if_active(dialect: str) -> Insert:
    # INSERT .. SELECT <point> WHERE EXISTS (<the run is active>): the check costs no extra
    # statement. (Not on MySQL, whose driver sends such an executemany row by row.)
    params = [bindparam(name, type_=metrics.c[name].type) for name in _COLUMNS]
    active = exists().where(
        runs.c.run_uuid == bindparam("run_id"), runs.c.lifecycle_stage == literal_column("'active'")
    )
    return on_conflict_ignore(dialect, metrics, select(*params).where(active), _COLUMNS)


_INSERT_IF_ACTIVE = Prepared(_insert_if_active, (*_COLUMNS, "run_id"))
_UPSERT_LATEST = Prepared(latest_metric_upsert, LATEST_METRIC_PARAMS)
_history = (
    select(_m.timestamp, _m.step, _m.value, _m.is_nan)
    .where(_m.run_uuid == bindparam("run_id"), _m.key == bindparam("key"))
    .order_by(_m.timestamp, _m.step, _m.value)
)
_HISTORY = Prepared(lambda _: _history, ("run_id", "key"))
_HISTORY_PAGE = Prepared(
    lambda _: _history.limit(bindparam("limit")).offset(bindparam("offset")),
    ("run_id", "key", "limit", "offset"),
)


def compile_statements(dialect: str) -> None:
    """Compile the statements of the logging path now (~2.5 ms) rather than inside the
    first steps of a training loop, which would otherwise pay for it."""
    for statement in (_INSERT, _INSERT_IF_ACTIVE, _UPSERT_LATEST, _HISTORY):
        statement.sql(dialect)


def write_metrics(conn: Connection, run_id: str, points: Sequence[Metric]) -> None:
    """Store validated metric points of an active run and move its latest values forward.

    Raises like :func:`~trackline.store.sql.runs.require_active_run` when the run is
    unknown or deleted (checked by the insert itself where the dialect allows).
    """
    rows: list[tuple[str, str, int, int, float, bool]] = []
    latest: dict[str, tuple[int, int, float, bool]] = {}
    for point in points:
        value = point.value
        is_nan = False
        if value != value:
            is_nan, value = True, 0.0
        elif value == _INF:
            value = METRIC_VALUE_MAX
        elif value == -_INF:
            value = -METRIC_VALUE_MAX
        key, step, timestamp = point.key, point.step, point.timestamp
        rows.append((run_id, key, timestamp, step, value, is_nan))
        best = latest.get(key)
        if best is None or (step, timestamp, value) > best[:3]:
            latest[key] = (step, timestamp, value, is_nan)
    if len(rows) > _GUARD_LIMIT or conn.dialect.name == "mysql":
        require_active_run(conn, run_id)
        _INSERT.executemany(conn, rows)
    elif _INSERT_IF_ACTIVE.executemany(conn, [(*row, run_id) for row in rows]) <= 0:
        # Nothing inserted: the run is not active, or every point was an exact repeat (or
        # the driver does not sum rowcounts over executemany).
        require_active_run(conn, run_id)
    _UPSERT_LATEST.executemany(
        conn,
        [
            (run_id, key, value, timestamp, step, is_nan, run_id)
            for key, (step, timestamp, value, is_nan) in latest.items()
        ],
    )


def _history_rows(
    conn: Connection, run_id: str, key: str, limit: int | None, offset: int
) -> list[tuple[Any, ...]]:
    if limit is None and offset == 0:
        return _HISTORY.fetchall(conn, (run_id, key))
    page_size = limit if limit is not None else 2**62
    return _HISTORY_PAGE.fetchall(conn, (run_id, key, page_size, offset))


def metric_history(
    conn: Connection, run_id: str, key: str, limit: int | None = None, offset: int = 0
) -> list[Metric]:
    """Points of one metric of one run ordered by (timestamp, step, value), optionally a page."""
    nan = math.nan
    with gc_paused():
        return [
            Metric(key, nan if is_nan else value, timestamp, step)
            for timestamp, step, value, is_nan in _history_rows(conn, run_id, key, limit, offset)
        ]


def metric_history_columns(
    conn: Connection, run_id: str, key: str, limit: int | None = None, offset: int = 0
) -> MetricHistory:
    """:func:`metric_history` as arrays: each column goes from the driver's tuples to an
    array in one C-level step, with no entity per point (a chart, a bulk read)."""
    with gc_paused():
        rows = _history_rows(conn, run_id, key, limit, offset)
        if not rows:
            return MetricHistory(key, array("q"), array("q"), array("d"))
        timestamp, step, value, is_nan = zip(*rows, strict=True)
        del rows
    values = array("d", value)
    if any(is_nan):
        for i in compress(range(len(is_nan)), is_nan):
            values[i] = math.nan
    return MetricHistory(key, array("q", timestamp), array("q", step), values)
