"""Logged models in the SQL tracking store: their rows, tags, params and metrics, the links
from the runs that produced them, and loading whole models.

The functions here run inside a transaction that :class:`~trackline.store.sql.tracking.
SqlTrackingStore` opens; they never commit. A model's ``status`` is stored as the protocol's
number (:meth:`~trackline.entities.LoggedModelStatus.to_int`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam, delete, insert, select, tuple_, update

from trackline.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelOutput,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
)
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.names import generate_run_name
from trackline.store.sql.filters import DatasetRef
from trackline.store.sql.prepared import gc_paused
from trackline.store.sql.schema import (
    datasets,
    inputs,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from trackline.store.sql.upserts import insert_replace
from trackline.validation import (
    MAX_DATASET_DIGEST_SIZE,
    MAX_DATASET_NAME_SIZE,
    METRIC_VALUE_MAX,
    validate_logged_model_name,
    validate_registry_tag,
)

__all__ = [
    "LOAD_CHUNK",
    "MAX_NAME_LENGTH",
    "check_model_id",
    "check_name",
    "check_step",
    "check_tags",
    "dataset_refs",
    "delete_model",
    "delete_tag",
    "insert_model",
    "load_models",
    "model_not_found",
    "new_model_id",
    "require_model",
    "set_status",
    "set_tags",
    "write_model_metrics",
    "write_outputs",
]

#: Models loaded per round of queries (keeps every IN list well under the drivers' limits).
LOAD_CHUNK = 1000
#: The longest model name (``logged_models.name``).
MAX_NAME_LENGTH = 500

_NAMESPACE = uuid.UUID("0b7d2c1e-9a4f-4e63-8d15-3f6a2e9c7b40")
_m, _t, _p, _x = logged_models.c, logged_model_tags.c, logged_model_params.c, logged_model_metrics.c
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_COLUMNS = (
    _m.model_id,
    _m.experiment_id,
    _m.name,
    _m.artifact_location,
    _m.creation_timestamp_ms,
    _m.last_updated_timestamp_ms,
    _m.status,
    _m.lifecycle_stage,
    _m.model_type,
    _m.source_run_id,
    _m.status_message,
)
_STATE = select(_m.experiment_id, _m.lifecycle_stage).where(_m.model_id == bindparam("mid"))
_STATES = select(_m.model_id, _m.experiment_id, _m.lifecycle_stage).where(_m.model_id.in_(_IDS))
_TOUCH = (
    update(logged_models)
    .where(_m.model_id == bindparam("mid"))
    .values(last_updated_timestamp_ms=bindparam("now"))
)
_SET_STATUS = (
    update(logged_models)
    .where(_m.model_id == bindparam("mid"))
    .values(status=bindparam("status"), last_updated_timestamp_ms=bindparam("now"))
)
_SET_STAGE = (
    update(logged_models)
    .where(_m.model_id == bindparam("mid"))
    .values(lifecycle_stage=bindparam("stage"), last_updated_timestamp_ms=bindparam("now"))
)
_DELETE_TAG = delete(logged_model_tags).where(
    _t.model_id == bindparam("mid"), _t.tag_key == bindparam("key")
)
_LOAD = select(*_COLUMNS).where(_m.model_id.in_(_IDS))
_LOAD_TAGS = select(_t.model_id, _t.tag_key, _t.tag_value).where(_t.model_id.in_(_IDS))
_LOAD_PARAMS = select(_p.model_id, _p.param_key, _p.param_value).where(_p.model_id.in_(_IDS))
_LOAD_METRICS = (
    select(
        _x.model_id,
        _x.metric_name,
        _x.metric_value,
        _x.is_nan,
        _x.metric_timestamp_ms,
        _x.metric_step,
        _x.run_id,
        _x.dataset_name,
        _x.dataset_digest,
    )
    .where(_x.model_id.in_(_IDS))
    .order_by(_x.model_id, _x.metric_name, _x.metric_timestamp_ms, _x.metric_step, _x.run_id)
)
_d = datasets.c
_DATASETS = select(_d.dataset_uuid, _d.name, _d.digest).where(
    _d.experiment_id == bindparam("experiment_id"),
    tuple_(_d.name, _d.digest).in_(bindparam("pairs", expanding=True)),
)


def check_model_id(model_id: object) -> str:
    """A model id given as a non-empty string; 400 otherwise."""
    if not isinstance(model_id, str) or not model_id:
        raise InvalidParameterValue(
            "Missing value for required parameter 'model_id'. "
            "See the API docs for more information about request parameters."
        )
    return model_id


def check_name(name: str | None) -> str:
    """A model name (no ``/ : . % " '``, at most 500 characters), or a generated one when
    none is given; 400 otherwise."""
    if not name:
        return generate_run_name()
    validate_logged_model_name(name)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Invalid model name: names are at most {MAX_NAME_LENGTH} characters long, "
            f"got {len(name)}."
        )
    return name


def check_step(step: object) -> int:
    """The step of a model output: an integer; 400 otherwise."""
    if isinstance(step, bool) or not isinstance(step, int):
        raise InvalidParameterValue(f"Invalid step {step!r}: expected an integer")
    return step


def check_tags(tags: Iterable[LoggedModelTag] | None) -> dict[str, str]:
    """Tags as a dict, each checked like a registry tag (key <= 250, value <= 100000)."""
    checked: dict[str, str] = {}
    for tag in tags or ():
        key, value = validate_registry_tag(tag.key, tag.value)
        checked[key] = value
    return checked


def dataset_refs(datasets: Iterable[Mapping[str, Any]] | None) -> list[DatasetRef]:
    """``[{"dataset_name", "dataset_digest"}]`` as (name, digest or None) pairs; 400 for an
    item without a name."""
    refs: list[DatasetRef] = []
    for item in datasets or ():
        name = item.get("dataset_name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            raise InvalidParameterValue(
                f"Invalid dataset {item!r}: expected an object with a 'dataset_name'"
            )
        digest = item.get("dataset_digest")
        refs.append((name, digest if isinstance(digest, str) and digest else None))
    return refs


def new_model_id() -> str:
    """A fresh model id: ``m-`` and 32 hex digits."""
    return f"m-{uuid.uuid4().hex}"


def model_not_found(model_id: str) -> ResourceDoesNotExist:
    """The error for an unknown (or deleted) logged model."""
    return ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found.")


def require_model(conn: Connection, model_id: str, *, allow_deleted: bool = False) -> int:
    """The experiment id of the model; 404 when there is none (or it is deleted, unless
    ``allow_deleted``)."""
    row = conn.execute(_STATE, {"mid": model_id}).first()
    if row is None or (not allow_deleted and row.lifecycle_stage != LifecycleStage.ACTIVE):
        raise model_not_found(model_id)
    return int(row.experiment_id)


def _require_models(conn: Connection, model_ids: Iterable[str]) -> dict[str, int]:
    """The experiment id of each active model; 404 for the first unknown or deleted one."""
    wanted = sorted(set(model_ids))
    found = {
        row.model_id: int(row.experiment_id)
        for row in conn.execute(_STATES, {"ids": wanted})
        if row.lifecycle_stage == LifecycleStage.ACTIVE
    }
    for model_id in wanted:
        if model_id not in found:
            raise model_not_found(model_id)
    return found


def insert_model(
    conn: Connection,
    dialect: str,
    *,
    model: LoggedModel,
    experiment_id: int,
) -> None:
    """Insert a model row with its tags and params."""
    conn.execute(
        insert(logged_models),
        {
            "model_id": model.model_id,
            "experiment_id": experiment_id,
            "name": model.name,
            "artifact_location": model.artifact_location,
            "creation_timestamp_ms": model.creation_timestamp,
            "last_updated_timestamp_ms": model.last_updated_timestamp,
            "status": model.status.to_int(),
            "lifecycle_stage": LifecycleStage.ACTIVE,
            "model_type": model.model_type,
            "source_run_id": model.source_run_id,
            "status_message": model.status_message,
        },
    )
    if model.params:
        conn.execute(
            insert(logged_model_params),
            [
                {"model_id": model.model_id, "experiment_id": experiment_id,
                 "param_key": k, "param_value": v}
                for k, v in model.params.items()
            ],
        )  # fmt: skip
    if model.tags:
        set_tags(conn, dialect, model.model_id, experiment_id, model.tags)


def set_status(conn: Connection, model_id: str, status: LoggedModelStatus, now: int) -> None:
    """Set the status of an active model."""
    require_model(conn, model_id)
    conn.execute(_SET_STATUS, {"mid": model_id, "status": status.to_int(), "now": now})


def set_tags(
    conn: Connection,
    dialect: str,
    model_id: str,
    experiment_id: int,
    tags: Mapping[str, str],
    now: int | None = None,
) -> None:
    """Insert or replace tags of a model (and move its update time to ``now`` if given)."""
    conn.execute(
        insert_replace(dialect, logged_model_tags, ("tag_value",)),
        [
            {"model_id": model_id, "experiment_id": experiment_id, "tag_key": k, "tag_value": v}
            for k, v in tags.items()
        ],
    )
    if now is not None:
        conn.execute(_TOUCH, {"mid": model_id, "now": now})


def delete_tag(conn: Connection, model_id: str, key: str, now: int) -> None:
    """Remove a tag of an active model; 404 when it has none by that key."""
    require_model(conn, model_id)
    if conn.execute(_DELETE_TAG, {"mid": model_id, "key": key}).rowcount == 0:
        raise ResourceDoesNotExist(f"No tag with key '{key}' on logged model '{model_id}'.")
    conn.execute(_TOUCH, {"mid": model_id, "now": now})


def delete_model(conn: Connection, model_id: str, now: int) -> None:
    """Mark an active model deleted."""
    require_model(conn, model_id)
    conn.execute(_SET_STAGE, {"mid": model_id, "stage": LifecycleStage.DELETED, "now": now})


def write_outputs(
    conn: Connection, dialect: str, run_id: str, outputs: Sequence[LoggedModelOutput]
) -> None:
    """Link a run to the models it produced; a link recorded again takes the new step."""
    _require_models(conn, (o.model_id for o in outputs))
    steps = {o.model_id: o.step for o in outputs}  # the last step given for a model wins
    conn.execute(
        insert_replace(dialect, inputs, ("step",)),
        [
            {
                "input_uuid": uuid.uuid5(_NAMESPACE, f"{run_id}\x1f{model_id}").hex,
                "source_type": "RUN_OUTPUT",
                "source_id": run_id,
                "destination_type": "MODEL_OUTPUT",
                "destination_id": model_id,
                "step": step,
            }
            for model_id, step in steps.items()
        ],
    )


def write_model_metrics(
    conn: Connection, dialect: str, run_id: str, run_experiment_id: int, points: Sequence[Metric]
) -> None:
    """Also record the points that carry a ``model_id`` as that model's metrics (validated
    points of an active run). A point's dataset, when named, is looked up among the datasets
    of the run's experiment. Raises 404 for an unknown or deleted model."""
    experiments = _require_models(conn, (p.model_id for p in points if p.model_id))
    pairs = sorted({(p.dataset_name, p.dataset_digest) for p in points
                    if p.model_id and p.dataset_name and p.dataset_digest})  # fmt: skip
    dataset_ids: dict[tuple[str | None, str | None], str] = {}
    if pairs:
        found = conn.execute(_DATASETS, {"experiment_id": run_experiment_id, "pairs": pairs})
        dataset_ids = {(name, digest): dataset_id for dataset_id, name, digest in found}
    rows: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    for point in points:
        if not point.model_id:
            continue
        _check_dataset_fields(point)
        value, is_nan = point.value, False
        if math.isnan(value):
            value, is_nan = 0.0, True
        elif math.isinf(value):
            value = METRIC_VALUE_MAX if value > 0 else -METRIC_VALUE_MAX
        identity = (point.model_id, point.key, point.timestamp, point.step)
        rows[identity] = {  # the last point of one identity in a batch wins, as on conflict
            "model_id": point.model_id,
            "metric_name": point.key,
            "metric_timestamp_ms": point.timestamp,
            "metric_step": point.step,
            "metric_value": value,
            "is_nan": is_nan,
            "experiment_id": experiments[point.model_id],
            "run_id": run_id,
            "dataset_uuid": dataset_ids.get((point.dataset_name, point.dataset_digest)),
            "dataset_name": point.dataset_name,
            "dataset_digest": point.dataset_digest,
        }
    columns = ("metric_value", "is_nan", "dataset_uuid", "dataset_name", "dataset_digest")
    conn.execute(insert_replace(dialect, logged_model_metrics, columns), list(rows.values()))


def _check_dataset_fields(point: Metric) -> None:
    for what, text, limit in (
        ("dataset_name", point.dataset_name, MAX_DATASET_NAME_SIZE),
        ("dataset_digest", point.dataset_digest, MAX_DATASET_DIGEST_SIZE),
    ):
        if text is not None and len(text) > limit:
            raise InvalidParameterValue(
                f"Invalid {what} of metric '{point.key}': at most {limit} characters, "
                f"got {len(text)}."
            )


# -- loading -------------------------------------------------------------------------------


def load_models(conn: Connection, model_ids: Sequence[str]) -> list[LoggedModel]:
    """The models with these ids (unknown ids skipped), in the order given, read in one
    transaction."""
    if not conn.in_transaction():
        conn.begin()
    loaded: list[LoggedModel] = []
    with gc_paused():
        for start in range(0, len(model_ids), LOAD_CHUNK):
            loaded.extend(_load_chunk(conn, model_ids[start : start + LOAD_CHUNK]))
    return loaded


def _load_chunk(conn: Connection, model_ids: Sequence[str]) -> list[LoggedModel]:
    ids = {"ids": list(model_ids)}
    rows = {row.model_id: row for row in conn.execute(_LOAD, ids)}
    if not rows:
        return []
    tags: dict[str, dict[str, str]] = {}
    for model_id, key, value in conn.execute(_LOAD_TAGS, ids):
        tags.setdefault(model_id, {})[key] = value
    params: dict[str, dict[str, str]] = {}
    for model_id, key, value in conn.execute(_LOAD_PARAMS, ids):
        params.setdefault(model_id, {})[key] = value
    metrics: dict[str, list[Metric]] = {}
    nan = math.nan
    for model_id, key, value, is_nan, timestamp, step, run_id, name, digest in conn.execute(
        _LOAD_METRICS, ids
    ):
        metrics.setdefault(model_id, []).append(
            Metric(key, nan if is_nan else value, timestamp, step, name, digest, model_id, run_id)
        )
    out = []
    for model_id in model_ids:
        row = rows.get(model_id)
        if row is None:
            continue
        out.append(
            LoggedModel(
                experiment_id=str(row.experiment_id),
                model_id=model_id,
                name=row.name,
                artifact_location=row.artifact_location,
                creation_timestamp=row.creation_timestamp_ms,
                last_updated_timestamp=row.last_updated_timestamp_ms,
                model_type=row.model_type,
                source_run_id=row.source_run_id,
                status=LoggedModelStatus.from_int(row.status),
                status_message=row.status_message,
                tags=tags.get(model_id, {}),
                params=params.get(model_id, {}),
                metrics=metrics.get(model_id, ()),
                lifecycle_stage=row.lifecycle_stage,
            )
        )
    return out
