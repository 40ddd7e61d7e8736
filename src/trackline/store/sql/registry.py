"""The SQL model registry store: registered models and versions beside the tracking tables.

:class:`SqlRegistryStore` validates its arguments, opens one transaction per call through the
same :class:`~trackline.store.sql.engine.Database` as the tracking store, and delegates the
SQL to :mod:`~trackline.store.sql.registered_models`,
:mod:`~trackline.store.sql.model_versions`, :mod:`~trackline.store.sql.registry_events` and
:mod:`~trackline.store.sql.registry_filters`. Every write locks the model's row first, so the
writes to one model (and their audit events) happen one after the other, and records its
events in its own transaction: all or nothing. Version registration is in
:mod:`~trackline.store.sql.registrations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from trackline.entities import (
    ALL_STAGES,
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
    RegistryEvent,
    canonical_stage,
)
from trackline.entities.model_version_stage import STAGE_ARCHIVED, STAGES_THAT_ARCHIVE
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.search import decode_page_token, encode_page_token
from trackline.store.registry_store import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTRY_EVENTS_MAX_RESULTS_THRESHOLD,
)
from trackline.store.sql import model_versions as version_sql
from trackline.store.sql import registered_models as model_sql
from trackline.store.sql import request_keys
from trackline.store.sql.engine import Database
from trackline.store.sql.registrations import (
    RegistryVersions,
    check_description,
    check_name,
    check_user,
    now_ms,
)
from trackline.store.sql.registry_events import EventLog, search_events
from trackline.store.sql.registry_filters import model_versions_query, registered_models_query
from trackline.validation import (
    validate_max_results,
    validate_model_alias_name,
    validate_registry_tag,
    validate_tag_name,
)

__all__ = ["SqlRegistryStore"]


def _check_alias_syntax(alias: object) -> str:
    """An alias as MLflow checks it on reads and deletes (the reserved names pass)."""
    if not isinstance(alias, str) or not alias:
        raise InvalidParameterValue("Registered model alias name cannot be empty.")
    try:
        validate_model_alias_name(alias)
    except InvalidParameterValue:
        if alias.lower() != "latest" and not (alias[:1] in "vV" and alias[1:].isdigit()):
            raise
    return alias


def _stage(stage: object) -> str:
    canonical = canonical_stage(stage) if isinstance(stage, str) else None
    if canonical is None:
        raise InvalidParameterValue(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(ALL_STAGES)}."
        )
    return canonical


class SqlRegistryStore(RegistryVersions):
    """A :class:`~trackline.store.registry_store.RegistryStore` on a SQL database.

    ``db_uri`` is a SQLAlchemy URL, as for :class:`~trackline.store.sql.tracking.
    SqlTrackingStore` (pass ``database`` to share that store's connections instead).
    ``default_artifact_root`` and ``artifact_roots`` are the artifact stores the server is
    configured with: a version's ``source`` may lie inside them (docs/registry.md).
    """

    def __init__(
        self,
        db_uri: str,
        default_artifact_root: str | None = None,
        artifact_roots: Sequence[str] = (),
        *,
        database: Database | None = None,
    ) -> None:
        self.db_uri = db_uri
        self._owns_db = database is None
        self.db = Database(db_uri) if database is None else database
        self.dialect = self.db.dialect
        self.keys = request_keys.KeyedCreates(self.db)
        roots = [default_artifact_root] if default_artifact_root else []
        self.artifact_roots: list[str] = [*roots, *artifact_roots]

    def close(self) -> None:
        """Release the database connections (unless they are shared)."""
        if self._owns_db:
            self.db.close()

    # -- registered models -----------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] | None = None,
        description: str | None = None,
        user_id: str | None = None,
    ) -> RegisteredModel:
        """Create a model; a taken name is RESOURCE_ALREADY_EXISTS."""
        name = check_name(name, new=True)
        description = check_description(description)
        user = check_user(user_id)
        checked: dict[str, str] = {}
        for tag in tags or ():
            key, value = validate_registry_tag(tag.key, tag.value)
            checked[key] = value
        now = now_ms()
        try:
            with self.db.write() as conn:
                if model_sql.find_model(conn, name) is not None:
                    raise model_sql.already_exists(name)
                model_id = model_sql.insert_model(conn, name, description, user, checked, now)
                log = EventLog(now, user)
                log.add("create_registered_model", model_id, name, new=description)
                for key, value in checked.items():
                    log.add("set_registered_model_tag", model_id, name, key=key, new=value)
                log.write(conn)
        except IntegrityError:
            raise model_sql.already_exists(name) from None
        return RegisteredModel(name, now, now, description, [], checked, {}, user)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version per stage."""
        name = check_name(name)
        with self.db.read() as conn:
            row = model_sql.require_model(conn, name)
            return model_sql.load_models(conn, [int(row.id)])[0]

    def rename_registered_model(
        self, name: str, new_name: str, user_id: str | None = None
    ) -> RegisteredModel:
        """Rename a model; its versions, tags, aliases and audit trail follow."""
        name = check_name(name)
        new_name = check_name(new_name, new=True, field="new_name")
        user = check_user(user_id)
        now = now_ms()
        try:
            with self.db.write() as conn:
                row = model_sql.require_model(conn, name, lock=True)
                model_id = int(row.id)
                if new_name != name:
                    if model_sql.find_model(conn, new_name) is not None:
                        raise model_sql.already_exists(new_name)
                    model_sql.rename_model(conn, model_id, new_name, now)
                    log = EventLog(now, user)
                    log.add(
                        "rename_registered_model",
                        model_id,
                        new_name,
                        key="name",
                        old=name,
                        new=new_name,
                    )
                    log.write(conn)
                return model_sql.load_models(conn, [model_id])[0]
        except IntegrityError:
            raise model_sql.already_exists(new_name) from None

    def update_registered_model(
        self, name: str, description: str | None, user_id: str | None = None
    ) -> RegisteredModel:
        """Replace the model's description."""
        name = check_name(name)
        description = check_description(description)
        user = check_user(user_id)
        now = now_ms()
        with self.db.write() as conn:
            row = model_sql.require_model(conn, name, lock=True)
            model_id = int(row.id)
            if row.description != description:
                model_sql.set_model_fields(
                    conn, model_id, description=description, last_updated_time=now
                )
                log = EventLog(now, user)
                log.add(
                    "update_registered_model",
                    model_id,
                    name,
                    key="description",
                    old=row.description,
                    new=description,
                )
                log.write(conn)
            return model_sql.load_models(conn, [model_id])[0]

    def delete_registered_model(self, name: str, user_id: str | None = None) -> None:
        """Delete a model with its versions, tags and aliases (its trail stays)."""
        name = check_name(name)
        user = check_user(user_id)
        now = now_ms()
        with self.db.write() as conn:
            row = model_sql.require_model(conn, name, lock=True)
            model_sql.delete_model(conn, int(row.id))
            log = EventLog(now, user)
            log.add("delete_registered_model", int(row.id), name)
            log.write(conn)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """A page of models matching the filter, ``name ASC`` by default; prompts are left
        out unless the filter asks for them."""
        limit = validate_max_results(max_results, SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD)
        offset = decode_page_token(page_token)
        query = registered_models_query(filter_string, order_by, offset, limit + 1)
        with self.db.read() as conn:
            ids = [int(cast(Any, i)) for i in conn.execute(query).scalars()]
            found = model_sql.load_models(conn, ids[:limit])
        token = encode_page_token(offset + limit) if len(ids) > limit else None
        return PagedList(found, token)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (all four when empty), with aliases."""
        name = check_name(name)
        if isinstance(stages, str):
            stages = [stages]
        wanted = {_stage(s) for s in stages or ()} or set(ALL_STAGES)
        with self.db.read() as conn:
            row = model_sql.require_model(conn, name)
            latest = version_sql.latest_versions(conn, [int(row.id)], aliases=True)
        return [v for v in latest.get(int(row.id), []) if v.current_stage in wanted]

    def set_registered_model_tag(
        self, name: str, tag: RegisteredModelTag, user_id: str | None = None
    ) -> None:
        """Set (or replace) a tag on a model."""
        name = check_name(name)
        key, value = validate_registry_tag(tag.key, tag.value)
        user = check_user(user_id)
        with self.db.write() as conn:
            model_id = int(model_sql.require_model(conn, name, lock=True).id)
            old = model_sql.get_tag(conn, model_id, key)
            if old != value:
                model_sql.set_tag(conn, self.dialect, model_id, key, value)
                log = EventLog(now_ms(), user)
                log.add("set_registered_model_tag", model_id, name, key=key, old=old, new=value)
                log.write(conn)

    def delete_registered_model_tag(self, name: str, key: str, user_id: str | None = None) -> None:
        """Delete a model's tag; an absent key is RESOURCE_DOES_NOT_EXIST."""
        name = check_name(name)
        key = validate_tag_name(key)
        user = check_user(user_id)
        with self.db.write() as conn:
            model_id = int(model_sql.require_model(conn, name, lock=True).id)
            old = model_sql.get_tag(conn, model_id, key)
            if old is None:
                raise ResourceDoesNotExist(f"No tag with key '{key}' on registered model {name}")
            model_sql.delete_tag(conn, model_id, key)
            log = EventLog(now_ms(), user)
            log.add("delete_registered_model_tag", model_id, name, key=key, old=old)
            log.write(conn)

    # -- model versions (registration is in RegistryVersions) -------------------------------

    def _version_write(
        self, conn: Connection, name: str, version: str | int
    ) -> tuple[int, int, Any]:
        number = version_sql.parse_version(version)
        model_id = int(model_sql.require_model(conn, name, lock=True).id)
        row = version_sql.require_version(conn, model_id, name, number)
        return model_id, number, row

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """One version with its tags and aliases."""
        name = check_name(name)
        number = version_sql.parse_version(version)
        with self.db.read() as conn:
            model_id = int(model_sql.require_model(conn, name).id)
            version_sql.require_version(conn, model_id, name, number)
            return version_sql.load_versions(conn, [(model_id, number)])[0]

    def update_model_version(
        self, name: str, version: str | int, description: str | None, user_id: str | None = None
    ) -> ModelVersion:
        """Replace a version's description."""
        name = check_name(name)
        description = check_description(description)
        user = check_user(user_id)
        now = now_ms()
        with self.db.write() as conn:
            model_id, number, row = self._version_write(conn, name, version)
            if row.description != description:
                version_sql.set_fields(
                    conn, (model_id, number), description=description, last_updated_time=now
                )
                log = EventLog(now, user)
                log.add(
                    "update_model_version",
                    model_id,
                    name,
                    version=number,
                    key="description",
                    old=row.description,
                    new=description,
                )
                log.write(conn)
            return version_sql.load_versions(conn, [(model_id, number)])[0]

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
        user_id: str | None = None,
    ) -> ModelVersion:
        """Move a version to a stage; with ``archive_existing_versions`` (Staging and
        Production only) the model's other versions in that stage move to Archived."""
        name = check_name(name)
        target = _stage(stage)
        if not isinstance(archive_existing_versions, bool):
            raise InvalidParameterValue(
                f"Invalid archive_existing_versions {archive_existing_versions!r}: "
                "expected a boolean"
            )
        if archive_existing_versions and target not in STAGES_THAT_ARCHIVE:
            raise InvalidParameterValue(
                "Model version transition cannot archive existing model versions because "
                f"'{target}' is not an active stage. Valid stages are "
                f"{', '.join(STAGES_THAT_ARCHIVE)}."
            )
        user = check_user(user_id)
        now = now_ms()
        with self.db.write() as conn:
            model_id, number, row = self._version_write(conn, name, version)
            log = EventLog(now, user)
            if archive_existing_versions:
                for other in version_sql.archive_stage(conn, model_id, target, number, now):
                    log.add(
                        "transition_model_version_stage",
                        model_id,
                        name,
                        version=other,
                        old=target,
                        new=STAGE_ARCHIVED,
                    )
            if row.current_stage != target:
                version_sql.set_fields(
                    conn, (model_id, number), current_stage=target, last_updated_time=now
                )
                log.add(
                    "transition_model_version_stage",
                    model_id,
                    name,
                    version=number,
                    old=row.current_stage,
                    new=target,
                )
            if log.rows:
                model_sql.set_model_fields(conn, model_id, last_updated_time=now)
                log.write(conn)
            return version_sql.load_versions(conn, [(model_id, number)])[0]

    def delete_model_version(
        self, name: str, version: str | int, user_id: str | None = None
    ) -> None:
        """Delete a version (its number stays taken); its aliases are removed with it."""
        name = check_name(name)
        user = check_user(user_id)
        now = now_ms()
        with self.db.write() as conn:
            model_id, number, _row = self._version_write(conn, name, version)
            aliases = version_sql.soft_delete(conn, (model_id, number), now)
            model_sql.set_model_fields(conn, model_id, last_updated_time=now)
            log = EventLog(now, user)
            for alias in aliases:
                log.add("delete_registered_model_alias", model_id, name, key=alias, old=number)
            log.add("delete_model_version", model_id, name, version=number)
            log.write(conn)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where the version's files are: its storage location, else its source."""
        name = check_name(name)
        number = version_sql.parse_version(version)
        with self.db.read() as conn:
            model_id = int(model_sql.require_model(conn, name).id)
            row = version_sql.require_version(conn, model_id, name, number)
        return str(row.storage_location or row.source)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """A page of versions matching the filter (deleted ones and prompts left out)."""
        limit = validate_max_results(max_results, SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD)
        offset = decode_page_token(page_token)
        query = model_versions_query(filter_string, order_by, offset, limit + 1)
        with self.db.read() as conn:
            keys = [(int(m), int(v)) for m, v in conn.execute(query)]
            found = version_sql.load_versions(conn, keys[:limit])
        token = encode_page_token(offset + limit) if len(keys) > limit else None
        return PagedList(found, token)

    def set_model_version_tag(
        self, name: str, version: str | int, tag: ModelVersionTag, user_id: str | None = None
    ) -> None:
        """Set (or replace) a tag on a version."""
        name = check_name(name)
        key, value = validate_registry_tag(tag.key, tag.value)
        user = check_user(user_id)
        with self.db.write() as conn:
            model_id, number, _row = self._version_write(conn, name, version)
            old = version_sql.get_tag(conn, (model_id, number), key)
            if old != value:
                version_sql.set_tag(conn, self.dialect, (model_id, number), key, value)
                log = EventLog(now_ms(), user)
                log.add(
                    "set_model_version_tag",
                    model_id,
                    name,
                    version=number,
                    key=key,
                    old=old,
                    new=value,
                )
                log.write(conn)

    def delete_model_version_tag(
        self, name: str, version: str | int, key: str, user_id: str | None = None
    ) -> None:
        """Delete a version's tag; an absent key is RESOURCE_DOES_NOT_EXIST."""
        name = check_name(name)
        key = validate_tag_name(key)
        user = check_user(user_id)
        with self.db.write() as conn:
            model_id, number, _row = self._version_write(conn, name, version)
            old = version_sql.get_tag(conn, (model_id, number), key)
            if old is None:
                raise ResourceDoesNotExist(
                    f"No tag with key '{key}' on model version (name={name}, version={number})"
                )
            version_sql.delete_tag(conn, (model_id, number), key)
            log = EventLog(now_ms(), user)
            log.add("delete_model_version_tag", model_id, name, version=number, key=key, old=old)
            log.write(conn)

    # -- aliases ---------------------------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: str | int, user_id: str | None = None
    ) -> None:
        """Point ``alias`` at a version, moving it if it exists."""
        name = check_name(name)
        alias = validate_model_alias_name(alias)
        user = check_user(user_id)
        with self.db.write() as conn:
            model_id, number, _row = self._version_write(conn, name, version)
            old = model_sql.get_alias(conn, model_id, alias)
            if old != number:
                model_sql.set_alias(conn, self.dialect, model_id, alias, number)
                log = EventLog(now_ms(), user)
                log.add(
                    "set_registered_model_alias", model_id, name, key=alias, old=old, new=number
                )
                log.write(conn)

    def delete_registered_model_alias(
        self, name: str, alias: str, user_id: str | None = None
    ) -> None:
        """Remove an alias (no error if it was not set)."""
        name = check_name(name)
        alias = _check_alias_syntax(alias)
        user = check_user(user_id)
        with self.db.write() as conn:
            model_id = int(model_sql.require_model(conn, name, lock=True).id)
            old = model_sql.get_alias(conn, model_id, alias)
            if old is not None:
                model_sql.delete_alias(conn, model_id, alias)
                log = EventLog(now_ms(), user)
                log.add("delete_registered_model_alias", model_id, name, key=alias, old=old)
                log.write(conn)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to (``latest``: the newest version); an unknown
        alias is INVALID_PARAMETER_VALUE."""
        name = check_name(name)
        alias = _check_alias_syntax(alias)
        with self.db.read() as conn:
            model_id = int(model_sql.require_model(conn, name).id)
            if alias.lower() == "latest":
                number = version_sql.max_version(conn, model_id)
                if number is None:
                    raise ResourceDoesNotExist(f"Latest version not found for model {name}.")
            else:
                number = model_sql.get_alias(conn, model_id, alias)
                if number is None:
                    raise InvalidParameterValue(f"Registered model alias {alias} not found.")
            return version_sql.load_versions(conn, [(model_id, number)])[0]

    # -- audit trail -----------------------------------------------------------------------

    def search_registry_events(
        self,
        name: str | None = None,
        version: str | int | None = None,
        max_results: int = SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryEvent]:
        """The audit trail, oldest first: all of it, one model's (by its current name: its
        whole history, renames included; otherwise the events recorded under that name) or
        one version's."""
        if name is not None and not isinstance(name, str):
            raise InvalidParameterValue(f"Invalid name {name!r}: expected a string")
        name = name or None
        number = None
        if version is not None and version != "":
            if name is None:
                raise InvalidParameterValue("A version's audit trail needs the model's name too")
            number = version_sql.parse_version(version)
        limit = validate_max_results(max_results, SEARCH_REGISTRY_EVENTS_MAX_RESULTS_THRESHOLD)
        offset = decode_page_token(page_token)
        with self.db.read() as conn:
            model_id = None
            if name is not None:
                row = model_sql.find_model(conn, name)
                model_id = None if row is None else int(row.id)
            found = search_events(
                conn,
                model_id=model_id,
                name=name,
                version=number,
                offset=offset,
                limit=limit + 1,
            )
        token = encode_page_token(offset + limit) if len(found) > limit else None
        return PagedList(found[:limit], token)
