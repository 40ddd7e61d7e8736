"""The model registry half of ``TracklineClient`` (``MlflowClient``): registered models, their
versions, stages, aliases, tags and descriptions, and trackline's audit trail.

:class:`RegistryClientMixin` turns Python arguments into entities (tag dicts into tag lists,
values into strings, versions into strings) and delegates to the registry store of the
client's registry URI (:func:`trackline.store.uri.get_registry_store`: the same database as
tracking for embedded URIs, the server's REST protocol for ``http(s)://``). The store checks
every rule and raises MLflow's error codes; the client adds only MLflow's argument rules
(``version`` or ``stage``, not both).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from trackline.entities import (
    ALL_STAGES,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
    RegistryEvent,
)
from trackline.exceptions import InvalidParameterValue, MlflowException, ResourceDoesNotExist
from trackline.store.registry_store import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT,
)

if TYPE_CHECKING:
    from trackline.store.registry_store import RegistryStore

__all__ = ["DEFAULT_AWAIT_MAX_SLEEP_SECONDS", "RegistryClientMixin"]

#: How long ``create_model_version`` waits for a pending version to become READY (MLflow's).
DEFAULT_AWAIT_MAX_SLEEP_SECONDS = 5 * 60
_AWAIT_POLL_SECONDS = 1.0


def _model_tags(tags: Mapping[str, Any] | None) -> list[RegisteredModelTag]:
    return [RegisteredModelTag(str(k), str(v)) for k, v in (tags or {}).items()]


def _version_tags(tags: Mapping[str, Any] | None) -> list[ModelVersionTag]:
    return [ModelVersionTag(str(k), str(v)) for k, v in (tags or {}).items()]


class RegistryClientMixin:
    """Model registry methods of :class:`~trackline.tracking.client.TracklineClient`, with
    MLflow's names and arguments."""

    _registry_uri: str

    @property
    def registry_uri(self) -> str:
        """The registry URI this client talks to (by default its tracking URI)."""
        return self._registry_uri

    @property
    def _registry(self) -> RegistryStore:
        from trackline.store.uri import get_registry_store

        return get_registry_store(self._registry_uri)

    # -- registered models -----------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model (RESOURCE_ALREADY_EXISTS if the name is taken).
        ``deployment_job_id`` (Databricks only) is accepted and ignored."""
        return self._registry.create_registered_model(name, _model_tags(tags), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The registered model with its tags, aliases and latest version per stage."""
        return self._registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model; its versions, tags and aliases follow."""
        return self._registry.rename_registered_model(name, new_name)

    def update_registered_model(
        self, name: str, description: str | None = None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        """Replace a registered model's description."""
        return self._registry.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions, tags and aliases."""
        self._registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """One page of registered models matching ``filter_string`` (``name``,
        ``tags.<key>``), ordered by ``order_by`` (default ``name ASC``); ``.token`` names the
        next page."""
        return self._registry.search_registered_models(
            filter_string or None, max_results, list(order_by) if order_by else None, page_token
        )

    def list_registered_models(
        self,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """MLflow 1.x's name: one page of every registered model, by name."""
        return self.search_registered_models(max_results=max_results, page_token=page_token)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (any case; all stages when None)."""
        return self._registry.get_latest_versions(name, list(stages) if stages else None)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on a registered model (the value becomes a string)."""
        self._registry.set_registered_model_tag(name, RegisteredModelTag(key, str(value)))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a tag of a registered model."""
        self._registry.delete_registered_model_tag(name, key)

    # -- model versions --------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register the files at ``source`` as the next version of ``name`` (which must
        exist), waiting up to ``await_creation_for`` seconds for it to be READY."""
        version = self._registry.create_model_version(
            name,
            str(source),
            run_id=run_id,
            tags=_version_tags(tags),
            run_link=run_link,
            description=description,
            model_id=model_id,
        )
        return self._await_ready(version, await_creation_for)

    def _await_ready(self, version: ModelVersion, seconds: float) -> ModelVersion:
        deadline = time.monotonic() + max(0.0, float(seconds or 0))
        while (
            version.status == ModelVersionStatus.PENDING_REGISTRATION
            and time.monotonic() < deadline
        ):
            time.sleep(_AWAIT_POLL_SECONDS)
            version = self.get_model_version(version.name, version.version)
        if version.status == ModelVersionStatus.FAILED_REGISTRATION:
            raise MlflowException(
                f"Model version creation failed for model name: {version.name} version: "
                f"{version.version} with status: {version.status.value} and message: "
                f"{version.status_message}"
            )
        return version

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """One version of a registered model."""
        return self._registry.get_model_version(name, str(version))

    def update_model_version(
        self, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        """Replace a version's description."""
        if description is None:
            raise InvalidParameterValue(
                "Attempting to update model version with no new field values."
            )
        return self._registry.update_model_version(name, str(version), description)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to ``stage`` (None, Staging, Production or Archived, any case).
        With ``archive_existing_versions`` (Staging and Production only) the model's other
        versions in that stage move to Archived."""
        return self._registry.transition_model_version_stage(
            name, str(version), stage, archive_existing_versions
        )

    def delete_model_version(self, name: str, version: str | int) -> None:
        """Delete a version (its number is never reused; its aliases go with it)."""
        self._registry.delete_model_version(name, str(version))

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """The artifact URI of a version's files."""
        return self._registry.get_model_version_download_uri(name, str(version))

    def get_model_version_stages(self, name: str, version: str | int) -> list[str]:
        """The stages a version can be moved to."""
        return list(ALL_STAGES)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """One page of versions matching ``filter_string`` (``name``, ``run_id``,
        ``source_path``, ``version_number``, ``tags.<key>``); ``.token`` names the next
        page."""
        return self._registry.search_model_versions(
            filter_string or None, max_results, list(order_by) if order_by else None, page_token
        )

    def _version_or_stage(self, name: str, version: str | int | None, stage: str | None) -> str:
        if version is not None and version != "" and stage:
            raise InvalidParameterValue("version and stage cannot be set together")
        if stage:
            latest = self.get_latest_versions(name, [stage])
            if not latest:
                raise ResourceDoesNotExist(f"Could not find any model version for {stage} stage")
            return latest[0].version
        if version is None or version == "":
            raise InvalidParameterValue("version or stage must be set")
        return str(version)

    def set_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Set a tag on a version, named by ``version`` or (the newest in) ``stage``."""
        if key is None or value is None:
            raise InvalidParameterValue("A model version tag needs a key and a value")
        number = self._version_or_stage(name, version, stage)
        self._registry.set_model_version_tag(name, number, ModelVersionTag(key, str(value)))

    def delete_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        """Delete a tag of a version, named by ``version`` or (the newest in) ``stage``."""
        if key is None:
            raise InvalidParameterValue("A model version tag key is required")
        number = self._version_or_stage(name, version, stage)
        self._registry.delete_model_version_tag(name, number, key)

    # -- aliases ---------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``alias`` at a version (moving it if it pointed elsewhere)."""
        self._registry.set_registered_model_alias(name, alias, str(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""
        self._registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to (INVALID_PARAMETER_VALUE for an unknown alias)."""
        return self._registry.get_model_version_by_alias(name, alias)

    # -- audit trail -----------------------------------------------------------------------
    def search_registry_events(
        self,
        name: str | None = None,
        version: str | int | None = None,
        max_results: int = SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryEvent]:
        """One page of the registry's audit trail, oldest first: every change (who, when,
        what, from -> to), or those of model ``name`` (following renames) or one of its
        versions. trackline's own: MLflow has no audit trail."""
        return self._registry.search_registry_events(
            name, None if version is None else str(version), max_results, page_token
        )
