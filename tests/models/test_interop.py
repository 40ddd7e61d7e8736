"""Interchangeable models, tested with the real ``mlflow`` package (3.17.2).

* Folders: a model saved by trackline loads with ``mlflow.pyfunc.load_model`` and
  ``mlflow.<flavor>.load_model``, and the reverse, with equal predictions, signatures and
  input examples, for every scikit-learn serialization format, XGBoost Boosters and
  scikit-learn-API models, and custom Python models.
* Logged models: each library logs into its own SQLite store; the other loads the logged
  model's files; an MLflow-saved folder logged as run artifacts (MLflow 2's layout) loads
  from ``runs:/``.
* A tracking server: the stock client logs to ``trackline server`` and trackline loads its
  models by ``runs:/`` and ``models:/``, and the reverse.

MLflow runs in this process; its environment variables are restored after each test so
that they never reach trackline.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.compat.conftest import (  # noqa: F401 - fixtures of the server tests
    ServerProcess,
    import_stock_mlflow,
    reset_stock_mlflow,
    start_trackline_server,
)
from tests.compat.conftest import _restore_environ as _restore_environ
from tests.compat.conftest import trackline_server as trackline_server

import trackline
import trackline.pyfunc
import trackline.sklearn
import trackline.xgboost
from trackline.models import Model, ModelSignature

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
    pytest.mark.filterwarnings(
        "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning:mlflow.models.utils"
    ),
    pytest.mark.filterwarnings("ignore::UserWarning:xgboost.*"),
    # MLflow warns (warnings.warn) when a schema has integer columns; trackline only logs it
    pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer:UserWarning"),
    # MLflow's own SQL store uses a SQLAlchemy option that SQLAlchemy 2.1 deprecates
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]


@pytest.fixture
def mlflow(_restore_environ: None) -> Iterator[ModuleType]:
    """The real ``mlflow`` module, its state reset afterwards."""
    module = import_stock_mlflow()
    try:
        yield module
    finally:
        reset_stock_mlflow(module)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, Any]:
    """Features (a DataFrame of doubles and longs) and a target."""
    rng = np.random.default_rng(7)
    x = pd.DataFrame({"a": rng.normal(size=80), "b": rng.integers(0, 5, 80)})
    y = 2.0 * x["a"] - x["b"] + rng.normal(0, 0.1, 80)
    return x, y.to_numpy()


def _same_signature(mlflow: ModuleType, folder: Path) -> None:
    """MLflow reads the signature trackline reads, field for field."""
    theirs = mlflow.models.Model.load(str(folder)).signature
    ours = Model.load(folder).signature
    assert (theirs is None) == (ours is None)
    if ours is not None:
        assert theirs.to_dict() == ours.to_dict()


# -- folders: trackline -> MLflow ------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["skops", "cloudpickle", "pickle"])
def test_sklearn_saved_by_trackline_loads_in_mlflow(
    mlflow: ModuleType, data: Any, tmp_path: Path, fmt: str
) -> None:
    from sklearn.linear_model import Ridge

    x, y = data
    model = Ridge().fit(x, y)
    folder = tmp_path / "model"
    trackline.sklearn.save_model(model, folder, serialization_format=fmt, input_example=x[:3])
    assert (folder / ("model.skops" if fmt == "skops" else "model.pkl")).is_file()
    expected = model.predict(x)
    np.testing.assert_allclose(mlflow.pyfunc.load_model(str(folder)).predict(x), expected)
    np.testing.assert_allclose(mlflow.sklearn.load_model(str(folder)).predict(x), expected)
    _same_signature(mlflow, folder)
    pd.testing.assert_frame_equal(mlflow.pyfunc.load_model(str(folder)).input_example, x[:3])
    # MLflow enforces trackline's signature too
    with pytest.raises(mlflow.exceptions.MlflowException, match="missing inputs"):
        mlflow.pyfunc.load_model(str(folder)).predict(x[["a"]])


@pytest.mark.parametrize("kind", ["booster", "regressor"])
def test_xgboost_saved_by_trackline_loads_in_mlflow(
    mlflow: ModuleType, data: Any, tmp_path: Path, kind: str
) -> None:
    import xgboost as xgb

    x, y = data
    if kind == "booster":
        model: Any = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), 10)
        expected = model.predict(xgb.DMatrix(x))
    else:
        model = xgb.XGBRegressor(n_estimators=10, max_depth=2).fit(x, y)
        expected = model.predict(x)
    folder = tmp_path / "model"
    trackline.xgboost.save_model(model, folder, input_example=x[:2])
    assert Model.load(folder).flavors["xgboost"]["model_class"] == (
        "xgboost.core.Booster" if kind == "booster" else "xgboost.sklearn.XGBRegressor"
    )
    np.testing.assert_allclose(mlflow.pyfunc.load_model(str(folder)).predict(x), expected)
    loaded = mlflow.xgboost.load_model(str(folder))
    assert type(loaded) is type(model)
    _same_signature(mlflow, folder)


class _Doubler(trackline.pyfunc.PythonModel):
    """A custom model with an artifact (a file holding the factor)."""

    def load_context(self, context: Any) -> None:
        self.factor = float(Path(context.artifacts["factor"]).read_text())

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input * self.factor


def test_python_model_saved_by_trackline_loads_in_mlflow(
    mlflow: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "factor.txt").write_text("2.5")
    folder = tmp_path / "custom"
    frame = pd.DataFrame({"v": [1.0, 2.0]})
    trackline.pyfunc.save_model(
        folder,
        python_model=_Doubler(),
        artifacts={"factor": str(tmp_path / "factor.txt")},
        input_example=frame,
    )
    expected = frame * 2.5
    pd.testing.assert_frame_equal(mlflow.pyfunc.load_model(str(folder)).predict(frame), expected)
    ours = trackline.pyfunc.load_model(str(folder))
    pd.testing.assert_frame_equal(ours.predict(frame), expected)
    assert isinstance(ours.unwrap_python_model(), _Doubler)


# -- folders: MLflow -> trackline ------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["skops", "cloudpickle", "pickle"])
def test_sklearn_saved_by_mlflow_loads_in_trackline(
    mlflow: ModuleType, data: Any, tmp_path: Path, fmt: str
) -> None:
    from sklearn.linear_model import Ridge

    x, y = data
    model = Ridge().fit(x, y)
    folder = tmp_path / "model"
    mlflow.sklearn.save_model(model, str(folder), serialization_format=fmt, input_example=x[:3])
    expected = model.predict(x)
    loaded = trackline.pyfunc.load_model(str(folder))
    np.testing.assert_allclose(loaded.predict(x), expected)
    np.testing.assert_allclose(trackline.sklearn.load_model(str(folder)).predict(x), expected)
    assert isinstance(loaded.metadata.signature, ModelSignature)
    _same_signature(mlflow, folder)
    pd.testing.assert_frame_equal(loaded.input_example, x[:3])
    # an MLmodel written by MLflow is written back unchanged (unknown keys kept)
    before = Model.load(folder).to_dict()
    Model.load(folder).save(tmp_path / "MLmodel.copy")
    assert Model.load(tmp_path / "MLmodel.copy").to_dict() == before
    with pytest.raises(trackline.MlflowException, match="missing inputs"):
        loaded.predict(x[["b"]])


@pytest.mark.parametrize("model_format", ["ubj", "json"])
def test_xgboost_saved_by_mlflow_loads_in_trackline(
    mlflow: ModuleType, data: Any, tmp_path: Path, model_format: str
) -> None:
    import xgboost as xgb

    x, y = data
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), 10)
    folder = tmp_path / "model"
    mlflow.xgboost.save_model(booster, str(folder), model_format=model_format)
    expected = booster.predict(xgb.DMatrix(x))
    np.testing.assert_allclose(trackline.pyfunc.load_model(str(folder)).predict(x), expected)
    loaded = trackline.xgboost.load_model(str(folder))
    np.testing.assert_allclose(loaded.predict(xgb.DMatrix(x)), expected)


def test_python_model_saved_by_mlflow_loads_in_trackline(
    mlflow: ModuleType, tmp_path: Path
) -> None:
    folder = tmp_path / "custom"
    frame = pd.DataFrame({"v": [1.0, 2.0]})

    class Plus(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined, misc]
        def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
            return model_input + 1

    mlflow.pyfunc.save_model(str(folder), python_model=Plus())
    loaded = trackline.pyfunc.load_model(str(folder))
    pd.testing.assert_frame_equal(loaded.predict(frame), frame + 1)


# -- logged models, each library with its own store -----------------------------------------
def test_logged_models_cross_over(
    mlflow: ModuleType, data: Any, tmp_path: Path, sqlite_uri: str
) -> None:
    from sklearn.linear_model import Ridge

    x, y = data
    model = Ridge().fit(x, y)
    expected = model.predict(x)

    trackline.set_tracking_uri(sqlite_uri)
    with trackline.start_run():
        ours = trackline.sklearn.log_model(model, name="model", input_example=x[:2])
    location = trackline.MlflowClient()._sync().get_logged_model(ours.model_id).artifact_location
    np.testing.assert_allclose(mlflow.pyfunc.load_model(location).predict(x), expected)
    np.testing.assert_allclose(mlflow.sklearn.load_model(location).predict(x), expected)
    local = location.removeprefix("file://")  # MLflow's Model.load takes paths, not file URIs
    assert mlflow.models.Model.load(local).model_id == ours.model_id

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run():
        theirs = mlflow.sklearn.log_model(model, name="model", input_example=x[:2])
    their_location = mlflow.MlflowClient().get_logged_model(theirs.model_id).artifact_location
    np.testing.assert_allclose(trackline.pyfunc.load_model(their_location).predict(x), expected)

    # MLflow 2's layout: a model folder among a run's artifacts
    folder = Path(trackline.pyfunc.get_model_dependencies(their_location)).parent
    with trackline.start_run() as run:
        trackline.log_artifacts(str(folder), artifact_path="old_layout")
    loaded = trackline.sklearn.load_model(f"runs:/{run.info.run_id}/old_layout")
    np.testing.assert_allclose(loaded.predict(x), expected)


# -- through trackline server -----------------------------------------------------------------
@pytest.fixture
def on_server(
    trackline_server: ServerProcess,
    mlflow: ModuleType,
) -> tuple[ModuleType, str]:
    """The stock client and trackline, both pointed at ``trackline server``."""
    mlflow.set_tracking_uri(trackline_server.url)
    trackline.set_tracking_uri(trackline_server.url)
    return mlflow, trackline_server.url


def test_stock_client_and_trackline_share_models_on_a_server(
    on_server: tuple[ModuleType, str], data: Any
) -> None:
    import xgboost as xgb

    mlflow, _ = on_server
    x, y = data
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), 10)
    expected = booster.predict(xgb.DMatrix(x))
    experiment = f"interop-{os.urandom(4).hex()}"

    mlflow.set_experiment(experiment)
    with mlflow.start_run() as run:
        mlflow.log_metric("rmse", 0.1)
        theirs = mlflow.xgboost.log_model(booster, name="models_mlflow")
    for uri in (f"runs:/{run.info.run_id}/models_mlflow", theirs.model_uri):
        np.testing.assert_allclose(trackline.pyfunc.load_model(uri).predict(x), expected)
        np.testing.assert_allclose(
            trackline.xgboost.load_model(uri).predict(xgb.DMatrix(x)), expected
        )

    trackline.set_experiment(experiment)
    with trackline.start_run() as ours_run:
        trackline.log_metric("rmse", 0.1)
        ours = trackline.xgboost.log_model(booster, artifact_path="models_trackline")
    for uri in (f"runs:/{ours_run.info.run_id}/models_trackline", ours.model_uri):
        np.testing.assert_allclose(mlflow.pyfunc.load_model(uri).predict(x), expected)
        np.testing.assert_allclose(mlflow.xgboost.load_model(uri).predict(xgb.DMatrix(x)), expected)
    # the stock client sees trackline's logged model as it sees its own
    seen = mlflow.MlflowClient().get_logged_model(ours.model_id)
    assert (seen.name, seen.source_run_id, str(seen.status)) == (
        "models_trackline", ours_run.info.run_id, "READY"
    )  # fmt: skip
    assert [m.key for m in seen.metrics] == ["rmse"]
