"""Statements of the hot paths, compiled once per dialect and run on the driver's cursor.

SQLAlchemy Core costs tens of microseconds per execution and about a microsecond per row
of parameters or results; on the logging path (one metric point per call, 1,000 points per
batch) and when reading long metric histories that is most of the time spent. A
:class:`Prepared` statement is still written with Core, compiled once per dialect to SQL
with positional parameters, and then executed on the DBAPI cursor of the SQLAlchemy
connection with plain tuples, inside the same transaction. Driver errors are re-raised as
SQLAlchemy's (``sqlalchemy.exc.IntegrityError``, ``OperationalError``, ...).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

__all__ = ["Prepared", "compile_all", "gc_paused"]


def _dialect(name: str) -> Dialect:
    # Positional parameters in the style each driver reads: ? for sqlite3, %s otherwise.
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        return SQLiteDialect_pysqlite(paramstyle="qmark")
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

        return PGDialect_psycopg(paramstyle="format")  # type: ignore[no-untyped-call]
    if name == "mysql":
        from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql

        return MySQLDialect_pymysql(paramstyle="format")
    raise ValueError(f"unsupported dialect {name!r}")


class Prepared:
    """A Core statement with its parameters in a fixed order, run as raw SQL.

    ``build`` returns the statement for a dialect name; ``params`` names its bound
    parameters, which is the order of the values in every tuple passed to :meth:`execute`
    (a dialect that needs them in another order gets them reordered). Every bound parameter
    must be named there: write constants as ``literal_column("'active'")``, not as plain
    Python values (which Core would bind as anonymous parameters).

    ``expanding`` names one ``bindparam(..., expanding=True)`` of an ``IN`` list: its value
    in the tuple given to :meth:`fetchall` is a non-empty sequence, expanded to one
    placeholder per item (SQL text cached per list length).
    """

    __slots__ = ("_build", "_expanded", "_expanding", "_params", "_sql")

    def __init__(
        self,
        build: Callable[[str], ClauseElement],
        params: Sequence[str],
        *,
        expanding: str | None = None,
    ) -> None:
        self._build = build
        self._params = tuple(params)
        self._expanding = expanding
        self._sql: dict[str, tuple[str, tuple[int, ...] | None]] = {}
        self._expanded: dict[tuple[str, int], str] = {}
        _ALL.append(self)

    def _compiled(self, dialect: str) -> tuple[str, tuple[int, ...] | None]:
        found = self._sql.get(dialect)
        if found is None:
            compiled = self._build(dialect).compile(dialect=_dialect(dialect))
            assert isinstance(compiled, SQLCompiler)
            order = tuple(compiled.positiontup or ())
            if sorted(order) != sorted(self._params):
                raise AssertionError(f"parameters are {order}, declared {self._params}")
            # Dialects may use the parameters in another order (MySQL: LIMIT offset, n).
            shuffle = None if order == self._params else tuple(map(self._params.index, order))
            found = self._sql[dialect] = (str(compiled), shuffle)
        return found

    def sql(self, dialect: str) -> str:
        """The SQL text for a dialect (compiled on first use)."""
        return self._compiled(dialect)[0]

    @contextlib.contextmanager
    def _cursor(self, conn: Connection, params: Any) -> Iterator[tuple[Any, str, Any]]:
        sql, shuffle = self._compiled(conn.dialect.name)
        cursor = conn.connection.cursor()
        try:
            yield cursor, sql, shuffle
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from exc
        finally:
            cursor.close()

    def execute(self, conn: Connection, params: Sequence[Any]) -> int:
        """Run once with one tuple of parameters; returns the driver's rowcount."""
        with self._cursor(conn, params) as (cursor, sql, shuffle):
            cursor.execute(sql, _reordered(params, shuffle))
            return int(cursor.rowcount)

    def executemany(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> int:
        """Run once per tuple of parameters; returns the driver's (summed) rowcount."""
        if not rows:
            return 0
        with self._cursor(conn, rows) as (cursor, sql, shuffle):
            if shuffle is not None:
                rows = [_reordered(row, shuffle) for row in rows]
            if len(rows) == 1:
                cursor.execute(sql, rows[0])
            else:
                cursor.executemany(sql, rows)
            return int(cursor.rowcount)

    def fetchall(self, conn: Connection, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows as tuples."""
        with self._cursor(conn, params) as (cursor, sql, shuffle):
            ordered = _reordered(params, shuffle)
            if self._expanding is not None:
                sql, ordered = self._expand(conn.dialect.name, sql, ordered)
            cursor.execute(sql, ordered)
            return list(cursor.fetchall())

    def _expand(self, dialect: str, sql: str, params: Sequence[Any]) -> tuple[str, list[Any]]:
        position = self._params.index(str(self._expanding))
        shuffle = self._sql[dialect][1]
        if shuffle is not None:
            position = shuffle.index(position)
        items = list(params[position])
        if not items:
            raise ValueError(f"the list {self._expanding!r} of an IN is empty")
        key = (dialect, len(items))
        text = self._expanded.get(key)
        if text is None:
            mark = "?" if dialect == "sqlite" else "%s"
            token = f"__[POSTCOMPILE_{self._expanding}]"
            if token not in sql:
                raise AssertionError(f"{self._expanding!r} is not an expanding parameter")
            text = self._expanded[key] = sql.replace(token, ", ".join([mark] * len(items)))
        return text, [*params[:position], *items, *params[position + 1 :]]

    def fetchone(self, conn: Connection, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """Run a query and return its first row, or None."""
        with self._cursor(conn, params) as (cursor, sql, shuffle):
            cursor.execute(sql, _reordered(params, shuffle))
            row = cursor.fetchone()
            return None if row is None else tuple(row)


#: Every statement made so far (they are module-level constants: the list stays short).
_ALL: list[Prepared] = []


def compile_all(dialect: str) -> int:
    """Compile every statement defined so far for a dialect (a server does it once at
    start, so that no client's first call waits for it); returns how many there are."""
    for statement in list(_ALL):
        statement.sql(dialect)
    return len(_ALL)


def _reordered(params: Sequence[Any], shuffle: tuple[int, ...] | None) -> Sequence[Any]:
    return params if shuffle is None else tuple(params[i] for i in shuffle)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects at once.

    Building 100,000 entities otherwise triggers hundreds of collections that each walk
    the growing result list (about 40% of the time of a long metric history). Nothing
    here creates reference cycles; a collection simply runs later. When the collector is
    already disabled (by the application or another thread) it is left alone.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
