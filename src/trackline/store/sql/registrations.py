"""Registering model versions in the SQL registry store, and the argument checks the
registry's methods share.

:class:`RegistryVersions` implements :meth:`create_model_version` for
:class:`~trackline.store.sql.registry.SqlRegistryStore`. In one transaction it locks the
registered model's row, resolves and checks the version's ``source``
(:mod:`trackline.store.model_source`) against the run's and logged model's artifact locations
read from the tracking tables of the same database, takes ``max(version) + 1`` (deleted
versions included) and records the version, its audit events and the request's idempotency
key (:mod:`~trackline.store.sql.request_keys`; a repeat returns the version already made).
The row lock (and on SQLite the one writer at a time) makes concurrent registrations take
turns; the primary key ``(model, version)`` and a retry cover what a lock could miss.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from trackline.entities import ModelVersion, ModelVersionStatus, ModelVersionTag
from trackline.entities.model_version_stage import STAGE_NONE
from trackline.exceptions import InvalidParameterValue
from trackline.store.model_source import ParsedSource, check_model_source, parse_source
from trackline.store.registry_store import RegistryStore
from trackline.store.sql import model_versions as version_sql
from trackline.store.sql import registered_models as model_sql
from trackline.store.sql import request_keys
from trackline.store.sql.engine import Database
from trackline.store.sql.registry_events import EventLog
from trackline.store.sql.schema import DELETED_STAGE, experiments, logged_models, runs
from trackline.validation import (
    validate_registered_model_name,
    validate_registry_tag,
    validate_run_id,
)

__all__ = [
    "RegistryVersions",
    "check_description",
    "check_name",
    "check_user",
    "now_ms",
]

MAX_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 100_000
MAX_USER_LENGTH = 256
MAX_RUN_LINK_LENGTH = 4096
_MODEL_ID = re.compile(r"^[\w\-]{1,64}$")
_ATTEMPTS = 5


def now_ms() -> int:
    """The time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def _missing(field: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Missing value for required parameter '{field}'. "
        "See the API docs for more information about request parameters."
    )


def check_name(name: object, *, new: bool = False, field: str = "name") -> str:
    """A registered model's name (MLflow's rules); a new one at most 256 characters."""
    if name is None or (isinstance(name, str) and not name.strip()):
        raise _missing(field)
    checked = validate_registered_model_name(name)
    if new and len(checked) > MAX_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Invalid name: registered model names are at most {MAX_NAME_LENGTH} characters "
            f"long (got {len(checked)})."
        )
    return checked


def check_description(description: object) -> str | None:
    """A description: None or a string of at most 100,000 characters."""
    if description is None:
        return None
    if not isinstance(description, str):
        raise InvalidParameterValue(f"Invalid description {description!r}: expected a string")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidParameterValue(
            f"Invalid description: it is longer than {MAX_DESCRIPTION_LENGTH} characters"
        )
    return description


def check_user(user_id: object) -> str | None:
    """The author of a change: None or a string of at most 256 characters."""
    if user_id is None or user_id == "":
        return None
    if not isinstance(user_id, str) or len(user_id) > MAX_USER_LENGTH:
        raise InvalidParameterValue(
            f"Invalid user_id: expected a string of at most {MAX_USER_LENGTH} characters"
        )
    return user_id


def _check_model_id(model_id: object) -> str | None:
    if model_id is None or model_id == "":
        return None
    if not isinstance(model_id, str) or not _MODEL_ID.match(model_id):
        raise InvalidParameterValue(f"Invalid model_id: '{model_id}'")
    return model_id


def _check_run_link(run_link: object) -> str | None:
    if run_link is None or run_link == "":
        return None
    if not isinstance(run_link, str) or len(run_link) > MAX_RUN_LINK_LENGTH:
        raise InvalidParameterValue(
            f"Invalid run_link: expected a string of at most {MAX_RUN_LINK_LENGTH} characters"
        )
    return run_link


def _bad_source(source: str, why: str) -> InvalidParameterValue:
    shown = source if len(source) <= 200 else source[:200] + "..."
    return InvalidParameterValue(f"Invalid model version source '{shown}': {why}")


class _Resolved:
    """What a source resolves to: the source stored, where the files are, run and model."""

    def __init__(self, source: str, storage: str, run_id: str | None, model_id: str | None) -> None:
        self.source = source
        self.storage = storage
        self.run_id = run_id
        self.model_id = model_id


class RegistryVersions(RegistryStore):
    """Version registration of the SQL registry store (the rest is in its subclass)."""

    db: Database
    dialect: str
    artifact_roots: list[str]
    #: Registrations made once per idempotency key (set by the subclass's constructor).
    keys: request_keys.KeyedCreates

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        user_id: str | None = None,
        *,
        request_key: str | None = None,
    ) -> ModelVersion:
        """Register the next version of a model (status READY) from a checked ``source``
        (docs/registry.md): max(version, deleted ones included) + 1.

        With ``request_key``, a call with a key already seen returns the version that key's
        first call registered (it must be of the same model; 400 otherwise). The key is
        recorded in the version's transaction."""
        name = check_name(name)
        parsed = parse_source(source)
        run = None if run_id is None or run_id == "" else validate_run_id(run_id)
        model = _check_model_id(model_id)
        link = _check_run_link(run_link)
        description = check_description(description)
        user = check_user(user_id)
        checked: dict[str, str] = {}
        for tag in tags or ():
            tag_key, tag_value = validate_registry_tag(tag.key, tag.value)
            checked[tag_key] = tag_value
        key = None if request_key is None else request_keys.validate_request_key(request_key)

        def register(conn: Connection) -> tuple[ModelVersion, str]:
            now = now_ms()
            model_id_ = int(model_sql.require_model(conn, name, lock=True).id)
            resolved = self._resolve(conn, parsed, run, model)
            number = version_sql.next_version(conn, self.dialect, model_id_)
            version_sql.insert_version(
                conn,
                self.dialect,
                {
                    "registered_model_id": model_id_,
                    "version": number,
                    "creation_time": now,
                    "last_updated_time": now,
                    "description": description,
                    "user_id": user,
                    "current_stage": STAGE_NONE,
                    "source": resolved.source,
                    "storage_location": resolved.storage,
                    "run_id": resolved.run_id,
                    "model_id": resolved.model_id,
                    "run_link": link,
                    "status": ModelVersionStatus.READY.value,
                    "tags": checked,
                },
            )
            model_sql.set_model_fields(conn, model_id_, last_updated_time=now)
            log = EventLog(now, user)
            log.add("create_model_version", model_id_, name, version=number, new=resolved.source)
            for tag_key, value in checked.items():
                log.add(
                    "set_model_version_tag",
                    model_id_,
                    name,
                    version=number,
                    key=tag_key,
                    new=value,
                )
            log.write(conn)
            version = ModelVersion(
                name=name,
                version=number,
                creation_timestamp=now,
                last_updated_timestamp=now,
                description=description,
                user_id=user,
                current_stage=STAGE_NONE,
                source=resolved.source,
                run_id=resolved.run_id,
                status=ModelVersionStatus.READY,
                tags=checked,
                run_link=link,
                model_id=resolved.model_id,
            )
            return version, f"{model_id_}/{number}"

        for attempt in range(_ATTEMPTS):
            try:
                created = self.keys.create_once(key, request_keys.MODEL_VERSION, register)
            except IntegrityError:
                if attempt + 1 == _ATTEMPTS:
                    raise
                continue
            if isinstance(created, request_keys.Repeat):
                return self._repeated_version(created.entity_id, name, key)
            return created
        raise AssertionError("unreachable")  # pragma: no cover

    def _repeated_version(self, entity_id: str, name: str, key: str | None) -> ModelVersion:
        """The version a keyed registration made before: 400 when it is of another model,
        404 when it was deleted since."""
        owner, _, number = entity_id.partition("/")
        wanted = (int(owner), int(number))
        with self.db.read() as conn:
            found = version_sql.versions_by_key(conn, [wanted]).get(wanted)
        if found is not None and found.name != name:
            raise InvalidParameterValue(
                f"The idempotency key {key!r} was already used to register a version of "
                f"model '{found.name}'; send a new key for a new request."
            )
        if found is None or found.current_stage == DELETED_STAGE:
            raise version_sql.version_not_found(name, number)
        return found

    def _resolve(
        self, conn: Connection, parsed: ParsedSource, run_id: str | None, model_id: str | None
    ) -> _Resolved:
        """Check ``parsed`` against what the run, logged model and roots allow, and resolve
        ``models:/`` sources to where their files are."""
        source = parsed.source
        run_uri = None
        if run_id is not None:
            found = conn.execute(select(runs.c.artifact_uri).where(runs.c.run_uuid == run_id))
            run_uri = found.scalar()
        model_uri, model_run = None, None
        if model_id is not None:
            lm = logged_models.c
            row = conn.execute(
                select(lm.artifact_location, lm.source_run_id).where(
                    lm.model_id == model_id, lm.lifecycle_stage == "active"
                )
            ).first()
            if row is None:
                raise _bad_source(source, f"model_id '{model_id}' names no logged model")
            model_uri, model_run = row.artifact_location, row.source_run_id
        experiment_roots: list[str] = []
        needs_roots = parsed.kind == "local" and run_id is None and model_id is None
        if needs_roots or (parsed.kind == "uri" and parsed.scheme not in ("http", "https")):
            locations = select(experiments.c.artifact_location).where(
                experiments.c.artifact_location.is_not(None)
            )
            experiment_roots = [str(x) for x in conn.execute(locations).scalars()]
        check_model_source(
            source,
            run_id=run_id,
            run_artifact_uri=run_uri,
            model_id=model_id,
            model_artifact_uri=model_uri,
            artifact_roots=self.artifact_roots,
            experiment_roots=experiment_roots,
        )
        if parsed.kind == "registered_model":
            return self._resolve_version(conn, parsed, run_id, model_id)
        storage = model_uri if parsed.kind == "logged_model" and model_uri else source
        return _Resolved(source, storage, run_id or model_run, model_id)

    def _resolve_version(
        self, conn: Connection, parsed: ParsedSource, run_id: str | None, model_id: str | None
    ) -> _Resolved:
        """A ``models:/<name>/<version|stage|latest>`` or ``@alias`` source: the version it
        names, stored as ``models:/<name>/<version>``."""
        source, ref = parsed.source, parsed.models
        assert ref is not None
        assert ref.name is not None
        found = model_sql.find_model(conn, ref.name)
        if found is None:
            raise _bad_source(source, f"there is no registered model '{ref.name}'")
        owner = int(found.id)
        number: int | None = None
        if ref.version is not None:
            number = int(ref.version)
        elif ref.alias is not None:
            number = model_sql.get_alias(conn, owner, ref.alias)
        elif ref.latest:
            number = version_sql.max_version(conn, owner)
        else:
            stage = ref.stage or ""
            latest = version_sql.latest_versions(conn, [owner]).get(owner, [])
            matching = [int(v.version) for v in latest if v.current_stage.lower() == stage.lower()]
            number = max(matching, default=None)
        row: Any = None if number is None else version_sql.find_version(conn, owner, number)
        if row is None:
            raise _bad_source(source, "it names no registered model version")
        if (run_id and run_id != row.run_id) or (model_id and model_id != row.model_id):
            raise _bad_source(
                source, "the run_id and model_id parameters must match the version it names"
            )
        return _Resolved(
            f"models:/{row.name}/{int(row.version)}",
            str(row.storage_location or row.source),
            run_id or row.run_id,
            model_id or row.model_id,
        )
