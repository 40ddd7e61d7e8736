"""Acceptance: the course notes' code, run with ``import trackline as mlflow``, on SQLite and
PostgreSQL. Each test follows a passage of ``/work/shared/seeds`` (experiment tracking and the
MlflowClient section) with small data (scikit-learn's bundled diabetes set)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trackline as mlflow
from trackline.entities import Metric, ViewType
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from trackline.store import uri as store_uri
from trackline.tracking import MlflowClient, context, fluent


@pytest.fixture(params=["sqlite", "postgres"])
def tracking_uri(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh backend; the working directory is the test's folder (artifacts, models/)."""
    for name in (
        "MLFLOW_TRACKING_URI",
        "TRACKLINE_TRACKING_URI",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_RUN_ID",
        "MLFLOW_ENABLE_ASYNC_LOGGING",
        "TRACKLINE_DEFAULT_ARTIFACT_ROOT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    uri: str = request.getfixturevalue(f"{request.param}_uri")
    fluent._reset()
    context.static_tags.cache_clear()
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()
    fluent._reset()
    mlflow.set_tracking_uri(None)
    store_uri._reset_cache()


@pytest.fixture
def diabetes() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    return x[:300], y[:300], x[300:], y[300:]


def _rmse(y_true: Any, y_pred: Any) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))


def test_manual_lasso_run_with_a_pickled_model(
    tracking_uri: str, diabetes: tuple[Any, Any, Any, Any], tmp_path: Path
) -> None:
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    x_train, y_train, x_val, y_val = diabetes
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("nyc-taxi-experiment")

    with mlflow.start_run():
        mlflow.set_tag("developer", "cristian")
        mlflow.log_param("train-data-path", "./data/green_tripdata_2021-01.csv")
        mlflow.log_param("valid-data-path", "./data/green_tripdata_2021-02.csv")
        alpha = 0.1
        mlflow.log_param("alpha", alpha)
        dv = StandardScaler().fit(x_train)
        lr = Lasso(alpha)
        lr.fit(dv.transform(x_train), y_train)
        y_pred = lr.predict(dv.transform(x_val))
        rmse = _rmse(y_val, y_pred)
        mlflow.log_metric("rmse", rmse)
        os.makedirs("models", exist_ok=True)
        with open("models/lin_reg.bin", "wb") as f_out:
            pickle.dump((dv, lr), f_out)
        mlflow.log_artifact(local_path="models/lin_reg.bin", artifact_path="models_pickle")
        run_id = mlflow.active_run().info.run_id  # type: ignore[union-attr]

    client = MlflowClient(tracking_uri=tracking_uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["developer"] == "cristian"
    assert run.data.params == {
        "train-data-path": "./data/green_tripdata_2021-01.csv",
        "valid-data-path": "./data/green_tripdata_2021-02.csv",
        "alpha": "0.1",
    }
    assert run.data.metrics["rmse"] == pytest.approx(rmse)
    experiment = client.get_experiment_by_name("nyc-taxi-experiment")
    assert experiment is not None
    assert run.info.experiment_id == experiment.experiment_id

    df = mlflow.search_runs(experiment_names=["nyc-taxi-experiment"])
    assert df["run_id"].tolist() == [run_id]
    assert df["metrics.rmse"].iloc[0] == pytest.approx(rmse)

    dst = tmp_path / "downloaded"
    dst.mkdir()
    local = client.download_artifacts(run_id=run_id, path="models_pickle", dst_path=str(dst))
    with open(Path(local) / "lin_reg.bin", "rb") as f_in:
        dv_back, lr_back = pickle.load(f_in)
    assert np.allclose(lr_back.predict(dv_back.transform(x_val)), y_pred)


def test_hyperopt_one_run_per_trial(tracking_uri: str, diabetes: tuple[Any, Any, Any, Any]) -> None:
    import xgboost as xgb
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
    from hyperopt.pyll import scope

    x_train, y_train, x_val, y_val = diabetes
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("nyc-taxi-experiment")
    train = xgb.DMatrix(x_train, label=y_train)
    valid = xgb.DMatrix(x_val, label=y_val)

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        with mlflow.start_run():
            mlflow.set_tag("model", "xgboost")
            mlflow.log_params(params)
            booster = xgb.train(
                params=params,
                dtrain=train,
                num_boost_round=30,
                evals=[(valid, "validation")],
                early_stopping_rounds=5,
                verbose_eval=False,
            )
            y_pred = booster.predict(valid)
            rmse = _rmse(y_val, y_pred)
            mlflow.log_metric("rmse", rmse)
        return {"loss": rmse, "status": STATUS_OK}

    search_space = {
        "max_depth": scope.int(hp.quniform("max_depth", 4, 100, 1)),
        "learning_rate": hp.loguniform("learning_rate", -3, 0),
        "reg_alpha": hp.loguniform("reg_alpha", -5, -1),
        "reg_lambda": hp.loguniform("reg_lambda", -6, -1),
        "min_child_weight": hp.loguniform("min_child_weight", -1, 3),
        "objective": "reg:squarederror",
        "seed": 42,
    }
    trials = Trials()
    fmin(
        fn=objective,
        space=search_space,
        algo=tpe.suggest,
        max_evals=3,
        trials=trials,
        rstate=np.random.default_rng(42),
        show_progressbar=False,
    )
    runs = mlflow.search_runs(filter_string="tags.model = 'xgboost'", output_format="list")
    assert len(runs) == 3 == len(trials.trials)
    losses = sorted(t["result"]["loss"] for t in trials.trials)
    assert sorted(r.data.metrics["rmse"] for r in runs) == pytest.approx(losses)
    for run in runs:
        assert run.info.status == "FINISHED"
        assert run.data.params["objective"] == "reg:squarederror"
        assert set(run.data.params) == set(search_space)
        assert int(run.data.params["max_depth"]) >= 4


def test_client_search_runs_as_in_the_notes(tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.set_experiment("nyc-taxi-experiment")
    assert experiment.experiment_id == "1"
    ids = {}
    for rmse in (8.1, 6.3040, 7.0, 6.7423, 5.5, 6.9047, 6.9213, 12.0):
        with mlflow.start_run() as run:
            mlflow.log_metric("rmse", rmse)
        ids[rmse] = run.info.run_id

    client = MlflowClient(tracking_uri=tracking_uri)
    runs = client.search_runs(
        experiment_ids="1",
        filter_string="metrics.rmse < 7",
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=5,
        order_by=["metrics.rmse ASC"],
    )
    assert [(r.info.run_id, r.data.metrics["rmse"]) for r in runs] == [
        (ids[v], v) for v in (5.5, 6.3040, 6.7423, 6.9047, 6.9213)
    ]
    infos = client.list_run_infos(experiment_id="1")
    assert {i.run_id for i in infos} == set(ids.values())
    # Newest first; runs started in the same millisecond are ordered by run id.
    assert infos == sorted(infos, key=lambda i: (-(i.start_time or 0), i.run_id))


def test_client_experiments_nested_failing_and_download(tracking_uri: str, tmp_path: Path) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    assert [e.name for e in client.list_experiments()] == ["Default"]
    eid = client.create_experiment(name="my-cool-experiment")
    assert {e.name for e in client.list_experiments()} == {"Default", "my-cool-experiment"}
    client.delete_experiment(eid)
    assert [e.name for e in client.list_experiments()] == ["Default"]
    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"

    mlflow.set_experiment("my-cool-experiment")
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        mlflow.log_param("inner", 1)
    child_run = client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id

    started: list[str] = []

    def train() -> None:
        with mlflow.start_run() as failing:
            started.append(failing.info.run_id)
            mlflow.log_metric("loss", float("nan"))
            raise RuntimeError("training diverged")

    with pytest.raises(RuntimeError, match="training diverged"):
        train()
    assert client.get_run(started[0]).info.status == "FAILED"

    (tmp_path / "preprocessor.b").write_bytes(b"preprocessor")
    with mlflow.start_run() as run:
        mlflow.log_artifact("preprocessor.b", artifact_path="models_pickle")
    dst = tmp_path / "dst"
    dst.mkdir()
    path = client.download_artifacts(
        run_id=run.info.run_id, path="models_pickle", dst_path=str(dst)
    )
    assert (Path(path) / "preprocessor.b").read_bytes() == b"preprocessor"


def test_bad_inputs_raise_the_right_codes_and_leave_nothing_partial(tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    eid = client.create_experiment("unique")

    with pytest.raises(MlflowException) as info:
        client.create_experiment("unique")
    assert info.value.error_code == RESOURCE_ALREADY_EXISTS
    assert [e.experiment_id for e in client.list_experiments() if e.name == "unique"] == [eid]

    run_id = client.create_run(eid).info.run_id
    client.log_param(run_id, "alpha", 0.1)
    with pytest.raises(MlflowException) as info:
        client.log_param(run_id, "alpha", 0.2)
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    assert client.get_run(run_id).data.params == {"alpha": "0.1"}

    with pytest.raises(MlflowException) as info:
        client.get_run("0123456789abcdef0123456789abcdef")
    assert info.value.error_code == RESOURCE_DOES_NOT_EXIST

    with pytest.raises(MlflowException) as info:
        client.search_runs(experiment_ids=eid, filter_string="metrics.rmse << 7 OR x")
    assert info.value.error_code == INVALID_PARAMETER_VALUE

    oversized = [Metric("m", float(i), 1000 + i, i) for i in range(1001)]
    with pytest.raises(MlflowException) as info:
        client.log_batch(run_id, metrics=oversized)
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    assert client.get_metric_history(run_id, "m") == []
    assert client.get_run(run_id).data.metrics == {}
