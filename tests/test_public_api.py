"""The public API: every name exported and documented, MLflow's names present, a light import."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import trackline
from trackline.tracking import fluent, search

# What the seed notes and ordinary MLflow tracking code call on the module.
MLFLOW_NAMES = [
    "ActiveRun",
    "MlflowClient",
    "MlflowException",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
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
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_registry_uri",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


def test_all_is_sorted_and_resolves() -> None:
    assert trackline.__all__ == sorted(trackline.__all__)
    assert len(set(trackline.__all__)) == len(trackline.__all__)
    for name in trackline.__all__:
        assert hasattr(trackline, name), name


def test_mlflow_names_are_exported() -> None:
    missing = [n for n in MLFLOW_NAMES if n not in trackline.__all__]
    assert missing == []
    assert trackline.MlflowClient is trackline.TracklineClient


def test_every_fluent_function_is_exported() -> None:
    assert set(fluent.__all__) <= set(trackline.__all__)
    assert set(search.__all__) <= set(trackline.__all__)


@pytest.mark.parametrize("name", [n for n in trackline.__all__ if n != "__version__"])
def test_public_names_are_documented(name: str) -> None:
    obj = getattr(trackline, name)
    assert inspect.getdoc(obj), f"{name} has no docstring"


def test_submodules_load_on_attribute_access() -> None:
    assert trackline.entities.ViewType.ALL == 3  # type: ignore[attr-defined]
    assert trackline.tracking.MlflowClient is trackline.MlflowClient
    with pytest.raises(AttributeError):
        _ = trackline.no_such_module  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = trackline._private  # type: ignore[attr-defined]


def test_import_is_light() -> None:
    code = (
        "import sys, json, trackline; "
        "print(json.dumps(sorted(m for m in ('sqlalchemy', 'pandas', 'numpy', 'httpx', 'yaml')"
        " if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout) == []
