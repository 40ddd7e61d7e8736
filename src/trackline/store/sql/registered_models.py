"""Registered models in the SQL registry store: reads and writes on an open connection.

The functions run inside a transaction that :class:`~trackline.store.sql.registry.
SqlRegistryStore` opens; they never commit. A model is found by name and then referred to by
its stable integer id, which its versions, tags, aliases and audit events carry, so a rename
touches one row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from trackline.entities import RegisteredModel
from trackline.exceptions import ResourceAlreadyExists, ResourceDoesNotExist
from trackline.store.sql import model_versions as version_sql
from trackline.store.sql.schema import (
    DELETED_STAGE,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from trackline.store.sql.upserts import insert_replace

__all__ = [
    "ModelRow",
    "already_exists",
    "delete_alias",
    "delete_model",
    "delete_tag",
    "find_model",
    "get_alias",
    "get_tag",
    "insert_model",
    "load_models",
    "model_not_found",
    "rename_model",
    "require_model",
    "set_alias",
    "set_model_fields",
    "set_tag",
    "touch_versions",
]

_m = registered_models.c
_t = registered_model_tags.c
_a = registered_model_aliases.c
_v = model_versions.c
_COLUMNS = (
    _m.id,
    _m.name,
    _m.description,
    _m.user_id,
    _m.creation_time,
    _m.last_updated_time,
)


class ModelRow(NamedTuple):
    """A ``registered_models`` row."""

    id: int
    name: str
    description: str | None
    user_id: str | None
    creation_time: int
    last_updated_time: int


def model_not_found(name: str) -> ResourceDoesNotExist:
    """The 404 of a registered model that does not exist."""
    return ResourceDoesNotExist(f"Registered Model with name={name} not found")


def already_exists(name: str) -> ResourceAlreadyExists:
    """The error of a name that another registered model has."""
    return ResourceAlreadyExists(f"Registered Model (name={name}) already exists.")


def find_model(conn: Connection, name: str, *, lock: bool = False) -> ModelRow | None:
    """The model named exactly ``name``, or None. ``lock`` takes the row's write lock
    (``FOR UPDATE``; SQLite's writers are serialized anyway) so the transaction's changes to
    the model, its versions and its trail do not interleave with another writer's."""
    query = select(*_COLUMNS).where(_m.name == name)
    if lock:
        query = query.with_for_update()
    for row in conn.execute(query):
        if row.name == name:  # MySQL's collations ignore trailing spaces
            return ModelRow(*row)
    return None


def require_model(conn: Connection, name: str, *, lock: bool = False) -> ModelRow:
    """The model named ``name``; 404 otherwise."""
    row = find_model(conn, name, lock=lock)
    if row is None:
        raise model_not_found(name)
    return row


def insert_model(
    conn: Connection,
    name: str,
    description: str | None,
    user_id: str | None,
    tags: Mapping[str, str],
    now: int,
) -> int:
    """Insert a model and its tags; returns its id."""
    result = conn.execute(
        insert(registered_models).values(
            name=name,
            description=description,
            user_id=user_id,
            creation_time=now,
            last_updated_time=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    model_id = int(key[0])
    if tags:
        conn.execute(
            insert(registered_model_tags),
            [{"registered_model_id": model_id, "key": k, "value": v} for k, v in tags.items()],
        )
    return model_id


def set_model_fields(conn: Connection, model_id: int, **values: Any) -> None:
    """Update columns of one model."""
    conn.execute(update(registered_models).where(_m.id == model_id).values(**values))


def rename_model(conn: Connection, model_id: int, new_name: str, now: int) -> None:
    """Give the model a new name (the caller checked it is free)."""
    set_model_fields(conn, model_id, name=new_name, last_updated_time=now)
    touch_versions(conn, model_id, now)


def touch_versions(conn: Connection, model_id: int, now: int) -> None:
    """Set the last-update time of every version of the model that is not deleted."""
    conn.execute(
        update(model_versions)
        .where(_v.registered_model_id == model_id, _v.current_stage != DELETED_STAGE)
        .values(last_updated_time=now)
    )


def delete_model(conn: Connection, model_id: int) -> None:
    """Delete the model with its versions, tags and aliases."""
    conn.execute(delete(registered_model_aliases).where(_a.registered_model_id == model_id))
    conn.execute(
        delete(model_version_tags).where(model_version_tags.c.registered_model_id == model_id)
    )
    conn.execute(delete(model_versions).where(_v.registered_model_id == model_id))
    conn.execute(delete(registered_model_tags).where(_t.registered_model_id == model_id))
    conn.execute(delete(registered_models).where(_m.id == model_id))


# -- tags and aliases -----------------------------------------------------------------------


def get_tag(conn: Connection, model_id: int, key: str) -> str | None:
    """A model's tag value, or None."""
    query = select(_t.value).where(_t.registered_model_id == model_id, _t.key == key)
    values = conn.execute(query).scalars().all()
    return None if not values else str(values[0])


def set_tag(conn: Connection, dialect: str, model_id: int, key: str, value: str) -> None:
    """Insert or replace a model's tag."""
    conn.execute(
        insert_replace(dialect, registered_model_tags),
        [{"registered_model_id": model_id, "key": key, "value": value}],
    )


def delete_tag(conn: Connection, model_id: int, key: str) -> None:
    """Remove a model's tag."""
    conn.execute(
        delete(registered_model_tags).where(_t.registered_model_id == model_id, _t.key == key)
    )


def get_alias(conn: Connection, model_id: int, alias: str) -> int | None:
    """The version an alias of the model points to, or None."""
    query = select(_a.version).where(_a.registered_model_id == model_id, _a.alias == alias)
    values = conn.execute(query).scalars().all()
    return None if not values else int(values[0])


def set_alias(conn: Connection, dialect: str, model_id: int, alias: str, version: int) -> None:
    """Point an alias of the model at a version (moving it if it exists)."""
    conn.execute(
        insert_replace(dialect, registered_model_aliases, ("version",)),
        [{"registered_model_id": model_id, "alias": alias, "version": version}],
    )


def delete_alias(conn: Connection, model_id: int, alias: str) -> None:
    """Remove an alias of the model."""
    conn.execute(
        delete(registered_model_aliases).where(
            _a.registered_model_id == model_id, _a.alias == alias
        )
    )


# -- loading --------------------------------------------------------------------------------


def load_models(conn: Connection, model_ids: Sequence[int]) -> list[RegisteredModel]:
    """The models of ``model_ids`` with tags, aliases and latest versions, in that order."""
    if not model_ids:
        return []
    ids = {"ids": list(model_ids)}
    rows = {
        int(r.id): r
        for r in conn.execute(
            select(*_COLUMNS).where(_m.id.in_(bindparam("ids", expanding=True))), ids
        )
    }
    tags: dict[int, dict[str, str]] = {}
    tag_query = select(_t.registered_model_id, _t.key, _t.value).where(
        _t.registered_model_id.in_(bindparam("ids", expanding=True))
    )
    for model_id, key, value in conn.execute(tag_query, ids):
        tags.setdefault(int(model_id), {})[key] = value
    aliases: dict[int, dict[str, str]] = {}
    alias_query = (
        select(_a.registered_model_id, _a.alias, _a.version)
        .where(_a.registered_model_id.in_(bindparam("ids", expanding=True)))
        .order_by(_a.alias)
    )
    for model_id, alias, version in conn.execute(alias_query, ids):
        aliases.setdefault(int(model_id), {})[alias] = str(version)
    latest = version_sql.latest_versions(conn, list(rows))
    return [
        RegisteredModel(
            name=rows[i].name,
            creation_timestamp=int(rows[i].creation_time),
            last_updated_timestamp=int(rows[i].last_updated_time),
            description=rows[i].description,
            latest_versions=latest.get(i, []),
            tags=tags.get(i, {}),
            aliases=aliases.get(i, {}),
            user_id=rows[i].user_id,
        )
        for i in model_ids
        if i in rows
    ]
