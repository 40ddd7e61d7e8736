"""Experiments in the SQL tracking store: reads and writes on an open connection.

The functions here run inside a transaction that :class:`~trackline.store.sql.tracking.
SqlTrackingStore` opens; they never commit. Experiment ids are integers in the database and
strings everywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import urlparse

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trackline.entities import Experiment, ExperimentTag, LifecycleStage
from trackline.exceptions import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from trackline.store.sql.prepared import Prepared
from trackline.store.sql.schema import experiment_tags, experiments, runs
from trackline.store.sql.upserts import insert_replace

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_EXPERIMENT_NAME",
    "ExperimentRow",
    "artifact_location_for",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "experiment_not_found",
    "get_experiment_by_name",
    "get_experiment_row",
    "in_id_range",
    "insert_default_experiment",
    "load_experiments",
    "parse_experiment_id",
    "rename_experiment",
    "require_active_experiment",
    "require_experiment",
    "restore_experiment",
    "set_experiment_tag",
]

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"

_INT32 = 2**31
_e = experiments.c
_t = experiment_tags.c
_COLUMNS = (
    _e.experiment_id,
    _e.name,
    _e.artifact_location,
    _e.lifecycle_stage,
    _e.creation_time,
    _e.last_update_time,
)
_BY_ID = Prepared(lambda _: select(*_COLUMNS).where(_e.experiment_id == bindparam("id")), ("id",))
_BY_NAME = select(*_COLUMNS).where(_e.name == bindparam("name"))
_BY_IDS = select(*_COLUMNS).where(_e.experiment_id.in_(bindparam("ids", expanding=True)))
_TAGS_BY_IDS = select(_t.experiment_id, _t.key, _t.value).where(
    _t.experiment_id.in_(bindparam("ids", expanding=True))
)
_INSERT = insert(experiments)
_INSERT_TAGS = insert(experiment_tags)
_SET_LOCATION = (
    update(experiments)
    .where(_e.experiment_id == bindparam("id"))
    .values(artifact_location=bindparam("location"))
)
_SET_STAGE = (
    update(experiments)
    .where(_e.experiment_id == bindparam("id"))
    .values(lifecycle_stage=bindparam("stage"), last_update_time=bindparam("now"))
)
_RENAME = (
    update(experiments)
    .where(_e.experiment_id == bindparam("id"))
    .values(name=bindparam("new_name"), last_update_time=bindparam("now"))
)
_DELETE_TAG = delete(experiment_tags).where(
    _t.experiment_id == bindparam("id"), _t.key == bindparam("key")
)
_r = runs.c
_LAST_RUN_DELETION = select(func.max(_r.deleted_time)).where(_r.experiment_id == bindparam("id"))
_DELETE_RUNS = (
    update(runs)
    .where(_r.experiment_id == bindparam("id"), _r.lifecycle_stage == LifecycleStage.ACTIVE)
    .values(lifecycle_stage=LifecycleStage.DELETED, deleted_time=bindparam("now"))
)


def parse_experiment_id(experiment_id: object) -> int:
    """The integer id of ``experiment_id`` (a string or int); 400 when it is not an integer."""
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        return experiment_id
    if isinstance(experiment_id, str):
        text = experiment_id.strip()
        if text and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
            return int(text)
    if experiment_id is None or experiment_id == "":
        raise InvalidParameterValue(
            "Missing value for required parameter 'experiment_id'. "
            "See the API docs for more information about request parameters."
        )
    raise InvalidParameterValue(
        f"Invalid experiment ID: '{experiment_id}'. Experiment IDs of this store are integers."
    )


def artifact_location_for(default_artifact_root: str, experiment_id: int | str) -> str:
    """``<default_artifact_root>/<experiment_id>``."""
    return f"{default_artifact_root.rstrip('/')}/{experiment_id}"


def _resolve_location(location: str) -> str:
    # A plain local path is stored absolute; URIs (file:, s3:, mlflow-artifacts:) as given.
    if urlparse(location).scheme == "":
        return os.path.abspath(location)
    return location


def _to_entity(row: Any, tags: dict[str, str] | None) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        tags=tags or {},
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
    )


def in_id_range(experiment_id: int) -> bool:
    """Whether the id fits the experiment_id column (a 32-bit signed integer)."""
    return -_INT32 <= experiment_id < _INT32


class ExperimentRow(NamedTuple):
    """An ``experiments`` row."""

    experiment_id: int
    name: str
    artifact_location: str | None
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None


def get_experiment_row(conn: Connection, experiment_id: int) -> ExperimentRow | None:
    """The experiment's row, or None (also for ids outside the column's range)."""
    if not in_id_range(experiment_id):
        return None
    row = _BY_ID.fetchone(conn, (experiment_id,))
    return None if row is None else ExperimentRow(*row)


def experiment_not_found(experiment_id: object) -> ResourceDoesNotExist:
    return ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")


def require_experiment(conn: Connection, experiment_id: int) -> ExperimentRow:
    """The experiment's row; RESOURCE_DOES_NOT_EXIST when there is none."""
    row = get_experiment_row(conn, experiment_id)
    if row is None:
        raise experiment_not_found(experiment_id)
    return row


def require_active_experiment(conn: Connection, experiment_id: int) -> ExperimentRow:
    """The row of an active experiment; 404 when missing, 400 when deleted."""
    row = require_experiment(conn, experiment_id)
    if row.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"The experiment {experiment_id} must be in the 'active' state. "
            f"Current state is {row.lifecycle_stage}."
        )
    return row


def load_experiments(conn: Connection, ids: Sequence[int]) -> list[Experiment]:
    """The experiments with these ids, with their tags, in the order of ``ids``."""
    ids = [i for i in ids if in_id_range(i)]
    if not ids:
        return []
    rows = {row.experiment_id: row for row in conn.execute(_BY_IDS, {"ids": list(ids)})}
    tags: dict[int, dict[str, str]] = {}
    for experiment_id, key, value in conn.execute(_TAGS_BY_IDS, {"ids": list(ids)}):
        tags.setdefault(experiment_id, {})[key] = value
    return [_to_entity(rows[i], tags.get(i)) for i in ids if i in rows]


def get_experiment_by_name(conn: Connection, name: str) -> Experiment | None:
    """The experiment with this exact name, deleted or not, or None."""
    row = conn.execute(_BY_NAME, {"name": name}).first()
    if row is None or row.name != name:
        return None
    return load_experiments(conn, [row.experiment_id])[0]


def _already_exists(name: str) -> ResourceAlreadyExists:
    return ResourceAlreadyExists(f"Experiment(name={name}) already exists.")


def create_experiment(
    conn: Connection,
    name: str,
    artifact_location: str | None,
    tags: Sequence[tuple[str, str]],
    default_artifact_root: str,
    now: int,
) -> str:
    """Insert an experiment (and its tags) and return its id."""
    if conn.execute(_BY_NAME, {"name": name}).first() is not None:
        raise _already_exists(name)
    location = _resolve_location(artifact_location) if artifact_location else None
    try:
        result = conn.execute(
            _INSERT,
            {
                "name": name,
                "artifact_location": location,
                "lifecycle_stage": LifecycleStage.ACTIVE,
                "creation_time": now,
                "last_update_time": now,
            },
        )
    except IntegrityError:
        raise _already_exists(name) from None
    key = result.inserted_primary_key
    assert key is not None
    experiment_id = int(key[0])
    if location is None:
        location = artifact_location_for(default_artifact_root, experiment_id)
        conn.execute(_SET_LOCATION, {"id": experiment_id, "location": location})
    if tags:
        conn.execute(
            _INSERT_TAGS,
            [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in dict(tags).items()],
        )
    return str(experiment_id)


def insert_default_experiment(
    conn: Connection, dialect: str, default_artifact_root: str, now: int
) -> None:
    """Insert experiment "0" ("Default"); the caller tolerates losing a race for it."""
    row = {
        "experiment_id": DEFAULT_EXPERIMENT_ID,
        "name": DEFAULT_EXPERIMENT_NAME,
        "artifact_location": artifact_location_for(default_artifact_root, DEFAULT_EXPERIMENT_ID),
        "lifecycle_stage": LifecycleStage.ACTIVE,
        "creation_time": now,
        "last_update_time": now,
    }
    if dialect != "mysql":
        conn.execute(_INSERT, row)
        return
    # MySQL reads an explicit 0 in an AUTO_INCREMENT column as "next value" unless told not to.
    mode = conn.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar() or ""
    conn.exec_driver_sql(
        "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
    )
    try:
        conn.execute(_INSERT, row)
    finally:
        conn.exec_driver_sql("SET SESSION sql_mode = %s", (mode,))


def delete_experiment(conn: Connection, experiment_id: int, now: int) -> None:
    """Mark the experiment and its active runs deleted.

    The experiment's ``last_update_time`` and the runs' ``deleted_time`` get the same stamp,
    later than the deletion time of any run of the experiment deleted before, so that
    :func:`restore_experiment` can tell the runs this deletion deleted. Deleting a deleted
    experiment changes nothing, so that the stamp stays that of the first deletion.
    """
    row = require_experiment(conn, experiment_id)
    if row.lifecycle_stage == LifecycleStage.DELETED:
        return
    latest = conn.execute(_LAST_RUN_DELETION, {"id": experiment_id}).scalar()
    stamp = now if latest is None else max(now, int(latest) + 1)
    conn.execute(_SET_STAGE, {"id": experiment_id, "stage": LifecycleStage.DELETED, "now": stamp})
    conn.execute(_DELETE_RUNS, {"id": experiment_id, "now": stamp})


def restore_experiment(conn: Connection, experiment_id: int, now: int) -> None:
    """Mark a deleted experiment active again with the runs its deletion deleted."""
    row = require_experiment(conn, experiment_id)
    if row.lifecycle_stage != LifecycleStage.DELETED:
        raise InvalidParameterValue(
            f"Cannot restore experiment {experiment_id}: it is not deleted "
            f"(lifecycle_stage is {row.lifecycle_stage})."
        )
    # The deletion stamped the experiment's last_update_time and its runs' deleted_time
    # alike, later than any earlier run deletion: runs deleted before it stay deleted.
    deleted_at = row.last_update_time
    restore_runs = (
        update(runs)
        .where(_r.experiment_id == experiment_id, _r.lifecycle_stage == LifecycleStage.DELETED)
        .values(lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None)
    )
    if deleted_at is not None:
        restore_runs = restore_runs.where(
            (_r.deleted_time.is_(None)) | (_r.deleted_time >= deleted_at)
        )
    conn.execute(_SET_STAGE, {"id": experiment_id, "stage": LifecycleStage.ACTIVE, "now": now})
    conn.execute(restore_runs)


def rename_experiment(conn: Connection, experiment_id: int, new_name: str, now: int) -> None:
    """Rename an active experiment; a taken name is RESOURCE_ALREADY_EXISTS."""
    row = require_experiment(conn, experiment_id)
    if row.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidParameterValue("Cannot rename a non-active experiment.")
    if row.name == new_name:
        return
    taken = conn.execute(_BY_NAME, {"name": new_name}).first()
    if taken is not None and taken.name == new_name:
        raise _already_exists(new_name)
    try:
        conn.execute(_RENAME, {"id": experiment_id, "new_name": new_name, "now": now})
    except IntegrityError:
        raise _already_exists(new_name) from None


def set_experiment_tag(
    conn: Connection, dialect: str, experiment_id: int, tag: ExperimentTag
) -> None:
    """Insert or replace a tag of an active experiment."""
    require_active_experiment(conn, experiment_id)
    conn.execute(
        insert_replace(dialect, experiment_tags),
        {"experiment_id": experiment_id, "key": tag.key, "value": tag.value},
    )


def delete_experiment_tag(conn: Connection, experiment_id: int, key: str) -> None:
    """Remove a tag of an active experiment; 404 when it has none by that key."""
    require_active_experiment(conn, experiment_id)
    if conn.execute(_DELETE_TAG, {"id": experiment_id, "key": key}).rowcount == 0:
        raise ResourceDoesNotExist(f"No tag with name: {key} in experiment with id {experiment_id}")
