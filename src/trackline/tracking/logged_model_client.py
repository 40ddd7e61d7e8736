"""The logged-model half of ``TracklineClient`` (``MlflowClient``): MLflow 3's first-class
models, with MLflow's method names and arguments.

A logged model is created PENDING in an experiment (usually with the run that produced it as
``source_run_id``), its files are uploaded to its ``artifact_location`` and it is finalized
READY (or FAILED). :class:`LoggedModelClientMixin` turns Python arguments into entities (tag
and param dicts into lists, values into strings, status names into
:class:`~trackline.entities.LoggedModelStatus`) and delegates to the tracking store, which
checks every rule and raises MLflow's error codes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from trackline.entities import (
    FileInfo,
    LoggedModel,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    PagedList,
)
from trackline.exceptions import InvalidParameterValue

if TYPE_CHECKING:
    from trackline.artifacts.repository import ArtifactRepository
    from trackline.store.tracking_store import TrackingStore

__all__ = ["LoggedModelClientMixin"]


def _model_id(model_id: str) -> str:
    if not isinstance(model_id, str) or not model_id.strip():
        raise InvalidParameterValue("`model_id` must be a non-empty string")
    return model_id


def _tags(tags: Mapping[str, Any] | None) -> list[LoggedModelTag]:
    return [LoggedModelTag(str(k), str(v)) for k, v in (tags or {}).items()]


def _params(params: Mapping[str, Any] | None) -> list[LoggedModelParameter]:
    return [LoggedModelParameter(str(k), str(v)) for k, v in (params or {}).items()]


class LoggedModelClientMixin:
    """Logged-model methods of :class:`~trackline.tracking.client.TracklineClient`."""

    if TYPE_CHECKING:  # provided by TracklineClient

        def _sync(self) -> TrackingStore: ...

        def _artifact_repository(self, artifact_uri: str) -> ArtifactRepository: ...

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model in an active experiment (a random name when
        ``name`` is None); its files go to ``<experiment artifact location>/models/<id>/
        artifacts``. Tags and params are stored as strings."""
        return self._sync().create_logged_model(
            str(experiment_id), name, source_run_id, _tags(tags), _params(params), model_type
        )

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The logged model with its tags, params and metrics (RESOURCE_DOES_NOT_EXIST when
        there is none, or it is deleted and ``allow_deleted`` is False)."""
        return self._sync().get_logged_model(_model_id(model_id), allow_deleted)

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str | int
    ) -> LoggedModel:
        """Set the final status of a logged model (``"READY"`` or ``"FAILED"``, or a
        :class:`~trackline.entities.LoggedModelStatus`) and return the model."""
        try:
            final = LoggedModelStatus.from_value(status)
        except ValueError as exc:
            raise InvalidParameterValue(str(exc)) from None
        return self._sync().finalize_logged_model(_model_id(model_id), final)

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a logged model."""
        self._sync().delete_logged_model(_model_id(model_id))

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        """Set (insert or replace) tags on a logged model; values become strings."""
        self._sync().set_logged_model_tags(_model_id(model_id), _tags(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model."""
        self._sync().delete_logged_model_tag(_model_id(model_id), key)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """One page of the active logged models of the experiments that match
        ``filter_string`` (``name = 'model' AND metrics.rmse < 1``, ...); ``datasets``
        (``[{"dataset_name", "dataset_digest"}]``) restricts the metrics considered and
        ``order_by`` is a list of ``{"field_name", "ascending", ...}``. ``.token`` names the
        next page."""
        ids = [experiment_ids] if isinstance(experiment_ids, str) else experiment_ids
        return self._sync().search_logged_models(
            [str(e) for e in ids], filter_string, datasets, max_results, order_by, page_token
        )

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models as outputs of a run, each at its step."""
        self._sync().log_outputs(run_id, list(models))

    def _model_repository(self, model_id: str) -> ArtifactRepository:
        location = self.get_logged_model(model_id).artifact_location
        if not location:
            raise InvalidParameterValue(f"Logged model '{model_id}' has no artifact location")
        return self._artifact_repository(location)

    def log_model_artifact(
        self, model_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a local file into a logged model's artifacts, under ``artifact_path``."""
        self._model_repository(model_id).log_artifact(local_path, artifact_path)

    def log_model_artifacts(
        self, model_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload the contents of a local folder into a logged model's artifacts."""
        self._model_repository(model_id).log_artifacts(local_dir, artifact_path)

    def list_logged_model_artifacts(self, model_id: str, path: str | None = None) -> list[FileInfo]:
        """Direct children of a folder of a logged model's artifacts (the root when None)."""
        return self._model_repository(model_id).list_artifacts(path)
