"""Runs in the SQL tracking store: their rows, params and tags, and loading whole runs.

The functions here run inside a transaction that :class:`~trackline.store.sql.tracking.
SqlTrackingStore` opens; they never commit. :func:`load_runs` reads any number of runs with
a constant number of queries per chunk of :data:`LOAD_CHUNK` runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Connection,
    Select,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.sql.selectable import CompoundSelect
from sqlalchemy.types import Double, Text, TypeEngine

from trackline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.store.sql.prepared import Prepared, gc_paused
from trackline.store.sql.schema import (
    datasets,
    input_tags,
    inputs,
    latest_metrics,
    params,
    runs,
    tags,
)
from trackline.store.sql.upserts import insert_ignore, insert_replace

__all__ = [
    "LOAD_CHUNK",
    "RUN_NAME_TAG",
    "delete_run",
    "delete_tag",
    "get_run_info",
    "insert_run",
    "load_runs",
    "require_active_run",
    "require_run",
    "restore_run",
    "run_not_found",
    "update_run_info",
    "write_params",
    "write_tags",
]

#: The tag that holds a run's name.
RUN_NAME_TAG = "mlflow.runName"
#: Runs loaded per round of queries (keeps every IN list well under the drivers' limits).
LOAD_CHUNK = 2000

_r = runs.c
_INFO_COLUMNS = (
    _r.run_uuid,
    _r.experiment_id,
    _r.user_id,
    _r.status,
    _r.start_time,
    _r.end_time,
    _r.lifecycle_stage,
    _r.artifact_uri,
    _r.name,
)
_state = select(_r.lifecycle_stage, _r.experiment_id).where(_r.run_uuid == bindparam("run_id"))
_STATE = Prepared(lambda _: _state, ("run_id",))
_INFO = Prepared(
    lambda _: select(*_INFO_COLUMNS).where(_r.run_uuid == bindparam("run_id")), ("run_id",)
)
_INSERT = Prepared(
    lambda _: insert(runs).values(
        run_uuid=bindparam("run_id"),
        name=bindparam("name"),
        experiment_id=bindparam("experiment_id"),
        user_id=bindparam("user_id"),
        status=literal_column("'RUNNING'"),
        start_time=bindparam("start_time"),
        lifecycle_stage=literal_column("'active'"),
        artifact_uri=bindparam("artifact_uri"),
    ),
    ("run_id", "name", "experiment_id", "user_id", "start_time", "artifact_uri"),
)
_INSERT_TAGS = Prepared(lambda _: insert(tags), ("run_uuid", "key", "value"))
# Sets the values given, keeps the columns whose parameter is NULL.
_UPDATE_INFO = Prepared(
    lambda _: (
        update(runs)
        .where(_r.run_uuid == bindparam("run_id"))
        .values(
            status=func.coalesce(bindparam("status", type_=_r.status.type), _r.status),
            end_time=func.coalesce(bindparam("end_time", type_=_r.end_time.type), _r.end_time),
        )
    ),
    ("status", "end_time", "run_id"),
)
_SET_STAGE = (
    update(runs)
    .where(_r.run_uuid == bindparam("run_id"))
    .values(lifecycle_stage=bindparam("stage"), deleted_time=bindparam("deleted_time"))
)
_RENAME = update(runs).where(_r.run_uuid == bindparam("run_id")).values(name=bindparam("name"))
_DELETE_TAG = delete(tags).where(
    tags.c.run_uuid == bindparam("run_id"), tags.c.key == bindparam("key")
)
_RUN_PARAMS = Prepared(
    lambda _: select(params.c.key, params.c.value).where(params.c.run_uuid == bindparam("run_id")),
    ("run_id",),
)
_INSERT_PARAMS = Prepared(
    lambda dialect: insert_ignore(dialect, params), ("run_uuid", "key", "value")
)
_UPSERT_TAGS = Prepared(lambda dialect: insert_replace(dialect, tags), ("run_uuid", "key", "value"))

_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_lm, _p, _t = latest_metrics.c, params.c, tags.c
_i, _d, _it = inputs.c, datasets.c, input_tags.c


def _loader(build: Callable[[], Select[Any]]) -> Prepared:
    return Prepared(lambda _: build(), ("ids",), expanding="ids")


def _text(value: str) -> ColumnElement[Any]:
    return literal_column(f"'{value}'")


_LOAD_INFOS = _loader(lambda: select(*_INFO_COLUMNS).where(_r.run_uuid.in_(_IDS)))
_LOAD_METRICS = _loader(
    lambda: select(_lm.run_uuid, _lm.key, _lm.value, _lm.timestamp, _lm.step, _lm.is_nan).where(
        _lm.run_uuid.in_(_IDS)
    )
)
_LOAD_PARAMS = _loader(lambda: select(_p.run_uuid, _p.key, _p.value).where(_p.run_uuid.in_(_IDS)))
_LOAD_TAGS = _loader(lambda: select(_t.run_uuid, _t.key, _t.value).where(_t.run_uuid.in_(_IDS)))
_LOAD_DATASETS = _loader(
    lambda: (
        select(
            _i.destination_id,
            _i.input_uuid,
            _d.name,
            _d.digest,
            _d.dataset_source_type,
            _d.dataset_source,
            _d.dataset_schema,
            _d.dataset_profile,
            _it.name,
            _it.value,
        )
        .select_from(
            inputs.join(datasets, _d.dataset_uuid == _i.source_id).outerjoin(
                input_tags, _it.input_uuid == _i.input_uuid
            )
        )
        .where(
            _i.destination_type == _text("RUN"),
            _i.source_type == _text("DATASET"),
            _i.destination_id.in_(_IDS),
        )
        .order_by(_i.destination_id, _d.name, _d.digest, _i.input_uuid, _it.name)
    )
)
_LOAD_MODELS = _loader(
    lambda: (
        select(_i.source_type, _i.source_id, _i.destination_id, _i.step)
        .where(
            or_(_i.source_type == _text("RUN_INPUT"), _i.source_type == _text("RUN_OUTPUT")),
            _i.source_id.in_(_IDS),
        )
        .order_by(_i.source_id, _i.destination_id)
    )
)


def run_not_found(run_id: str) -> ResourceDoesNotExist:
    """MLflow's error for an unknown run id."""
    return ResourceDoesNotExist(f"Run with id={run_id} not found")


def require_run(conn: Connection, run_id: str) -> tuple[str, int]:
    """``(lifecycle_stage, experiment_id)`` of the run; RESOURCE_DOES_NOT_EXIST if unknown."""
    row = _STATE.fetchone(conn, (run_id,))
    if row is None:
        raise run_not_found(run_id)
    return row[0], row[1]


def require_active_run(conn: Connection, run_id: str) -> int:
    """The experiment id of an active run: 404 when unknown, 400 when deleted."""
    stage, experiment_id = require_run(conn, run_id)
    if stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}."
        )
    return experiment_id


def _info(row: Any, name_tag: str | None = None) -> RunInfo:
    run_id, experiment_id, user_id, status, start, end, stage, artifact_uri, name = row
    return RunInfo(
        run_id=run_id,
        experiment_id=str(experiment_id),
        user_id=user_id,
        status=status,
        start_time=start,
        end_time=end,
        lifecycle_stage=stage,
        artifact_uri=artifact_uri,
        # Runs written by old MLflow versions have their name only in the tag.
        run_name=name or name_tag or "",
    )


def get_run_info(conn: Connection, run_id: str) -> RunInfo:
    """The run's info; RESOURCE_DOES_NOT_EXIST if unknown."""
    row = _INFO.fetchone(conn, (run_id,))
    if row is None:
        raise run_not_found(run_id)
    return _info(row)


def insert_run(
    conn: Connection,
    *,
    run_id: str,
    experiment_id: int,
    user_id: str | None,
    start_time: int,
    run_name: str,
    artifact_uri: str,
    run_tags: Mapping[str, str],
) -> None:
    """Insert a RUNNING, active run and its tags."""
    _INSERT.execute(conn, (run_id, run_name, experiment_id, user_id, start_time, artifact_uri))
    _INSERT_TAGS.executemany(conn, [(run_id, k, v) for k, v in run_tags.items()])


def update_run_info(
    conn: Connection,
    run_id: str,
    *,
    status: str | None,
    end_time: int | None,
    run_name: str | None,
) -> RunInfo:
    """Set status, end time and name of an active run (a name also sets the tag)."""
    require_active_run(conn, run_id)
    if status is not None or end_time is not None:
        _UPDATE_INFO.execute(conn, (status, end_time, run_id))
    if run_name is not None:
        write_tags(conn, run_id, {RUN_NAME_TAG: run_name})
    return get_run_info(conn, run_id)


def delete_run(conn: Connection, run_id: str, now: int) -> None:
    """Mark a run deleted at ``now``."""
    require_run(conn, run_id)
    conn.execute(
        _SET_STAGE, {"run_id": run_id, "stage": LifecycleStage.DELETED, "deleted_time": now}
    )


def restore_run(conn: Connection, run_id: str) -> None:
    """Mark a run active again."""
    require_run(conn, run_id)
    conn.execute(
        _SET_STAGE, {"run_id": run_id, "stage": LifecycleStage.ACTIVE, "deleted_time": None}
    )


def write_params(
    conn: Connection, run_id: str, new: Sequence[Param], *, single: bool = False
) -> None:
    """Log params; an already logged key must keep its value (400 otherwise).

    Rows are inserted first (existing keys are skipped) and then read back, so the check
    also holds against a concurrent writer of the same key.
    """
    _INSERT_PARAMS.executemany(conn, [(run_id, p.key, p.value) for p in new])
    stored = dict(_RUN_PARAMS.fetchall(conn, (run_id,)))
    changed = [p for p in new if stored.get(p.key) != p.value]
    if not changed:
        return
    if single:
        p = changed[0]
        raise InvalidParameterValue(
            "Changing param values is not allowed. Param with key="
            f"'{p.key}' was already logged with value='{stored.get(p.key)}' for run "
            f"ID='{run_id}'. Attempted logging new value '{p.value}'."
        )
    listed = [{"key": p.key, "old_value": stored.get(p.key), "new_value": p.value} for p in changed]
    raise InvalidParameterValue(
        f"Changing param values is not allowed. Params were already logged='{listed}' "
        f"for run ID='{run_id}'."
    )


def write_tags(conn: Connection, run_id: str, new: Mapping[str, str | None]) -> None:
    """Insert or replace run tags; ``mlflow.runName`` also renames the run."""
    _UPSERT_TAGS.executemany(conn, [(run_id, k, v) for k, v in new.items()])
    name = new.get(RUN_NAME_TAG)
    if name is not None:
        conn.execute(_RENAME, {"run_id": run_id, "name": name})


def delete_tag(conn: Connection, run_id: str, key: str) -> None:
    """Remove a tag of an active run; 404 when it has none by that key."""
    require_active_run(conn, run_id)
    if conn.execute(_DELETE_TAG, {"run_id": run_id, "key": key}).rowcount == 0:
        raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")


# -- loading -------------------------------------------------------------------------------


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """The runs with these ids (unknown ids are skipped), in the order given, all read in
    one transaction (a consistent snapshot). One run (``get_run``) is read by one statement."""
    if len(run_ids) == 1:
        return _load_one(conn, run_ids[0])
    if not conn.in_transaction():
        conn.begin()
    loaded: list[Run] = []
    with gc_paused():
        for start in range(0, len(run_ids), LOAD_CHUNK):
            loaded.extend(_load_chunk(conn, run_ids[start : start + LOAD_CHUNK]))
    return loaded


def _load_chunk(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    ids = (run_ids,)
    infos = {row[0]: row for row in _LOAD_INFOS.fetchall(conn, ids)}
    if not infos:
        return []
    # One pass per table straight into entities, grouped by run (the hot loop of a big
    # search: 50,000 runs are ~700,000 rows).
    nan = math.nan
    metrics: dict[str, list[Metric]] = {}
    for run_id, key, value, timestamp, step, is_nan in _LOAD_METRICS.fetchall(conn, ids):
        found = metrics.get(run_id)
        if found is None:
            metrics[run_id] = found = []
        found.append(Metric(key, nan if is_nan else value, timestamp, step))
    run_params: dict[str, dict[str, str]] = {}
    for run_id, key, value in _LOAD_PARAMS.fetchall(conn, ids):
        found_params = run_params.get(run_id)
        if found_params is None:
            run_params[run_id] = found_params = {}
        found_params[key] = value
    run_tags: dict[str, dict[str, str]] = {}
    for run_id, key, value in _LOAD_TAGS.fetchall(conn, ids):
        found_tags = run_tags.get(run_id)
        if found_tags is None:
            run_tags[run_id] = found_tags = {}
        found_tags[key] = value
    dataset_inputs = _dataset_inputs(_LOAD_DATASETS.fetchall(conn, ids))
    model_inputs, model_outputs = _model_links(_LOAD_MODELS.fetchall(conn, ids))
    loaded = []
    for run_id in run_ids:
        row = infos.get(run_id)
        if row is None:
            continue
        tags_of_run = run_tags.get(run_id) or {}
        name_tag = None if row[8] else tags_of_run.get(RUN_NAME_TAG)
        loaded.append(
            Run(
                _info(row, name_tag),
                RunData.from_dicts(
                    metrics.get(run_id) or [], run_params.get(run_id) or {}, tags_of_run
                ),
                RunInputs(dataset_inputs.get(run_id, []), model_inputs.get(run_id, [])),
                RunOutputs(model_outputs.get(run_id, [])),
            )
        )
    return loaded


# -- one run, one statement ------------------------------------------------------------------
# Every part of a run in one UNION ALL, each row tagged by its kind (0 info, 1 latest metric,
# 2 param, 3 tag, 4 dataset input and its tag, 5 logged model used or produced) and laid out
# in shared columns: k1..k4 are the kinds' sort keys (metric, param and tag keys; datasets by
# name, digest, input, tag name; models by link and id), t5..t9 the other texts, n the
# metric value, i1..i3 integers, b the NaN flag. One statement is a consistent snapshot by
# itself and one round trip to a database server; the few rows are sorted here (an ORDER BY
# over the union costs SQLite a temporary b-tree per branch).
_PARTS = ("k1", "k2", "k3", "k4", "t5", "t6", "t7", "t8", "t9", "n", "i1", "i2", "i3", "b")


def _run_parts(dialect: str) -> CompoundSelect[Any]:
    # PostgreSQL types a bare NULL of a UNION branch pairwise (two NULLs become text, which
    # then clashes with a number): give it the column's type. Elsewhere NULL is plain.
    kinds: dict[str, TypeEngine[Any]] = {"n": Double(), "b": Boolean()}
    kinds.update(dict.fromkeys(("i1", "i2", "i3"), BigInteger()))

    def branch(kind: int, given: dict[str, Any], table: Any, *where: Any) -> Select[Any]:
        columns: list[Any] = [literal_column(str(kind)).label("kind")]
        for name in _PARTS:
            value = given.get(name)
            if value is None:
                typed = dialect == "postgresql"
                value = cast(null(), kinds.get(name, Text())) if typed else null()
            columns.append(value.label(name))
        return select(*columns).select_from(table).where(*where)

    run_id: BindParameter[str] = bindparam("run_id")
    parts = union_all(
        branch(
            0,
            {"k1": _r.user_id, "k2": _r.status, "k3": _r.lifecycle_stage, "k4": _r.artifact_uri,
             "t5": _r.name, "i1": _r.start_time, "i2": _r.end_time, "i3": _r.experiment_id},
            runs, _r.run_uuid == run_id,
        ),
        branch(
            1,
            {"k1": _lm.key, "n": _lm.value, "i1": _lm.timestamp, "i2": _lm.step, "b": _lm.is_nan},
            latest_metrics, _lm.run_uuid == run_id,
        ),
        branch(2, {"k1": _p.key, "k2": _p.value}, params, _p.run_uuid == run_id),
        branch(3, {"k1": _t.key, "k2": _t.value}, tags, _t.run_uuid == run_id),
        branch(
            4,
            {"k1": _d.name, "k2": _d.digest, "k3": _i.input_uuid, "k4": _it.name,
             "t5": _d.dataset_source_type, "t6": _d.dataset_source, "t7": _d.dataset_schema,
             "t8": _d.dataset_profile, "t9": _it.value},
            inputs.join(datasets, _d.dataset_uuid == _i.source_id).outerjoin(
                input_tags, _it.input_uuid == _i.input_uuid
            ),
            _i.destination_type == _text("RUN"), _i.source_type == _text("DATASET"),
            _i.destination_id == run_id,
        ),
        branch(
            5, {"k1": _i.source_type, "k2": _i.destination_id, "i1": _i.step}, inputs,
            or_(_i.source_type == _text("RUN_INPUT"), _i.source_type == _text("RUN_OUTPUT")),
            _i.source_id == run_id,
        ),
    )  # fmt: skip
    return parts


_LOAD_ONE = Prepared(_run_parts, ("run_id",) * 6)


def _load_one(conn: Connection, run_id: str) -> list[Run]:
    info: tuple[Any, ...] | None = None
    metrics: list[Metric] = []
    run_params: dict[str, str] = {}
    run_tags: dict[str, str] = {}
    dataset_rows: list[tuple[Any, ...]] = []
    model_rows: list[tuple[Any, ...]] = []
    nan = math.nan
    for row in sorted(_LOAD_ONE.fetchall(conn, (run_id,) * 6), key=_part_order):
        kind = row[0]
        if kind == 1:
            metrics.append(Metric(row[1], nan if row[14] else row[10], row[11], row[12]))
        elif kind == 2:
            run_params[row[1]] = row[2]
        elif kind == 3:
            run_tags[row[1]] = row[2]
        elif kind == 4:  # as _LOAD_DATASETS: run, input, name, digest, type, source, schema,
            # profile, tag, tag value
            dataset_rows.append(
                (run_id, row[3], row[1], row[2], row[5], row[6], row[7], row[8], row[4], row[9])
            )
        elif kind == 5:  # as _LOAD_MODELS: link, run, model, step
            model_rows.append((row[1], run_id, row[2], row[11]))
        else:
            info = row
    if info is None:
        return []
    # as _INFO_COLUMNS: run, experiment, user, status, start, end, stage, artifact uri, name
    info_row = (run_id, info[13], info[1], info[2], info[11], info[12], info[3], info[4], info[5])
    name_tag = None if info[5] else run_tags.get(RUN_NAME_TAG)
    used, produced = _model_links(model_rows)
    return [
        Run(
            _info(info_row, name_tag),
            RunData.from_dicts(metrics, run_params, run_tags),
            RunInputs(_dataset_inputs(dataset_rows).get(run_id, []), used.get(run_id, [])),
            RunOutputs(produced.get(run_id, [])),
        )
    ]


def _part_order(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Kind, then its sort keys (a missing dataset tag name first)."""
    return row[0], row[1] or "", row[2] or "", row[3] or "", row[4] or ""


def _dataset_inputs(rows: Iterable[Any]) -> dict[str, list[DatasetInput]]:
    out: dict[str, list[DatasetInput]] = {}
    current: tuple[str, str] | None = None
    for run_id, input_uuid, name, digest, kind, source, schema, profile, tag, value in rows:
        if current != (run_id, input_uuid):
            current = (run_id, input_uuid)
            out.setdefault(run_id, []).append(
                DatasetInput(Dataset(name, digest, kind, source, schema, profile), [])
            )
        if tag is not None:
            out[run_id][-1].tags.append(InputTag(tag, value))
    return out


def _model_links(
    rows: Iterable[Any],
) -> tuple[dict[str, list[LoggedModelInput]], dict[str, list[LoggedModelOutput]]]:
    used: dict[str, list[LoggedModelInput]] = {}
    produced: dict[str, list[LoggedModelOutput]] = {}
    for kind, run_id, model_id, step in rows:
        if kind == "RUN_INPUT":
            used.setdefault(run_id, []).append(LoggedModelInput(model_id))
        else:
            produced.setdefault(run_id, []).append(LoggedModelOutput(model_id, step or 0))
    return used, produced
