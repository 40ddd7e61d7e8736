"""Safe, undoable monkey-patching for autologging, and the session a patched call runs in.

:func:`patch` replaces ``owner.name`` (a module function or a method of a class) by a wrapper
and remembers what was there, so :func:`revert` puts the original back (``autolog(disable=
True)``). :func:`safe_patch` makes the wrapper an autologging *session*:

* the integration's settings (:class:`AutologConfig`) are read at call time; a disabled
  integration, or a call made inside another session (a pipeline fitting its steps, a
  parameter search fitting its candidates), runs the original untouched;
* with ``manage_run``, a run is started when none is active (tagged ``mlflow.autologging``
  plus ``extra_tags``) and ended after the call: FINISHED, or FAILED (KILLED for a keyboard
  interrupt) when the user's function raised;
* an exception raised by the user's function propagates unchanged; one raised by
  autologging's own code never does: it is logged as a warning (nothing when ``silent``) and
  the function's result is returned as if autologging were off. Warnings that libraries emit
  while autologging computes its figures go to the ``trackline.autolog`` logger, not to the
  user; the user's function runs under the user's own warning filters.

:class:`Session` also carries the small logging helpers the integrations share, with MLflow's
truncation rules (keys to 250 characters, param values to 6,000, tag values to 8,000) and
batch limits.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trackline.entities import Metric, Param, RunTag
from trackline.tracking import fluent
from trackline.tracking.client import TracklineClient

if TYPE_CHECKING:
    from trackline.entities import Dataset

__all__ = [
    "MLFLOW_AUTOLOGGING",
    "AutologConfig",
    "Session",
    "configure",
    "get_config",
    "is_patched",
    "param_strings",
    "patch",
    "revert",
    "safe_patch",
    "tag_strings",
]

_logger = logging.getLogger("trackline.autolog")

#: The tag naming the integration that created a run.
MLFLOW_AUTOLOGGING = "mlflow.autologging"
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
_PARAMS_PER_BATCH = 100
_METRICS_PER_BATCH = 1000
_ORIGINAL = "__trackline_original__"
_MISSING = object()


@dataclass
class AutologConfig:
    """The settings of one integration, as given to its ``autolog()``; ``options`` holds the
    integration's own (``max_tuning_runs``, ``importance_types``...)."""

    log_models: bool = True
    log_datasets: bool = True
    log_input_examples: bool = False
    log_model_signatures: bool = True
    exclusive: bool = False
    silent: bool = False
    registered_model_name: str | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Patch:
    owner: Any
    name: str
    saved: Any  # what owner.__dict__ held under name, or _MISSING
    wrapper: Callable[..., Any]


_configs: dict[str, AutologConfig] = {}
_patches: dict[str, list[_Patch]] = {}
_lock = threading.RLock()


class _State(threading.local):
    depth = 0


_state = _State()


def configure(flavor: str, config: AutologConfig | None) -> None:
    """Enable ``flavor`` with ``config`` (None disables it)."""
    with _lock:
        if config is None:
            _configs.pop(flavor, None)
        else:
            _configs[flavor] = config


def get_config(flavor: str) -> AutologConfig | None:
    """The settings of an enabled integration, or None when it is disabled."""
    return _configs.get(flavor)


def is_patched(flavor: str) -> bool:
    """Whether ``flavor`` has patches in place."""
    return bool(_patches.get(flavor))


def patch(
    flavor: str, owner: Any, name: str, make_wrapper: Callable[[Callable[..., Any]], Any]
) -> None:
    """Replace ``owner.name`` by ``make_wrapper(original)`` and remember the original for
    :func:`revert`. A wrapper of ours already there is unwrapped first, so patching twice
    never stacks wrappers."""
    original = getattr(owner, name)
    original = getattr(original, _ORIGINAL, original)
    wrapper = make_wrapper(original)
    setattr(wrapper, _ORIGINAL, original)
    saved = vars(owner).get(name, _MISSING)
    with _lock:
        setattr(owner, name, wrapper)
        _patches.setdefault(flavor, []).append(_Patch(owner, name, saved, wrapper))


def revert(flavor: str) -> None:
    """Undo every patch of ``flavor``, newest first. A patch someone else has since wrapped
    again is left alone (its wrapper then runs the original: ``flavor`` is disabled)."""
    with _lock:
        for item in reversed(_patches.pop(flavor, [])):
            if vars(item.owner).get(item.name) is not item.wrapper:
                continue
            if item.saved is _MISSING:
                delattr(item.owner, item.name)
            else:
                setattr(item.owner, item.name, item.saved)


def in_session() -> bool:
    """Whether this thread is inside an autologging session."""
    return _state.depth > 0


class _OriginalFailed(Exception):
    """Internal: carries the user's exception out of a session unchanged."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class Session:
    """One patched call: its integration's settings, the run it logs to and a client.

    ``call(*args, **kwargs)`` runs the user's original function (under the user's warning
    filters); :meth:`guard` wraps each logging step so a failure is reported and skipped.
    """

    def __init__(self, flavor: str, config: AutologConfig, original: Callable[..., Any]) -> None:
        self.flavor = flavor
        self.config = config
        self.client = TracklineClient()
        self.original = original
        self.called = False
        self.result: Any = None
        self.failures: list[str] = []
        run = fluent.active_run()
        self.run_id: str = run.info.run_id if run is not None else ""
        self.experiment_id: str = run.info.experiment_id if run is not None else ""

    # -- the user's function -----------------------------------------------------------------
    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Run the original function; its exception leaves the session untouched."""
        self.called = True
        try:
            self.result = self.original(*args, **kwargs)
        except BaseException as exc:
            raise _OriginalFailed(exc) from exc
        return self.result

    # -- failure handling --------------------------------------------------------------------
    def report(self, what: str, error: BaseException) -> None:
        """Log that a step of autologging failed (unless silent)."""
        self.failures.append(f"{what}: {error}")
        if not self.config.silent:
            _logger.warning(
                "%s autologging could not %s: %s: %s",
                self.flavor,
                what,
                type(error).__name__,
                error,
            )

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Run a logging step; an exception in it is reported and swallowed (the user's own
        exception, from :meth:`call`, passes through). Warnings raised meanwhile are logged
        (at debug level), not shown."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = _warning_to_log
                yield
        except _OriginalFailed:
            raise
        except Exception as exc:
            self.report(what, exc)

    # -- logging helpers ---------------------------------------------------------------------
    def log_params(self, params: Mapping[str, Any], run_id: str | None = None) -> None:
        """Log params (values as strings, MLflow's truncation) in batches of 100."""
        items = [Param(k, v) for k, v in param_strings(params).items()]
        target = run_id or self.run_id
        for start in range(0, len(items), _PARAMS_PER_BATCH):
            chunk = items[start : start + _PARAMS_PER_BATCH]
            self.client.log_batch(target, params=chunk, synchronous=True)

    def set_tags(self, tags: Mapping[str, Any], run_id: str | None = None) -> None:
        """Set tags (values as strings, MLflow's truncation)."""
        items = [RunTag(k, v) for k, v in tag_strings(tags).items()]
        self.client.log_batch(run_id or self.run_id, tags=items, synchronous=True)

    def log_metrics(
        self,
        metrics: Mapping[str, float],
        step: int = 0,
        *,
        model_id: str | None = None,
        dataset: Dataset | None = None,
        run_id: str | None = None,
    ) -> None:
        """Log metrics at one step, with the model and dataset they were computed for."""
        now = int(time.time() * 1000)
        name = dataset.name if dataset is not None else None
        digest = dataset.digest if dataset is not None else None
        points = [
            Metric(_truncate(str(k), MAX_KEY_LENGTH), float(v), now, step, name, digest, model_id)
            for k, v in metrics.items()
        ]
        self.log_points(points, run_id)

    def log_points(self, points: list[Metric], run_id: str | None = None) -> None:
        """Log metric points in batches of 1,000."""
        target = run_id or self.run_id
        for start in range(0, len(points), _METRICS_PER_BATCH):
            chunk = points[start : start + _METRICS_PER_BATCH]
            self.client.log_batch(target, metrics=chunk, synchronous=True)


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def param_strings(params: Mapping[str, Any]) -> dict[str, str]:
    """Params as strings, with MLflow's truncation (for a logged model's params)."""
    return {
        _truncate(str(k), MAX_KEY_LENGTH): _truncate(str(v), MAX_PARAM_VALUE_LENGTH)
        for k, v in params.items()
    }


def tag_strings(tags: Mapping[str, Any]) -> dict[str, str]:
    """Tags as strings, with MLflow's truncation."""
    return {
        _truncate(str(k), MAX_KEY_LENGTH): _truncate(str(v), MAX_TAG_VALUE_LENGTH)
        for k, v in tags.items()
    }


def _warning_to_log(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    _logger.debug("%s: %s (%s:%s)", category.__name__, message, filename, lineno)


Body = Callable[..., Any]


def safe_patch(flavor: str, owner: Any, name: str, body: Body, *, manage_run: bool = True) -> None:
    """Patch ``owner.name`` with an autologging session running
    ``body(session, *args, **kwargs)``; ``body`` must call ``session.call(...)`` once to run
    the user's function and return its result (see the module's docstring)."""

    def make_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def autologged(*args: Any, **kwargs: Any) -> Any:
            config = _configs.get(flavor)
            if config is None or _state.depth > 0:
                return original(*args, **kwargs)
            if config.exclusive and fluent.active_run() is not None:
                return original(*args, **kwargs)
            _state.depth += 1
            try:
                return _run_session(flavor, config, original, body, manage_run, args, kwargs)
            finally:
                _state.depth -= 1

        return autologged

    patch(flavor, owner, name, make_wrapper)


def _run_session(
    flavor: str,
    config: AutologConfig,
    original: Callable[..., Any],
    body: Body,
    manage_run: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    started = False
    if manage_run and fluent.active_run() is None:
        try:
            fluent.start_run(tags={**config.extra_tags, MLFLOW_AUTOLOGGING: flavor})
            started = True
        except Exception as exc:
            if not config.silent:
                _logger.warning("%s autologging could not start a run: %s", flavor, exc)
            return original(*args, **kwargs)
    try:
        session = Session(flavor, config, original)
    except Exception as exc:
        if not config.silent:
            _logger.warning("%s autologging could not start: %s", flavor, exc)
        if started:
            with contextlib.suppress(Exception):
                fluent.end_run()
        return original(*args, **kwargs)
    status = "FINISHED"
    error: BaseException | None = None
    try:
        try:
            return body(session, *args, **kwargs)
        except _OriginalFailed:
            raise
        except Exception as exc:
            session.report("log this call", exc)
            if session.called:
                return session.result
        return session.call(*args, **kwargs)
    except _OriginalFailed as failed:
        error = failed.error
        status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
    except BaseException:  # an interrupt while autologging
        status = "KILLED"
        raise
    finally:
        if started:
            _end_run(session, status)
    assert error is not None
    raise error


def _end_run(session: Session, status: str) -> None:
    try:
        fluent.end_run(status)
    except Exception as exc:
        session.report("end its run", exc)
