"""The registry store of an ``http(s)://`` registry URI: MLflow's model registry protocol, client
side, plus trackline's audit trail (``GET /api/2.0/trackline/registry/events``).

:class:`RestRegistryStore` sends the calls MLflow's 3.x client sends (``registered-models/*``,
``model-versions/*``; ``get-latest-versions`` as POST, falling back to GET on a server that
does not route the POST) and turns the answers back into entities. The server validates and
decides who made a change (from the request's authentication); the ``user_id`` arguments of
:class:`~trackline.store.registry_store.RegistryStore` are therefore not sent.

Retries (:mod:`trackline.store.rest.http`) never turn a success into an error nor make a
second copy: a create whose retry finds the model already there, a rename whose retry finds
the old name gone, a delete whose retry finds nothing to delete are checked against the
server and succeed. Every attempt of one ``model-versions/create`` carries the same
``X-Trackline-Idempotency-Key``, so a trackline server answers a retry with the version the
first attempt registered (an MLflow server ignores the header and may register two, as with
MLflow's own client).

``registered-models/create`` needs no key: the name is unique, so a retry cannot make a second
model; its RESOURCE_ALREADY_EXISTS after an attempt that may have reached the server is
answered with the model of that name. The same holds for experiments (see
:class:`~trackline.store.rest.tracking.RestTrackingStore`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from trackline.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
    RegistryEvent,
)
from trackline.exceptions import (
    ENDPOINT_NOT_FOUND,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from trackline.store.registry_store import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT,
    RegistryStore,
)
from trackline.store.rest import codec
from trackline.store.rest import registry_codec as rc
from trackline.store.rest.http import HttpSession, Resolver
from trackline.store.rest.tracking import IDEMPOTENCY_HEADER

__all__ = ["EVENTS_PATH", "RestRegistryStore"]

_API = "api/2.0/mlflow/"
#: trackline's audit-trail endpoint, relative to the server's base URL.
EVENTS_PATH = "api/2.0/trackline/registry/events"


def _gone(error: MlflowException) -> dict[str, Any] | None:
    """A delete whose retry finds nothing to delete: an earlier attempt deleted it."""
    return {} if error.error_code == RESOURCE_DOES_NOT_EXIST else None


class RestRegistryStore(RegistryStore):
    """A :class:`~trackline.store.registry_store.RegistryStore` served by a tracking server.

    ``uri`` is the server's ``http(s)://host[:port][/prefix]``. By default the store shares
    the HTTP session (connection pool, authentication, TLS, retries) of the process's REST
    tracking store of the same URI; ``transport`` or ``session`` give it its own (tests pass
    an in-process transport).
    """

    def __init__(
        self,
        uri: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
        session: HttpSession | None = None,
    ) -> None:
        self._owns_session = False
        if session is None and transport is None and timeout is None:
            session = _shared_session(uri)
        if session is None:
            session = HttpSession(uri, transport=transport, timeout=timeout)
            self._owns_session = True
        self.session = session

    @property
    def uri(self) -> str:
        """The registry URI, without credentials."""
        return self.session.base_url

    def __repr__(self) -> str:
        return f"RestRegistryStore({self.uri!r})"

    def close(self) -> None:
        """Close the pooled connections (unless they are shared with a tracking store)."""
        if self._owns_session:
            self.session.close()

    # -- transport -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        resolve: Resolver | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        if method == "GET":
            return self.session.call("GET", _API + endpoint, params=body)
        encoded = None if body is None else codec.encode(body)
        return self.session.call(
            method, _API + endpoint, body=encoded, resolve=resolve, headers=headers
        )

    def _model(self, answer: dict[str, Any]) -> RegisteredModel:
        return rc.registered_model_from_json(answer.get("registered_model") or {})

    def _version(self, answer: dict[str, Any]) -> ModelVersion:
        return rc.model_version_from_json(answer.get("model_version") or {})

    # -- registered models -----------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] | None = None,
        description: str | None = None,
        user_id: str | None = None,
    ) -> RegisteredModel:
        """Create a model (RESOURCE_ALREADY_EXISTS if the name is taken)."""
        body: dict[str, Any] = {"name": name}
        if tags:
            body["tags"] = rc.tag_list(tags)
        if description is not None:
            body["description"] = description

        def created_by_earlier_attempt(error: MlflowException) -> dict[str, Any] | None:
            if error.error_code != RESOURCE_ALREADY_EXISTS:
                return None
            return self._call("GET", "registered-models/get", {"name": name})

        return self._model(
            self._call("POST", "registered-models/create", body, created_by_earlier_attempt)
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version per stage."""
        return self._model(self._call("GET", "registered-models/get", {"name": name}))

    def rename_registered_model(
        self, name: str, new_name: str, user_id: str | None = None
    ) -> RegisteredModel:
        """Rename a model; its versions follow."""

        def renamed_by_earlier_attempt(error: MlflowException) -> dict[str, Any] | None:
            if error.error_code != RESOURCE_DOES_NOT_EXIST:
                return None
            return self._call("GET", "registered-models/get", {"name": new_name})

        body = {"name": name, "new_name": new_name}
        return self._model(
            self._call("POST", "registered-models/rename", body, renamed_by_earlier_attempt)
        )

    def update_registered_model(
        self, name: str, description: str | None, user_id: str | None = None
    ) -> RegisteredModel:
        """Replace the model's description."""
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        return self._model(self._call("PATCH", "registered-models/update", body))

    def delete_registered_model(self, name: str, user_id: str | None = None) -> None:
        """Delete a model with its versions, tags and aliases."""
        self._call("DELETE", "registered-models/delete", {"name": name}, _gone)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """One page of models matching the filter; ``.token`` names the next page."""
        answer = self._call(
            "GET",
            "registered-models/search",
            _search_params(filter_string, max_results, order_by, page_token),
        )
        models = [rc.registered_model_from_json(m) for m in answer.get("registered_models") or ()]
        return PagedList(models, answer.get("next_page_token") or None)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (all four when empty)."""
        body: dict[str, Any] = {"name": name}
        if stages:
            body["stages"] = list(stages)
        path = "registered-models/get-latest-versions"
        try:
            answer = self._call("POST", path, body)
        except MlflowException as exc:
            if exc.error_code != ENDPOINT_NOT_FOUND:
                raise
            answer = self._call("GET", path, body)
        return [rc.model_version_from_json(v) for v in answer.get("model_versions") or ()]

    def set_registered_model_tag(
        self, name: str, tag: RegisteredModelTag, user_id: str | None = None
    ) -> None:
        """Set (or replace) a tag on a model."""
        body = {"name": name, "key": tag.key, "value": tag.value}
        self._call("POST", "registered-models/set-tag", body)

    def delete_registered_model_tag(self, name: str, key: str, user_id: str | None = None) -> None:
        """Delete a model's tag."""
        self._call("DELETE", "registered-models/delete-tag", {"name": name, "key": key}, _gone)

    # -- model versions --------------------------------------------------------------------

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
        """Register the next version of an existing model. Every attempt of one call carries
        the same idempotency key (``request_key``, or a fresh UUID)."""
        body: dict[str, Any] = {"name": name, "source": source}
        if run_id:
            body["run_id"] = run_id
        if tags:
            body["tags"] = rc.tag_list(tags)
        if run_link:
            body["run_link"] = run_link
        if description is not None:
            body["description"] = description
        if model_id:
            body["model_id"] = model_id
        headers = {IDEMPOTENCY_HEADER: request_key or str(uuid.uuid4())}
        return self._version(self._call("POST", "model-versions/create", body, headers=headers))

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """One version of a model."""
        params = {"name": name, "version": str(version)}
        return self._version(self._call("GET", "model-versions/get", params))

    def update_model_version(
        self, name: str, version: str | int, description: str | None, user_id: str | None = None
    ) -> ModelVersion:
        """Replace a version's description."""
        body: dict[str, Any] = {"name": name, "version": str(version)}
        if description is not None:
            body["description"] = description
        return self._version(self._call("PATCH", "model-versions/update", body))

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
        user_id: str | None = None,
    ) -> ModelVersion:
        """Move a version to a stage."""
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": bool(archive_existing_versions),
        }
        return self._version(self._call("POST", "model-versions/transition-stage", body))

    def delete_model_version(
        self, name: str, version: str | int, user_id: str | None = None
    ) -> None:
        """Delete a version (its number stays taken)."""
        body = {"name": name, "version": str(version)}
        self._call("DELETE", "model-versions/delete", body, _gone)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where the version's files are."""
        params = {"name": name, "version": str(version)}
        answer = self._call("GET", "model-versions/get-download-uri", params)
        return str(answer.get("artifact_uri") or "")

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """One page of versions matching the filter; ``.token`` names the next page."""
        answer = self._call(
            "GET",
            "model-versions/search",
            _search_params(filter_string, max_results, order_by, page_token),
        )
        versions = [rc.model_version_from_json(v) for v in answer.get("model_versions") or ()]
        return PagedList(versions, answer.get("next_page_token") or None)

    def set_model_version_tag(
        self, name: str, version: str | int, tag: ModelVersionTag, user_id: str | None = None
    ) -> None:
        """Set (or replace) a tag on a version."""
        body = {"name": name, "version": str(version), "key": tag.key, "value": tag.value}
        self._call("POST", "model-versions/set-tag", body)

    def delete_model_version_tag(
        self, name: str, version: str | int, key: str, user_id: str | None = None
    ) -> None:
        """Delete a version's tag."""
        body = {"name": name, "version": str(version), "key": key}
        self._call("DELETE", "model-versions/delete-tag", body, _gone)

    # -- aliases ---------------------------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: str | int, user_id: str | None = None
    ) -> None:
        """Point ``alias`` at a version."""
        body = {"name": name, "alias": alias, "version": str(version)}
        self._call("POST", "registered-models/alias", body)

    def delete_registered_model_alias(
        self, name: str, alias: str, user_id: str | None = None
    ) -> None:
        """Remove an alias."""
        self._call("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to."""
        params = {"name": name, "alias": alias}
        return self._version(self._call("GET", "registered-models/alias", params))

    # -- audit trail -----------------------------------------------------------------------

    def search_registry_events(
        self,
        name: str | None = None,
        version: str | int | None = None,
        max_results: int = SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryEvent]:
        """One page of the audit trail, oldest first (trackline servers only: an MLflow
        server answers ENDPOINT_NOT_FOUND)."""
        params: dict[str, Any] = {"max_results": max_results}
        if name is not None:
            params["name"] = name
        if version is not None:
            params["version"] = str(version)
        if page_token:
            params["page_token"] = page_token
        answer = self.session.call("GET", EVENTS_PATH, params=params)
        events = [rc.registry_event_from_json(e) for e in answer.get("events") or ()]
        return PagedList(events, answer.get("next_page_token") or None)


def _search_params(
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"max_results": max_results}
    if filter_string:
        params["filter"] = filter_string
    if order_by:
        params["order_by"] = list(order_by)
    if page_token:
        params["page_token"] = page_token
    return params


def _shared_session(uri: str) -> HttpSession | None:
    """The HTTP session of the process's REST tracking store of ``uri``, if that is one."""
    from trackline.store.rest.tracking import RestTrackingStore
    from trackline.store.uri import get_tracking_store

    store = get_tracking_store(uri)
    return store.session if isinstance(store, RestTrackingStore) else None
