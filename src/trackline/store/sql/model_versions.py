"""Model versions in the SQL registry store: reads and writes on an open connection.

The functions run inside a transaction that :class:`~trackline.store.sql.registry.
SqlRegistryStore` opens; they never commit. A version is keyed by its registered model's
stable id and its number; a deleted version keeps its row (stage ``Deleted_Internal``, source
and run redacted) so that its number is never given out again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, select, tuple_, update

from trackline.entities import ModelVersion, ModelVersionStatus
from trackline.entities.model_version_stage import STAGE_ARCHIVED
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.store.sql.schema import (
    DELETED_STAGE,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_models,
)
from trackline.store.sql.upserts import insert_replace
from trackline.validation import validate_model_version

__all__ = [
    "REDACTED_RUN_ID",
    "REDACTED_RUN_LINK",
    "REDACTED_SOURCE",
    "VersionKey",
    "VersionRow",
    "archive_stage",
    "delete_tag",
    "find_version",
    "get_tag",
    "insert_version",
    "latest_versions",
    "load_versions",
    "max_version",
    "next_version",
    "parse_version",
    "require_version",
    "set_fields",
    "set_tag",
    "soft_delete",
    "version_not_found",
    "versions_by_key",
]

#: What a deleted version's source, run and run link read (MLflow's redaction).
REDACTED_SOURCE = "REDACTED-SOURCE-PATH"
REDACTED_RUN_ID = "REDACTED-RUN-ID"
REDACTED_RUN_LINK = "REDACTED-RUN-LINK"

#: A version's key: (registered model id, version number).
VersionKey = tuple[int, int]

_INT32 = 2**31
_v = model_versions.c
_t = model_version_tags.c
_a = registered_model_aliases.c
_m = registered_models.c
_COLUMNS = (
    _m.name,
    _v.registered_model_id,
    _v.version,
    _v.creation_time,
    _v.last_updated_time,
    _v.description,
    _v.user_id,
    _v.current_stage,
    _v.source,
    _v.run_id,
    _v.status,
    _v.status_message,
    _v.run_link,
    _v.model_id,
    _v.storage_location,
)
_JOINED = model_versions.join(registered_models, _m.id == _v.registered_model_id)
_NOT_DELETED = _v.current_stage != DELETED_STAGE


class VersionRow(NamedTuple):
    """A ``model_versions`` row with its model's name."""

    name: str
    registered_model_id: int
    version: int
    creation_time: int
    last_updated_time: int
    description: str | None
    user_id: str | None
    current_stage: str
    source: str | None
    run_id: str | None
    status: str
    status_message: str | None
    run_link: str | None
    model_id: str | None
    storage_location: str | None


def parse_version(version: object) -> int:
    """The version number of ``version`` (an int or a string of digits); 400 otherwise."""
    if version is None or version == "":
        raise InvalidParameterValue(
            "Missing value for required parameter 'version'. "
            "See the API docs for more information about request parameters."
        )
    return validate_model_version(version)


def version_not_found(name: str, version: object) -> ResourceDoesNotExist:
    """The 404 of a version that does not exist (or was deleted)."""
    return ResourceDoesNotExist(f"Model Version (name={name}, version={version}) not found")


def find_version(conn: Connection, model_id: int, version: int) -> VersionRow | None:
    """The row of a version that is not deleted, or None."""
    if not 0 < version < _INT32:
        return None
    query = select(*_COLUMNS).select_from(_JOINED)
    query = query.where(_v.registered_model_id == model_id, _v.version == version, _NOT_DELETED)
    row = conn.execute(query).first()
    return None if row is None else VersionRow._make(row)


def require_version(conn: Connection, model_id: int, name: str, version: int) -> VersionRow:
    """The row of a version that is not deleted; 404 otherwise."""
    row = find_version(conn, model_id, version)
    if row is None:
        raise version_not_found(name, version)
    return row


def max_version(conn: Connection, model_id: int) -> int | None:
    """The model's highest version that is not deleted, or None."""
    query = select(func.max(_v.version)).where(_v.registered_model_id == model_id, _NOT_DELETED)
    value = conn.execute(query).scalar()
    return None if value is None else int(value)


def next_version(conn: Connection, dialect: str, model_id: int) -> int:
    """max(version, deleted ones included) + 1, read with a lock on MySQL (whose repeatable
    reads could otherwise see an older snapshot)."""
    query = select(func.max(_v.version)).where(_v.registered_model_id == model_id)
    if dialect == "mysql":
        query = query.with_for_update()
    value = conn.execute(query).scalar()
    return 1 if value is None else int(value) + 1


def insert_version(conn: Connection, dialect: str, values: Mapping[str, Any]) -> None:
    """Insert a version row (``values`` holds its columns) and its ``tags`` (a dict)."""
    row = {k: v for k, v in values.items() if k != "tags"}
    conn.execute(insert(model_versions), [row])
    tags: Mapping[str, str] = values.get("tags") or {}
    if tags:
        conn.execute(
            insert(model_version_tags),
            [
                {
                    "registered_model_id": row["registered_model_id"],
                    "version": row["version"],
                    "key": key,
                    "value": value,
                }
                for key, value in tags.items()
            ],
        )


def set_fields(conn: Connection, key: VersionKey, **values: Any) -> None:
    """Update columns of one version."""
    model_id, version = key
    conn.execute(
        update(model_versions)
        .where(_v.registered_model_id == model_id, _v.version == version)
        .values(**values)
    )


def archive_stage(conn: Connection, model_id: int, stage: str, keep: int, now: int) -> list[int]:
    """Move the model's versions in ``stage`` (other than ``keep``) to Archived; returns
    their numbers, lowest first."""
    where = (_v.registered_model_id == model_id, _v.current_stage == stage, _v.version != keep)
    query = select(_v.version).where(*where).order_by(_v.version)
    moved = [int(v) for v in conn.execute(query).scalars()]
    if moved:
        conn.execute(
            update(model_versions)
            .where(*where)
            .values(current_stage=STAGE_ARCHIVED, last_updated_time=now)
        )
    return moved


def soft_delete(conn: Connection, key: VersionKey, now: int) -> list[str]:
    """Delete a version: stage ``Deleted_Internal``, description, user, source, storage, run
    and run link redacted, tags and the aliases pointing to it removed. Returns the removed
    aliases."""
    model_id, version = key
    alias_where = (_a.registered_model_id == model_id, _a.version == version)
    aliases = sorted(str(a) for a in conn.execute(select(_a.alias).where(*alias_where)).scalars())
    conn.execute(delete(registered_model_aliases).where(*alias_where))
    conn.execute(
        delete(model_version_tags).where(_t.registered_model_id == model_id, _t.version == version)
    )
    set_fields(
        conn,
        key,
        current_stage=DELETED_STAGE,
        last_updated_time=now,
        description=None,
        user_id=None,
        source=REDACTED_SOURCE,
        storage_location=None,
        run_id=REDACTED_RUN_ID,
        run_link=REDACTED_RUN_LINK,
        status_message=None,
    )
    return aliases


# -- tags -----------------------------------------------------------------------------------


def get_tag(conn: Connection, key: VersionKey, tag_key: str) -> str | None:
    """A version's tag value, or None."""
    query = select(_t.value).where(
        _t.registered_model_id == key[0], _t.version == key[1], _t.key == tag_key
    )
    values = conn.execute(query).scalars().all()
    return None if not values else str(values[0])


def set_tag(conn: Connection, dialect: str, key: VersionKey, tag_key: str, value: str) -> None:
    """Insert or replace a version's tag."""
    conn.execute(
        insert_replace(dialect, model_version_tags),
        [{"registered_model_id": key[0], "version": key[1], "key": tag_key, "value": value}],
    )


def delete_tag(conn: Connection, key: VersionKey, tag_key: str) -> None:
    """Remove a version's tag."""
    conn.execute(
        delete(model_version_tags).where(
            _t.registered_model_id == key[0], _t.version == key[1], _t.key == tag_key
        )
    )


# -- loading --------------------------------------------------------------------------------


def _tags_of(conn: Connection, keys: Sequence[VersionKey]) -> dict[VersionKey, dict[str, str]]:
    found: dict[VersionKey, dict[str, str]] = {}
    if not keys:
        return found
    pairs = tuple_(_t.registered_model_id, _t.version).in_(bindparam("keys", expanding=True))
    query = select(_t.registered_model_id, _t.version, _t.key, _t.value).where(pairs)
    for model_id, version, tag_key, value in conn.execute(query, {"keys": list(keys)}):
        found.setdefault((int(model_id), int(version)), {})[tag_key] = value
    return found


def _aliases_of(conn: Connection, keys: Sequence[VersionKey]) -> dict[VersionKey, list[str]]:
    found: dict[VersionKey, list[str]] = {}
    if not keys:
        return found
    pairs = tuple_(_a.registered_model_id, _a.version).in_(bindparam("keys", expanding=True))
    query = select(_a.registered_model_id, _a.version, _a.alias).where(pairs).order_by(_a.alias)
    for model_id, version, alias in conn.execute(query, {"keys": list(keys)}):
        found.setdefault((int(model_id), int(version)), []).append(str(alias))
    return found


def _entity(row: VersionRow, tags: dict[str, str], aliases: Iterable[str]) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=int(row.version),
        creation_timestamp=int(row.creation_time),
        last_updated_timestamp=int(row.last_updated_time),
        description=row.description,
        user_id=row.user_id,
        current_stage=row.current_stage,
        source=row.source,
        run_id=row.run_id,
        status=ModelVersionStatus.from_value(row.status),
        status_message=row.status_message,
        tags=tags,
        run_link=row.run_link,
        aliases=aliases,
        model_id=row.model_id,
    )


def _rows(conn: Connection, keys: Sequence[VersionKey]) -> dict[VersionKey, VersionRow]:
    if not keys:
        return {}
    pairs = tuple_(_v.registered_model_id, _v.version).in_(bindparam("keys", expanding=True))
    query = select(*_COLUMNS).select_from(_JOINED).where(pairs)
    found = (VersionRow._make(r) for r in conn.execute(query, {"keys": list(keys)}))
    return {(int(r.registered_model_id), int(r.version)): r for r in found}


def versions_by_key(
    conn: Connection, keys: Sequence[VersionKey], *, aliases: bool = True
) -> dict[VersionKey, ModelVersion]:
    """The versions of ``keys`` (those that exist) with their tags and, if asked, aliases."""
    rows = _rows(conn, keys)
    present = [k for k in keys if k in rows]
    tags = _tags_of(conn, present)
    named = _aliases_of(conn, present) if aliases else {}
    return {k: _entity(rows[k], tags.get(k, {}), named.get(k, ())) for k in present}


def load_versions(
    conn: Connection, keys: Sequence[VersionKey], *, aliases: bool = True
) -> list[ModelVersion]:
    """The versions of ``keys`` with their tags (and aliases), in the order of ``keys``."""
    found = versions_by_key(conn, keys, aliases=aliases)
    return [found[k] for k in keys if k in found]


def latest_versions(
    conn: Connection, model_ids: Sequence[int], *, aliases: bool = False
) -> dict[int, list[ModelVersion]]:
    """The newest version in each stage of each model (deleted ones left out), lowest
    version first."""
    if not model_ids:
        return {}
    newest = (
        select(_v.registered_model_id, func.max(_v.version).label("version"))
        .where(_v.registered_model_id.in_(bindparam("ids", expanding=True)), _NOT_DELETED)
        .group_by(_v.registered_model_id, _v.current_stage)
        .subquery()
    )
    query = select(newest.c.registered_model_id, newest.c.version).order_by(
        newest.c.registered_model_id, newest.c.version
    )
    keys = [(int(m), int(v)) for m, v in conn.execute(query, {"ids": list(model_ids)})]
    found: dict[int, list[ModelVersion]] = {}
    for key, version in versions_by_key(conn, keys, aliases=aliases).items():
        found.setdefault(key[0], []).append(version)
    return found
