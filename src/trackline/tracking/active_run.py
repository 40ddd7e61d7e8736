"""The fluent API's state and the calls that change it: the active runs and experiment.

Each thread has its own stack of active runs (``start_run(nested=True)`` pushes, ``end_run``
pops). A run remembers the client that created it, so logging to the active run costs a few
microseconds: no URI resolution and no experiment lookup per call. A run started without an
experiment goes to the active experiment (``set_experiment``, else
``MLFLOW_EXPERIMENT_NAME`` / ``MLFLOW_EXPERIMENT_ID``, else the Default experiment "0").

At interpreter exit, queued asynchronous writes are flushed and runs still active are ended
as FINISHED, as MLflow does.

The calls that act on the active run without changing what is active (logging, artifacts,
experiment tags) are in :mod:`trackline.tracking.fluent`, which re-exports everything public
here: import from there.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from trackline.entities import Experiment, Run, RunStatus, RunTag
from trackline.exceptions import InvalidParameterValue, InvalidState, MlflowException
from trackline.tracking import async_logging, context
from trackline.tracking.client import TracklineClient
from trackline.tracking.uri import get_tracking_uri

if TYPE_CHECKING:
    import logging

__all__ = [
    "ActiveRun",
    "active_run",
    "delete_run",
    "end_run",
    "flush",
    "flush_async_logging",
    "get_parent_run",
    "get_run",
    "last_active_run",
    "set_experiment",
    "start_run",
]


def _logger() -> logging.Logger:
    # logging is imported only when something goes wrong: ``import trackline`` stays light.
    # The fluent API's logger, by the name it had before this module was split from it.
    import logging

    return logging.getLogger("trackline.tracking.fluent")


class ActiveRun(Run):
    """The run returned by :func:`start_run`; as a context manager it ends the run on exit:
    FINISHED normally, FAILED on an exception (KILLED on KeyboardInterrupt)."""

    __slots__ = ("_client",)

    def __init__(self, run: Run, client: TracklineClient) -> None:
        super().__init__(run.info, run.data, run.inputs, run.outputs)
        self._client = client

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        stack = _stack()
        if not any(r.info.run_id == self.info.run_id for r in stack):
            return False  # already ended inside the block
        try:
            while stack[-1].info.run_id != self.info.run_id:
                end_run(status)  # nested runs left open end with their parent
            end_run(status)
        except Exception:
            if exc_type is None:
                raise
            # Keep the user's exception rather than replacing it with ours.
            _logger().exception("Ending run %s failed", self.info.run_id)
            while stack and any(r.info.run_id == self.info.run_id for r in stack):
                stack.pop()
        return False


# -- state ---------------------------------------------------------------------------------
class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []
        with _stacks_lock:
            alive = {t.ident for t in threading.enumerate()}
            for ident in [i for i in _stacks if i not in alive]:
                del _stacks[ident]
            _stacks[threading.get_ident()] = self.stack


_stacks: dict[int | None, list[ActiveRun]] = {}
_stacks_lock = threading.Lock()
_thread_state = _ThreadState()
_active_experiment: tuple[str, str] | None = None  # (tracking URI, experiment id)
_last_active_run_id: str | None = None
_clients: dict[str, TracklineClient] = {}


def _stack() -> list[ActiveRun]:
    return _thread_state.stack


def _client() -> TracklineClient:
    """The client of the current tracking URI (one per URI per process)."""
    uri = get_tracking_uri()
    client = _clients.get(uri)
    if client is None:
        client = _clients[uri] = TracklineClient(uri)
    return client


def _run_and_client(run_id: str | None = None) -> tuple[str, TracklineClient]:
    """The run to log to (``run_id``, else the active run, else a new one) and its client."""
    if run_id is not None:
        return run_id, _client()
    stack = _stack()
    run = stack[-1] if stack else start_run()
    return run.info.run_id, run._client


def _reset() -> None:
    """Forget all fluent state of this process (tests use it between cases)."""
    global _active_experiment, _last_active_run_id
    with _stacks_lock:
        for stack in _stacks.values():
            stack.clear()
    _active_experiment = None
    _last_active_run_id = None
    _clients.clear()


# -- experiments ---------------------------------------------------------------------------
def _experiment_id(client: TracklineClient) -> str:
    active = _active_experiment
    if active is not None and active[0] == client.tracking_uri:
        return active[1]
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        return _get_or_create_experiment(client, name).experiment_id
    experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID")
    if experiment_id:
        return client.get_experiment(experiment_id).experiment_id
    return "0"


def _get_or_create_experiment(client: TracklineClient, name: str) -> Experiment:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            client.create_experiment(name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":  # created meanwhile elsewhere
                raise
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise InvalidState(f"Experiment '{name}' vanished right after being created")
    return experiment


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment the active one, by name (created if missing) or by id, and return
    it. With neither, ``MLFLOW_EXPERIMENT_NAME`` or ``MLFLOW_EXPERIMENT_ID`` is used."""
    global _active_experiment
    if experiment_name is None and experiment_id is None:
        experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or None
        experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID") or None
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterValue(
            "Must specify exactly one of: `experiment_id` or `experiment_name`."
        )
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        assert experiment_name is not None
        experiment = _get_or_create_experiment(client, experiment_name)
    if experiment.lifecycle_stage == "deleted":
        raise InvalidParameterValue(
            f"Cannot set a deleted experiment '{experiment.name}' as the active experiment. "
            "You can restore the experiment, or permanently delete the experiment to create "
            "a new one."
        )
    _active_experiment = (client.tracking_uri, experiment.experiment_id)
    return experiment


# -- runs ----------------------------------------------------------------------------------
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``, or ``MLFLOW_RUN_ID``) and make it the active run.

    A run already active needs ``nested=True`` (the new run gets ``mlflow.parentRunId``).
    New runs get the system tags (user, source, git commit), ``mlflow.runName`` for
    ``run_name`` and ``mlflow.note.content`` for ``description``; ``tags`` win over them.
    ``log_system_metrics`` is accepted and ignored (no system metrics are sampled).
    """
    global _last_active_run_id
    stack = _stack()
    if stack and not nested:
        raise InvalidState(
            f"Run with UUID {stack[0].info.run_id} is already active. To start a new run, "
            "first end the current run with mlflow.end_run(). To start a nested run, call "
            "start_run with nested=True"
        )
    existing_id = run_id
    if existing_id is None and os.environ.get("MLFLOW_RUN_ID"):
        existing_id = os.environ.pop("MLFLOW_RUN_ID")
    if parent_run_id is not None:
        if stack and parent_run_id != stack[-1].info.run_id:
            raise InvalidParameterValue(
                f"Current run with UUID {stack[-1].info.run_id} does not match the specified "
                f"parent_run_id {parent_run_id}. To start a new nested run under the parent "
                f"run with UUID {parent_run_id}, first end the current run with "
                "mlflow.end_run()."
            )
    elif nested and stack:
        parent_run_id = stack[-1].info.run_id
    client = _client()
    user_tags = dict(tags or {})
    if description is not None:
        if context.MLFLOW_RUN_NOTE in user_tags:
            raise InvalidParameterValue(
                f"Description is already set via the tag {context.MLFLOW_RUN_NOTE} in tags. "
                "Remove the key from tags or omit the description."
            )
        user_tags[context.MLFLOW_RUN_NOTE] = description
    if parent_run_id is not None:
        user_tags[context.MLFLOW_PARENT_RUN_ID] = parent_run_id
    if existing_id is not None:
        run = _resume_run(client, existing_id, experiment_id, run_name, user_tags)
    else:
        if run_name is not None:
            user_tags[context.MLFLOW_RUN_NAME] = run_name
        run = client.create_run(
            experiment_id if experiment_id is not None else _experiment_id(client),
            tags=context.resolve_tags(user_tags),
            run_name=run_name,
        )
    active = ActiveRun(run, client)
    _last_active_run_id = run.info.run_id
    stack.append(active)
    _register_exit_handler()
    return active


def _resume_run(
    client: TracklineClient,
    run_id: str,
    experiment_id: str | None,
    run_name: str | None,
    tags: Mapping[str, Any],
) -> Run:
    run = client.get_run(run_id)
    if run.info.lifecycle_stage == "deleted":
        raise InvalidParameterValue(
            f"Cannot start run with ID {run_id} because it is in the deleted state."
        )
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise InvalidParameterValue(
            f"The run {run_id} belongs to experiment {run.info.experiment_id}, not to the "
            f"requested experiment {experiment_id}."
        )
    if tags:
        client.log_batch(run_id, tags=[RunTag(str(k), str(v)) for k, v in tags.items()])
    client.update_run(run_id, "RUNNING", run_name)
    return client.get_run(run_id)


def end_run(status: str = "FINISHED") -> None:
    """End the active run (if any) with ``status``, after writing its queued logging.
    An asynchronous write that failed is raised here, once the run is ended."""
    stack = _stack()
    if not stack:
        return
    run = stack.pop()
    client = run._client
    error: BaseException | None = None
    queue = async_logging.existing_queue(client._store)
    if queue is not None:
        try:
            queue.flush()
        except Exception as exc:
            error = exc
    if isinstance(status, int):
        status = RunStatus.to_string(status)
    client.set_terminated(run.info.run_id, status)
    client._store.flush()
    if error is not None:
        raise error


def active_run() -> ActiveRun | None:
    """The active run of this thread, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the run most recently started in this process (fetched anew)."""
    current = active_run()
    if current is not None:
        return current
    if _last_active_run_id is None:
        return None
    return get_run(_last_active_run_id)


def get_run(run_id: str) -> Run:
    """The run with this id."""
    return _client().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    """The parent of a nested run, or None."""
    return _client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    """Soft-delete a run."""
    _client().delete_run(run_id)


def flush() -> None:
    """Write everything queued asynchronously by this process and make it durable; raise the
    first failure."""
    async_logging.flush_all()
    for client in list(_clients.values()):
        if client._store_instance is not None:
            client._store_instance.flush()


def flush_async_logging() -> None:
    """MLflow's name for :func:`flush`."""
    flush()


# -- exit ----------------------------------------------------------------------------------
def _end_runs_at_exit() -> None:
    try:
        async_logging.flush_all()
    except Exception as exc:
        _logger().error("Asynchronous logging failed before exit: %s", exc)
    with _stacks_lock:
        stacks = list(_stacks.values())
    for stack in stacks:
        while stack:
            run = stack.pop()
            try:
                run._client.set_terminated(run.info.run_id, "FINISHED")
                run._client._store.flush()
            except Exception as exc:
                _logger().error("Could not end run %s at exit: %s", run.info.run_id, exc)


def _register_exit_handler() -> None:
    # Re-registering keeps this handler the most recent one, so it runs before handlers
    # registered later (a store closing its connections, for instance).
    atexit.unregister(_end_runs_at_exit)
    atexit.register(_end_runs_at_exit)
