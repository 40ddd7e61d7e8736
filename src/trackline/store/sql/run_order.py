"""The order of a run search: the ORDER BY of ``order_by`` keys, and the page of runs
ordered by a metric that the filter does not require.

:func:`~trackline.store.sql.filters.runs_query` builds its statement with these. A metric,
param or tag key is an outer join of its table (missing values last; metrics: numbers, then
NaN, then missing); an attribute orders its column. Ordering by a metric through an outer
join makes the database sort every matching run before it returns the first page (187 ms
against 1 ms at 100,000 runs on SQLite), so :func:`split_by_metric` reads such a page from
the ``latest_metrics (experiment_id, key, value)`` index instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Join

from trackline.search import OrderKey
from trackline.store.sql.expressions import NullsLast, direction, sortable, string_test
from trackline.store.sql.schema import latest_metrics, params, runs, tags
from trackline.validation import METRIC_VALUE_MAX

__all__ = [
    "RUN_COLUMNS",
    "SPLIT_ROWS",
    "order_on",
    "order_terms",
    "run_attribute_order",
    "split_by_metric",
]

#: Up to this many rows (offset + limit), a page ordered by a metric that the filter does not
#: require is read by :func:`split_by_metric`; beyond, sorting every matching run once costs
#: less than walking that far.
SPLIT_ROWS = 10_000
_LOWEST: ColumnElement[float] = sa.literal(-METRIC_VALUE_MAX, sa.Double())
_HIGHEST: ColumnElement[float] = sa.literal(METRIC_VALUE_MAX, sa.Double())


#: The run attributes a search filters and orders on, as columns.
RUN_COLUMNS: dict[str, ColumnElement[Any]] = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}
_RUN_STRING_ATTRIBUTES = frozenset({"run_name", "status", "user_id", "artifact_uri"})


def order_on(row: FromClause, key: str) -> ColumnElement[bool]:
    """The join condition of a run's row of ``key`` in ``row`` (metrics, params or tags)."""
    return sa.and_(row.c.run_uuid == runs.c.run_uuid, string_test(row.c.key, "=", key))


def order_terms(
    source: FromClause | Join, keys: Sequence[OrderKey], terms: list[ColumnElement[Any]]
) -> tuple[FromClause | Join, list[ColumnElement[Any]]]:
    """``source`` with an outer join per metric, param or tag of ``keys``, and ``terms``
    followed by the ORDER BY terms of ``keys`` (missing values last)."""
    terms = list(terms)
    for index, key in enumerate(keys, start=1):
        if key.entity == "attribute":
            terms += run_attribute_order(key)
            continue
        table = {"metric": latest_metrics, "param": params, "tag": tags}[key.entity]
        row = table.alias(f"order_{index}")
        source = source.outerjoin(row, order_on(row, key.key))
        if key.entity == "metric":
            terms += [
                row.c.value.is_(None).asc(),
                row.c.is_nan.asc(),
                direction(row.c.value, key.ascending),
            ]
        else:
            terms.append(NullsLast(sortable(row.c.value), key.ascending))
    return source, terms


def split_by_metric(
    ids: list[int],
    where: list[ColumnElement[Any]],
    keys: Sequence[OrderKey],
    offset: int,
    limit: int,
) -> sa.Select[Any]:
    """The page of runs passing ``where`` ordered by ``keys``, whose first key is a metric
    that the filter does not require, without sorting every matching run (which an outer
    join of the metric makes the database do). With ``top = offset + limit``:

    * ``edge``: the value of the ``top``-th run in the metric's order, found by walking the
      ``(experiment_id, key, value)`` index (NULL when fewer runs have a number for it), a
      common table expression the others read;
    * ``present``: the runs whose value reaches ``edge`` (``top`` of them, plus any ties),
      a range of that index bounded by ``edge`` (a one-row table joined first, which MySQL
      reads as a constant while it plans), sorted by all the keys and cut at ``top``;
    * ``absent``: the first ``top`` runs with NaN (rank 1) or no value (rank 2), read only
      when ``edge`` is NULL (else it would scan every run). The guard is written as each
      planner needs it: a one-row derived table that SQLite reads first, and a test in the
      WHERE that PostgreSQL and MySQL evaluate once, before they scan anything;

    the union ordered again (rank, value, the other keys) and cut to the page.
    """
    lead, rest = keys[0], keys[1:]
    top = offset + limit

    def metric_of_runs(row: FromClause) -> ColumnElement[bool]:
        in_experiments = row.c.experiment_id.in_(ids) if ids else sa.false()
        return sa.and_(order_on(row, lead.key), in_experiments)

    # Every number is >= -max (infinities are stored clamped): the range makes the planners
    # walk the index even under EXISTS terms. The metric's rows come first in the joins
    # (MySQL keeps that order: STRAIGHT_JOIN).
    row = latest_metrics.alias("lead_edge")
    found = (
        sa.select(row.c.value)
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        .select_from(row.join(runs, metric_of_runs(row)))
        .where(*where, row.c.is_nan == sa.false(), row.c.value >= _LOWEST)
        .order_by(direction(row.c.value, lead.ascending))
        .limit(1)
        .offset(top - 1)
        .cte("edge")
    )
    edge = sa.select(found.c.value).scalar_subquery()
    # The edge as a one-row table joined first: each planner then bounds its range of the
    # index by it (MySQL reads such a table while it plans, as a constant).
    bound = sa.select(edge.label("edge")).subquery("bound")
    value = latest_metrics.alias("lead_value")
    within: ColumnElement[bool]
    if lead.ascending:
        within = value.c.value.between(_LOWEST, sa.func.coalesce(bound.c.edge, _HIGHEST))
    else:
        within = value.c.value >= sa.func.coalesce(bound.c.edge, _LOWEST)
    joined = bound.join(value, within).join(runs, metric_of_runs(value))
    source, terms = order_terms(joined, rest, [direction(value.c.value, lead.ascending)])
    present = (
        sa.select(
            runs.c.run_uuid, sa.literal_column("0").label("rank"), value.c.value.label("value")
        )
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        .select_from(source)
        .where(*where, value.c.is_nan == sa.false())
        .order_by(*terms)
        .limit(top)
        .subquery("present")
    )
    guard = sa.select(edge.label("edge")).subquery("guard")
    other = latest_metrics.alias("lead_other")
    missing = other.c.run_uuid.is_(None)
    guarded = guard.join(runs, guard.c.edge.is_(None)).outerjoin(other, order_on(other, lead.key))
    source, terms = order_terms(guarded, rest, [missing.asc()])
    absent = (
        sa.select(
            runs.c.run_uuid,
            sa.case((missing, 2), else_=1).label("rank"),
            other.c.value.label("value"),
        )
        .select_from(source)
        .where(edge.is_(None), *where, sa.or_(missing, other.c.is_nan == sa.true()))
        .order_by(*terms)
        .limit(top)
        .subquery("absent")
    )
    page = sa.union_all(sa.select(present), sa.select(absent)).subquery("page")
    source, terms = order_terms(
        runs.join(page, page.c.run_uuid == runs.c.run_uuid),
        rest,
        [page.c.rank.asc(), direction(page.c.value, lead.ascending)],
    )
    return (
        sa.select(runs.c.run_uuid).select_from(source).order_by(*terms).limit(limit).offset(offset)
    )


def run_attribute_order(key: OrderKey) -> list[ColumnElement[Any]]:
    """The ORDER BY terms of a run attribute (missing values last, strings by code point)."""
    column = RUN_COLUMNS[key.key]
    if key.key in ("run_id", "start_time"):  # never NULL: plain order, served by the index
        return [direction(column, key.ascending)]
    if key.key in _RUN_STRING_ATTRIBUTES:
        column = sortable(column)
    return [NullsLast(column, key.ascending)]
