"""Metric histories for charts, downsampled on the server without losing spikes.

A series of at most ``2 * buckets`` points comes back whole. A longer one is cut into
``buckets`` spans of its time axis and each span gives its **minimum and maximum** (with the
steps and times where they lie, approximately for SQL: the span's first and last), so a
single spike among a million points still shows. The two points of a span come in the order
that continues the line from the previous span (the one nearer to it first), so a smooth
curve stays a line rather than a zig-zag.

On a SQL store the reduction runs in the database. SQLite walks the history's primary-key
index (``run_uuid, key, timestamp, ...``) one span at a time, which needs no sort;
PostgreSQL and MySQL group by span in one statement. A history whose points share a few
timestamps (``log_batch`` often stamps a whole batch alike) is reduced by position instead,
as are the histories of stores that are not SQL.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from trackline.store.sql.prepared import Prepared
from trackline.store.sql.schema import metrics
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.store.tracking_store import GET_METRIC_HISTORY_MAX_RESULTS, TrackingStore
from trackline.validation import METRIC_VALUE_MAX

__all__ = ["DEFAULT_BUCKETS", "Series", "metric_series"]

#: Spans per series by default (so at most twice as many points).
DEFAULT_BUCKETS = 1000
_m = metrics.c


@dataclass
class Series:
    """One run's history of one metric, as charts draw it."""

    run_id: str
    key: str
    step: list[int] = field(default_factory=list)
    timestamp: list[int] = field(default_factory=list)
    value: list[float | None] = field(default_factory=list)
    total: int = 0
    sampled: bool = False

    def as_json(self) -> dict[str, Any]:
        """The series as the chart pages take it."""
        return {
            "run_id": self.run_id,
            "key": self.key,
            "step": self.step,
            "timestamp": self.timestamp,
            "value": self.value,
            "total": self.total,
            "sampled": self.sampled,
        }

    def add(self, step: int, timestamp: int, value: float | None) -> None:
        """Append a point."""
        self.step.append(int(step))
        self.timestamp.append(int(timestamp))
        self.value.append(value)


def _shown(value: float, is_nan: bool = False) -> float | None:
    """A stored value as charts take it: NaN and the stored infinities are gaps."""
    if is_nan or not math.isfinite(value) or abs(value) >= METRIC_VALUE_MAX:
        return None
    return float(value)


@dataclass
class _Span:
    vmin: float
    vmax: float
    first: tuple[int, int]  # (step, timestamp) where the lower point goes
    last: tuple[int, int]
    count: int
    min_first: bool | None = None  # known order of the minimum and maximum, if any


def _emit(series: Series, spans: list[_Span]) -> None:
    previous: float | None = None
    for span in spans:
        if span.count == 1 or span.vmin == span.vmax:
            series.add(*span.first, span.vmin)
            previous = span.vmin
            continue
        min_first = span.min_first
        if min_first is None:
            min_first = previous is None or abs(span.vmin - previous) <= abs(span.vmax - previous)
        low, high = (span.vmin, span.vmax) if min_first else (span.vmax, span.vmin)
        series.add(*span.first, low)
        series.add(*span.last, high)
        previous = high


def metric_series(
    store: TrackingStore, run_id: str, key: str, buckets: int = DEFAULT_BUCKETS
) -> Series:
    """The history of ``key`` in ``run_id``, downsampled to about ``2 * buckets`` points."""
    buckets = max(1, buckets)
    if isinstance(store, SqlTrackingStore):
        return _sql_series(store, run_id, key, buckets)
    return _python_series(store, run_id, key, buckets)


def _where(run_id: str, key: str) -> list[Any]:
    return [_m.run_uuid == run_id, _m.key == key]


def _sql_series(store: SqlTrackingStore, run_id: str, key: str, buckets: int) -> Series:
    series = Series(run_id, key)
    head = (
        sa.select(_m.step, _m.timestamp, _m.value, _m.is_nan)
        .where(*_where(run_id, key))
        .order_by(_m.timestamp, _m.step, _m.value)
        .limit(2 * buckets + 1)
    )
    with store.db.read() as conn:
        rows = conn.execute(head).all()
        if len(rows) <= 2 * buckets:
            for step, timestamp, value, is_nan in rows:
                series.add(step, timestamp, _shown(value, bool(is_nan)))
            series.total = len(rows)
            return series
        low = int(rows[0][1])
        last = sa.select(_m.timestamp).where(*_where(run_id, key)).order_by(_m.timestamp.desc())
        high = int(conn.execute(last.limit(1)).scalar_one())
        if high - low + 1 < 2 * buckets:
            # Few distinct timestamps: spans of time would merge the steps. By position.
            full = sa.select(_m.step, _m.timestamp, _m.value, _m.is_nan).where(*_where(run_id, key))
            everything = conn.execute(full.order_by(_m.timestamp, _m.step, _m.value)).all()
            return _reduce_rows(series, everything, buckets)
        width = (high - low) // buckets + 1
        if store.dialect == "sqlite":
            spans = _sqlite_spans(conn, run_id, key, low, width, buckets)
        else:
            spans = _grouped_spans(conn, run_id, key, low, width)
    series.total = sum(span.count for span in spans)
    series.sampled = True
    _emit(series, [span for span in spans if span.count])
    return series


def _finite() -> list[Any]:
    return [
        _m.is_nan == sa.false(),
        _m.value < METRIC_VALUE_MAX,
        _m.value > -METRIC_VALUE_MAX,
    ]


_AGGREGATES = (
    sa.func.min(_m.value),
    sa.func.max(_m.value),
    sa.func.min(_m.step),
    sa.func.max(_m.step),
    sa.func.min(_m.timestamp),
    sa.func.max(_m.timestamp),
    sa.func.count(),
)


def _span(row: Any) -> _Span:
    vmin, vmax, smin, smax, tmin, tmax, count = row
    return _Span(float(vmin), float(vmax), (int(smin), int(tmin)), (int(smax), int(tmax)), count)


def _span_statement(dialect: str) -> Any:
    return sa.select(*_AGGREGATES).where(
        _m.run_uuid == sa.bindparam("run_id"),
        _m.key == sa.bindparam("key"),
        _m.timestamp >= sa.bindparam("start"),
        _m.timestamp < sa.bindparam("end"),
        _m.is_nan == sa.literal_column("0"),
        _m.value < sa.literal_column(repr(METRIC_VALUE_MAX)),
        _m.value > sa.literal_column(repr(-METRIC_VALUE_MAX)),
    )


_SPAN = Prepared(_span_statement, ("run_id", "key", "start", "end"))


def _sqlite_spans(
    conn: sa.Connection, run_id: str, key: str, low: int, width: int, buckets: int
) -> list[_Span]:
    """One indexed range scan per span (SQLite sorts a GROUP BY; ranges need no sort)."""
    spans = []
    sql = _SPAN.sql("sqlite")
    cursor = conn.connection.cursor()
    try:
        for index in range(buckets + 1):
            start = low + index * width
            row = cursor.execute(sql, (run_id, key, start, start + width)).fetchone()
            if row is not None and row[-1]:
                spans.append(_span(row))
    finally:
        cursor.close()
    return spans


def _grouped_spans(conn: sa.Connection, run_id: str, key: str, low: int, width: int) -> list[_Span]:
    """All spans in one GROUP BY (hash aggregation on PostgreSQL and MySQL)."""
    bucket = ((_m.timestamp - low) // width).label("bucket")
    statement = (
        sa.select(bucket, *_AGGREGATES)
        .where(*_where(run_id, key), *_finite())
        .group_by(bucket)
        .order_by(bucket)
    )
    return [_span(row[1:]) for row in conn.execute(statement)]


def _reduce_rows(series: Series, rows: Any, buckets: int) -> Series:
    """Min/max over ``buckets`` runs of consecutive points (exact positions)."""
    import numpy as np

    points = [(int(s), int(t), _shown(v, bool(n))) for s, t, v, n in rows]
    series.total = len(points)
    kept = [p for p in points if p[2] is not None]
    if len(kept) <= 2 * buckets:
        for point in points:
            series.add(*point)
        return series
    values = np.asarray([p[2] for p in kept], dtype=np.float64)
    edges = np.linspace(0, len(kept), buckets + 1).astype(np.int64)
    spans = []
    for start, end in itertools.pairwise(edges):
        if end <= start:
            continue
        chunk = values[start:end]
        lo, hi = int(start + chunk.argmin()), int(start + chunk.argmax())
        first, second = sorted((lo, hi))
        spans.append(
            _Span(
                float(values[lo]),
                float(values[hi]),
                kept[first][:2],
                kept[second][:2],
                int(end - start),
                min_first=lo <= hi,
            )
        )
    series.sampled = True
    _emit(series, spans)
    return series


def _python_series(store: TrackingStore, run_id: str, key: str, buckets: int) -> Series:
    """The history read page by page through the store's API, reduced in numpy."""
    rows = []
    token = None
    while True:
        page = store.get_metric_history(run_id, key, GET_METRIC_HISTORY_MAX_RESULTS, token)
        rows += [(m.step, m.timestamp, m.value, math.isnan(m.value)) for m in page]
        token = page.token
        if not token:
            break
    return _reduce_rows(Series(run_id, key), rows, buckets)
