"""The notes' scenario 2 ("a cross-functional team, single data scientist"), as written:

    mlflow server --backend-store-uri sqlite:///backend.db --default-artifact-root ./artifacts_local

here as ``trackline server`` with the same two options. The notes' tracking workflow then
runs twice against it, once with trackline's client (``import trackline as mlflow``) and
once with the stock ``mlflow`` client, in the same experiment. The artifacts must land under
``artifacts_local`` (the clients write there directly: the artifact root is a local folder,
not proxied), and each client must read back what the other wrote.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from .conftest import (
    ServerProcess,
    StartTracklineServer,
    import_stock_mlflow,
    reset_stock_mlflow,
    reset_trackline,
)

pytestmark = [
    # See test_stock_client.py: MLflow's import-time warning about its own `Any` type hints.
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
    pytest.mark.usefixtures("_restore_environ"),
]

EXPERIMENT = "nyc-taxi-experiment"
PARAMS = {
    "train-data-path": "./data/green_tripdata_2021-01.csv",
    "valid-data-path": "./data/green_tripdata_2021-02.csv",
    "alpha": "0.1",
}


@pytest.fixture(scope="module")
def scenario_server(
    tmp_path_factory: pytest.TempPathFactory, start_trackline_server: StartTracklineServer
) -> ServerProcess:
    """``trackline server --backend-store-uri sqlite:///<tmp>/backend.db
    --default-artifact-root <tmp>/artifacts_local``, started in ``<tmp>``."""
    root = tmp_path_factory.mktemp("scenario-2")
    artifacts = root / "artifacts_local"
    options = (
        "--backend-store-uri", f"sqlite:///{root / 'backend.db'}",
        "--default-artifact-root", str(artifacts),
    )  # fmt: skip
    return start_trackline_server(root, options, artifacts)


def _data() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    return x[:300], y[:300], x[300:], y[300:]


def notes_workflow(mlflow: ModuleType, tracking_uri: str) -> str:
    """The notes' tracking code (a Lasso with a preprocessor, both pickled and logged as
    artifacts), written against ``mlflow`` whichever package that is; returns the run id.
    Runs in the current folder, as a notebook would (``models/`` is created there)."""
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    x_train, y_train, x_val, y_val = _data()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(EXPERIMENT)
    Path("models").mkdir(exist_ok=True)

    with mlflow.start_run() as run:
        mlflow.set_tag("developer", "cristian")
        mlflow.log_param("train-data-path", "./data/green_tripdata_2021-01.csv")
        mlflow.log_param("valid-data-path", "./data/green_tripdata_2021-02.csv")

        alpha = 0.1
        mlflow.log_param("alpha", alpha)

        dv = StandardScaler().fit(x_train)
        lr = Lasso(alpha)
        lr.fit(dv.transform(x_train), y_train)

        y_pred = lr.predict(dv.transform(x_val))
        rmse = float(np.sqrt(np.mean((y_val - y_pred) ** 2)))
        mlflow.log_metric("rmse", rmse)

        with open("models/lin_reg.bin", "wb") as f_out:
            pickle.dump((dv, lr), f_out)
        mlflow.log_artifact(local_path="models/lin_reg.bin", artifact_path="models_pickle")

        with open("models/preprocessor.b", "wb") as f_out:
            pickle.dump(dv, f_out)
        mlflow.log_artifact("models/preprocessor.b", artifact_path="preprocessor")
    return str(run.info.run_id)


def _check_run(client: Any, run_id: str, experiment_id: str, dst: Path) -> None:
    """What the notes read back: the run's data, and the pickled preprocessor and model
    through ``client.download_artifacts`` (which must predict like a fresh fit)."""
    run = client.get_run(run_id)
    assert run.info.experiment_id == experiment_id
    assert run.info.status == "FINISHED"
    assert run.data.params == PARAMS
    assert run.data.tags["developer"] == "cristian"

    x_train, y_train, x_val, y_val = _data()
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x_train)
    expected = Lasso(0.1).fit(scaler.transform(x_train), y_train).predict(scaler.transform(x_val))
    assert run.data.metrics["rmse"] == pytest.approx(
        float(np.sqrt(np.mean((y_val - expected) ** 2)))
    )

    dst.mkdir()
    local = client.download_artifacts(run_id=run_id, path="preprocessor", dst_path=str(dst))
    assert Path(local) == dst / "preprocessor"
    with open(dst / "preprocessor" / "preprocessor.b", "rb") as f_in:
        dv = pickle.load(f_in)
    local = client.download_artifacts(run_id, "models_pickle", str(dst))
    assert Path(local) == dst / "models_pickle"
    with open(dst / "models_pickle" / "lin_reg.bin", "rb") as f_in:
        dv_again, lr = pickle.load(f_in)
    assert np.allclose(dv_again.transform(x_val), dv.transform(x_val))
    assert np.allclose(lr.predict(dv.transform(x_val)), expected)


def test_scenario_2_both_clients_write_and_read_each_other(
    scenario_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trackline

    artifacts_local = scenario_server.artifacts
    monkeypatch.chdir(tmp_path)

    try:
        trackline_run = notes_workflow(trackline, scenario_server.url)
    finally:
        reset_trackline()
    mlflow = import_stock_mlflow()
    try:
        stock_run = notes_workflow(mlflow, scenario_server.url)
        stock_client = mlflow.MlflowClient(scenario_server.url)
        experiment = stock_client.get_experiment_by_name(EXPERIMENT)
        assert experiment.artifact_location == (artifacts_local / experiment.experiment_id).as_uri()
        # The stock client reads the run trackline's client wrote.
        _check_run(stock_client, trackline_run, experiment.experiment_id, tmp_path / "by-mlflow")
        runs = stock_client.search_runs([experiment.experiment_id], order_by=["start_time ASC"])
        assert [r.info.run_id for r in runs] == [trackline_run, stock_run]
    finally:
        reset_stock_mlflow(mlflow)

    trackline.set_tracking_uri(scenario_server.url)
    try:
        # trackline's client reads the run the stock client wrote.
        tl_client = trackline.MlflowClient(scenario_server.url)
        _check_run(tl_client, stock_run, experiment.experiment_id, tmp_path / "by-trackline")
        assert [i.run_id for i in tl_client.list_run_infos(experiment.experiment_id)] == [
            stock_run,
            trackline_run,
        ]
    finally:
        reset_trackline()

    # Both wrote straight into the server's --default-artifact-root, nowhere else.
    for run_id in (trackline_run, stock_run):
        stored = artifacts_local / experiment.experiment_id / run_id / "artifacts"
        assert (stored / "models_pickle" / "lin_reg.bin").is_file()
        assert (stored / "preprocessor" / "preprocessor.b").is_file()
    assert not (scenario_server.root / "mlartifacts").exists()
    assert (scenario_server.root / "backend.db").is_file()


def test_scenario_2_stock_client_logs_and_loads_a_model(
    scenario_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notes' "Model logging" passage in scenario 2: the model files go to
    ``artifacts_local`` too, and load back as a PyFunc model and as an XGBoost model."""
    import xgboost as xgb

    monkeypatch.chdir(tmp_path)
    x_train, y_train, x_val, _ = _data()
    train = xgb.DMatrix(x_train, label=y_train)
    valid = xgb.DMatrix(x_val)
    mlflow = import_stock_mlflow()
    try:
        mlflow.set_tracking_uri(scenario_server.url)
        experiment = mlflow.set_experiment("nyc-taxi-models")
        with mlflow.start_run() as run:
            best_params = {"learning_rate": 0.1, "max_depth": 3, "seed": 42}
            mlflow.log_params(best_params)
            booster = xgb.train(params=best_params, dtrain=train, num_boost_round=10)
            info = mlflow.xgboost.log_model(booster, name="models_mlflow")

        logged_model = f"runs:/{run.info.run_id}/models_mlflow"
        loaded_model = mlflow.pyfunc.load_model(logged_model)
        xgboost_model = mlflow.xgboost.load_model(logged_model)
    finally:
        reset_stock_mlflow(mlflow)

    expected = booster.predict(valid)
    assert np.allclose(loaded_model.predict(x_val), expected)
    assert np.allclose(xgboost_model.predict(valid), expected)
    stored = (
        scenario_server.artifacts
        / experiment.experiment_id
        / "models"
        / info.model_id
        / "artifacts"
    )
    assert (stored / "MLmodel").is_file()
    assert (stored / "model.ubj").is_file()
