"""Loading runs column by column for the DataFrame form of a search.

A search for the DataFrame of 50,000 runs reads ~550,000 metric, param and tag rows. Loading
them as entities (one ``Run``, ``Metric``… per value) costs more than reading them; here each
table is read as three or four columns and each key's column is filled by numpy in one
step (pandas' hash index maps run ids to rows); no entity is built. Needs pandas, as the
DataFrame does.
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
    import pandas as pd

    out = RunColumns(token=token)
    if not infos:
        return out
    ordered = out.run_id = [str(row[0]) for row in infos]
    out.experiment_id = [str(row[1]) for row in infos]
    out.status = [row[2] for row in infos]
    out.artifact_uri = [row[3] for row in infos]
    out.start_time = [row[4] for row in infos]
    out.end_time = [row[5] for row in infos]
    index = pd.Index(ordered, dtype=object)
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


def _pivot(index: Any, run: Sequence[str], key: Sequence[str], values: Any, missing: Any) -> Any:
    """One array per key, aligned with ``index`` (the run ids in order), ``missing`` where a
    run has no value; keys in order of the first run having them, then by name (the order
    a DataFrame built run by run would have)."""
    import numpy as np
    import pandas as pd

    size = len(index)
    if not key:
        return {}
    position = index.get_indexer(np.asarray(run, dtype=object))
    codes, names = pd.factorize(np.asarray(key, dtype=object))
    first = np.full(len(names), size, dtype=np.int64)
    np.minimum.at(first, codes, position)
    columns: dict[str, Any] = {}
    for code in sorted(range(len(names)), key=lambda c: (int(first[c]), names[c])):
        mask = codes == code
        column = np.full(size, missing, dtype=values.dtype)
        column[position[mask]] = values[mask]
        columns[str(names[code])] = column
    return columns
