"""The tracking store of an ``http(s)://`` tracking URI: MLflow's REST protocol, client side.

:class:`RestTrackingStore` sends the calls and bodies MLflow's 3.x client sends (so it works
against a trackline server and an MLflow server alike) and turns the answers back into
entities. The server validates; this store only shapes requests:

* ``run_uuid`` travels beside ``run_id`` where MLflow's client sends both;
* ``log_batch`` is cut into requests within the server's limits (≤ 1000 metrics, ≤ 100 params,
  ≤ 100 tags, ≤ 1000 entities, a body under 1 MB). Each request is all or nothing on the
  server; a batch of several requests is not (as with MLflow's client);
* metric history is read in pages of 25000 points.

Against a trackline server, a search's DataFrame and a metric's history are read column by
column instead (:mod:`trackline.store.rest.columns`).

Retries never duplicate (see :mod:`trackline.store.rest.http` for when they happen): logging
calls are idempotent on the server (an exact metric repeat is ignored, the same param value is
accepted, tags are upserts); a call whose retry fails only because an earlier attempt already
did the work (``experiments/create`` answering RESOURCE_ALREADY_EXISTS, a tag delete answering
RESOURCE_DOES_NOT_EXIST, ...) is checked against the server's state and succeeds; and
``runs/create`` carries an ``X-Trackline-Idempotency-Key`` header, the same on every attempt of
one call, by which a server can answer a repeat with the run it already created.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from trackline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from trackline.exceptions import (
    BAD_REQUEST,
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    InvalidParameterValue,
    MlflowException,
)
from trackline.store.rest import codec
from trackline.store.rest import logged_models as model_codec
from trackline.store.rest.columns import ColumnarTrackingStore, search_runs_body
from trackline.store.rest.http import HttpSession, Resolver
from trackline.store.tracking_store import (
    GET_METRIC_HISTORY_MAX_RESULTS,
    SEARCH_MAX_RESULTS_DEFAULT,
)
from trackline.validation import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
)

__all__ = ["IDEMPOTENCY_HEADER", "LOG_BATCH_MAX_BODY_BYTES", "RestTrackingStore"]

#: The header carrying the key by which a server recognises a repeated ``runs/create``.
IDEMPOTENCY_HEADER = "X-Trackline-Idempotency-Key"
#: The largest ``runs/log-batch`` body MLflow's server accepts.
LOG_BATCH_MAX_BODY_BYTES = 1_000_000

_API = "api/2.0/mlflow/"

_Batch = tuple[Sequence[Metric], Sequence[Param], Sequence[RunTag]]


class RestTrackingStore(ColumnarTrackingStore):
    """A :class:`~trackline.store.tracking_store.TrackingStore` served by a tracking server.

    ``uri`` is the server's ``http(s)://host[:port][/prefix]``. ``transport`` replaces the
    network (tests run the real client against the in-process server app); ``timeout`` is
    in seconds (default ``MLFLOW_HTTP_REQUEST_TIMEOUT`` or 120). Authentication, TLS and
    retries come from the environment (:mod:`trackline.store.rest.http`).
    """

    #: How long the asynchronous-logging writer waits after a first queued operation before
    #: sending, so that a burst of ``log_metric`` calls leaves as one log-batch request
    #: (:mod:`trackline.tracking.async_logging`; a flush or a read sends at once).
    batch_linger_s = 0.005

    def __init__(
        self,
        uri: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
    ) -> None:
        self.session = HttpSession(uri, transport=transport, timeout=timeout)

    @property
    def uri(self) -> str:
        """The tracking URI, without credentials."""
        return self.session.base_url

    def __repr__(self) -> str:
        return f"RestTrackingStore({self.uri!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    # -- transport -------------------------------------------------------------------------

    def _post(
        self,
        endpoint: str,
        body: dict[str, Any],
        resolve: Resolver | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return self.session.call(
            "POST", _API + endpoint, body=codec.encode(body), resolve=resolve, headers=headers
        )

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.session.call("GET", _API + endpoint, params=params)

    def _send(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        resolve: Resolver | None = None,
    ) -> dict[str, Any]:
        encoded = None if body is None else codec.encode(body)
        return self.session.call(method, _API + endpoint, body=encoded, resolve=resolve)

    # -- experiments -----------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] | None = None,
    ) -> str:
        """Create an experiment and return its id."""
        body: dict[str, Any] = {"name": name}
        if artifact_location:
            body["artifact_location"] = artifact_location
        if tags:
            body["tags"] = codec.key_values(tags)

        def created_by_earlier_attempt(error: MlflowException) -> dict[str, Any] | None:
            if error.error_code != RESOURCE_ALREADY_EXISTS:
                return None
            existing = self.get_experiment_by_name(name)
            return None if existing is None else {"experiment_id": existing.experiment_id}

        answer = self._post("experiments/create", body, created_by_earlier_attempt)
        return str(answer["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment, deleted or not."""
        answer = self._get("experiments/get", {"experiment_id": str(experiment_id)})
        return codec.experiment_from_json(answer.get("experiment") or {})

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name, deleted or not, or None."""
        try:
            answer = self._get("experiments/get-by-name", {"experiment_name": name})
        except MlflowException as exc:
            if exc.error_code == RESOURCE_DOES_NOT_EXIST:
                return None
            raise
        return codec.experiment_from_json(answer.get("experiment") or {})

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """One page of experiments matching the filter; ``.token`` names the next page."""
        body: dict[str, Any] = {
            "max_results": max_results,
            "view_type": codec.view_type_name(view_type),
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        answer = self._post("experiments/search", body)
        experiments = [codec.experiment_from_json(e) for e in answer.get("experiments") or ()]
        return PagedList(experiments, answer.get("next_page_token") or None)

    def _experiment_in_stage(self, experiment_id: str, stage: str) -> Resolver:
        def resolve(error: MlflowException) -> dict[str, Any] | None:
            if error.error_code != INVALID_PARAMETER_VALUE:
                return None
            done = self.get_experiment(experiment_id).lifecycle_stage == stage
            return {} if done else None

        return resolve

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and its runs."""
        experiment_id = str(experiment_id)
        resolve = self._experiment_in_stage(experiment_id, LifecycleStage.DELETED)
        self._post("experiments/delete", {"experiment_id": experiment_id}, resolve)

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and the runs its deletion deleted."""
        experiment_id = str(experiment_id)
        resolve = self._experiment_in_stage(experiment_id, LifecycleStage.ACTIVE)
        self._post("experiments/restore", {"experiment_id": experiment_id}, resolve)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment."""
        experiment_id = str(experiment_id)

        def renamed_by_earlier_attempt(error: MlflowException) -> dict[str, Any] | None:
            if error.error_code not in (RESOURCE_ALREADY_EXISTS, BAD_REQUEST):
                return None
            return {} if self.get_experiment(experiment_id).name == new_name else None

        body = {"experiment_id": experiment_id, "new_name": new_name}
        self._post("experiments/update", body, renamed_by_earlier_attempt)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        """Set a tag on an active experiment."""
        body = {"experiment_id": str(experiment_id), "key": tag.key, "value": tag.value}
        self._post("experiments/set-experiment-tag", body)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment."""
        body = {"experiment_id": str(experiment_id), "key": key}
        self._post("experiments/delete-experiment-tag", body, _gone)

    # -- runs ------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        user_id: str | None,
        start_time: int | None,
        tags: Sequence[RunTag],
        run_name: str | None,
        request_key: str | None = None,
    ) -> Run:
        """Create a RUNNING run. Every attempt of one call carries the same idempotency key
        (``request_key``, or a fresh UUID)."""
        body: dict[str, Any] = {"experiment_id": str(experiment_id)}
        if user_id is not None:
            body["user_id"] = user_id
        if start_time is not None:
            body["start_time"] = start_time
        if tags:
            body["tags"] = codec.key_values(tags)
        if run_name:
            body["run_name"] = run_name
        headers = {IDEMPOTENCY_HEADER: request_key or str(uuid.uuid4())}
        answer = self._post("runs/create", body, headers=headers)
        return codec.run_from_json(answer.get("run") or {})

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags, inputs and outputs."""
        answer = self._get("runs/get", {"run_uuid": run_id, "run_id": run_id})
        return codec.run_from_json(answer.get("run") or {})

    def update_run_info(
        self,
        run_id: str,
        run_status: int | str | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        """Change status, end time or name of an active run."""
        body: dict[str, Any] = {"run_uuid": run_id, "run_id": run_id}
        if run_status is not None:
            body["status"] = codec.status_name(run_status)
        if end_time is not None:
            body["end_time"] = end_time
        if run_name:
            body["run_name"] = run_name
        answer = self._post("runs/update", body)
        return codec.run_info_from_json(answer.get("run_info") or {})

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""
        self._post(
            "runs/delete", {"run_id": run_id}, self._run_in_stage(run_id, LifecycleStage.DELETED)
        )

    def restore_run(self, run_id: str) -> None:
        """Restore a deleted run."""
        self._post(
            "runs/restore", {"run_id": run_id}, self._run_in_stage(run_id, LifecycleStage.ACTIVE)
        )

    def _run_in_stage(self, run_id: str, stage: str) -> Resolver:
        def resolve(error: MlflowException) -> dict[str, Any] | None:
            if error.error_code != INVALID_PARAMETER_VALUE:
                return None
            return {} if self.get_run(run_id).info.lifecycle_stage == stage else None

        return resolve

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags, in as many requests as the server's limits need."""
        for chunk in _chunks(metrics or (), params or (), tags or ()):
            for body in _bodies(run_id, chunk):
                self.session.call("POST", _API + "runs/log-batch", body=body)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Log one metric point."""
        body: dict[str, Any] = {
            "run_uuid": run_id,
            "key": metric.key,
            "value": codec.double_json(metric.value),
            "timestamp": metric.timestamp,
            "step": metric.step,
            "run_id": run_id,
        }
        if metric.model_id is not None:
            body["model_id"] = metric.model_id
        if metric.dataset_name is not None:
            body["dataset_name"] = metric.dataset_name
        if metric.dataset_digest is not None:
            body["dataset_digest"] = metric.dataset_digest
        self._post("runs/log-metric", body)

    def log_param(self, run_id: str, param: Param) -> None:
        """Log one param (the server refuses a different value for a logged key)."""
        body = {"run_uuid": run_id, "key": param.key, "value": param.value, "run_id": run_id}
        self._post("runs/log-parameter", body)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        """Set one tag on a run."""
        body = {"run_uuid": run_id, "key": tag.key, "value": tag.value, "run_id": run_id}
        self._post("runs/set-tag", body)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from an active run."""
        self._post("runs/delete-tag", {"run_id": run_id, "key": key}, _gone)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """One page of a metric's points with ``max_results``; without, every point (read in
        pages of 25000 from a server without trackline's columnar endpoint)."""
        columnar = self._columnar_history(run_id, metric_key, max_results, page_token)
        if columnar is not None:
            return columnar
        if max_results is not None:
            return self._history_page(run_id, metric_key, max_results, page_token)
        points: list[Metric] = []
        token = page_token
        while True:
            page = self._history_page(run_id, metric_key, GET_METRIC_HISTORY_MAX_RESULTS, token)
            points.extend(page)
            token = page.token
            if not token:
                return PagedList(points, None)

    def _history_page(
        self, run_id: str, metric_key: str, max_results: int, page_token: str | None
    ) -> PagedList[Metric]:
        params: dict[str, Any] = {
            "run_uuid": run_id,
            "metric_key": metric_key,
            "run_id": run_id,
            "max_results": max_results,
        }
        if page_token:
            params["page_token"] = page_token
        answer = self._get("metrics/get-history", params)
        points = codec.metrics_from_json(answer.get("metrics") or [])
        return PagedList(points, answer.get("next_page_token") or None)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching the filter; ``.token`` names the next page."""
        body = search_runs_body(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )
        answer = self._post("runs/search", body)
        runs = [codec.run_from_json(r) for r in answer.get("runs") or ()]
        return PagedList(runs, answer.get("next_page_token") or None)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Record datasets (and logged models) a run used."""
        body: dict[str, Any] = {"run_id": run_id}
        if datasets:
            body["datasets"] = [codec.dataset_input_json(d) for d in datasets]
        if models:
            body["models"] = [{"model_id": m.model_id} for m in models]
        self._post("runs/log-inputs", body)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record logged models a run produced (``runs/outputs``)."""
        body = {
            "run_id": run_id,
            "models": [{"model_id": m.model_id, "step": m.step} for m in models],
        }
        self._post("runs/outputs", body)

    # -- logged models ---------------------------------------------------------------------

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
        """Create a PENDING logged model (``POST logged-models``). Every attempt of one call
        carries the same idempotency key (``request_key``, or a fresh UUID)."""
        body = model_codec.create_body(experiment_id, name, source_run_id, tags, params, model_type)
        headers = {IDEMPOTENCY_HEADER: request_key or str(uuid.uuid4())}
        answer = self._post("logged-models", body, headers=headers)
        return model_codec.logged_model_from_json(answer.get("model") or {})

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The logged model with its tags, params and metrics."""
        params = {"allow_deleted": "true"} if allow_deleted else {}
        answer = self._get(_model_path(model_id), params)
        return model_codec.logged_model_from_json(answer.get("model") or {})

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | int | str
    ) -> LoggedModel:
        """Set a logged model's status (``PATCH logged-models/{id}``) and return the model."""
        try:
            name = LoggedModelStatus.from_value(status).to_proto_name()
        except ValueError as exc:
            raise InvalidParameterValue(str(exc)) from None
        body = {"model_id": model_id, "status": name}
        answer = self._send("PATCH", _model_path(model_id), body)
        return model_codec.logged_model_from_json(answer.get("model") or {})

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Set tags on a logged model."""
        body = {"tags": [{"key": t.key, "value": t.value} for t in tags]}
        self._send("PATCH", f"{_model_path(model_id)}/tags", body)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag from a logged model."""
        path = f"{_model_path(model_id)}/tags/{quote(key, safe='')}"
        self._send("DELETE", path, resolve=_gone)

    def delete_logged_model(self, model_id: str) -> None:
        """Delete a logged model."""
        self._send("DELETE", _model_path(model_id), resolve=_gone)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """One page of logged models matching the filter; ``.token`` names the next page."""
        body = model_codec.search_body(
            experiment_ids, filter_string, datasets, max_results, order_by, page_token
        )
        answer = self._post("logged-models/search", body)
        models = [model_codec.logged_model_from_json(m) for m in answer.get("models") or ()]
        return PagedList(models, answer.get("next_page_token") or None)


def _model_path(model_id: str) -> str:
    return f"logged-models/{quote(str(model_id), safe='')}"


def _gone(error: MlflowException) -> dict[str, Any] | None:
    """A delete whose retry finds nothing to delete: an earlier attempt deleted it."""
    return {} if error.error_code == RESOURCE_DOES_NOT_EXIST else None


def _chunks(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterator[_Batch]:
    """The batch cut by count: ≤ 100 params, ≤ 100 tags and metrics up to 1000 in all."""
    m = p = t = 0
    while True:
        n_params = min(MAX_PARAMS_TAGS_PER_BATCH, len(params) - p)
        n_tags = min(MAX_PARAMS_TAGS_PER_BATCH, len(tags) - t)
        room = min(MAX_METRICS_PER_BATCH, MAX_ENTITIES_PER_BATCH - n_params - n_tags)
        n_metrics = min(room, len(metrics) - m)
        yield metrics[m : m + n_metrics], params[p : p + n_params], tags[t : t + n_tags]
        m, p, t = m + n_metrics, p + n_params, t + n_tags
        if m >= len(metrics) and p >= len(params) and t >= len(tags):
            return


def _bodies(run_id: str, chunk: _Batch) -> Iterator[bytes]:
    """The encoded ``log-batch`` bodies of a chunk, halved until each fits in 1 MB."""
    metrics, params, tags = chunk
    body: dict[str, Any] = {"run_id": run_id}
    if metrics:
        body["metrics"] = codec.metrics_json(metrics, run_id)
    if params:
        body["params"] = codec.key_values(params)
    if tags:
        body["tags"] = codec.key_values(tags)
    encoded = codec.encode(body)
    if len(encoded) <= LOG_BATCH_MAX_BODY_BYTES or len(metrics) + len(params) + len(tags) <= 1:
        yield encoded
        return
    for part in _halves(chunk):
        yield from _bodies(run_id, part)


def _halves(chunk: _Batch) -> tuple[_Batch, _Batch]:
    """Two chunks of about half the entities each, in the server's order (params, metrics,
    tags); both non-empty when the chunk holds two entities or more."""
    metrics, params, tags = chunk
    half = (len(params) + len(metrics) + len(tags)) // 2
    hp = min(half, len(params))
    hm = min(half - hp, len(metrics))
    ht = half - hp - hm
    return (metrics[:hm], params[:hp], tags[:ht]), (metrics[hm:], params[hp:], tags[ht:])
