"""Autologging: log training runs of scikit-learn and XGBoost without logging code.

``trackline.autolog()`` turns on every integration whose library is installed (at once for a
library already imported, on its import otherwise, so it never imports a framework itself);
``trackline.sklearn.autolog()`` and ``trackline.xgboost.autolog()`` turn on one. Each takes
MLflow's arguments: ``log_models``, ``log_datasets``, ``log_input_examples``,
``log_model_signatures``, ``disable``, ``exclusive``, ``silent``, ``extra_tags``...

========================  ===================================================================
integration               what a patched call logs
========================  ===================================================================
:mod:`.sklearn`           ``fit`` (``fit_transform``, ``fit_predict``) of estimators and
                          pipelines: params, ``estimator_name``/``estimator_class`` tags,
                          training metrics, the training set as a run input, the model;
                          parameter searches also their best params, ``best_cv_score``, the
                          best estimator and one child run per candidate
:mod:`.xgboost`           ``xgboost.train``: params, every evaluation metric per iteration,
                          early-stopping figures, feature importance (JSON and PNG), the model
========================  ===================================================================

A run is started when none is active and ended after the call. Autologging never breaks the
user's code: its own failures are logged (unless ``silent``) and the training result is
returned as if it were off. ``disable=True`` puts the libraries' original functions back.

The module is callable: ``trackline.autolog(...)`` is :func:`autolog`.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from types import ModuleType
from typing import Any

from trackline.autolog import hooks

__all__ = ["INTEGRATIONS", "autolog"]

#: Integration (its module in this package) -> the library it patches.
INTEGRATIONS: dict[str, str] = {"sklearn": "sklearn", "xgboost": "xgboost"}

_logger = logging.getLogger("trackline.autolog")


def _enable(flavor: str, settings: dict[str, Any]) -> None:
    integration = importlib.import_module(f"trackline.autolog.{flavor}")
    integration.autolog(**settings)


def _hook(flavor: str, settings: dict[str, Any]) -> hooks.Callback:
    def enable(module: ModuleType) -> None:
        try:
            _enable(flavor, settings)
        except Exception as exc:  # one integration failing leaves the others on
            if not settings.get("silent"):
                _logger.warning("Could not enable %s autologging: %s", flavor, exc)

    return enable


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
    exclude_flavors: list[str] | None = None,
) -> None:
    """Enable (or, with ``disable=True``, disable) autologging for every installed library
    that has an integration (:data:`INTEGRATIONS`), except ``exclude_flavors``.

    Libraries not imported yet are enabled when they are imported. ``log_traces`` and
    ``disable_for_unsupported_versions`` are accepted for MLflow's sake and ignored.
    """
    settings: dict[str, Any] = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "disable": disable,
        "exclusive": exclusive,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    excluded = set(exclude_flavors or ())
    for flavor, library in INTEGRATIONS.items():
        if flavor in excluded:
            continue
        if disable:
            hooks.cancel(library)
            if f"trackline.autolog.{flavor}" in sys.modules:
                _enable(flavor, settings)
            continue
        if library not in sys.modules and importlib.util.find_spec(library) is None:
            continue  # not installed
        hooks.cancel(library)
        hooks.when_imported(library, _hook(flavor, settings))


def __getattr__(name: str) -> ModuleType:
    """Load an integration on first access (``trackline.autolog.sklearn``)."""
    if name in INTEGRATIONS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(ModuleType):
    """This package, callable as :func:`autolog` (MLflow's ``mlflow.autolog()``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        autolog(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
