"""SQL expressions that mean the same on SQLite, PostgreSQL and MySQL/MariaDB.

The search compilers (:mod:`~trackline.store.sql.filters`,
:mod:`~trackline.store.sql.registry_filters`) build their statements from these:

* strings compare byte for byte and LIKE is case-sensitive on every backend. SQLite needs
  ``PRAGMA case_sensitive_like=ON`` (set by ``engine.Database``); on MySQL, whose default
  collations ignore case (and trailing spaces in ``=``), comparisons go through
  ``CAST(... AS BINARY)`` and LIKE patterns through ``COLLATE utf8mb4_bin``. LIKE patterns
  are rewritten to a canonical form (see :mod:`trackline.search.pattern`);
* strings order by code point (PostgreSQL ``COLLATE "C"``, MySQL binary);
* :class:`NullsLast` puts NULLs last in both directions.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.operators import OperatorType

from trackline.exceptions import InvalidParameterValue
from trackline.search import Value
from trackline.search.pattern import sql_like_pattern

__all__ = [
    "NUMERIC_OPS",
    "NullsLast",
    "PerDialect",
    "binary",
    "direction",
    "number",
    "number_test",
    "sortable",
    "string_test",
]

_INT64 = 2**63

#: The numeric comparators of the search grammar as SQLAlchemy operators.
NUMERIC_OPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class PerDialect(ColumnElement[Any]):
    """An expression written differently per dialect: ``variants[name]`` or ``default``."""

    inherit_cache = False

    def __init__(self, default: ColumnElement[Any], **variants: ColumnElement[Any]) -> None:
        self.default = default
        self.variants = variants
        self.type = default.type

    def self_group(self, against: OperatorType | None = None) -> ColumnElement[Any]:
        # Group each variant as it would be grouped on its own (an OR inside an AND gets
        # parentheses); never wrap this element, which would add "= 1" on SQLite and MySQL.
        return PerDialect(
            self.default.self_group(against=against),
            **{name: v.self_group(against=against) for name, v in self.variants.items()},
        )


@compiles(PerDialect)
def _compile_per_dialect(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    chosen = element.variants.get(compiler.dialect.name, element.default)
    return compiler.process(chosen, **kw)


class NullsLast(ColumnElement[Any]):
    """An ORDER BY term that puts NULLs last in both directions on every dialect."""

    inherit_cache = False

    def __init__(self, expr: ColumnElement[Any], ascending: bool) -> None:
        self.expr = expr
        self.ascending = ascending
        self.type = expr.type


@compiles(NullsLast)
def _compile_nulls_last(element: NullsLast, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite and MySQL sort NULL first: DESC already puts it last (and keeps index order).
    text = compiler.process(element.expr, **kw)
    return f"{text} IS NULL, {text} ASC" if element.ascending else f"{text} DESC"


@compiles(NullsLast, "postgresql")
def _compile_nulls_last_pg(element: NullsLast, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL sorts NULL last: ASC already does what we want.
    text = compiler.process(element.expr, **kw)
    return f"{text} ASC" if element.ascending else f"{text} DESC NULLS LAST"


def binary(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """MySQL's byte-for-byte view of a string (no case folding, no trailing-space padding)."""
    return sa.cast(expr, sa.BINARY())


def sortable(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A string column ordered by code point on every dialect."""
    return PerDialect(column, postgresql=column.collate("C"), mysql=binary(column))


def direction(expr: ColumnElement[Any], ascending: bool) -> ColumnElement[Any]:
    """``expr ASC`` or ``expr DESC``."""
    return expr.asc() if ascending else expr.desc()


def _string(value: str) -> ColumnElement[str]:
    return sa.literal(value, sa.String())


def string_test(column: ColumnElement[Any], comparator: str, value: Value) -> ColumnElement[Any]:
    """``column <comparator> value`` for strings, case- and byte-exact on every dialect."""
    if comparator in ("LIKE", "ILIKE"):
        assert isinstance(value, str)
        pattern, escaped = sql_like_pattern(value)
        escape = "\\" if escaped else None
        if comparator == "LIKE":
            return PerDialect(
                column.like(_string(pattern), escape=escape),
                mysql=column.like(_string(pattern).collate("utf8mb4_bin"), escape=escape),
            )
        return PerDialect(
            column.ilike(_string(pattern), escape=escape),
            mysql=sa.func.lower(column).like(
                sa.func.lower(_string(pattern)).collate("utf8mb4_bin"), escape=escape
            ),
        )
    if comparator in ("IN", "NOT IN"):
        assert isinstance(value, tuple)
        values = [_string(v) for v in value]
        exact = [binary(_string(v)) for v in value]
        if comparator == "IN":
            return PerDialect(
                column.in_(values), mysql=sa.and_(column.in_(values), binary(column).in_(exact))
            )
        return PerDialect(column.not_in(values), mysql=binary(column).not_in(exact))
    assert isinstance(value, str)
    if comparator == "=":
        return PerDialect(
            column == _string(value),
            # The plain test lets MySQL use an index; the binary one makes it exact.
            mysql=sa.and_(column == _string(value), binary(column) == binary(_string(value))),
        )
    if comparator == "!=":
        return PerDialect(column != _string(value), mysql=binary(column) != binary(_string(value)))
    raise InvalidParameterValue(f"comparator {comparator} does not apply to strings")


def number(value: Value) -> ColumnElement[Any]:
    """A number of a filter as a bound value: a BIGINT when it fits, else a DOUBLE."""
    if isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64:
        return sa.literal(value, sa.BigInteger())
    assert isinstance(value, (int, float))
    return sa.literal(float(value), sa.Double())


def number_test(column: ColumnElement[Any], comparator: str, value: Value) -> ColumnElement[Any]:
    """``column <comparator> value`` for numbers."""
    return NUMERIC_OPS[comparator](column, number(value))
