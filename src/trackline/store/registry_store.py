"""The model registry store interface: what every registry backend (SQL, REST) provides.

Like :class:`~trackline.store.tracking_store.TrackingStore`, a registry store takes and
returns entities, validates its input and raises :mod:`trackline.exceptions` errors with
MLflow's codes: RESOURCE_DOES_NOT_EXIST for an unknown model, version or alias target,
RESOURCE_ALREADY_EXISTS for a taken name, INVALID_PARAMETER_VALUE for everything malformed
(including an unknown alias, which MLflow's clients expect as a 400). Every write that
changes something is recorded in the audit trail (:meth:`search_registry_events`) in the same
transaction, with ``user_id`` as its author. Versions are strings of digits on the way out
and accepted as ``str`` or ``int`` on the way in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from trackline.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
    RegistryEvent,
)

#: Default and largest page sizes of a registered-model search (MLflow's).
SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT = 100
SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD = 1000
#: Default and largest page sizes of a model-version search (MLflow's).
SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT = 10000
SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD = 200000
#: Default and largest page sizes of an audit-trail search.
SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT = 1000
SEARCH_REGISTRY_EVENTS_MAX_RESULTS_THRESHOLD = 10000


class RegistryStore(ABC):
    """Registered models, their versions, tags, aliases and the audit trail of changes."""

    # -- registered models -----------------------------------------------------------------
    @abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] | None = None,
        description: str | None = None,
        user_id: str | None = None,
    ) -> RegisteredModel:
        """Create a model; a taken name is RESOURCE_ALREADY_EXISTS; names with ``/`` or
        ``:``, or empty, are INVALID_PARAMETER_VALUE."""

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version per stage."""

    @abstractmethod
    def rename_registered_model(
        self, name: str, new_name: str, user_id: str | None = None
    ) -> RegisteredModel:
        """Rename a model; its versions, tags and aliases follow."""

    @abstractmethod
    def update_registered_model(
        self, name: str, description: str | None, user_id: str | None = None
    ) -> RegisteredModel:
        """Replace the model's description."""

    @abstractmethod
    def delete_registered_model(self, name: str, user_id: str | None = None) -> None:
        """Delete a model with its versions, tags and aliases; the name can be reused (the
        audit trail keeps the model's history)."""

    @abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Models matching a filter (``name``, ``tags.<k>``; see docs/search.md), a page at a
        time. Default order ``name ASC``. Prompts (tag ``mlflow.prompt.is_prompt`` = 'true')
        are left out unless the filter asks for them."""

    @abstractmethod
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (case-insensitive; all four if empty);
        an unknown stage is INVALID_PARAMETER_VALUE."""

    @abstractmethod
    def set_registered_model_tag(
        self, name: str, tag: RegisteredModelTag, user_id: str | None = None
    ) -> None:
        """Set (or replace) a tag on a model."""

    @abstractmethod
    def delete_registered_model_tag(self, name: str, key: str, user_id: str | None = None) -> None:
        """Delete a model's tag; an absent key is RESOURCE_DOES_NOT_EXIST."""

    # -- model versions --------------------------------------------------------------------
    @abstractmethod
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
        """Register the next version of an existing model (status READY). Version numbers
        strictly increase per model, never reused even after deletion, also when several
        processes register at once. ``source`` is checked (docs/registry.md): it must name
        the run's or logged model's artifacts, or lie inside a known artifact root.

        ``request_key`` makes the call idempotent: a store that sees a key again returns the
        version the first call with that key registered instead of registering another (a
        key used for another model is INVALID_PARAMETER_VALUE). A REST store sends one key,
        given or generated, with every attempt of a call (``X-Trackline-Idempotency-Key``).
        """

    @abstractmethod
    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """One version; a non-integer version is INVALID_PARAMETER_VALUE."""

    @abstractmethod
    def update_model_version(
        self, name: str, version: str | int, description: str | None, user_id: str | None = None
    ) -> ModelVersion:
        """Replace a version's description."""

    @abstractmethod
    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
        user_id: str | None = None,
    ) -> ModelVersion:
        """Move a version to a stage (case-insensitive); with ``archive_existing_versions``
        (allowed for Staging and Production only) the model's other versions in that stage
        move to Archived, each recorded in the audit trail."""

    @abstractmethod
    def delete_model_version(
        self, name: str, version: str | int, user_id: str | None = None
    ) -> None:
        """Delete a version (its number stays taken); aliases pointing to it go with it."""

    @abstractmethod
    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where the version's files are: its storage location, else its source."""

    @abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching a filter (``name``, ``run_id``, ``source_path``,
        ``version_number``, ``tags.<k>``). Default order ``last_updated_timestamp DESC,
        name ASC, version_number DESC``."""

    @abstractmethod
    def set_model_version_tag(
        self, name: str, version: str | int, tag: ModelVersionTag, user_id: str | None = None
    ) -> None:
        """Set (or replace) a tag on a version."""

    @abstractmethod
    def delete_model_version_tag(
        self, name: str, version: str | int, key: str, user_id: str | None = None
    ) -> None:
        """Delete a version's tag; an absent key is RESOURCE_DOES_NOT_EXIST."""

    # -- aliases ---------------------------------------------------------------------------
    @abstractmethod
    def set_registered_model_alias(
        self, name: str, alias: str, version: str | int, user_id: str | None = None
    ) -> None:
        """Point ``alias`` at a version (moving it if it exists). Aliases are validated like
        MLflow's: not empty, not ``latest``, not of the form ``v<digits>``."""

    @abstractmethod
    def delete_registered_model_alias(
        self, name: str, alias: str, user_id: str | None = None
    ) -> None:
        """Remove an alias (no error if it was not set)."""

    @abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to; an unknown alias is INVALID_PARAMETER_VALUE."""

    # -- audit trail -----------------------------------------------------------------------
    @abstractmethod
    def search_registry_events(
        self,
        name: str | None = None,
        version: str | int | None = None,
        max_results: int = SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryEvent]:
        """The audit trail, oldest first: every change, or those of one model (by its name
        at the time of the change, following renames) or one version."""
