"""The logged-model half of :class:`~trackline.store.sql.tracking.SqlTrackingStore`: MLflow 3's
first-class models (create, get, finalize, tags, delete, search).

:class:`LoggedModelStoreMixin` validates the arguments, opens one transaction per call and
delegates the SQL to :mod:`~trackline.store.sql.logged_models`, as the store does for
experiments and runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from trackline.entities import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    PagedList,
    Param,
)
from trackline.exceptions import InvalidParameterValue
from trackline.search import decode_page_token, encode_page_token
from trackline.store.sql import experiments as experiment_sql
from trackline.store.sql import logged_models as model_sql
from trackline.store.sql import request_keys
from trackline.store.sql import runs as run_sql
from trackline.store.sql.engine import Database
from trackline.store.sql.filters import logged_model_order, logged_models_query
from trackline.store.tracking_store import (
    SEARCH_LOGGED_MODELS_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
)
from trackline.validation import (
    validate_max_results,
    validate_param,
    validate_run_id,
    validate_tag_name,
)

__all__ = ["LoggedModelStoreMixin"]

_MAX_MODEL_TYPE_LENGTH = 500


def _now() -> int:
    return time.time_ns() // 1_000_000


class LoggedModelStoreMixin:
    """Logged-model methods of :class:`~trackline.store.sql.tracking.SqlTrackingStore`."""

    # provided by SqlTrackingStore
    db: Database
    dialect: str
    default_artifact_root: str
    _keys: request_keys.KeyedCreates

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] | None = None,
        params: Sequence[LoggedModelParameter] | None = None,
        model_type: str | None = None,
        *,
        request_key: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING model in an active experiment, artifacts under
        ``<experiment location>/models/<model_id>/artifacts``; a missing name is generated.

        With ``request_key``, a call with a key already seen returns the model that key's
        first call created (it must be in the same experiment; 400 otherwise)."""
        eid = experiment_sql.parse_experiment_id(experiment_id)
        key = None if request_key is None else request_keys.validate_request_key(request_key)
        model_name = model_sql.check_name(name)
        if source_run_id:
            validate_run_id(source_run_id)
        if model_type is not None and (
            not isinstance(model_type, str) or len(model_type) > _MAX_MODEL_TYPE_LENGTH
        ):
            raise InvalidParameterValue(
                f"Invalid model_type: expected a string of at most "
                f"{_MAX_MODEL_TYPE_LENGTH} characters, got {str(model_type)[:100]!r}"
            )
        model_tags = model_sql.check_tags(tags)
        model_params: dict[str, str] = {}
        for item in params or ():
            param = validate_param(Param(item.key, item.value))
            model_params[param.key] = param.value
        model_id = model_sql.new_model_id()
        now = _now()

        def insert(conn: Connection) -> tuple[LoggedModel, str]:
            row = experiment_sql.require_active_experiment(conn, eid)
            if source_run_id:
                run_sql.require_run(conn, source_run_id)
            location = row.artifact_location or experiment_sql.artifact_location_for(
                self.default_artifact_root, eid
            )
            model = LoggedModel(
                experiment_id=str(eid),
                model_id=model_id,
                name=model_name,
                artifact_location=f"{location.rstrip('/')}/models/{model_id}/artifacts",
                creation_timestamp=now,
                last_updated_timestamp=now,
                model_type=model_type or None,
                source_run_id=source_run_id or None,
                status=LoggedModelStatus.PENDING,
                tags=model_tags,
                params=model_params,
            )
            model_sql.insert_model(conn, self.dialect, model=model, experiment_id=eid)
            return model, model_id

        created = self._keys.create_once(key, request_keys.LOGGED_MODEL, insert)
        if not isinstance(created, request_keys.Repeat):
            return created
        model = self.get_logged_model(created.entity_id, allow_deleted=True)
        if model.experiment_id != str(eid):
            raise InvalidParameterValue(
                f"The idempotency key {key!r} was already used to create a logged model in "
                f"experiment {model.experiment_id}; send a new key for a new request."
            )
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The model with its tags, params and metrics; 404 when there is none (or it is
        deleted, unless ``allow_deleted``)."""
        model_id = model_sql.check_model_id(model_id)
        with self.db.read() as conn:
            found = model_sql.load_models(conn, [model_id])
        if not found or (not allow_deleted and found[0].lifecycle_stage != "active"):
            raise model_sql.model_not_found(model_id)
        return found[0]

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | int | str
    ) -> LoggedModel:
        """Set the status of an active model (PENDING, READY or FAILED) and return it."""
        model_id = model_sql.check_model_id(model_id)
        try:
            checked = LoggedModelStatus.from_value(status)
        except ValueError as exc:
            raise InvalidParameterValue(str(exc)) from None
        if checked is LoggedModelStatus.UNSPECIFIED:
            raise InvalidParameterValue(
                "Invalid status UNSPECIFIED: a logged model is PENDING, READY or FAILED."
            )
        with self.db.write() as conn:
            model_sql.set_status(conn, model_id, checked, _now())
        return self.get_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Insert or replace tags of an active model."""
        model_id = model_sql.check_model_id(model_id)
        checked = model_sql.check_tags(tags)
        with self.db.write() as conn:
            experiment_id = model_sql.require_model(conn, model_id)
            if checked:
                model_sql.set_tags(conn, self.dialect, model_id, experiment_id, checked, _now())

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag of an active model; 404 if it has none by that key."""
        model_id = model_sql.check_model_id(model_id)
        validate_tag_name(key)
        with self.db.write() as conn:
            model_sql.delete_tag(conn, model_id, key, _now())

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete an active model."""
        model_id = model_sql.check_model_id(model_id)
        with self.db.write() as conn:
            model_sql.delete_model(conn, model_id, _now())

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """A page of the active models of the experiments that match the filter (see
        :func:`~trackline.store.sql.filters.logged_models_query` for the semantics)."""
        if max_results is None:
            max_results = SEARCH_LOGGED_MODELS_MAX_RESULTS_DEFAULT
        limit = validate_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        if isinstance(experiment_ids, str):
            raise InvalidParameterValue("experiment_ids must be a list of experiment ids")
        ids = [experiment_sql.parse_experiment_id(e) for e in experiment_ids or ()]
        ids = [i for i in ids if experiment_sql.in_id_range(i)]
        refs = model_sql.dataset_refs(datasets)
        order = logged_model_order(order_by)
        offset = decode_page_token(page_token)
        if not ids:
            return PagedList([], None)
        query = logged_models_query(ids, filter_string, refs, order, offset, limit + 1)
        with self.db.read() as conn:
            model_ids = [str(i) for i in conn.execute(query).scalars()]
            found = model_sql.load_models(conn, model_ids[:limit])
        token = encode_page_token(offset + limit) if len(model_ids) > limit else None
        return PagedList(found, token)
