"""The fluent API: module-level functions acting on the active run and experiment.

Each thread has its own stack of active runs (``start_run(nested=True)`` pushes, ``end_run``
pops). A run remembers the client that created it, so logging to the active run costs a few
microseconds: no URI resolution and no experiment lookup per call. Logging with no active
run starts one in the active experiment (``set_experiment``, else ``MLFLOW_EXPERIMENT_NAME``
/ ``MLFLOW_EXPERIMENT_ID``, else the Default experiment "0").

At interpreter exit, queued asynchronous writes are flushed and runs still active are ended
as FINISHED, as MLflow does.

This module holds the calls that act on the active run and experiment: experiment calls,
logging and artifacts. The state (the run stacks, the active experiment, the clients) and the
calls that change it (``start_run``, ``end_run``, ``set_experiment``, ...) are in
:mod:`trackline.tracking.active_run`; they are re-exported here, so the whole fluent API
imports from this module (with the private ``_client``, ``_experiment_id`` and ``_reset`` that
other modules and the tests use).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from trackline.entities import Experiment, Metric, Param, RunTag
from trackline.tracking.active_run import (
    ActiveRun,
    _run_and_client,
    _stack,
    _thread_state,
    active_run,
    delete_run,
    end_run,
    flush,
    flush_async_logging,
    get_parent_run,
    get_run,
    last_active_run,
    set_experiment,
    start_run,
)
from trackline.tracking.active_run import _client as _client
from trackline.tracking.active_run import _experiment_id as _experiment_id
from trackline.tracking.active_run import _reset as _reset
from trackline.tracking.async_logging import (
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    RunOperations,
)
from trackline.tracking.client import TracklineClient, async_enabled

__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_parent_run",
    "get_run",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "start_run",
]


# -- experiments ---------------------------------------------------------------------------
def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    """Create an experiment and return its id."""
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """The experiment with this id."""
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment with this name, or None."""
    return _client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    """Soft-delete an experiment and its runs."""
    _client().delete_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    """Set a tag on the active experiment."""
    client = _client()
    client.set_experiment_tag(_experiment_id(client), key, value)


def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags on the active experiment."""
    client = _client()
    experiment_id = _experiment_id(client)
    for key, value in tags.items():
        client.set_experiment_tag(experiment_id, key, value)


# -- logging -------------------------------------------------------------------------------
def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param to the active run and return ``value``."""
    run_id, client = _run_and_client()
    return client.log_param(run_id, key, value, synchronous)


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> RunOperations | None:
    """Log several params (values as strings) to the active run."""
    rid, client = _run_and_client(run_id)
    items = [Param(str(k), str(v)) for k, v in params.items()]
    return _log_chunked(client, rid, items, MAX_PARAMS_TAGS_PER_BATCH, "params", synchronous)


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> RunOperations | None:
    """Log one metric point to the active run (timestamp default now, step default 0).
    Asynchronous when ``synchronous=False`` (or ``MLFLOW_ENABLE_ASYNC_LOGGING=true``)."""
    stack = _thread_state.stack
    if run_id is None and stack:  # the hot path: logging to the active run
        run = stack[-1]
        rid, client = run.info.run_id, run._client
    else:
        rid, client = _run_and_client(run_id)
    if dataset is None:
        return client.log_metric(
            rid, key, value, timestamp, step, synchronous, None, None, model_id
        )
    name, digest = _dataset_identity(dataset)
    return client.log_metric(rid, key, value, timestamp, step, synchronous, name, digest, model_id)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> RunOperations | None:
    """Log several metrics at one step and timestamp to the active run."""
    rid, client = _run_and_client(run_id)
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    name, digest = _dataset_identity(dataset)
    items = [Metric(str(k), v, ts, step or 0, name, digest, model_id) for k, v in metrics.items()]
    return _log_chunked(client, rid, items, MAX_METRICS_PER_BATCH, "metrics", synchronous)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
    """Set a tag on the active run."""
    run_id, client = _run_and_client()
    return client.set_tag(run_id, key, value, synchronous)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> RunOperations | None:
    """Set several tags on the active run."""
    run_id, client = _run_and_client()
    items = [RunTag(str(k), str(v)) for k, v in tags.items()]
    return _log_chunked(client, run_id, items, MAX_PARAMS_TAGS_PER_BATCH, "tags", synchronous)


def delete_tag(key: str) -> None:
    """Remove a tag from the active run."""
    run_id, client = _run_and_client()
    client.delete_tag(run_id, key)


def _log_chunked(
    client: TracklineClient,
    run_id: str,
    items: Sequence[Any],
    size: int,
    kind: str,
    synchronous: bool | None,
) -> RunOperations | None:
    # Dicts of any size are accepted, as MLflow does, in batches within the limits.
    if async_enabled(synchronous):
        return client.log_batch(run_id, synchronous=False, **{kind: items})
    for start in range(0, len(items), size):
        client.log_batch(run_id, synchronous=True, **{kind: items[start : start + size]})
    return None


def _dataset_identity(dataset: Any) -> tuple[str | None, str | None]:
    if dataset is None:
        return None, None
    return getattr(dataset, "name", None), getattr(dataset, "digest", None)


# -- artifacts -----------------------------------------------------------------------------
def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a local file or folder into the active run's artifacts."""
    rid, client = _run_and_client(run_id)
    client.log_artifact(rid, local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy the contents of a local folder into the active run's artifacts."""
    rid, client = _run_and_client(run_id)
    client.log_artifacts(rid, local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Save text as an artifact file of the active run."""
    rid, client = _run_and_client(run_id)
    client.log_text(rid, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON (or YAML for ``.yaml``/``.yml``) in the active run's artifacts."""
    rid, client = _run_and_client(run_id)
    client.log_dict(rid, dictionary, artifact_file)


def log_figure(
    figure: Any,
    artifact_file: str,
    *,
    save_kwargs: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    """Save a matplotlib or plotly figure in the active run's artifacts."""
    rid, client = _run_and_client(run_id)
    client.log_figure(rid, figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    """Save a numpy array or PIL image in the active run's artifacts."""
    rid, client = _run_and_client(run_id)
    client.log_image(rid, image, artifact_file, key, step, timestamp, synchronous)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The URI of the active run's artifact root, or of ``artifact_path`` under it."""
    run_id, client = _run_and_client()
    stack = _stack()
    root = stack[-1].info.artifact_uri if stack else None
    if not root:
        root = client.get_run(run_id).info.artifact_uri or ""
    if not artifact_path:
        return root
    from trackline.artifacts import check_artifact_path

    return f"{root.rstrip('/')}/{check_artifact_path(artifact_path)}"
