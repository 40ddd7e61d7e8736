"""The reference evaluator: filters and orders runs and experiments in memory.

It defines what a search means; the SQL compilation (``trackline.store.sql.filters``) must
give the same rows in the same order, which the property tests check. Any store that does
not speak SQL can use it as is.

Semantics (those of MLflow's SQL store):

* A comparison on a field the entity lacks is false, ``!=`` included; only ``IS NULL`` holds.
  ``attribute run_name`` reads the tag ``mlflow.runName``.
* A NaN metric matches only ``!=``.
* LIKE is case-sensitive; ILIKE compares lower-cased text (see :mod:`.pattern`).
* A dataset comparison holds when any dataset input of the run satisfies it; ``context`` is
  the input's ``mlflow.data.context`` tag.
* Ordering puts missing values last in both directions; for metrics, NaN comes after every
  number and before missing values.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from trackline.entities import Experiment, Run
from trackline.search.ast import And, Comparison, Expr, Or, OrderKey
from trackline.search.pattern import like_regex

__all__ = ["matches", "matches_experiment", "sort_experiments", "sort_runs"]

RUN_NAME_TAG = "mlflow.runName"
DATASET_CONTEXT_TAG = "mlflow.data.context"

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

T = TypeVar("T")


def _holds(cmp: Comparison, candidate: Any) -> bool:
    """Whether one present value satisfies the comparison."""
    op = cmp.comparator
    value = cmp.value
    if isinstance(candidate, float) and math.isnan(candidate):
        return op == "!="
    if op in _ORDERING:
        if isinstance(candidate, str) != isinstance(value, str):
            return False
        return _ORDERING[op](candidate, value)
    if op == "LIKE":
        return isinstance(value, str) and bool(like_regex(value).fullmatch(candidate))
    if op == "ILIKE":
        return isinstance(value, str) and bool(like_regex(value, True).fullmatch(candidate.lower()))
    if op == "IN":
        return isinstance(value, tuple) and candidate in value
    if op == "NOT IN":
        return isinstance(value, tuple) and candidate not in value
    raise AssertionError(op)  # pragma: no cover - IS [NOT] NULL never get here


def _evaluate(expr: Expr, candidates: Callable[[Comparison], list[Any]]) -> bool:
    if isinstance(expr, And):
        return all(_evaluate(t, candidates) for t in expr.terms)
    if isinstance(expr, Or):
        return any(_evaluate(t, candidates) for t in expr.terms)
    found = candidates(expr)
    if expr.comparator == "IS NULL":
        return not found
    if expr.comparator == "IS NOT NULL":
        return bool(found)
    return any(_holds(expr, c) for c in found)


def _present(value: Any) -> list[Any]:
    return [] if value is None else [value]


def _run_candidates(run: Run) -> Callable[[Comparison], list[Any]]:
    def candidates(cmp: Comparison) -> list[Any]:
        entity, key = cmp.entity, cmp.key
        if entity == "metric":
            return _present(run.data.metrics.get(key))
        if entity == "param":
            return _present(run.data.params.get(key))
        if entity == "tag":
            return _present(run.data.tags.get(key))
        if entity == "dataset":
            inputs = run.inputs.dataset_inputs
            if key == "context":
                return [t.value for d in inputs for t in d.tags if t.key == DATASET_CONTEXT_TAG]
            return [getattr(d.dataset, key) for d in inputs]
        if key == "run_name":
            return _present(run.data.tags.get(RUN_NAME_TAG))
        return _present(getattr(run.info, key))

    return candidates


def matches(expr: Expr | None, run: Run) -> bool:
    """Whether ``run`` passes the run filter ``expr`` (None passes everything)."""
    return expr is None or _evaluate(expr, _run_candidates(run))


def matches_experiment(expr: Expr | None, experiment: Experiment) -> bool:
    """Whether ``experiment`` passes the experiment filter ``expr``."""
    if expr is None:
        return True

    def candidates(cmp: Comparison) -> list[Any]:
        if cmp.entity == "tag":
            return _present(experiment.tags.get(cmp.key))
        return _present(getattr(experiment, cmp.key))

    return _evaluate(expr, candidates)


def _run_sort_value(run: Run, key: OrderKey) -> tuple[int, Any]:
    """(group, value): group 0 = has a value, 1 = NaN metric, 2 = missing."""
    if key.entity == "metric":
        value = run.data.metrics.get(key.key)
        if value is None:
            return 2, None
        return (1, None) if math.isnan(value) else (0, value)
    if key.entity == "param":
        raw = run.data.params.get(key.key)
    elif key.entity == "tag":
        raw = run.data.tags.get(key.key)
    else:
        raw = getattr(run.info, key.key)
    return (2, None) if raw is None else (0, raw)


def _experiment_sort_value(experiment: Experiment, key: OrderKey) -> tuple[int, Any]:
    raw = getattr(experiment, key.key)
    if raw is None:
        return 2, None
    return 0, int(raw) if key.key == "experiment_id" else raw


def _sort(
    items: Iterable[T], keys: Sequence[OrderKey], value: Callable[[T, OrderKey], tuple[int, Any]]
) -> list[T]:
    out = list(items)
    # Stable sorts from the last key to the first give the lexicographic order. Each pass
    # orders the items that have a value and keeps NaN, then missing ones, after them.
    for key in reversed(keys):
        groups: dict[int, list[tuple[Any, T]]] = {0: [], 1: [], 2: []}
        for item in out:
            group, v = value(item, key)
            groups[group].append((v, item))
        groups[0].sort(key=lambda pair: pair[0], reverse=not key.ascending)
        out = [item for group in (0, 1, 2) for _, item in groups[group]]
    return out


def sort_runs(runs: Iterable[Run], order_by: Sequence[OrderKey]) -> list[Run]:
    """``runs`` in the order ``order_by`` gives (pass the keys of ``parse_order_by``)."""
    return _sort(runs, order_by, _run_sort_value)


def sort_experiments(
    experiments: Iterable[Experiment], order_by: Sequence[OrderKey]
) -> list[Experiment]:
    """``experiments`` in the order ``order_by`` gives."""
    return _sort(experiments, order_by, _experiment_sort_value)
