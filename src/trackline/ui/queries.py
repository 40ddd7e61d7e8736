"""The runs table's reads: one page of runs, how many match, and the keys an experiment has.

On a SQL store these run in SQL, through the same filter compiler as ``search_runs``
(:func:`~trackline.store.sql.filters.runs_query`): the page is an ``OFFSET``/``LIMIT`` of the
ordered, filtered query (ordering by duration, which the search grammar lacks, is added
here; ordering by a metric walks the index of that metric's values, as ``runs_query`` does
for ``search_runs``), the total a ``COUNT`` of the same query, and the metric, param and
tag keys are found by walking the key indexes one distinct key at a time (a "loose index
scan": a few index seeks per key, however many runs the experiment has). Other stores fall
back to their ``search_run_columns`` pages, without a total and without ordering by
duration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from trackline.entities import RunColumns
from trackline.search import encode_page_token
from trackline.store.sql import experiments as experiment_sql
from trackline.store.sql.filters import runs_query
from trackline.store.sql.run_columns import INFO_COLUMNS, load_run_columns
from trackline.store.sql.schema import latest_metrics, params, runs, tags
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.store.tracking_store import TrackingStore

__all__ = ["KEY_LIMIT", "RunPage", "experiment_keys", "run_counts", "run_page", "run_total"]

#: At most this many keys per kind are listed for the column picker.
KEY_LIMIT = 1000
_EXTRA_COLUMNS = (runs.c.name, runs.c.user_id, runs.c.lifecycle_stage, runs.c.source_name)


@dataclass
class RunPage:
    """One page of runs as columns, with the run attributes the table shows besides, the
    number of runs matching (None when not counted) and whether more follow."""

    columns: RunColumns
    names: list[str | None] = field(default_factory=list)
    users: list[str | None] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    total: int | None = None
    has_more: bool = False


def _experiment_ids(experiment_ids: Sequence[str]) -> list[int]:
    ids = [experiment_sql.parse_experiment_id(e) for e in experiment_ids]
    return [i for i in ids if experiment_sql.in_id_range(i)]


def _duration_order(query: sa.Select[Any], ascending: bool) -> sa.Select[Any]:
    duration = runs.c.end_time - runs.c.start_time
    return query.order_by(None).order_by(
        runs.c.end_time.is_(None).asc(),
        duration.asc() if ascending else duration.desc(),
        runs.c.start_time.desc(),
        runs.c.run_uuid.asc(),
    )


def _count(conn: sa.Connection, ids: list[int], filter_string: str | None, view: int) -> int:
    matching = runs_query(ids, filter_string, view, None, 0, 0).order_by(None)
    query = sa.select(sa.func.count()).select_from(matching.limit(None).offset(None).subquery())
    return int(conn.execute(query).scalar_one())


def run_total(
    store: TrackingStore, experiment_ids: Sequence[str], filter_string: str | None, view: int
) -> int | None:
    """How many runs match (None for a store that is not SQL)."""
    if not isinstance(store, SqlTrackingStore):
        return None
    ids = _experiment_ids(experiment_ids)
    if not ids:
        return 0
    with store.db.read() as conn:
        return _count(conn, ids, filter_string, view)


def _rows(
    conn: sa.Connection,
    ids: list[int],
    filter_string: str | None,
    view: int,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
    by_duration: bool | None = None,
) -> list[Any]:
    query = runs_query(ids, filter_string, view, order_by, offset, limit)
    if by_duration is not None:
        query = _duration_order(query, by_duration)
    return list(conn.execute(query.with_only_columns(*INFO_COLUMNS, *_EXTRA_COLUMNS)))


def run_page(
    store: TrackingStore,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    view_type: int,
    order_by: Sequence[str],
    offset: int,
    limit: int,
    *,
    by_duration: bool | None = None,
    with_total: bool = True,
) -> RunPage:
    """Runs ``offset`` to ``offset + limit`` of the search, ordered by ``order_by`` (or by
    duration, ascending when ``by_duration`` is True, descending when False). With
    ``with_total`` the page also counts every matching run (a scan of them all; the HTML
    page asks for it apart)."""
    if not isinstance(store, SqlTrackingStore):
        return _fallback_page(
            store, experiment_ids, filter_string, view_type, order_by, offset, limit
        )
    ids = _experiment_ids(experiment_ids)
    if not ids:
        return RunPage(RunColumns(), total=0)
    with store.db.read() as conn:
        order = None if by_duration is not None else order_by
        rows = _rows(conn, ids, filter_string, view_type, order, offset, limit + 1, by_duration)
        has_more = len(rows) > limit
        del rows[limit:]
        total = _count(conn, ids, filter_string, view_type) if with_total else None
        page = RunPage(load_run_columns(conn, rows), total=total, has_more=has_more)
    width = len(INFO_COLUMNS)
    page.names = [row[width] for row in rows]
    page.users = [row[width + 1] for row in rows]
    page.stages = [row[width + 2] for row in rows]
    page.sources = [row[width + 3] for row in rows]
    return page


def _fallback_page(
    store: TrackingStore,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    view_type: int,
    order_by: Sequence[str],
    offset: int,
    limit: int,
) -> RunPage:
    token = encode_page_token(offset) if offset else None
    columns = store.search_run_columns(
        experiment_ids, filter_string, view_type, limit, list(order_by), token
    )
    name_tags = columns.tags.get("mlflow.runName") or [None] * len(columns)
    user_tags = columns.tags.get("mlflow.user") or [None] * len(columns)
    source_tags = columns.tags.get("mlflow.source.name") or [None] * len(columns)
    return RunPage(
        columns,
        has_more=columns.token is not None,
        names=list(name_tags),
        users=list(user_tags),
        stages=["active"] * len(columns),
        sources=list(source_tags),
        total=None,
    )


def _distinct_keys(conn: sa.Connection, table: sa.Table, where: list[Any]) -> list[str]:
    """Distinct ``key`` values of ``table`` rows matching ``where``, in order, one index
    seek each, at most :data:`KEY_LIMIT`."""
    found: list[str] = []
    after = ""
    step = sa.select(sa.func.min(table.c.key)).where(*where, table.c.key > sa.bindparam("after"))
    first = sa.select(sa.func.min(table.c.key)).where(*where)
    key = conn.execute(first).scalar()
    while key is not None and len(found) < KEY_LIMIT:
        found.append(key)
        after = key
        key = conn.execute(step, {"after": after}).scalar()
    return found


def _keys_in_experiments(conn: sa.Connection, table: sa.Table, ids: list[int]) -> list[str]:
    """The keys of ``params`` or ``tags`` that some run of these experiments has: every
    distinct key of the table, kept when one of the experiments' runs has it."""
    present = (
        sa.select(sa.literal(1))
        .select_from(table.join(runs, runs.c.run_uuid == table.c.run_uuid))
        .where(table.c.key == sa.bindparam("key"), runs.c.experiment_id.in_(ids))
        .limit(1)
    )
    return [
        key
        for key in _distinct_keys(conn, table, [])
        if conn.execute(present, {"key": key}).first() is not None
    ]


def experiment_keys(
    store: TrackingStore, experiment_ids: Sequence[str], sample: RunColumns | None = None
) -> dict[str, list[str]]:
    """The metric, param and tag keys of the experiments' runs, sorted (at most
    :data:`KEY_LIMIT` each). Stores other than SQL give the keys of ``sample``."""
    if not isinstance(store, SqlTrackingStore):
        sample = sample or RunColumns()
        return {
            "metrics": sorted(sample.metrics),
            "params": sorted(sample.params),
            "tags": sorted(sample.tags),
        }
    ids = _experiment_ids(experiment_ids)
    if not ids:
        return {"metrics": [], "params": [], "tags": []}
    with store.db.read() as conn:
        metric_keys: set[str] = set()
        for experiment_id in ids:
            where = [latest_metrics.c.experiment_id == experiment_id]
            metric_keys.update(_distinct_keys(conn, latest_metrics, where))
        return {
            "metrics": sorted(metric_keys)[:KEY_LIMIT],
            "params": _keys_in_experiments(conn, params, ids),
            "tags": _keys_in_experiments(conn, tags, ids),
        }


def run_counts(store: TrackingStore, experiment_ids: Sequence[str]) -> dict[str, int] | None:
    """The number of active runs of each experiment (None for a store that is not SQL)."""
    if not isinstance(store, SqlTrackingStore):
        return None
    ids = _experiment_ids(experiment_ids)
    if not ids:
        return {}
    query = (
        sa.select(runs.c.experiment_id, sa.func.count())
        .where(runs.c.experiment_id.in_(ids), runs.c.lifecycle_stage == "active")
        .group_by(runs.c.experiment_id)
    )
    with store.db.read() as conn:
        counts = {str(row[0]): int(row[1]) for row in conn.execute(query)}
    return {str(i): counts.get(str(i), 0) for i in ids}
