"""search_runs and search_experiments of the fluent API on a real SQLite store."""

from __future__ import annotations

import pytest

import trackline as mlflow
from trackline.entities import Run, ViewType
from trackline.exceptions import MlflowException


@pytest.fixture
def uri(sqlite_uri: str) -> str:
    mlflow.set_tracking_uri(sqlite_uri)
    return sqlite_uri


def test_search_and_list_experiments(uri: str) -> None:
    for i in range(3):
        mlflow.create_experiment(f"more-{i}")
    assert {e.name for e in mlflow.list_experiments()} == {"Default", "more-0", "more-1", "more-2"}
    assert len(mlflow.search_experiments(max_results=2)) == 2
    assert [e.name for e in mlflow.search_experiments(filter_string="name = 'more-1'")] == [
        "more-1"
    ]
    mlflow.delete_experiment(mlflow.get_experiment_by_name("more-1").experiment_id)  # type: ignore[union-attr]
    assert [e.name for e in mlflow.search_experiments(ViewType.DELETED_ONLY)] == ["more-1"]


def test_search_runs_dataframe(uri: str) -> None:
    import pandas as pd

    mlflow.set_experiment("search")
    for i, rmse in enumerate((3.0, 1.0, 2.0)):
        with mlflow.start_run():
            mlflow.log_metric("rmse", rmse)
            mlflow.log_param("i", i)
            if i == 0:
                mlflow.log_metric("only_first", 1.0)
    with mlflow.start_run():
        mlflow.set_tag("no", "metrics")
    df = mlflow.search_runs(order_by=["metrics.rmse ASC"])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert {"metrics.rmse", "metrics.only_first", "params.i", "tags.mlflow.runName"} <= set(
        df.columns
    )
    assert df["metrics.rmse"].tolist()[:3] == [1.0, 2.0, 3.0]
    assert pd.isna(df["metrics.rmse"].iloc[3])
    assert df["metrics.only_first"].isna().sum() == 3
    assert str(df["start_time"].dt.tz) == "UTC"
    assert (df["status"] == "FINISHED").all()
    runs = mlflow.search_runs(filter_string="metrics.rmse > 1.5", output_format="list")
    assert isinstance(runs, list)
    assert len(runs) == 2
    assert isinstance(runs[0], Run)
    assert len(mlflow.search_runs(max_results=2)) == 2


def test_search_runs_experiment_selection(uri: str) -> None:
    a = mlflow.create_experiment("a")
    b = mlflow.create_experiment("b")
    for experiment_id in (a, b, b):
        with mlflow.start_run(experiment_id=experiment_id):
            pass
    assert len(mlflow.search_runs(experiment_ids=a)) == 1
    assert len(mlflow.search_runs([a, b])) == 3
    assert len(mlflow.search_runs(experiment_names=["b"])) == 2
    assert len(mlflow.search_runs(experiment_names=["missing"])) == 0
    assert len(mlflow.search_runs()) == 0  # the Default experiment has none
    assert len(mlflow.search_runs(search_all_experiments=True)) == 3
    empty = mlflow.search_runs(experiment_ids=[a], filter_string="metrics.x > 0")
    assert len(empty) == 0
    assert list(empty.columns)[:2] == ["run_id", "experiment_id"]
    with pytest.raises(MlflowException, match="output format"):
        mlflow.search_runs(output_format="csv")
