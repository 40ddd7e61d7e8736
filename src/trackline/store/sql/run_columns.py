"""Loading runs column by column for the DataFrame form of a search.

A search for the DataFrame of 50,000 runs reads ~550,000 metric, param and tag rows. Loading
them as entities (one ``Run``, ``Metric``… per value) costs more than reading them; here each
table is read as three or four columns and each key's column is filled by numpy in one
step (a dict maps run ids and keys to positions); no entity is built. Needs numpy, not
pandas: the server answers the same read column by column, and pandas would double its
memory (~70 MB).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.engine import Connection

from trackline.entities import RunColumns
from trackline.store.sql.prepared import Prepared, gc_paused
from trackline.store.sql.schema import latest_metrics, params, runs, tags

__all__ = ["INFO_COLUMNS", "load_run_columns"]

#: Runs per query (the IN list of one statement).
COLUMNS_CHUNK = 5000

_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_r, _lm, _p, _t = runs.c, latest_metrics.c, params.c, tags.c


def _loader(query: Select[Any]) -> Prepared:
    return Prepared(lambda _: query, ("ids",), expanding="ids")


#: The columns of ``runs`` a DataFrame shows, in the order :func:`load_run_columns` takes.
INFO_COLUMNS = (
    _r.run_uuid,
    _r.experiment_id,
    _r.status,
    _r.artifact_uri,
    _r.start_time,
    _r.end_time,
)
_METRICS = _loader(
    select(_lm.run_uuid, _lm.key, _lm.value, _lm.is_nan).where(_lm.run_uuid.in_(_IDS))
)
_PARAMS = _loader(select(_p.run_uuid, _p.key, _p.value).where(_p.run_uuid.in_(_IDS)))
_TAGS = _loader(select(_t.run_uuid, _t.key, _t.value).where(_t.run_uuid.in_(_IDS)))


def load_run_columns(
    conn: Connection, infos: Sequence[Sequence[Any]], token: str | None = None
) -> RunColumns:
    """The columns of these runs, in the order given: ``infos`` are rows of
    :data:`INFO_COLUMNS` (as the search read them); the metrics, params and tags are read
    here, in the caller's transaction."""
    import numpy as np

    out = RunColumns(token=token)
    if not infos:
        return out
    ordered = out.run_id = [str(row[0]) for row in infos]
    out.experiment_id = [str(row[1]) for row in infos]
    out.status = [row[2] for row in infos]
    out.artifact_uri = [row[3] for row in infos]
    out.start_time = [row[4] for row in infos]
    out.end_time = [row[5] for row in infos]
    index = {run_id: i for i, run_id in enumerate(ordered)}
    run, key, value, is_nan = _read(conn, _METRICS, ordered, 4)
    values = np.asarray(value, dtype=np.float64)
    values[np.asarray(is_nan, dtype=bool)] = np.nan
    out.metrics = _pivot(index, run, key, values, np.nan)
    for statement, group in ((_PARAMS, "params"), (_TAGS, "tags")):
        run, key, value = _read(conn, statement, ordered, 3)
        setattr(out, group, _pivot(index, run, key, np.asarray(value, dtype=object), None))
    return out


def _chunks(run_ids: Sequence[str]) -> list[tuple[Sequence[str]]]:
    return [(run_ids[i : i + COLUMNS_CHUNK],) for i in range(0, len(run_ids), COLUMNS_CHUNK)]


def _read(
    conn: Connection, statement: Prepared, run_ids: Sequence[str], width: int
) -> list[tuple[Any, ...]]:
    """The statement's rows for these runs as ``width`` columns (tuples)."""
    with gc_paused():  # the rows are short-lived: no collection should walk them
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(run_ids):
            rows.extend(statement.fetchall(conn, chunk))
        columns = list(zip(*rows, strict=True)) if rows else [()] * width
        del rows
    return columns


def _pivot(
    index: dict[str, int], run: Sequence[str], key: Sequence[str], values: Any, missing: Any
) -> Any:
    """One array per key, aligned with ``index`` (run id -> row), ``missing`` where a run
    has no value; keys in order of the first run having them, then by name (the order a
    DataFrame built run by run would have)."""
    import numpy as np

    size = len(index)
    if not key:
        return {}
    position = np.fromiter(map(index.__getitem__, run), dtype=np.intp, count=len(run))
    names = list(dict.fromkeys(key))  # each key once, in order of appearance
    code_of = {name: code for code, name in enumerate(names)}
    codes = np.fromiter(map(code_of.__getitem__, key), dtype=np.intp, count=len(key))
    first = np.full(len(names), size, dtype=np.int64)
    np.minimum.at(first, codes, position)
    # The rows grouped by key (one sort rather than one pass over all rows per key).
    by_key = np.argsort(codes, kind="stable")
    ends = np.cumsum(np.bincount(codes, minlength=len(names)))
    columns: dict[str, Any] = {}
    for code in sorted(range(len(names)), key=lambda c: (int(first[c]), names[c])):
        rows = by_key[(ends[code - 1] if code else 0) : ends[code]]
        column = np.full(size, missing, dtype=values.dtype)
        column[position[rows]] = values[rows]
        columns[str(names[code])] = column
    return columns
