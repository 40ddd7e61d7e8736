"""``trackline.autolog()``: every installed integration at once, enabled on import for
libraries not imported yet, without importing any framework itself."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import types
from pathlib import Path

import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression

import trackline
import trackline as mlflow
from trackline.autolog import hooks

X = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]]
Y = [1.0, 1.0, 2.0, 3.0]


def _integrations() -> list[str]:
    runs = mlflow.search_runs(output_format="list")
    return sorted(r.data.tags["mlflow.autologging"] for r in runs)


def test_the_module_is_callable_and_its_integrations_are_submodules() -> None:
    assert isinstance(trackline.autolog, types.ModuleType)
    assert callable(trackline.autolog)
    assert trackline.autolog.sklearn.FLAVOR_NAME == "sklearn"
    assert trackline.autolog.xgboost.FLAVOR_NAME == "xgboost"
    assert "autolog" in trackline.__all__


def test_autolog_enables_every_integration(sqlite_tracking: str) -> None:
    mlflow.autolog(log_models=False)
    LinearRegression().fit(X, Y)
    xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=Y), 3)
    assert _integrations() == ["sklearn", "xgboost"]


def test_disable_and_exclude(sqlite_tracking: str) -> None:
    original = xgb.train
    mlflow.autolog(log_models=False, exclude_flavors=["sklearn"])
    LinearRegression().fit(X, Y)
    xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=Y), 3)
    assert _integrations() == ["xgboost"]
    mlflow.autolog(disable=True)
    assert xgb.train is original
    xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=Y), 3)
    assert _integrations() == ["xgboost"]


def test_flavor_settings_are_passed_on(sqlite_tracking: str) -> None:
    mlflow.autolog(log_models=False, extra_tags={"team": "ml"})
    LinearRegression().fit(X, Y)
    (run,) = mlflow.search_runs(output_format="list")
    assert run.outputs.model_outputs == []
    assert run.data.tags["team"] == "ml"


def test_autolog_imports_no_framework_and_patches_on_import(tmp_path: Path) -> None:
    code = """
import json, sys
import trackline
trackline.autolog()
before = sorted(m for m in ("sklearn", "xgboost", "matplotlib") if m in sys.modules)
import xgboost
print(json.dumps({"before": before, "patched": hasattr(xgboost.train, "__trackline_original__"),
                  "loader": type(xgboost.__loader__).__name__}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"before": [], "patched": True, "loader": "SourceFileLoader"}


def test_import_hooks_run_once_and_never_break_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "hooked_lib.py").write_text("VALUE = 42\n")
    (tmp_path / "broken_hook_lib.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("hooked_lib", "broken_hook_lib"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    seen: list[int] = []

    def fail(module: types.ModuleType) -> None:
        raise RuntimeError("no")

    hooks.when_imported("hooked_lib", lambda module: seen.append(module.VALUE))
    hooks.when_imported("broken_hook_lib", fail)
    import hooked_lib  # type: ignore[import-not-found]

    with caplog.at_level(logging.WARNING, logger="trackline.autolog"):
        import broken_hook_lib  # type: ignore[import-not-found]

    assert seen == [42]
    assert hooked_lib.VALUE == 42
    assert broken_hook_lib.VALUE == 7
    assert any("broken_hook_lib" in r.getMessage() for r in caplog.records)
    hooks.when_imported("hooked_lib", lambda module: seen.append(-1))  # already imported
    assert seen == [42, -1]
