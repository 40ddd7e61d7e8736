"""The stock ``mlflow`` 3.x client, unchanged, against ``trackline server``.

Every test drives the real ``mlflow`` package (``stock_mlflow``: ``import mlflow`` with
``mlflow.set_tracking_uri(<trackline server>)``) through the notes' tracking workflow and reads
the results back through the same client, so each call crosses the wire both ways. Models
are small and trained on scikit-learn's bundled diabetes set.
"""

from __future__ import annotations

import math
import pickle
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from .conftest import ServerProcess

pytestmark = [
    # Importing mlflow.pyfunc (the flavors load it) makes MLflow infer a schema for its own
    # ResponsesAgent types, which warns about an `Any` hint in them. MLflow silences that in
    # its showwarning hook, which `filterwarnings = error` never reaches. The message starts
    # with an ANSI colour code, hence the leading ".*".
    pytest.mark.filterwarnings(
        "ignore:.*Any type hint is inferred as AnyType:UserWarning:mlflow.types.type_hints"
    ),
]

#: mlflow.models.utils compares a DataFrame's columns with a range() when saving an
#: input_example, which pandas 3 deprecates; MLflow's code, not ours.
_INPUT_EXAMPLE_PANDAS_WARNING = pytest.mark.filterwarnings(
    "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning:mlflow.models.utils"
)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def diabetes() -> tuple[Any, Any]:
    """The diabetes features (a DataFrame) and target."""
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    return x, y


def test_set_experiment_and_nested_runs(stock_mlflow: ModuleType) -> None:
    mlflow = stock_mlflow
    name = _name("nested")
    created = mlflow.set_experiment(name)
    assert mlflow.set_experiment(name).experiment_id == created.experiment_id  # found, not new
    assert created.artifact_location == f"mlflow-artifacts:/{created.experiment_id}"

    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            assert mlflow.active_run().info.run_id == child.info.run_id
        assert mlflow.active_run().info.run_id == parent.info.run_id

    client = mlflow.MlflowClient()
    parent_run = client.get_run(parent.info.run_id)
    child_run = client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert (parent_run.info.run_name, child_run.info.run_name) == ("parent", "child")
    assert parent_run.data.tags["mlflow.runName"] == "parent"
    assert {parent_run.info.status, child_run.info.status} == {"FINISHED"}
    assert parent_run.info.end_time >= parent_run.info.start_time
    assert parent_run.info.experiment_id == created.experiment_id
    assert parent_run.info.artifact_uri == (
        f"mlflow-artifacts:/{created.experiment_id}/{parent.info.run_id}/artifacts"
    )


def test_params_metrics_tags_and_log_batch(stock_mlflow: ModuleType) -> None:
    mlflow = stock_mlflow
    from mlflow.entities import Metric, Param, RunTag

    mlflow.set_experiment(_name("logging"))
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.1)
        mlflow.log_params({"max_depth": 30, "objective": "reg:linear"})
        for step in range(4):
            mlflow.log_metric("rmse", 10.0 - step, step=step)
        mlflow.log_metric("nan_metric", float("nan"))
        mlflow.log_metrics({"mae": 1.5, "r2": 0.25})
        mlflow.set_tag("developer", "cristian")
        mlflow.MlflowClient().log_batch(
            run.info.run_id,
            metrics=[Metric("batch_metric", 7.0, 1_700_000_000_000, 3)],
            params=[Param("batch_param", "b")],
            tags=[RunTag("batch_tag", "t")],
        )

    client = mlflow.MlflowClient()
    data = client.get_run(run.info.run_id).data
    assert data.params == {
        "alpha": "0.1",
        "max_depth": "30",
        "objective": "reg:linear",
        "batch_param": "b",
    }
    assert data.metrics["rmse"] == 7.0  # the latest step
    assert math.isnan(data.metrics["nan_metric"])
    assert (data.metrics["mae"], data.metrics["r2"], data.metrics["batch_metric"]) == (
        1.5,
        0.25,
        7.0,
    )
    assert data.tags["developer"] == "cristian"
    assert data.tags["batch_tag"] == "t"
    assert data.tags["mlflow.user"]
    assert data.tags["mlflow.source.type"] == "LOCAL"

    history = client.get_metric_history(run.info.run_id, "rmse")
    assert [(m.step, m.value) for m in history] == [(0, 10.0), (1, 9.0), (2, 8.0), (3, 7.0)]
    [batch] = client.get_metric_history(run.info.run_id, "batch_metric")
    assert (batch.value, batch.timestamp, batch.step) == (7.0, 1_700_000_000_000, 3)
    [nan_point] = client.get_metric_history(run.info.run_id, "nan_metric")
    assert math.isnan(nan_point.value)


def test_search_runs_filter_order_and_paging(stock_mlflow: ModuleType) -> None:
    mlflow = stock_mlflow
    experiment = mlflow.set_experiment(_name("search"))
    ids = {}
    for i, rmse in enumerate([5.0, 3.0, 4.0, 1.0, 2.0]):
        with mlflow.start_run() as run:
            mlflow.log_param("model", "xgboost" if i % 2 == 0 else "lasso")
            mlflow.log_metric("rmse", rmse)
        ids[rmse] = run.info.run_id

    frame = mlflow.search_runs(
        [experiment.experiment_id],
        filter_string="metrics.rmse < 5 and params.model = 'xgboost'",
        order_by=["metrics.rmse DESC"],
    )
    assert list(frame["run_id"]) == [ids[4.0], ids[2.0]]
    assert list(frame["metrics.rmse"]) == [4.0, 2.0]
    assert set(frame["params.model"]) == {"xgboost"}

    client = mlflow.MlflowClient()
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = client.search_runs(
            [experiment.experiment_id],
            filter_string="metrics.rmse >= 1",
            order_by=["metrics.rmse ASC"],
            max_results=2,
            page_token=token,
        )
        seen += [r.info.run_id for r in page]
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 3
    assert seen == [ids[v] for v in (1.0, 2.0, 3.0, 4.0, 5.0)]


def test_artifacts_log_list_download(
    stock_mlflow: ModuleType, trackline_server: ServerProcess, tmp_path: Path
) -> None:
    mlflow = stock_mlflow
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    experiment = mlflow.set_experiment(_name("artifacts"))
    models = tmp_path / "models"
    models.mkdir()
    scaler = StandardScaler().fit([[1.0], [3.0]])
    with open(models / "lin_reg.bin", "wb") as out:
        pickle.dump((scaler, Lasso(0.1)), out)
    with open(models / "preprocessor.b", "wb") as out:
        pickle.dump(scaler, out)
    with mlflow.start_run() as run:
        mlflow.log_artifact(local_path=str(models / "lin_reg.bin"), artifact_path="models_pickle")
        mlflow.log_artifact(str(models / "preprocessor.b"), artifact_path="preprocessor")

    run_id = run.info.run_id
    stored = trackline_server.artifacts / experiment.experiment_id / run_id / "artifacts"
    assert (stored / "models_pickle" / "lin_reg.bin").read_bytes() == (
        models / "lin_reg.bin"
    ).read_bytes()
    assert (stored / "preprocessor" / "preprocessor.b").is_file()

    client = mlflow.MlflowClient()
    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [("models_pickle", True), ("preprocessor", True)]
    [inner] = client.list_artifacts(run_id, "models_pickle")
    assert (inner.path, inner.is_dir) == ("models_pickle/lin_reg.bin", False)
    assert inner.file_size == (models / "lin_reg.bin").stat().st_size

    dst = tmp_path / "download"
    dst.mkdir()
    local = client.download_artifacts(run_id=run_id, path="preprocessor", dst_path=str(dst))
    assert Path(local) == dst / "preprocessor"
    with open(dst / "preprocessor" / "preprocessor.b", "rb") as f_in:
        loaded = pickle.load(f_in)
    assert loaded.transform([[2.0]]).tolist() == scaler.transform([[2.0]]).tolist()


@_INPUT_EXAMPLE_PANDAS_WARNING
def test_sklearn_log_model_and_load(
    stock_mlflow: ModuleType, trackline_server: ServerProcess, diabetes: tuple[Any, Any]
) -> None:
    mlflow = stock_mlflow
    from sklearn.linear_model import Ridge

    x, y = diabetes
    model = Ridge(alpha=0.5).fit(x, y)
    experiment = mlflow.set_experiment(_name("sklearn"))
    with mlflow.start_run() as run:
        mlflow.log_metric("rmse", 50.0)
        info = mlflow.sklearn.log_model(model, name="model", input_example=x.iloc[:5])
    assert info.model_id.startswith("m-")
    stored = trackline_server.artifacts / experiment.experiment_id / "models" / info.model_id
    assert (stored / "artifacts" / "MLmodel").is_file()
    assert (stored / "artifacts" / "input_example.json").is_file()

    uri = f"runs:/{run.info.run_id}/model"
    expected = model.predict(x)
    assert np.allclose(mlflow.pyfunc.load_model(uri).predict(x), expected)
    assert np.allclose(mlflow.sklearn.load_model(uri).predict(x), expected)

    logged = mlflow.get_logged_model(info.model_id)
    assert (logged.name, logged.source_run_id, logged.status) == (
        "model",
        run.info.run_id,
        "READY",
    )
    outputs = mlflow.MlflowClient().get_run(run.info.run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]


def test_xgboost_log_model_and_load(stock_mlflow: ModuleType, diabetes: tuple[Any, Any]) -> None:
    mlflow = stock_mlflow
    import xgboost as xgb

    x, y = diabetes
    train = xgb.DMatrix(x, label=y)
    booster = xgb.train({"max_depth": 3, "seed": 42}, dtrain=train, num_boost_round=10)
    mlflow.set_experiment(_name("xgboost"))
    with mlflow.start_run() as run:
        mlflow.log_params({"max_depth": 3, "seed": 42})
        mlflow.xgboost.log_model(booster, name="models_mlflow")

    uri = f"runs:/{run.info.run_id}/models_mlflow"
    expected = booster.predict(train)
    assert np.allclose(mlflow.pyfunc.load_model(uri).predict(x), expected)
    assert np.allclose(mlflow.xgboost.load_model(uri).predict(train), expected)


def _train_and_crash(mlflow: ModuleType) -> None:
    with mlflow.start_run():
        mlflow.log_param("alpha", 1)
        raise ZeroDivisionError("the training code failed")


def test_an_exception_in_the_run_block_fails_the_run(stock_mlflow: ModuleType) -> None:
    mlflow = stock_mlflow
    mlflow.set_experiment(_name("failing"))
    with pytest.raises(ZeroDivisionError):
        _train_and_crash(mlflow)
    assert mlflow.active_run() is None
    run = mlflow.MlflowClient().get_run(mlflow.last_active_run().info.run_id)
    assert run.info.status == "FAILED"
    assert run.info.end_time is not None
    assert run.data.params == {"alpha": "1"}


def test_experiment_delete_and_restore(stock_mlflow: ModuleType) -> None:
    mlflow = stock_mlflow
    from mlflow.entities import ViewType

    name = _name("lifecycle")
    experiment = mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        mlflow.log_metric("rmse", 1.0)
    client = mlflow.MlflowClient()

    client.delete_experiment(experiment.experiment_id)
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "deleted"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([experiment.experiment_id]) == []
    deleted = client.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{name}'"
    )
    assert [e.experiment_id for e in deleted] == [experiment.experiment_id]
    with pytest.raises(mlflow.exceptions.MlflowException, match="deleted"):
        mlflow.set_experiment(name)

    client.restore_experiment(experiment.experiment_id)
    assert client.get_experiment_by_name(name).lifecycle_stage == "active"
    assert [r.info.run_id for r in client.search_runs([experiment.experiment_id])] == [
        run.info.run_id
    ]
    assert mlflow.set_experiment(name).experiment_id == experiment.experiment_id
