"""Compiling registry searches to SQL: registered models and model versions.

:func:`registered_models_query` and :func:`model_versions_query` return SQLAlchemy Core
statements that select the keys of one page of results, in order, on SQLite, PostgreSQL and
MySQL/MariaDB alike. They share the string, number and ordering helpers of
:mod:`trackline.store.sql.filters`, so strings compare byte for byte and LIKE is
case-sensitive everywhere.

Prompts. MLflow keeps prompts in the registry as models tagged
``mlflow.prompt.is_prompt = 'true'``, and its 3.x client appends
``AND tag.`mlflow.prompt.is_prompt` != 'true'`` to every model search. Here that tag reads
``'false'`` on a model (or version) that lacks it, so the clause keeps ordinary models instead
of requiring the tag, and prompts are left out of every search unless the filter asks for
them (``= 'true'`` or ``!= 'false'`` on the tag). A model version is a prompt when it or its
model carries the tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from trackline.exceptions import InvalidParameterValue
from trackline.search import Comparison, Expr, OrderKey, parse_filter, parse_order_by
from trackline.store.sql.filters import (
    _check_page,
    _condition,
    _direction,
    _number_test,
    _sortable,
    _string_test,
)
from trackline.store.sql.schema import (
    DELETED_STAGE,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)

__all__ = ["PROMPT_TAG", "asks_for_prompts", "model_versions_query", "registered_models_query"]

#: The tag that marks a registered model (and its versions) as a prompt.
PROMPT_TAG = "mlflow.prompt.is_prompt"

_m = registered_models.c
_v = model_versions.c
_MODEL_COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": _m.name,
    "creation_timestamp": _m.creation_time,
    "last_updated_timestamp": _m.last_updated_time,
}
_VERSION_COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": _m.name,
    "run_id": _v.run_id,
    "source_path": _v.source,
    "version_number": _v.version,
    "creation_timestamp": _v.creation_time,
    "last_updated_timestamp": _v.last_updated_time,
}
_NUMERIC = frozenset({"version_number", "creation_timestamp", "last_updated_timestamp"})


def _terms(expr: Expr | None) -> list[Comparison]:
    if expr is None:
        return []
    if isinstance(expr, Comparison):
        return [expr]
    return [c for term in expr.terms for c in _terms(term)]


def asks_for_prompts(expr: Expr | None) -> bool:
    """Whether a filter asks for prompts: ``= 'true'`` or ``!= 'false'`` (any case) on the
    prompt tag somewhere in it."""
    for cmp in _terms(expr):
        if cmp.entity != "tag" or cmp.key != PROMPT_TAG or not isinstance(cmp.value, str):
            continue
        value = cmp.value.lower()
        if (cmp.comparator == "=" and value == "true") or (
            cmp.comparator == "!=" and value == "false"
        ):
            return True
    return False


def _tag_rows(
    table: sa.Table, owners: Mapping[str, ColumnElement[Any]], key: str
) -> tuple[sa.FromClause, list[ColumnElement[Any]]]:
    row = table.alias()
    where = [row.c[column] == owner for column, owner in owners.items()]
    where.append(_string_test(row.c.key, "=", key))
    return row, where


def _tag_test(
    table: sa.Table, owners: Mapping[str, ColumnElement[Any]], cmp: Comparison
) -> ColumnElement[Any]:
    """A comparison on a tag: EXISTS a matching tag row (``IS NULL``: none). The prompt tag
    reads ``'false'`` where it is missing."""
    row, where = _tag_rows(table, owners, cmp.key)
    if cmp.comparator == "IS NULL":
        return ~sa.exists().where(*where)
    if cmp.comparator == "IS NOT NULL":
        return sa.exists().where(*where)
    if cmp.key == PROMPT_TAG:
        value = sa.select(row.c.value).where(*where).limit(1).scalar_subquery()
        return _string_test(sa.func.coalesce(value, "false"), cmp.comparator, cmp.value)
    return sa.exists().where(*where, _string_test(row.c.value, cmp.comparator, cmp.value))


def _is_prompt(table: sa.Table, owners: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    row, where = _tag_rows(table, owners, PROMPT_TAG)
    return sa.exists().where(*where, _string_test(row.c.value, "=", "true"))


_MODEL_OWNER = {"registered_model_id": _m.id}
_VERSION_OWNER = {"registered_model_id": _v.registered_model_id, "version": _v.version}


def _model_test(cmp: Comparison) -> ColumnElement[Any]:
    if cmp.entity == "tag":
        return _tag_test(registered_model_tags, _MODEL_OWNER, cmp)
    column = _MODEL_COLUMNS[cmp.key]
    if cmp.key in _NUMERIC:
        return _number_test(column, cmp.comparator, cmp.value)
    return _string_test(column, cmp.comparator, cmp.value)


def _version_test(cmp: Comparison) -> ColumnElement[Any]:
    if cmp.entity == "tag":
        return _tag_test(model_version_tags, _VERSION_OWNER, cmp)
    column = _VERSION_COLUMNS[cmp.key]
    if cmp.key in _NUMERIC:
        if cmp.key == "version_number" and isinstance(cmp.value, float):
            raise InvalidParameterValue(
                f"Invalid value for numeric attribute 'version_number': {cmp.value!r} "
                "(versions are integers)"
            )
        return _number_test(column, cmp.comparator, cmp.value)
    return _string_test(column, cmp.comparator, cmp.value)


def _order_terms(
    keys: Sequence[OrderKey], columns: dict[str, ColumnElement[Any]]
) -> list[ColumnElement[Any]]:
    terms = []
    for key in keys:
        column = columns[key.key]
        if key.key == "name":
            column = _sortable(column)
        terms.append(_direction(column, key.ascending))  # never NULL
    return terms


def registered_models_query(
    filter_string: str | None, order_by: Sequence[str] | None, offset: int, limit: int
) -> sa.Select[Any]:
    """``SELECT registered_models.id`` of one page of a model search, in order.

    Models that pass ``filter_string`` (``name``, ``creation_timestamp``,
    ``last_updated_timestamp``, ``tags.<key>``), prompts left out unless the filter asks for
    them, ordered by ``order_by`` then ``name``; rows ``offset`` to ``offset + limit``.
    """
    expr = parse_filter(filter_string, "registered_models")
    keys = parse_order_by(order_by, "registered_models")
    _check_page(offset, limit)
    where: list[ColumnElement[Any]] = []
    if expr is not None:
        where.append(_condition(expr, _model_test))
    if not asks_for_prompts(expr):
        where.append(~_is_prompt(registered_model_tags, _MODEL_OWNER))
    return (
        sa.select(_m.id)
        .where(*where)
        .order_by(*_order_terms(keys, _MODEL_COLUMNS))
        .limit(limit)
        .offset(offset)
    )


def model_versions_query(
    filter_string: str | None, order_by: Sequence[str] | None, offset: int, limit: int
) -> sa.Select[Any]:
    """``SELECT (registered_model_id, version)`` of one page of a version search, in order.

    Versions that are not deleted and pass ``filter_string`` (``name``, ``run_id``,
    ``source_path``, ``version_number``, the timestamps, ``tags.<key>``), prompts left out
    unless the filter asks for them, ordered by ``order_by`` (default
    ``last_updated_timestamp DESC``) then ``name ASC, version_number DESC``.
    """
    expr = parse_filter(filter_string, "model_versions")
    keys = parse_order_by(order_by, "model_versions")
    _check_page(offset, limit)
    where: list[ColumnElement[Any]] = [_v.current_stage != DELETED_STAGE]
    if expr is not None:
        where.append(_condition(expr, _version_test))
    if not asks_for_prompts(expr):
        where.append(~_is_prompt(registered_model_tags, {"registered_model_id": _m.id}))
        where.append(~_is_prompt(model_version_tags, _VERSION_OWNER))
    return (
        sa.select(_v.registered_model_id, _v.version)
        .select_from(model_versions.join(registered_models, _m.id == _v.registered_model_id))
        .where(*where)
        .order_by(*_order_terms(keys, _VERSION_COLUMNS))
        .limit(limit)
        .offset(offset)
    )
