"""XGBoost autologging (``trackline.xgboost.autolog()``), with MLflow's names.

``xgboost.train`` is patched. A call logs, to the active run or to a run it starts:

* the booster's params and ``train``'s own arguments (``num_boost_round``,
  ``early_stopping_rounds``, ``maximize``, ``verbose_eval``, ``custom_metric``);
* the training set (context ``train``) and each evaluation set (context ``eval``, named after
  it) as run inputs, when small enough to describe cheaply;
* every evaluation metric of every iteration as metric history, ``<eval name>-<metric>``
  (``validation-rmse``) at step = iteration, in batches of 1,000 points (and at least every
  5 seconds), never one request per iteration; the batches are stored by the tracking
  client's background writer while training goes on (the training loop never waits for the
  store), and all of them before ``train`` returns;
* with ``early_stopping_rounds``: ``stopped_iteration`` and ``best_iteration``, and the best
  iteration's metrics again at step = number of iterations;
* feature importance per ``importance_types`` (default ``["weight"]``) as
  ``feature_importance_<type>.json`` and a bar chart ``feature_importance_<type>.png``
  (needs matplotlib, the ``plots`` extra; skipped with a debug message without it);
* the booster as the logged model ``model`` (``log_models``; created before training so the
  per-iteration metrics carry its id, finalized after), with a signature inferred from the
  first rows of the training data when the ``DMatrix`` was built after ``autolog()``.

The scikit-learn API's ``fit`` (``XGBRegressor``, ``XGBClassifier``, ``XGBRanker``, the
random forests) logs the same: the params ``train`` receives (``get_xgb_params()`` with
``num_boost_round`` and ``early_stopping_rounds``), the ``estimator_name`` and
``estimator_class`` tags, the training and ``eval_set`` data (``validation_<i>``), the
evaluation history as ``validation_<i>-<metric>`` (read after training), early stopping,
importance, and the estimator itself as the logged model.

Nothing is left running when the patched call returns: everything it promises is stored and
readable.
"""

from __future__ import annotations

import functools
import inspect
import time
import types
from collections.abc import Callable
from copy import deepcopy
from typing import TYPE_CHECKING, Any

from trackline.autolog import importance, patching
from trackline.autolog.datasets import dataset_input, describe
from trackline.autolog.patching import AutologConfig, Session
from trackline.entities import Dataset, LoggedModelStatus, Metric
from trackline.exceptions import InvalidParameterValue
from trackline.tracking import context

if TYPE_CHECKING:
    from trackline.tracking.async_logging import RunOperations

__all__ = ["FLAVOR_NAME", "autolog"]

FLAVOR_NAME = "xgboost"
INPUT_EXAMPLE_ROWS = 5
#: ``xgboost.train`` arguments that are not logged as params (data, functions, state).
UNLOGGED_ARGUMENTS = frozenset(
    {
        "params",
        "dtrain",
        "evals",
        "obj",
        "feval",
        "evals_result",
        "xgb_model",
        "callbacks",
        "learning_rates",
    }
)
_POINTS_PER_BATCH = 1000
_FLUSH_SECONDS = 5.0
_MAX_DATASET_VALUES = 5_000_000
_EXAMPLE_ATTRIBUTE = "_trackline_input_example"
#: The scikit-learn API's estimators (``xgboost.sklearn``), whose ``fit`` is patched.
_ESTIMATORS = (
    "XGBModel",
    "XGBRegressor",
    "XGBClassifier",
    "XGBRanker",
    "XGBRFRegressor",
    "XGBRFClassifier",
)


def autolog(
    importance_types: list[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "ubj",
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Enable (or with ``disable=True`` disable and unpatch) XGBoost autologging (see the
    module's docstring). ``disable_for_unsupported_versions`` is accepted and ignored."""
    import xgboost

    patching.revert(FLAVOR_NAME)
    if disable:
        patching.configure(FLAVOR_NAME, None)
        return
    if extra_tags is not None and not isinstance(extra_tags, dict):
        raise InvalidParameterValue(
            f"Invalid `extra_tags` type: expecting dictionary, received "
            f"`{type(extra_tags).__name__}`"
        )
    tags = {k: v for k, v in (extra_tags or {}).items() if k != patching.MLFLOW_AUTOLOGGING}
    config = AutologConfig(
        log_models=log_models,
        log_datasets=log_datasets,
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        exclusive=exclusive,
        silent=silent,
        registered_model_name=registered_model_name,
        extra_tags=patching.tag_strings(tags),
        options={
            "importance_types": ["weight"] if importance_types is None else list(importance_types),
            "model_format": model_format,
        },
    )
    patching.safe_patch(FLAVOR_NAME, xgboost, "train", _train)
    patching.patch(FLAVOR_NAME, xgboost.DMatrix, "__init__", _remember_example)
    for estimator in _ESTIMATORS:
        cls = getattr(xgboost.sklearn, estimator, None)
        if cls is not None and isinstance(inspect.getattr_static(cls, "fit"), types.FunctionType):
            patching.safe_patch(FLAVOR_NAME, cls, "fit", _fit)
    patching.configure(FLAVOR_NAME, config)


def _remember_example(original: Any) -> Any:
    """``DMatrix.__init__`` keeping the first rows of its data (for the model's signature
    and input example; a DMatrix cannot give them back)."""

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        config = patching.get_config(FLAVOR_NAME)
        if config is None or not config.log_models:
            return
        if not (config.log_model_signatures or config.log_input_examples):
            return
        data = args[0] if args else kwargs.get("data")
        try:
            if data is not None and not isinstance(data, (str, bytes)):
                setattr(self, _EXAMPLE_ATTRIBUTE, deepcopy(data[:INPUT_EXAMPLE_ROWS]))
        except Exception:  # data that cannot be sliced: no example, no signature
            pass

    return init


@functools.cache
def _recorder_class() -> type:
    import xgboost

    class Recorder(xgboost.callback.TrainingCallback):
        """Hands each iteration's evaluation results to a :class:`_MetricSink`."""

        def __init__(self, sink: _MetricSink) -> None:
            super().__init__()
            self.sink = sink

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            self.sink.record(epoch, evals_log)
            return False  # never stop training

    return Recorder


class _MetricSink:
    """Each iteration's evaluation results, handed to the tracking client's background
    writer in batches (1,000 points, or what 5 seconds gathered) so that storing them runs
    while XGBoost trains instead of between its iterations. An iteration only appends plain
    floats to lists (no object per point, so no garbage-collector work while training);
    :meth:`finish` hands over the rest and waits until every point is stored."""

    def __init__(self, session: Session, model_id: str | None) -> None:
        self.session = session
        self.model_id = model_id
        #: Per ``(data name, metric name)``: the values of the iterations since ``first``.
        self.columns: dict[str, dict[str, list[float | None]]] = {}
        #: ``(key, first iteration, values)`` of each metric, in the order they appeared.
        self.series: list[tuple[str, int, list[float | None]]] = []
        self.steps: list[int] = []
        self.timestamps: list[int] = []
        self.sent = 0  # iterations handed to the writer so far
        self.handles: list[RunOperations] = []
        self.failed = False
        self._deadline = time.monotonic() + _FLUSH_SECONDS

    @property
    def iterations(self) -> int:
        """How many iterations were recorded."""
        return len(self.steps)

    def row(self, iteration: int) -> dict[str, float]:
        """The metrics of the ``iteration``-th recorded iteration (0-based)."""
        out: dict[str, float] = {}
        for key, first, values in self.series:
            value = _at(values, first, iteration)
            if value is not None:
                out[key] = value
        return out

    def record(self, epoch: int, evals_log: Any) -> None:
        if self.failed:
            return
        try:
            self.steps.append(epoch)
            self.timestamps.append(time.time_ns() // 1_000_000)
            seen = 0
            for data_name, metrics in evals_log.items():
                columns = self.columns.get(data_name)
                if columns is None:
                    columns = self.columns[data_name] = {}
                for metric_name, values in metrics.items():
                    value = values[-1]
                    if isinstance(value, tuple):  # (mean, std) in cross-validation
                        value = value[0]
                    column = columns.get(metric_name)
                    if column is None:
                        column = columns[metric_name] = self._add(data_name, metric_name)
                    column.append(float(value))
                    seen += 1
            if seen != len(self.series):  # a metric missing from this iteration
                for _, first, column in self.series:
                    if len(column) < len(self.steps) - first:
                        column.append(None)
            pending = (len(self.steps) - self.sent) * len(self.series)
            if pending >= _POINTS_PER_BATCH or time.monotonic() >= self._deadline:
                self.send()
        except Exception as exc:
            self.failed = True
            self.session.report("log the evaluation metrics", exc)

    def _add(self, data_name: str, metric_name: str) -> list[float | None]:
        key = f"{data_name}-{str(metric_name).replace('@', '_at_')}"
        column: list[float | None] = []
        self.series.append((key, len(self.steps) - 1, column))
        return column

    def send(self) -> None:
        """Queue the points of the iterations not sent yet for the background writer."""
        start, end = self.sent, len(self.steps)
        self.sent = end
        self._deadline = time.monotonic() + _FLUSH_SECONDS
        points = []
        for iteration in range(start, end):
            step, timestamp = self.steps[iteration], self.timestamps[iteration]
            for key, first, values in self.series:
                value = _at(values, first, iteration)
                if value is not None:
                    points.append(Metric(key, value, timestamp, step, None, None, self.model_id))
        if points:
            handle = self.session.client.log_batch(
                self.session.run_id, metrics=points, synchronous=False
            )
            if handle is not None:
                self.handles.append(handle)

    def finish(self) -> None:
        """Send the rest and wait until every point is stored; raise the first error (once
        every batch is waited for, so that no error is left for the run's end to raise)."""
        self.send()
        handles, self.handles = self.handles, []
        error: Exception | None = None
        for handle in handles:
            try:
                handle.wait()
            except Exception as exc:
                error = error or exc
        if error is not None:
            raise error


def _at(values: list[float | None], first: int, iteration: int) -> float | None:
    index = iteration - first
    return values[index] if 0 <= index < len(values) else None


def _matrix_dataset(matrix: Any, name: str | None) -> Dataset | None:
    rows, cols = matrix.num_row(), matrix.num_col()
    if rows * cols > _MAX_DATASET_VALUES:
        return None
    return describe(matrix.get_data(), None, name)


def _log_datasets(session: Session, dtrain: Any, evals: Any) -> Dataset | None:
    inputs = []
    dataset = _matrix_dataset(dtrain, None) if dtrain is not None else None
    if dataset is not None:
        inputs.append(dataset_input(dataset, "train"))
    for matrix, name in evals or ():
        described = _matrix_dataset(matrix, str(name))
        if described is not None:
            inputs.append(dataset_input(described, "eval"))
    if inputs:
        session.client.log_inputs(session.run_id, inputs)
    return dataset


def _train(session: Session, *args: Any, **kwargs: Any) -> Any:
    config = session.config
    signature = inspect.signature(session.original)
    bound = signature.bind(*args, **kwargs)
    given = bound.arguments
    dataset: Dataset | None = None
    model_id: str | None = None
    with session.guard("log the params"):
        params = dict(given.get("params") or {})
        for name, parameter in signature.parameters.items():
            if name not in UNLOGGED_ARGUMENTS:
                params[name] = given.get(name, parameter.default)
        session.log_params(params)
    if config.log_datasets:
        with session.guard("log the datasets"):
            dataset = _log_datasets(session, given.get("dtrain"), given.get("evals"))
    if config.log_models:
        with session.guard("create the logged model"):
            run_params = session.client.get_run(session.run_id).data.params
            model_id = session.client.create_logged_model(
                session.experiment_id,
                "model",
                session.run_id,
                tags=context.resolve_tags(),
                params=patching.param_strings(run_params),
            ).model_id
    sink = _MetricSink(session, model_id)
    with session.guard("add its callback"):
        callbacks = list(given.get("callbacks") or [])
        callbacks.append(_recorder_class()(sink))
        given["callbacks"] = callbacks
    try:
        booster = session.call(*bound.args, **bound.kwargs)
    except BaseException:
        with session.guard("log the evaluation metrics"):
            sink.finish()
        if model_id is not None:
            with session.guard("mark the model failed"):
                session.client.finalize_logged_model(model_id, LoggedModelStatus.FAILED)
        raise
    with session.guard("log the evaluation metrics"):
        sink.finish()
    if config.log_models:
        example = getattr(given.get("dtrain"), _EXAMPLE_ATTRIBUTE, None)
        _log_model(session, booster, example, model_id)
    if given.get("early_stopping_rounds"):
        _log_early_stopping(session, booster, sink.iterations, sink.row, model_id, dataset)
    importance.log_importance(session, booster)
    return booster


def _log_early_stopping(
    session: Session,
    model: Any,
    iterations: int,
    row: Callable[[int], dict[str, float]],
    model_id: str | None,
    dataset: Dataset | None,
) -> None:
    """``stopped_iteration``, ``best_iteration`` and, at step = ``iterations``, the metrics
    of the best iteration (``row(i)``: those of the i-th iteration)."""
    if not iterations:
        return
    with session.guard("log the early-stopping metrics"):
        best = int(model.best_iteration)
        session.log_metrics(
            {"stopped_iteration": iterations - 1, "best_iteration": best},
            model_id=model_id,
            dataset=dataset,
        )
        session.log_metrics(row(best), step=iterations, model_id=model_id, dataset=dataset)


def _describe_sets(session: Session, x: Any, y: Any, eval_set: Any) -> Dataset | None:
    inputs = []
    dataset = describe(x, y)
    if dataset is not None:
        inputs.append(dataset_input(dataset, "train"))
    for index, (x_eval, y_eval) in enumerate(eval_set or ()):
        described = describe(x_eval, y_eval, f"validation_{index}")
        if described is not None:
            inputs.append(dataset_input(described, "eval"))
    if inputs:
        session.client.log_inputs(session.run_id, inputs)
    return dataset


def _fit(session: Session, model: Any, *args: Any, **kwargs: Any) -> Any:
    """``fit`` of the scikit-learn API: the same figures as ``train``, the model logged as
    its estimator class. The evaluation history is read from ``evals_result()`` after
    training and sent in batches."""
    config = session.config
    given = inspect.signature(session.original).bind(model, *args, **kwargs).arguments
    x: Any = given.get("X")
    y: Any = given.get("y")
    eval_set: Any = given.get("eval_set")
    example: Any = None
    dataset: Dataset | None = None
    if config.log_models and (config.log_model_signatures or config.log_input_examples):
        with session.guard("take an input example"):
            example = deepcopy(x[:INPUT_EXAMPLE_ROWS])
    with session.guard("log the params"):
        params = dict(model.get_xgb_params())
        params.update(
            num_boost_round=model.n_estimators, early_stopping_rounds=model.early_stopping_rounds
        )
        session.log_params(params)
    with session.guard("set the estimator's tags"):
        cls = type(model)
        session.set_tags(
            {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}
        )
    if config.log_datasets:
        with session.guard("log the datasets"):
            dataset = _describe_sets(session, x, y, eval_set)
    result = session.call(model, *args, **kwargs)
    model_id = _log_model(session, model, example, None) if config.log_models else None
    history: list[dict[str, float]] = []
    if eval_set:
        with session.guard("log the evaluation metrics"):
            now = int(time.time() * 1000)
            for data_name, metrics in model.evals_result().items():
                for metric_name, values in metrics.items():
                    key = f"{data_name}-{str(metric_name).replace('@', '_at_')}"
                    for step, value in enumerate(values):
                        if step == len(history):
                            history.append({})
                        history[step][key] = float(value)
            session.log_points(
                [
                    Metric(key, value, now, step, None, None, model_id)
                    for step, row in enumerate(history)
                    for key, value in row.items()
                ]
            )
    if model.early_stopping_rounds:
        _log_early_stopping(session, model, len(history), history.__getitem__, model_id, dataset)
    importance.log_importance(session, model)
    return result


def _log_model(session: Session, model: Any, example: Any, model_id: str | None) -> str | None:
    """Log a Booster or an estimator as the logged model ``model`` (into ``model_id`` when
    it was created before training); its id, or None when that failed."""
    import xgboost

    from trackline import xgboost as flavor
    from trackline.models.signature import infer_signature

    config = session.config
    model_signature: Any = False
    if example is not None and config.log_model_signatures:
        with session.guard("infer the model signature"):
            if isinstance(model, xgboost.Booster):
                output = model.predict(xgboost.DMatrix(example))
            else:
                output = model.predict(deepcopy(example))
            model_signature = infer_signature(example, output)
    logged: str | None = None
    with session.guard("log the model"):
        logged = flavor.log_model(
            model,
            name="model",
            model_id=model_id,
            signature=model_signature,
            input_example=example if config.log_input_examples else None,
            model_format=config.options["model_format"],
            registered_model_name=config.registered_model_name,
        ).model_id
    if logged is None and model_id is not None:
        with session.guard("mark the model failed"):
            session.client.finalize_logged_model(model_id, LoggedModelStatus.FAILED)
    return logged
