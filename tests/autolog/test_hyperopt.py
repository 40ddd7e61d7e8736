"""Hyperparameter sweeps with hyperopt, as in the notes, with ``mlflow.xgboost.autolog()`` on:
one run per trial, and a parent run with nested trial runs. The tags the UI groups and labels
runs by (``model``, ``mlflow.parentRunId``) come out right."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from hyperopt.pyll import scope

import trackline as mlflow

MAX_EVALS = 3
SEARCH_SPACE = {
    "max_depth": scope.int(hp.quniform("max_depth", 4, 100, 1)),
    "learning_rate": hp.loguniform("learning_rate", -3, 0),
    "reg_alpha": hp.loguniform("reg_alpha", -5, -1),
    "reg_lambda": hp.loguniform("reg_lambda", -6, -1),
    "min_child_weight": hp.loguniform("min_child_weight", -1, 3),
    "objective": "reg:squarederror",
    "seed": 42,
}


def _data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    return x, x @ np.array([1.0, 2.0, 0.5, -1.0]) + rng.normal(scale=0.2, size=rows)


X_TRAIN, Y_TRAIN = _data(200, 0)
X_VAL, Y_VAL = _data(60, 1)


def _objective(nested: bool) -> Any:
    train = xgb.DMatrix(X_TRAIN, label=Y_TRAIN)
    valid = xgb.DMatrix(X_VAL, label=Y_VAL)

    # The notes' objective; `nested=True` is the parent/child pattern of docs/models.md.
    def objective(params: dict[str, Any]) -> dict[str, Any]:
        with mlflow.start_run(nested=nested):
            mlflow.set_tag("model", "xgboost")
            mlflow.log_params(params)
            booster = xgb.train(
                params=params,
                dtrain=train,
                num_boost_round=1000,
                evals=[(valid, "validation")],
                early_stopping_rounds=5,
                verbose_eval=False,
            )
            y_pred = booster.predict(valid)
            rmse = float(np.sqrt(np.mean((Y_VAL - y_pred) ** 2)))
            mlflow.log_metric("rmse", rmse)
        return {"loss": rmse, "status": STATUS_OK}

    return objective


def _sweep(nested: bool) -> Trials:
    trials = Trials()
    fmin(
        fn=_objective(nested),
        space=SEARCH_SPACE,
        algo=tpe.suggest,
        max_evals=MAX_EVALS,
        trials=trials,
        rstate=np.random.default_rng(42),
        show_progressbar=False,
    )
    return trials


def _check_trial(run: Any) -> None:
    assert run.info.status == "FINISHED"
    assert run.data.tags["model"] == "xgboost"
    assert "mlflow.autologging" not in run.data.tags  # the objective's run, not autolog's
    assert {"rmse", "validation-rmse", "best_iteration", "stopped_iteration"} <= set(
        run.data.metrics
    )
    assert {"max_depth", "learning_rate", "num_boost_round"} <= set(run.data.params)
    assert len(run.outputs.model_outputs) == 1


@pytest.mark.parametrize("backend", ["sqlite", "server"], indirect=True)
def test_one_run_per_trial_as_in_the_notes(backend: str) -> None:
    mlflow.set_experiment("nyc-taxi-experiment")
    mlflow.xgboost.autolog()

    trials = _sweep(nested=False)

    runs = mlflow.search_runs(experiment_names=["nyc-taxi-experiment"], output_format="list")
    assert len(runs) == MAX_EVALS
    for run in runs:
        _check_trial(run)
        assert "mlflow.parentRunId" not in run.data.tags
    best = mlflow.search_runs(
        experiment_names=["nyc-taxi-experiment"],
        filter_string="tags.model = 'xgboost'",
        order_by=["metrics.rmse ASC"],
        max_results=1,
        output_format="list",
    )[0]
    assert best.data.metrics["rmse"] == pytest.approx(min(trials.losses()))


def test_a_parent_run_with_nested_trial_runs(sqlite_tracking: str) -> None:
    mlflow.set_experiment("sweep")
    mlflow.xgboost.autolog()

    with mlflow.start_run(run_name="xgboost-hyperopt") as parent:
        mlflow.set_tag("model", "xgboost")
        trials = _sweep(nested=True)
        best = trials.best_trial["result"]["loss"]
        mlflow.log_metric("best_rmse", best)

    children = mlflow.search_runs(
        experiment_names=["sweep"],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        output_format="list",
    )
    assert len(children) == MAX_EVALS
    for child in children:
        _check_trial(child)
        assert mlflow.get_parent_run(child.info.run_id).info.run_id == parent.info.run_id  # type: ignore[union-attr]
    logged_parent = mlflow.get_run(parent.info.run_id)
    assert logged_parent.data.tags["model"] == "xgboost"
    assert "mlflow.parentRunId" not in logged_parent.data.tags
    assert set(logged_parent.data.metrics) == {"best_rmse"}  # autolog logged to the trials
    assert logged_parent.data.params == {}
    assert logged_parent.data.metrics["best_rmse"] == pytest.approx(min(trials.losses()))
    assert len(mlflow.search_runs(experiment_names=["sweep"], output_format="list")) == 4
