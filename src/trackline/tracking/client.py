"""``TracklineClient`` (alias ``MlflowClient``): the explicit, run-id based API.

The client turns Python arguments into entities (values into strings, dicts into tag lists,
a single experiment id into a list) and delegates to the tracking store of its URI, which
checks every rule and raises MLflow's error codes. It adds no rules of its own.

Writes may go through the store's asynchronous queue (``synchronous=False`` or
``MLFLOW_ENABLE_ASYNC_LOGGING=true``); every other call first waits for that queue, so a
client always reads what this process wrote.
"""

from __future__ import annotations

import numbers
import os
import posixpath
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from trackline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    FileInfo,
    LoggedModelInput,
    Metric,
    PagedList,
    Param,
    Run,
    RunColumns,
    RunInfo,
    RunTag,
    ViewType,
)
from trackline.exceptions import InvalidParameterValue
from trackline.tracking import async_logging
from trackline.tracking.async_logging import RunOperations
from trackline.tracking.logged_model_client import LoggedModelClientMixin
from trackline.tracking.registry_client import RegistryClientMixin
from trackline.validation import validate_metric, validate_param, validate_tag

if TYPE_CHECKING:
    from trackline.artifacts.repository import ArtifactRepository
    from trackline.store.rest.http import HttpSession
    from trackline.store.tracking_store import TrackingStore

__all__ = ["MlflowClient", "TracklineClient"]

_SEARCH_MAX_RESULTS_DEFAULT = 1000
_SEARCH_PAGE_MAX = 50000
_REPO_CACHE_SIZE = 256


def _now_ms() -> int:
    return int(time.time() * 1000)


def async_enabled(synchronous: bool | None) -> bool:
    """Whether a write goes through the queue: ``not synchronous``, or by default the
    environment variable ``MLFLOW_ENABLE_ASYNC_LOGGING``."""
    if synchronous is None:
        flag = os.environ.get("MLFLOW_ENABLE_ASYNC_LOGGING", "")
        return flag.strip().lower() in ("true", "1", "yes")
    return not synchronous


def _tag_list(tags: Mapping[str, Any] | Iterable[RunTag] | None) -> list[RunTag]:
    if not tags:
        return []
    if isinstance(tags, Mapping):
        return [RunTag(str(k), str(v)) for k, v in tags.items()]
    return list(tags)


def _id_list(experiment_ids: str | int | Iterable[str | int] | None) -> list[str]:
    if experiment_ids is None:
        return []
    if isinstance(experiment_ids, (str, int)):
        return [str(experiment_ids)]
    return [str(e) for e in experiment_ids]


class TracklineClient(LoggedModelClientMixin, RegistryClientMixin):
    """A client of one tracking store: experiments, runs, metrics, params, tags, artifacts,
    logged models (see :class:`~trackline.tracking.logged_model_client.LoggedModelClientMixin`),
    and of one registry store (registered models and their versions, see
    :class:`~trackline.tracking.registry_client.RegistryClientMixin`).

    ``tracking_uri`` defaults to the process's current tracking URI
    (:func:`trackline.get_tracking_uri`); the store is opened on first use.
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        from trackline.store.uri import resolve_tracking_uri
        from trackline.tracking.uri import _configured_registry_uri, get_tracking_uri

        self._tracking_uri = resolve_tracking_uri(tracking_uri or get_tracking_uri())
        self._registry_uri = registry_uri or _configured_registry_uri() or self._tracking_uri
        self._store_instance: TrackingStore | None = None
        self._repos: dict[str, ArtifactRepository] = {}
        self._queue: async_logging.AsyncLoggingQueue | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tracking_uri={self._tracking_uri!r})"

    @property
    def tracking_uri(self) -> str:
        """The (resolved) tracking URI this client talks to."""
        return self._tracking_uri

    @property
    def _store(self) -> TrackingStore:
        store = self._store_instance
        if store is None:
            from trackline.store.uri import get_tracking_store

            store = self._store_instance = get_tracking_store(self._tracking_uri)
        return store

    def _sync(self) -> TrackingStore:
        """The store, once this process's queued writes to it are written."""
        store = self._store
        queue = async_logging.existing_queue(store)
        if queue is not None and queue.pending:
            queue.wait_idle()
        return store

    def flush(self) -> None:
        """Write everything queued asynchronously and raise the first error among it."""
        queue = async_logging.existing_queue(self._store)
        if queue is not None:
            queue.flush()
        self._store.flush()

    # -- experiments -----------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an experiment and return its id."""
        experiment_tags = [ExperimentTag(str(k), str(v)) for k, v in (tags or {}).items()]
        return self._sync().create_experiment(name, artifact_location, experiment_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id (deleted ones too)."""
        return self._sync().get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name (deleted ones too), or None."""
        return self._sync().get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = _SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """One page of experiments matching ``filter_string``; ``.token`` names the next."""
        return self._sync().search_experiments(
            view_type, max_results, filter_string, order_by, page_token
        )

    def list_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """MLflow 1.x's name: all experiments (or one page of ``max_results``)."""
        if max_results is not None:
            return self.search_experiments(view_type, max_results, page_token=page_token)
        out: list[Experiment] = []
        token = page_token
        while True:
            page = self.search_experiments(view_type, _SEARCH_PAGE_MAX, page_token=token)
            out.extend(page)
            token = page.token
            if not token:
                return PagedList(out, None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment."""
        self._sync().rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs (its name stays taken)."""
        self._sync().delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        """Undo :meth:`delete_experiment`."""
        self._sync().restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set a tag on an experiment (the value becomes a string)."""
        self._sync().set_experiment_tag(str(experiment_id), ExperimentTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Remove a tag from an experiment."""
        self._sync().delete_experiment_tag(str(experiment_id), key)

    # -- runs ------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run. Unlike ``start_run`` it adds no system tags; the run's
        ``user_id`` is the ``mlflow.user`` tag, if given."""
        tag_list = _tag_list(tags)
        user_id = next((t.value for t in tag_list if t.key == "mlflow.user"), "unknown")
        return self._sync().create_run(
            str(experiment_id),
            user_id,
            start_time if start_time is not None else _now_ms(),
            tag_list,
            run_name,
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params and tags."""
        return self._sync().get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        """The run named by the ``mlflow.parentRunId`` tag of ``run_id``, or None."""
        parent = self.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return self.get_run(parent) if parent else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status and/or name."""
        if status is None and name is None:
            return
        self._sync().update_run_info(run_id, status, None, name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        """End a run: ``status`` (default FINISHED) at ``end_time`` (default now)."""
        status = status or "FINISHED"
        end = end_time if end_time is not None else _now_ms()
        self._sync().update_run_info(run_id, status, end, None)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""
        self._sync().delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        """Undo :meth:`delete_run`."""
        self._sync().restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = _SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs of the experiments matching ``filter_string`` (MLflow's grammar),
        ordered by ``order_by`` then ``start_time DESC``; ``.token`` names the next page.
        ``experiment_ids`` may be a single id."""
        return self._sync().search_runs(
            _id_list(experiment_ids),
            filter_string or "",
            run_view_type,
            max_results,
            list(order_by) if order_by else None,
            page_token,
        )

    def _search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        run_view_type: int,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> RunColumns:
        """:meth:`search_runs` as columns, for the DataFrame form of ``search_runs``."""
        return self._sync().search_run_columns(
            list(experiment_ids),
            filter_string or "",
            run_view_type,
            max_results,
            list(order_by) if order_by else None,
            page_token,
        )

    def list_run_infos(
        self,
        experiment_id: str,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = _SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RunInfo]:
        """MLflow 1.x's name: the ``RunInfo`` of one page of an experiment's runs."""
        page = self.search_runs(experiment_id, "", run_view_type, max_results, order_by, page_token)
        return PagedList([run.info for run in page], page.token)

    # -- logging ---------------------------------------------------------------------------
    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param (its value as a string) and return ``value``, or the queued write's
        handle when asynchronous."""
        param = Param(key, str(value))
        if async_enabled(synchronous):
            return self._enqueue(run_id, params=[param])
        self._sync().log_param(run_id, param)
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> RunOperations | None:
        """Log one metric point (timestamp in ms, default now; step default 0). Queued when
        asynchronous, in which case the returned handle's ``wait()`` reports the outcome."""
        kind = type(value)
        if kind is not float and (
            kind is int or (isinstance(value, numbers.Real) and kind is not bool)
        ):
            value = float(value)  # ints and numpy scalars; anything else is the store's to judge
        metric = Metric(
            key,
            value,
            int(time.time() * 1000) if timestamp is None else timestamp,
            step or 0,
            dataset_name,
            dataset_digest,
            model_id,
        )
        if synchronous is False or (synchronous is None and async_enabled(None)):
            queue = self._queue or self._make_queue()
            return queue.submit(run_id, (validate_metric(metric),), (), ())
        self._sync().log_metric(run_id, metric)
        return None

    def set_tag(
        self, run_id: str, key: str, value: Any, synchronous: bool | None = None
    ) -> RunOperations | None:
        """Set a tag on a run (the value becomes a string)."""
        tag = RunTag(key, str(value))
        if async_enabled(synchronous):
            return self._enqueue(run_id, tags=[tag])
        self._sync().set_tag(run_id, tag)
        return None

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run."""
        self._sync().delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> RunOperations | None:
        """Log metrics, params and tags in one all-or-nothing write (at most 1000 metrics,
        100 params, 100 tags: a larger batch is rejected whole). Asynchronously, the queue
        splits it into batches within the limits."""
        metric_list = list(metrics)
        param_list = [p if isinstance(p.value, str) else Param(p.key, str(p.value)) for p in params]
        tag_list = [t if isinstance(t.value, str) else RunTag(t.key, str(t.value)) for t in tags]
        if async_enabled(synchronous):
            return self._enqueue(run_id, metric_list, param_list, tag_list)
        self._sync().log_batch(run_id, metric_list, param_list, tag_list)
        return None

    def _make_queue(self) -> async_logging.AsyncLoggingQueue:
        self._queue = async_logging.queue_for(self._store)
        return self._queue

    def _enqueue(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> RunOperations:
        # Check now what can be checked without the database, so a mistake raises here.
        checked_metrics = [validate_metric(m) for m in metrics]
        checked_params = [validate_param(p) for p in params]
        checked_tags = [validate_tag(t) for t in tags]
        queue = self._queue or self._make_queue()
        return queue.submit(run_id, checked_metrics, checked_params, checked_tags)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric of a run, ordered by (timestamp, step, value)."""
        return list(self._sync().get_metric_history(run_id, key))

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Record the datasets (and logged models) a run used."""
        self._sync().log_inputs(run_id, datasets, models)

    # -- artifacts -------------------------------------------------------------------------
    def _repository(self, run_id: str) -> ArtifactRepository:
        repo = self._repos.get(run_id)
        if repo is None:
            uri = self.get_run(run_id).info.artifact_uri
            if not uri:
                raise InvalidParameterValue(f"Run '{run_id}' has no artifact location")
            repo = self._artifact_repository(uri)
            if len(self._repos) >= _REPO_CACHE_SIZE:
                self._repos.clear()
            self._repos[run_id] = repo
        return repo

    def _artifact_repository(self, artifact_uri: str) -> ArtifactRepository:
        """The repository of an artifact URI. Artifacts behind a tracking server
        (``mlflow-artifacts:``, ``http(s)://``) are resolved against this client's tracking
        URI and reached through the HTTP session of the REST store of their server (its
        authentication, TLS settings, retries and connection pool)."""
        from trackline.artifacts import get_artifact_repository
        from trackline.artifacts.http import HttpArtifactRepository, is_server_artifact_uri

        if is_server_artifact_uri(artifact_uri):
            return HttpArtifactRepository(
                artifact_uri, tracking_uri=self._tracking_uri, connect=self._server_session
            )
        return get_artifact_repository(artifact_uri)

    def _server_session(self, base_url: str) -> HttpSession:
        """The HTTP session to the server at ``base_url``: the one of this client's store
        when that is the server, else that of the (cached) REST store of ``base_url``."""
        from trackline.store.rest import RestTrackingStore
        from trackline.store.rest.http import redact_url
        from trackline.store.uri import get_tracking_store

        if redact_url(base_url).rstrip("/") == redact_url(self._tracking_uri).rstrip("/"):
            store = self._store
        else:
            store = get_tracking_store(base_url)
        if not isinstance(store, RestTrackingStore):
            raise InvalidParameterValue(f"{redact_url(base_url)!r} is not a tracking server")
        return store.session

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local file (or a folder, as a sub-folder of the same name) into the run's
        artifacts, under ``artifact_path``."""
        from pathlib import Path

        path = Path(local_path)
        repo = self._repository(run_id)
        if path.is_dir():
            target = posixpath.join(artifact_path, path.name) if artifact_path else path.name
            repo.log_artifacts(path, target)
        else:
            repo.log_artifact(path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy the contents of a local folder into the run's artifacts."""
        self._repository(run_id).log_artifacts(local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """Direct children of a folder of the run's artifacts (the root when None)."""
        return self._repository(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Download an artifact file or folder into ``dst_path`` (default: a new temporary
        folder) and return its local path. As with MLflow 3's client, the artifact lands
        under its own name: ``"a/b/f.txt"`` becomes ``<dst_path>/f.txt``."""
        from trackline.artifacts import check_artifact_path

        parent, _, name = check_artifact_path(path).rpartition("/")
        if not parent:
            return self._repository(run_id).download_artifacts(path, dst_path)
        uri = self.get_run(run_id).info.artifact_uri
        if not uri:
            raise InvalidParameterValue(f"Run '{run_id}' has no artifact location")
        return self._artifact_repository(f"{uri}/{parent}").download_artifacts(name, dst_path)

    def _log_file(self, run_id: str, artifact_file: str, write: Any) -> None:
        from trackline.artifacts import check_artifact_path

        rel = check_artifact_path(artifact_file)
        if not rel:
            raise InvalidParameterValue(f"Invalid artifact file name {artifact_file!r}")
        import tempfile

        folder, _, name = rel.rpartition("/")
        with tempfile.TemporaryDirectory(prefix="trackline-") as tmp:
            local = os.path.join(tmp, name)
            write(local)
            self._repository(run_id).log_artifact(local, folder or None)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save ``text`` (UTF-8) as the artifact file ``artifact_file``."""

        def write(path: str) -> None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

        self._log_file(run_id, artifact_file, write)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Save a JSON-serializable object as JSON, or as YAML if the file name ends in
        ``.yaml``/``.yml``."""
        from trackline.tracking.figures import dump_dict

        self.log_text(run_id, dump_dict(dictionary, artifact_file), artifact_file)

    def log_figure(
        self,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        """Save a matplotlib or plotly figure; the format follows the file extension."""
        from trackline.tracking.figures import save_figure

        self._log_file(
            run_id, artifact_file, lambda path: save_figure(figure, path, save_kwargs or {})
        )

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Save a numpy array (HxW, HxWx1/3/4; uint8 0-255 or floats 0-1) or a PIL image."""
        from trackline.tracking.figures import save_image

        if artifact_file is None:
            raise InvalidParameterValue(
                "log_image needs artifact_file; logging images by key and step is not supported"
            )
        self._log_file(run_id, artifact_file, lambda path: save_image(image, path))


MlflowClient = TracklineClient
