"""The syntax tree of a parsed filter and of an order_by clause.

A filter is a tree of :class:`Or` and :class:`And` nodes over :class:`Comparison` leaves.
The parser hands out normalized trees: entity aliases are resolved (``params`` -> ``param``),
attribute aliases too (``created`` -> ``start_time``, ``Run name`` -> ``run_name``),
comparators are upper case, an ``And`` never holds an ``And`` (nor an ``Or`` an ``Or``) and
holds at least two terms. :func:`to_filter_string` writes a tree back as a filter string that
parses to the same tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COMPARATORS",
    "And",
    "Comparator",
    "Comparison",
    "Entity",
    "Expr",
    "Kind",
    "Or",
    "OrderKey",
    "Value",
    "to_filter_string",
]

#: What a search is over.
Kind = Literal["runs", "experiments", "logged_models", "registered_models", "model_versions"]

#: What a comparison's key names: a latest metric, a param, a tag, an attribute (a column of
#: the run, experiment or logged model itself) or a field of a dataset the run used.
Entity = Literal["metric", "param", "tag", "attribute", "dataset"]

Comparator = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]

#: Every comparator, in the order error messages list them.
COMPARATORS: tuple[Comparator, ...] = (
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL",
)  # fmt: skip

#: A comparison's right-hand side: a string, a number, a non-empty tuple of strings (``IN``)
#: or None (``IS NULL``, ``IS NOT NULL``).
Value = str | int | float | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One ``<entity>.<key> <comparator> <value>`` test."""

    entity: Entity
    key: str
    comparator: Comparator
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    """True when every term is."""

    terms: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """True when any term is."""

    terms: tuple[Expr, ...]


Expr = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One key of an order_by clause."""

    entity: Entity
    key: str
    ascending: bool = True

    def __str__(self) -> str:
        return f"{_ENTITY_PREFIX[self.entity]}{_quote_key(self.key)} " + (
            "ASC" if self.ascending else "DESC"
        )


_ENTITY_PREFIX: dict[str, str] = {
    "metric": "metrics.",
    "param": "params.",
    "tag": "tags.",
    "attribute": "",
    "dataset": "datasets.",
}


def _quote_key(key: str) -> str:
    return "`" + key.replace("`", "``") + "`"


def _quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _render_value(value: Value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_quote_string(v) for v in value) + ")"
    if isinstance(value, str):
        return _quote_string(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{value!r} has no literal in the filter grammar")
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return ""


def to_filter_string(expr: Expr | None) -> str:
    """Write ``expr`` as a filter string that :func:`~trackline.search.parse_filter` reads back."""
    if expr is None:
        return ""
    if isinstance(expr, Comparison):
        left = _ENTITY_PREFIX[expr.entity] + _quote_key(expr.key)
        right = _render_value(expr.value)
        return f"{left} {expr.comparator} {right}".rstrip()
    if isinstance(expr, And):
        return " AND ".join(
            f"({to_filter_string(t)})" if isinstance(t, Or) else to_filter_string(t)
            for t in expr.terms
        )
    return " OR ".join(to_filter_string(t) for t in expr.terms)
