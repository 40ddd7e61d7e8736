"""Compiling searches to SQL: a filter and an order_by become one portable SELECT.

:func:`runs_query`, :func:`experiments_query` and :func:`logged_models_query` return
SQLAlchemy Core statements that select the ids of one page of results, in order. They run
unchanged on SQLite, PostgreSQL and MySQL/MariaDB; runs and experiments mean exactly what
:mod:`trackline.search.evaluate` means:

* A comparison on a metric, param, tag or dataset is a correlated ``EXISTS`` (``IS NULL`` a
  ``NOT EXISTS``) on that run's row(s), so it composes with ``AND``, ``OR`` and parentheses
  and a run lacking the key fails every comparison but ``IS NULL``. Metrics are read from
  ``latest_metrics``; a NaN (``is_nan``) matches only ``!=``.
* Strings compare byte for byte, LIKE is case-sensitive, strings order by code point, on
  every backend (see :mod:`~trackline.store.sql.expressions`).
* Ordering puts missing values last in both directions (metrics: numbers, then NaN, then
  missing).

Speed: ordering runs by a metric walks the ``latest_metrics (experiment_id, key, value)``
index in order and stops after one page, instead of sorting every matching run:

* when a top-level ``AND`` term of the filter compares the metric (``metrics.rmse < 7`` with
  ``order_by=["metrics.rmse"]``), the metric is inner-joined and the term is applied to the
  joined row instead of an ``EXISTS``;
* otherwise (:func:`~trackline.store.sql.run_order.split_by_metric`) the value at the
  page's end is found by that index walk, the runs up to it are read as a range of the
  index, and the runs without a value (NaN, then missing) only when the page reaches them.
  Pages deeper than 10,000 rows sort every matching run instead (a walk that long costs
  more).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Join

from trackline.entities import LifecycleStage, LoggedModelStatus, ViewType
from trackline.exceptions import InvalidParameterValue
from trackline.search import And, Comparison, Expr, OrderKey, Value, parse_filter, parse_order_by
from trackline.search.order_by import parse_order_clause
from trackline.store.sql import run_order
from trackline.store.sql.expressions import (
    NUMERIC_OPS,
    NullsLast,
    direction,
    number_test,
    sortable,
    string_test,
)
from trackline.store.sql.run_order import RUN_COLUMNS, order_on, order_terms
from trackline.store.sql.schema import (
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    inputs,
    latest_metrics,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    params,
    runs,
    tags,
)

__all__ = [
    "DatasetRef",
    "LoggedModelOrder",
    "experiments_query",
    "logged_model_order",
    "logged_models_query",
    "runs_query",
]

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"
_INT64 = 2**63
# Comparators that a run lacking the metric or having NaN for it never satisfies.
_PRESENT_NUMBER_OPS = frozenset({"=", "<", "<=", ">", ">="})

# The names under which other modules of the store import these helpers.
_direction, _number_test, _sortable, _string_test = direction, number_test, sortable, string_test

# -- runs ----------------------------------------------------------------------------------


def _metric_test(metric: FromClause, cmp: Comparison) -> ColumnElement[Any]:
    """The test of ``cmp`` on one ``latest_metrics`` row."""
    assert isinstance(cmp.value, (int, float))
    value: ColumnElement[float] = sa.literal(float(cmp.value), sa.Double())
    test = NUMERIC_OPS[cmp.comparator](metric.c.value, value)
    if cmp.comparator == "!=":
        return sa.or_(metric.c.is_nan == sa.true(), test)
    return sa.and_(metric.c.is_nan == sa.false(), test)


def _keyed_test(table: sa.Table, owner: ColumnElement[Any], cmp: Comparison) -> ColumnElement[Any]:
    """EXISTS/NOT EXISTS for a param or tag (of a run) or a tag (of an experiment)."""
    row = table.alias()
    where = [row.c[owner.name] == owner, string_test(row.c.key, "=", cmp.key)]
    if cmp.comparator == "IS NULL":
        return ~sa.exists().where(*where)
    if cmp.comparator != "IS NOT NULL":
        where.append(string_test(row.c.value, cmp.comparator, cmp.value))
    return sa.exists().where(*where)


def _dataset_test(cmp: Comparison) -> ColumnElement[Any]:
    link = inputs.alias()
    where: list[ColumnElement[Any]] = [
        link.c.destination_type == "RUN",
        link.c.destination_id == runs.c.run_uuid,
        link.c.source_type == "DATASET",
    ]
    if cmp.key == "context":
        tag = input_tags.alias()
        where += [
            tag.c.input_uuid == link.c.input_uuid,
            tag.c.name == DATASET_CONTEXT_TAG,
            string_test(tag.c.value, cmp.comparator, cmp.value),
        ]
    else:
        dataset = datasets.alias()
        where += [
            dataset.c.dataset_uuid == link.c.source_id,
            string_test(dataset.c[cmp.key], cmp.comparator, cmp.value),
        ]
    return sa.exists().where(*where)


def _run_test(cmp: Comparison) -> ColumnElement[Any]:
    if cmp.entity == "metric":
        metric = latest_metrics.alias()
        return sa.exists().where(
            metric.c.run_uuid == runs.c.run_uuid,
            string_test(metric.c.key, "=", cmp.key),
            _metric_test(metric, cmp),
        )
    if cmp.entity == "param":
        return _keyed_test(params, runs.c.run_uuid, cmp)
    if cmp.entity == "tag":
        return _keyed_test(tags, runs.c.run_uuid, cmp)
    if cmp.entity == "dataset":
        return _dataset_test(cmp)
    if cmp.key == "run_name":
        name = Comparison("tag", RUN_NAME_TAG, cmp.comparator, cmp.value)
        return _keyed_test(tags, runs.c.run_uuid, name)
    column = RUN_COLUMNS[cmp.key]
    if cmp.key in ("start_time", "end_time"):
        return number_test(column, cmp.comparator, cmp.value)
    return string_test(column, cmp.comparator, cmp.value)


def _condition(expr: Expr, test: Callable[[Comparison], ColumnElement[Any]]) -> ColumnElement[Any]:
    if isinstance(expr, Comparison):
        return test(expr)
    parts = [_condition(t, test) for t in expr.terms]
    return sa.and_(*parts) if isinstance(expr, And) else sa.or_(*parts)


def _conjuncts(expr: Expr | None) -> list[Expr]:
    if expr is None:
        return []
    return list(expr.terms) if isinstance(expr, And) else [expr]


def _lifecycle(column: ColumnElement[Any], view_type: int) -> list[ColumnElement[Any]]:
    if view_type not in (ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL):
        raise InvalidParameterValue(f"Invalid view type {view_type!r}: expected 1, 2 or 3")
    stages = LifecycleStage.view_type_to_stages(view_type)
    return [column == stages[0]] if len(stages) == 1 else []


def _check_page(offset: int, limit: int) -> None:
    for name, number in (("offset", offset), ("limit", limit)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise InvalidParameterValue(f"Invalid {name} {number!r}: expected an int >= 0")


def runs_query(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    run_view_type: int,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> sa.Select[Any]:
    """``SELECT runs.run_uuid`` of one page of a run search, in order.

    Runs of ``experiment_ids`` in the lifecycle stages of ``run_view_type`` (a ``ViewType``)
    that pass ``filter_string``, ordered by ``order_by`` then ``start_time DESC, run_uuid``,
    rows ``offset`` to ``offset + limit``. Raises ``InvalidParameterValue`` for a malformed
    filter or order_by. The statement selects from ``runs`` (callers may swap in other
    columns of it with ``with_only_columns``).
    """
    expr = parse_filter(filter_string, "runs")
    keys = parse_order_by(order_by, "runs")
    _check_page(offset, limit)
    try:
        ids = [int(i) for i in experiment_ids]
    except (TypeError, ValueError):
        raise InvalidParameterValue(
            f"Invalid experiment ids {list(experiment_ids)!r}: expected integers"
        ) from None
    where: list[ColumnElement[Any]] = [
        runs.c.experiment_id == ids[0] if len(ids) == 1 else runs.c.experiment_id.in_(ids),
        *_lifecycle(runs.c.lifecycle_stage, run_view_type),
    ]
    if not ids:
        where = [sa.false()]
    # Metrics the filter requires present and not NaN, by top-level AND terms.
    required: dict[str, list[Comparison]] = {}
    for term in _conjuncts(expr):
        if (
            isinstance(term, Comparison)
            and term.entity == "metric"
            and term.comparator in _PRESENT_NUMBER_OPS
        ):
            required.setdefault(term.key, []).append(term)
    lead = keys[0]
    if (
        lead.entity == "metric"
        and lead.key not in required
        and 0 < offset + limit <= run_order.SPLIT_ROWS
    ):
        where += [_condition(t, _run_test) for t in _conjuncts(expr)]
        return run_order.split_by_metric(ids, where, keys, offset, limit)
    applied: set[int] = set()
    source: FromClause | Join = runs
    if lead.entity == "metric" and lead.key in required:
        # Inner join: the filter's terms on this metric hold on the joined row, which the
        # (experiment_id, key, value) index yields in order, one experiment at a time.
        row = latest_metrics.alias("order_0")
        in_experiments = row.c.experiment_id.in_(ids) if ids else sa.false()
        source = runs.join(row, sa.and_(order_on(row, lead.key), in_experiments))
        for cmp in required[lead.key]:
            where.append(_metric_test(row, cmp))
            applied.add(id(cmp))
        source, terms = order_terms(source, keys[1:], [direction(row.c.value, lead.ascending)])
    else:
        source, terms = order_terms(source, keys, [])
    where += [_condition(t, _run_test) for t in _conjuncts(expr) if id(t) not in applied]
    return (
        sa.select(runs.c.run_uuid)
        .select_from(source)
        .where(*where)
        .order_by(*terms)
        .limit(limit)
        .offset(offset)
    )


# -- experiments ---------------------------------------------------------------------------


def _experiment_id_test(comparator: str, value: Value) -> ColumnElement[Any]:
    """experiment_id against quoted ids; a string that is no id's text matches no experiment."""
    texts = value if isinstance(value, tuple) else (value,)
    ids = []
    for text in texts:
        assert isinstance(text, str)
        if text.lstrip("-").isdigit() and text == str(int(text)) and -_INT64 <= int(text) < _INT64:
            ids.append(sa.literal(int(text), sa.BigInteger()))
    column = experiments.c.experiment_id
    if comparator in ("=", "IN"):
        return column.in_(ids) if ids else sa.false()
    return column.not_in(ids) if ids else sa.true()


def _experiment_test(cmp: Comparison) -> ColumnElement[Any]:
    if cmp.entity == "tag":
        return _keyed_test(experiment_tags, experiments.c.experiment_id, cmp)
    if cmp.key == "experiment_id":
        return _experiment_id_test(cmp.comparator, cmp.value)
    if cmp.key == "name":
        return string_test(experiments.c.name, cmp.comparator, cmp.value)
    return number_test(experiments.c[cmp.key], cmp.comparator, cmp.value)


def experiments_query(
    view_type: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> sa.Select[Any]:
    """``SELECT experiments.experiment_id`` of one page of an experiment search, in order.

    Experiments in the lifecycle stages of ``view_type`` that pass ``filter_string``,
    ordered by ``order_by`` (default ``creation_time DESC``) then ``experiment_id``.
    """
    expr = parse_filter(filter_string, "experiments")
    keys = parse_order_by(order_by, "experiments")
    _check_page(offset, limit)
    where = _lifecycle(experiments.c.lifecycle_stage, view_type)
    if expr is not None:
        where.append(_condition(expr, _experiment_test))
    terms: list[ColumnElement[Any]] = []
    for key in keys:
        column: ColumnElement[Any] = experiments.c[key.key]
        if key.key == "experiment_id":
            terms.append(direction(column, key.ascending))
        elif key.key == "name":
            terms.append(direction(sortable(column), key.ascending))
        else:
            terms.append(NullsLast(column, key.ascending))
    return (
        sa.select(experiments.c.experiment_id)
        .where(*where)
        .order_by(*terms)
        .limit(limit)
        .offset(offset)
    )


# -- logged models -------------------------------------------------------------------------

#: A dataset by name and, optionally, digest.
DatasetRef = tuple[str, "str | None"]

_lm = logged_models.c
_LOGGED_MODEL_COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": _lm.name,
    "model_id": _lm.model_id,
    "model_type": _lm.model_type,
    "status": _lm.status,
    "source_run_id": _lm.source_run_id,
    "creation_timestamp": _lm.creation_timestamp_ms,
    "last_updated_timestamp": _lm.last_updated_timestamp_ms,
}


@dataclass(frozen=True)
class LoggedModelOrder:
    """One key of a logged-model ordering: a field and, for a metric, the dataset whose
    values order (any dataset when None)."""

    key: OrderKey
    dataset: DatasetRef | None = None


def _on_datasets(metric: FromClause, refs: Sequence[DatasetRef]) -> list[ColumnElement[Any]]:
    """The condition that a ``logged_model_metrics`` row belongs to one of the datasets."""
    if not refs:
        return []
    options = []
    for name, digest in refs:
        test = string_test(metric.c.dataset_name, "=", name)
        if digest:
            test = sa.and_(test, string_test(metric.c.dataset_digest, "=", digest))
        options.append(test)
    return [sa.or_(*options)]


def _latest_model_metric(key: str, refs: Sequence[DatasetRef]) -> tuple[FromClause, list[Any]]:
    """An alias of ``logged_model_metrics`` and the conditions that make its row the
    model's latest point of ``key`` (max by step, then timestamp) among ``refs``."""
    point = logged_model_metrics.alias()
    newer = logged_model_metrics.alias()
    later = sa.tuple_(newer.c.metric_step, newer.c.metric_timestamp_ms) > sa.tuple_(
        point.c.metric_step, point.c.metric_timestamp_ms
    )
    where = [
        point.c.model_id == _lm.model_id,
        string_test(point.c.metric_name, "=", key),
        *_on_datasets(point, refs),
        ~sa.exists().where(
            newer.c.model_id == point.c.model_id,
            newer.c.metric_name == point.c.metric_name,
            *_on_datasets(newer, refs),
            later,
        ),
    ]
    return point, where


def _model_pair_test(table: sa.Table, key_column: str, value_column: str, cmp: Comparison) -> Any:
    row = table.alias()
    where = [row.c.model_id == _lm.model_id, string_test(row.c[key_column], "=", cmp.key)]
    if cmp.comparator == "IS NULL":
        return ~sa.exists().where(*where)
    if cmp.comparator != "IS NOT NULL":
        where.append(string_test(row.c[value_column], cmp.comparator, cmp.value))
    return sa.exists().where(*where)


def _status_number(text: str) -> int:
    try:
        return LoggedModelStatus.from_value(text).to_int()
    except ValueError as exc:
        raise InvalidParameterValue(f"Invalid status in the filter: {exc}") from None


def _logged_model_tester(refs: Sequence[DatasetRef]) -> Callable[[Comparison], Any]:
    def test(cmp: Comparison) -> Any:
        if cmp.entity == "metric":
            point, where = _latest_model_metric(cmp.key, refs)
            assert isinstance(cmp.value, (int, float))
            value: ColumnElement[float] = sa.literal(float(cmp.value), sa.Double())
            number = NUMERIC_OPS[cmp.comparator](point.c.metric_value, value)
            if cmp.comparator == "!=":
                where.append(sa.or_(point.c.is_nan == sa.true(), number))
            else:
                where += [point.c.is_nan == sa.false(), number]
            return sa.exists().where(*where)
        if cmp.entity == "param":
            return _model_pair_test(logged_model_params, "param_key", "param_value", cmp)
        if cmp.entity == "tag":
            return _model_pair_test(logged_model_tags, "tag_key", "tag_value", cmp)
        column = _LOGGED_MODEL_COLUMNS[cmp.key]
        if cmp.key == "status":
            values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
            numbers = [_status_number(str(v)) for v in values]
            return column.in_(numbers) if cmp.comparator in ("=", "IN") else column.not_in(numbers)
        if cmp.key in ("creation_timestamp", "last_updated_timestamp"):
            return number_test(column, cmp.comparator, cmp.value)
        return string_test(column, cmp.comparator, cmp.value)

    return test


def logged_model_order(order_by: Sequence[Any] | None) -> list[LoggedModelOrder]:
    """Parse a logged-model ``order_by``: a list of ``{"field_name", "ascending",
    "dataset_name", "dataset_digest"}`` (``ascending`` defaults to true), then the
    tie-breakers (``creation_timestamp DESC`` when nothing is given, then ``model_id``)."""
    if isinstance(order_by, (str, bytes)) or (
        order_by is not None and not isinstance(order_by, Sequence)
    ):
        raise InvalidParameterValue(f"order_by must be a list of objects, not {order_by!r}")
    keys: list[LoggedModelOrder] = []
    seen: set[tuple[str, str, DatasetRef | None]] = set()
    for item in order_by or ():
        if not isinstance(item, Mapping) or not isinstance(item.get("field_name"), str):
            raise InvalidParameterValue(
                f"Invalid order_by item {item!r}: expected an object with a 'field_name'"
            )
        field, ascending = item["field_name"], item.get("ascending", True)
        if not isinstance(ascending, bool):
            raise InvalidParameterValue(f"Invalid 'ascending' {ascending!r}: expected a boolean")
        prefix, dot, rest = field.partition(".")
        if dot and prefix.lower() in ("metric", "metrics") and rest:
            key = OrderKey("metric", rest, ascending)  # a metric key needs no quoting here
        else:
            key = parse_order_clause(field, "logged_models")
            key = OrderKey(key.entity, key.key, ascending)
        dataset = None
        name, digest = item.get("dataset_name"), item.get("dataset_digest")
        if key.entity == "metric" and isinstance(name, str) and name:
            dataset = (name, digest if isinstance(digest, str) and digest else None)
        identity = (key.entity, key.key, dataset)
        if identity in seen:
            raise InvalidParameterValue(f"Invalid order_by: '{field}' is ordered on twice")
        seen.add(identity)
        keys.append(LoggedModelOrder(key, dataset))
    if not keys:
        keys.append(LoggedModelOrder(OrderKey("attribute", "creation_timestamp", False)))
    if not any(k.key == OrderKey("attribute", "model_id", k.key.ascending) for k in keys):
        keys.append(LoggedModelOrder(OrderKey("attribute", "model_id")))
    return keys


def _logged_model_order_terms(
    order: LoggedModelOrder, refs: Sequence[DatasetRef]
) -> list[ColumnElement[Any]]:
    key = order.key
    if key.entity == "metric":
        point, where = _latest_model_metric(key.key, [order.dataset] if order.dataset else refs)
        latest = [point.c.metric_step.desc(), point.c.metric_timestamp_ms.desc()]

        def latest_of(column: ColumnElement[Any]) -> ColumnElement[Any]:
            return sa.select(column).where(*where).order_by(*latest).limit(1).scalar_subquery()

        value, is_nan = latest_of(point.c.metric_value), latest_of(point.c.is_nan)
        return [value.is_(None).asc(), is_nan.asc(), direction(value, key.ascending)]
    column = _LOGGED_MODEL_COLUMNS[key.key]
    if key.key in ("model_id", "creation_timestamp", "last_updated_timestamp", "status"):
        return [direction(column, key.ascending)]  # never NULL
    return [NullsLast(sortable(column), key.ascending)]


def logged_models_query(
    experiment_ids: Sequence[int],
    filter_string: str | None,
    dataset_refs: Sequence[DatasetRef] | None,
    order_by: Sequence[LoggedModelOrder],
    offset: int,
    limit: int,
) -> sa.Select[Any]:
    """``SELECT logged_models.model_id`` of one page of a logged-model search, in order.

    Active models of ``experiment_ids`` that pass ``filter_string``, ordered by ``order_by``
    (from :func:`logged_model_order`), rows ``offset`` to ``offset + limit``. A comparison
    on ``metrics.<key>`` tests the model's latest point of the key (max by step, then
    timestamp) among the points logged on ``dataset_refs`` (all points when there are none);
    a model without such a point fails every comparison. ``status`` compares with a status
    name (``READY`` or ``LOGGED_MODEL_READY``).
    """
    expr = parse_filter(filter_string, "logged_models")
    _check_page(offset, limit)
    refs = list(dataset_refs or ())
    ids = [int(i) for i in experiment_ids]
    where: list[ColumnElement[Any]] = [
        _lm.experiment_id.in_(ids) if ids else sa.false(),
        _lm.lifecycle_stage == LifecycleStage.ACTIVE,
    ]
    if expr is not None:
        where.append(_condition(expr, _logged_model_tester(refs)))
    terms = [t for order in order_by for t in _logged_model_order_terms(order, refs)]
    return sa.select(_lm.model_id).where(*where).order_by(*terms).limit(limit).offset(offset)
