"""scikit-learn autologging (``trackline.sklearn.autolog()``), with MLflow's names.

``fit``, ``fit_transform`` and ``fit_predict`` of scikit-learn's estimators, pipelines and
parameter searches are patched (not those of preprocessing, imputation and feature
extraction/selection, nor ``ColumnTransformer``: data preparation, logged only inside a
pipeline). A patched call logs, to the active run or to a run it starts:

* the params (``get_params(deep=True)``; shallow for parameter searches, whose seed
  estimator's untuned values would mislead) and the tags ``estimator_name`` and
  ``estimator_class``;
* the training set as a run input (context ``train``);
* the fitted estimator as the logged model ``model`` (``log_models``), with a signature
  inferred from the first rows of the training set (``log_model_signatures``) and those rows
  as input example (``log_input_examples``);
* training metrics: for classifiers ``training_precision_score``,
  ``training_recall_score``, ``training_f1_score`` (weighted averages),
  ``training_accuracy_score``, ``training_log_loss`` and ``training_roc_auc`` (with
  ``predict_proba``); for regressors ``training_mean_squared_error``,
  ``training_root_mean_squared_error``, ``training_mean_absolute_error``,
  ``training_r2_score``; for both ``training_score`` (the estimator's ``score``). Each carries
  the dataset and the logged model;
* ``estimator.html``, the estimator's HTML representation;
* for ``GridSearchCV``/``RandomizedSearchCV``: ``best_<param>`` params, ``best_cv_score``, the
  best estimator as the logged model ``best_estimator``, ``cv_results.csv``, and one child
  run (tagged ``mlflow.parentRunId``) per candidate among the ``max_tuning_runs`` best
  (default 5; None for all) with its params and its ``cv_results_`` figures.

Fits nested in a patched fit (a pipeline's steps, a search's candidates) log nothing.
"""

from __future__ import annotations

import inspect
import math
import numbers
import time
import types
from copy import deepcopy
from typing import Any

from trackline.autolog import patching
from trackline.autolog.datasets import dataset_input, describe
from trackline.autolog.patching import AutologConfig, Session
from trackline.entities import Dataset
from trackline.exceptions import InvalidParameterValue
from trackline.tracking import context

__all__ = ["FLAVOR_NAME", "autolog"]

FLAVOR_NAME = "sklearn"
INPUT_EXAMPLE_ROWS = 5
TRAINING_PREFIX = "training_"
_FIT_METHODS = ("fit", "fit_transform", "fit_predict")
_EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
_EXCLUDED_CLASSES = {"sklearn.compose._column_transformer.ColumnTransformer"}


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = "cloudpickle",
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Enable (or with ``disable=True`` disable and unpatch) scikit-learn autologging (see
    the module's docstring). ``log_post_training_metrics`` and
    ``disable_for_unsupported_versions`` are accepted and ignored."""
    patching.revert(FLAVOR_NAME)
    if disable:
        patching.configure(FLAVOR_NAME, None)
        return
    if max_tuning_runs is not None and (
        not isinstance(max_tuning_runs, int) or max_tuning_runs < 0
    ):
        raise InvalidParameterValue(
            f"`max_tuning_runs` must be a non-negative integer or None, got {max_tuning_runs!r}"
        )
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
            "max_tuning_runs": max_tuning_runs,
            "serialization_format": serialization_format,
            "pos_label": pos_label,
        },
    )
    for cls in _estimators_to_patch():
        for method in _FIT_METHODS:
            if isinstance(inspect.getattr_static(cls, method, None), types.FunctionType):
                patching.safe_patch(FLAVOR_NAME, cls, method, _fit)
    patching.configure(FLAVOR_NAME, config)


def _estimators_to_patch() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = {cls for _, cls in all_estimators()} | {GridSearchCV, RandomizedSearchCV, Pipeline}
    return sorted(
        (
            cls
            for cls in classes
            if not cls.__module__.startswith(_EXCLUDED_MODULES)
            and f"{cls.__module__}.{cls.__name__}" not in _EXCLUDED_CLASSES
        ),
        key=lambda c: (len(c.__mro__), c.__module__, c.__name__),
    )


def _is_search(estimator: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    return isinstance(estimator, (GridSearchCV, RandomizedSearchCV))


def _estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}


def _training_data(
    original: Any, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any, Any]:
    """``(X, y, sample_weight)`` as passed to a fit method (None for what was not)."""
    bound = inspect.signature(original).bind_partial(estimator, *args, **kwargs).arguments
    positional = [
        p.name
        for p in inspect.signature(original).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ][1:]
    x = bound.get(positional[0]) if positional else None
    y = bound.get(positional[1]) if len(positional) > 1 else None
    weight = bound.get("sample_weight")
    if weight is None:
        extra = next(
            (v for k, v in bound.items() if k not in positional and isinstance(v, dict)), {}
        )
        weight = extra.get("sample_weight")
    return x, y, weight


def _fit(session: Session, estimator: Any, *args: Any, **kwargs: Any) -> Any:
    config = session.config
    x, y, weight = _training_data(session.original, estimator, args, kwargs)
    search = _is_search(estimator)
    example: Any = None
    dataset: Dataset | None = None
    with session.guard("log the estimator's params"):
        session.log_params(estimator.get_params(deep=not search))
    with session.guard("set the estimator's tags"):
        session.set_tags(_estimator_tags(estimator))
    if config.log_models and (config.log_model_signatures or config.log_input_examples):
        with session.guard("take an input example"):
            example = deepcopy(x[:INPUT_EXAMPLE_ROWS])
    if config.log_datasets:
        with session.guard("log the training dataset"):
            dataset = describe(x, y)
            if dataset is not None:
                session.client.log_inputs(session.run_id, [dataset_input(dataset, "train")])
    result = session.call(estimator, *args, **kwargs)
    _after_fit(session, estimator, x, y, weight, example, dataset)
    return result


def _signature(session: Session, estimator: Any, example: Any) -> Any:
    if example is None or not session.config.log_model_signatures:
        return False
    from trackline.models.signature import infer_signature

    with session.guard("infer the model signature"):
        if hasattr(estimator, "predict"):
            return infer_signature(example, estimator.predict(deepcopy(example)))
        if hasattr(estimator, "transform"):
            return infer_signature(example, estimator.transform(deepcopy(example)))
    return False


def _log_model(
    session: Session, estimator: Any, name: str, example: Any, params: dict[str, Any]
) -> str | None:
    from trackline import sklearn as flavor

    config = session.config
    info = flavor.log_model(
        estimator,
        name=name,
        signature=_signature(session, estimator, example),
        input_example=example if config.log_input_examples else None,
        serialization_format=config.options["serialization_format"],
        registered_model_name=config.registered_model_name if name == "model" else None,
        params=patching.param_strings(params),
    )
    return info.model_id


def _after_fit(
    session: Session,
    estimator: Any,
    x: Any,
    y: Any,
    weight: Any,
    example: Any,
    dataset: Dataset | None,
) -> None:
    config = session.config
    search = _is_search(estimator)
    model_id: str | None = None
    if config.log_models:
        with session.guard("log the model"):
            params = estimator.get_params(deep=not search)
            params.update(
                {f"best_{k}": v for k, v in getattr(estimator, "best_params_", {}).items()}
            )
            model_id = _log_model(session, estimator, "model", example, params)
    with session.guard("compute the training metrics"):
        metrics = training_metrics(estimator, x, y, weight, config.options["pos_label"])
        if metrics:
            session.log_metrics(metrics, model_id=model_id, dataset=dataset)
    with session.guard("save estimator.html"):
        from sklearn.utils import estimator_html_repr

        session.client.log_text(session.run_id, estimator_html_repr(estimator), "estimator.html")
    if search:
        _after_search(session, estimator, example, model_id, dataset)


def _metric(out: dict[str, float], name: str, compute: Any) -> None:
    try:
        value = float(compute())
    except Exception:  # one metric that does not apply leaves the others
        return
    out[TRAINING_PREFIX + name] = value


def training_metrics(
    estimator: Any, x: Any, y: Any, weight: Any = None, pos_label: Any = None
) -> dict[str, float]:
    """The training metrics MLflow's scikit-learn autologging logs for a fitted estimator
    (empty without labels)."""
    if y is None:
        return {}
    from sklearn import metrics as m
    from sklearn.base import is_classifier, is_regressor

    out: dict[str, float] = {}
    if is_classifier(estimator):
        predicted = estimator.predict(x)
        average = {"average": "weighted" if pos_label is None else "binary"}
        if pos_label is not None:
            average["pos_label"] = pos_label
        for name, score in (
            ("precision_score", m.precision_score),
            ("recall_score", m.recall_score),
            ("f1_score", m.f1_score),
        ):
            _metric(out, name, lambda s=score: s(y, predicted, sample_weight=weight, **average))
        _metric(out, "accuracy_score", lambda: m.accuracy_score(y, predicted, sample_weight=weight))
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(x)
            _metric(out, "log_loss", lambda: m.log_loss(y, proba, sample_weight=weight))
            scores = proba[:, 1] if proba.shape[1] == 2 else proba
            _metric(
                out,
                "roc_auc",
                lambda: m.roc_auc_score(
                    y, scores, average="weighted", sample_weight=weight, multi_class="ovo"
                ),
            )
    elif is_regressor(estimator):
        predicted = estimator.predict(x)
        kwargs = {"sample_weight": weight, "multioutput": "uniform_average"}
        _metric(out, "mean_squared_error", lambda: m.mean_squared_error(y, predicted, **kwargs))
        _metric(out, "mean_absolute_error", lambda: m.mean_absolute_error(y, predicted, **kwargs))
        _metric(out, "r2_score", lambda: m.r2_score(y, predicted, **kwargs))
        if "training_mean_squared_error" in out:
            out["training_root_mean_squared_error"] = math.sqrt(out["training_mean_squared_error"])
    if hasattr(estimator, "score"):
        takes_weight = "sample_weight" in inspect.signature(estimator.score).parameters
        if takes_weight and weight is not None:
            _metric(out, "score", lambda: estimator.score(x, y, sample_weight=weight))
        else:
            _metric(out, "score", lambda: estimator.score(x, y))
    return out


def _after_search(
    session: Session, search: Any, example: Any, model_id: str | None, dataset: Dataset | None
) -> None:
    config = session.config
    best_model_id: str | None = None
    best_params: dict[str, Any] = dict(getattr(search, "best_params_", {}) or {})
    if config.log_models and hasattr(search, "best_estimator_"):
        with session.guard("log the best estimator"):
            best = search.best_estimator_
            best_model_id = _log_model(
                session, best, "best_estimator", example, best.get_params(deep=True)
            )
    if hasattr(search, "best_score_"):
        with session.guard("log best_cv_score"):
            session.log_metrics(
                {"best_cv_score": search.best_score_}, model_id=model_id, dataset=dataset
            )
    if best_params:
        with session.guard("log the best params"):
            session.log_params({f"best_{k}": v for k, v in best_params.items()})
    if hasattr(search, "cv_results_"):
        with session.guard("create the child runs of the parameter search"):
            _child_runs(session, search, best_params, best_model_id, dataset)
        with session.guard("save cv_results.csv"):
            import pandas as pd

            csv = pd.DataFrame.from_dict(search.cv_results_).to_csv(index=False)
            session.client.log_text(session.run_id, csv, "cv_results.csv")


def _matches(candidate: dict[str, Any], best: dict[str, Any]) -> bool:
    try:
        return bool(best) and all(k in best and best[k] == v for k, v in candidate.items())
    except Exception:  # values that do not compare (arrays)
        return False


def _child_runs(
    session: Session,
    search: Any,
    best_params: dict[str, Any],
    best_model_id: str | None,
    dataset: Dataset | None,
) -> None:
    import pandas as pd

    results = pd.DataFrame.from_dict(search.cv_results_)
    limit = session.config.options["max_tuning_runs"]
    if limit is not None:
        rank = "rank_test_score"
        if rank not in results.columns:
            rank = next((c for c in results.columns if "rank_test_" in c), rank)
        results = results.nsmallest(limit, rank) if rank in results.columns else results[:limit]
    seed = search.estimator
    base = seed.get_params(deep=not _is_search(seed))
    client = session.client
    parent = client.get_run(session.run_id)
    tags = context.resolve_tags(
        {
            **session.config.extra_tags,
            patching.MLFLOW_AUTOLOGGING: session.flavor,
            context.MLFLOW_PARENT_RUN_ID: session.run_id,
            **_estimator_tags(seed),
        }
    )
    end = int(time.time() * 1000)
    for _, row in results.iterrows():
        child = client.create_run(
            parent.info.experiment_id,
            start_time=parent.info.start_time,
            tags=patching.tag_strings(tags),
        ).info.run_id
        candidate = dict(row.get("params") or {})
        session.log_params({**base, **candidate}, run_id=child)
        figures = {
            str(k): float(v)
            for k, v in row.items()
            if not str(k).startswith(("param", "split"))
            and isinstance(v, numbers.Real)
            and not isinstance(v, bool)
        }
        linked = best_model_id if _matches(candidate, best_params) else None
        session.log_metrics(figures, model_id=linked, dataset=dataset, run_id=child)
        if dataset is not None:
            client.log_inputs(child, [dataset_input(dataset, "train")])
        client.set_terminated(child, end_time=end)
