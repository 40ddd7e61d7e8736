"""trackline: ML experiment tracking and model registry with MLflow's API.

``import trackline as mlflow`` runs MLflow code unchanged::

    import trackline as mlflow

    mlflow.set_tracking_uri("sqlite:///mlflow.db")
    mlflow.set_experiment("nyc-taxi-experiment")
    with mlflow.start_run():
        mlflow.log_param("alpha", 0.1)
        mlflow.log_metric("rmse", 6.5)

Importing trackline is light: stores, pandas and numpy load when first needed. Submodules
(``trackline.entities``, ``trackline.sklearn``, ...) load on first attribute access, as
MLflow's do; so does ``trackline.autolog``, a module that is also callable as
``trackline.autolog(...)`` (MLflow's ``mlflow.autolog()``) and imports no framework itself.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from trackline.exceptions import MlflowException, TracklineError
from trackline.tracking.async_logging import RunOperations
from trackline.tracking.client import MlflowClient, TracklineClient
from trackline.tracking.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_run,
    delete_tag,
    end_run,
    flush,
    flush_async_logging,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_run,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_tag,
    set_tags,
    start_run,
)
from trackline.tracking.registry import (
    register_model,
    search_model_versions,
    search_registered_models,
    set_model_version_tag,
)
from trackline.tracking.search import list_experiments, search_experiments, search_runs
from trackline.tracking.uri import (
    get_registry_uri,
    get_tracking_uri,
    is_tracking_uri_set,
    set_registry_uri,
    set_tracking_uri,
)
from trackline.version import __version__

if TYPE_CHECKING:  # at run time the callable module trackline.autolog, loaded on first use
    from trackline.autolog import autolog as autolog

__all__ = [
    "ActiveRun",
    "MlflowClient",
    "MlflowException",
    "RunOperations",
    "TracklineClient",
    "TracklineError",
    "__version__",
    "active_run",
    "autolog",
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
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "last_active_run",
    "list_experiments",
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
    "register_model",
    "search_experiments",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_model_version_tag",
    "set_registry_uri",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


def __getattr__(name: str) -> ModuleType:
    """Load a submodule on first access (``trackline.sklearn``, ``trackline.entities``...)."""
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise
