"""The tracking store interface: what every backend (SQL, REST) provides.

Stores take and return entities, validate what they are given (``trackline.validation``) and
raise :mod:`trackline.exceptions` errors with MLflow's codes. The client and the server both
sit on top of a store; neither adds rules of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from trackline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    MetricHistory,
    PagedList,
    Param,
    Run,
    RunColumns,
    RunInfo,
    RunTag,
    ViewType,
)

#: Default and largest page sizes of run and experiment searches (MLflow's).
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_THRESHOLD = 50000
#: Largest page of metric history the client asks for at once.
GET_METRIC_HISTORY_MAX_RESULTS = 25000
#: Default page size of a logged-model search (MLflow's).
SEARCH_LOGGED_MODELS_MAX_RESULTS_DEFAULT = 100


class TrackingStore(ABC):
    """Experiments, runs and their metrics, params, tags and inputs."""

    # -- experiments -----------------------------------------------------------------------
    @abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] | None = None,
    ) -> str:
        """Create an experiment and return its id. A taken name (even deleted) is
        RESOURCE_ALREADY_EXISTS."""

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment, deleted or not; RESOURCE_DOES_NOT_EXIST if there is none."""

    @abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, deleted or not, or None."""

    @abstractmethod
    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching the filter, ``creation_time DESC, experiment_id`` by default."""

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and all its runs."""

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None:
        """Undo :meth:`delete_experiment`, restoring the runs it deleted."""

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment."""

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        """Set (insert or replace) a tag on an active experiment."""

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment."""

    # -- runs ------------------------------------------------------------------------------
    @abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
        request_key: str | None = None,
    ) -> Run:
        """Create a RUNNING run in an active experiment. Without a name (argument or
        ``mlflow.runName`` tag) one is generated and the tag added.

        ``request_key`` makes the call idempotent: a store that sees a key again returns the
        run the first call with that key created instead of creating another (a client
        retrying a request whose answer was lost sends the same key). A REST store sends it
        as the ``X-Trackline-Idempotency-Key`` header.
        """

    @abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs, deleted or not."""

    @abstractmethod
    def update_run_info(
        self,
        run_id: str,
        run_status: int | str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        """Change status, end time or name of an active run (a name also sets the tag)."""

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""

    @abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Undo :meth:`delete_run`."""

    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags to an active run in one transaction: all or nothing."""

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, tags=[tag])

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from an active run; RESOURCE_DOES_NOT_EXIST if it has none."""

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of a metric, ordered by (timestamp, step, value)."""

    def get_metric_history_columns(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> MetricHistory:
        """:meth:`get_metric_history` as three arrays (for bulk reads and charts). Stores
        that can read them without one entity per point override it."""
        page = self.get_metric_history(run_id, metric_key, max_results, page_token)
        return MetricHistory.from_metrics(metric_key, list(page), page.token)

    @abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs matching the filter, ``start_time DESC, run_id`` after the given ordering."""

    def search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunColumns:
        """The page :meth:`search_runs` returns, as columns (what a DataFrame is built
        from). Stores that can read columns faster than entities override it."""
        page = self.search_runs(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )
        return RunColumns.from_runs(page, page.token)

    @abstractmethod
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Record datasets (and logged models) a run used."""

    @abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models an active run produced, each at a step (shown in
        ``run.outputs.model_outputs``). Recording a model again updates its step."""

    # -- logged models ---------------------------------------------------------------------
    @abstractmethod
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
        """Create a PENDING logged model in an active experiment.

        Its id is ``m-<uuid4 hex>`` and its artifacts go to
        ``<experiment artifact_location>/models/<model_id>/artifacts``. Without a name one
        is generated; a name must not contain ``/ : . % " '``. ``source_run_id``, when
        given, must name an existing run.

        ``request_key`` makes the call idempotent, as for :meth:`create_run`: a store that
        sees a key again returns the model the first call with that key created (a REST
        store sends one key, given or generated, with every attempt of a call).
        """

    @abstractmethod
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The logged model with its tags, params and metrics; RESOURCE_DOES_NOT_EXIST if
        there is none (or it is deleted, unless ``allow_deleted``)."""

    @abstractmethod
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Set the status of a logged model (READY once its files are uploaded, FAILED if
        the upload failed) and return the model."""

    @abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Set (insert or replace) tags on a logged model."""

    @abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model; RESOURCE_DOES_NOT_EXIST if it has none."""

    @abstractmethod
    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a logged model (only ``get_logged_model(allow_deleted=True)`` still
        returns it)."""

    @abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Active logged models of the experiments that match the filter.

        ``filter_string`` uses trackline's search grammar over the attributes ``name``,
        ``model_id``, ``model_type``, ``status``, ``source_run_id``, ``creation_timestamp``
        and ``last_updated_timestamp`` and ``metrics.<key>``, ``params.<key>`` and
        ``tags.<key>``. ``datasets`` (``[{"dataset_name", "dataset_digest"}]``) restricts the
        metrics considered to those logged on these datasets. ``order_by`` is a list of
        ``{"field_name", "ascending", "dataset_name", "dataset_digest"}``; the default order
        is ``creation_timestamp DESC``, ties broken by ``model_id``. ``max_results`` defaults
        to 100.
        """

    # -- lifecycle -------------------------------------------------------------------------
    def flush(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Make everything accepted so far durable and visible to other processes."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release connections. The store must not be used afterwards."""
