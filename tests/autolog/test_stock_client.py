"""The stock ``mlflow`` client's own ``mlflow.xgboost.autolog()`` against ``trackline server``:
the notes' autologged ``xgb.train``, logged by MLflow 3.x through trackline's REST API (the
logged model created first, metrics carrying its id, run inputs, artifacts) and read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import xgboost as xgb
from tests.compat.conftest import (  # noqa: F401 - fixtures, used by name
    _restore_environ,
    start_trackline_server,
    stock_mlflow,
    trackline_server,
)

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]


@pytest.fixture
def autologging(stock_mlflow: ModuleType) -> Iterator[ModuleType]:  # noqa: F811
    """The stock client with XGBoost autologging on (and off, unpatched, afterwards)."""
    stock_mlflow.xgboost.autolog(silent=True)
    try:
        yield stock_mlflow
    finally:
        stock_mlflow.xgboost.autolog(disable=True)


def test_mlflows_autolog_against_trackline_server(autologging: ModuleType, tmp_path: Path) -> None:
    mlflow = autologging
    mlflow.set_experiment("stock-autolog")
    rng = np.random.default_rng(0)
    x, x_val = rng.normal(size=(200, 4)), rng.normal(size=(60, 4))
    weights = np.array([1.0, -2.0, 0.5, 3.0])
    train = xgb.DMatrix(x, label=x @ weights)
    valid = xgb.DMatrix(x_val, label=x_val @ weights)

    booster = xgb.train(
        params={"learning_rate": 0.3, "max_depth": 3, "objective": "reg:squarederror", "seed": 42},
        dtrain=train,
        num_boost_round=1000,
        evals=[(valid, "validation")],
        early_stopping_rounds=10,
        verbose_eval=False,
    )

    run = mlflow.last_active_run()
    client = mlflow.MlflowClient()
    run = client.get_run(run.info.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["max_depth"] == "3"
    assert run.data.params["early_stopping_rounds"] == "10"
    rounds = booster.num_boosted_rounds()
    history = client.get_metric_history(run.info.run_id, "validation-rmse")
    assert [m.step for m in history] == [*range(rounds), rounds]
    assert run.data.metrics["best_iteration"] == booster.best_iteration
    paths = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"feature_importance_weight.json", "feature_importance_weight.png"} <= paths
    local = client.download_artifacts(
        run.info.run_id, "feature_importance_weight.json", str(tmp_path)
    )
    assert json.loads(Path(local).read_text()) == booster.get_score(importance_type="weight")

    (output,) = run.outputs.model_outputs
    model = client.get_logged_model(output.model_id)
    assert model.status == mlflow.entities.LoggedModelStatus.READY
    loaded = mlflow.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_allclose(loaded.predict(valid), booster.predict(valid))
