"""Runs to a pandas DataFrame: MLflow's columns, types and missing values."""

from __future__ import annotations

import math

import pandas as pd

from trackline.entities import Metric, Param, Run, RunData, RunInfo, RunTag
from trackline.tracking.frame import INFO_COLUMNS, runs_to_dataframe


def _run(i: int, metrics: dict[str, float], params: dict[str, str], end: int | None) -> Run:
    info = RunInfo(
        run_id=f"r{i}",
        experiment_id="1",
        status="FINISHED" if end else "RUNNING",
        start_time=1_700_000_000_000 + i,
        end_time=end,
        artifact_uri=f"file:///a/{i}",
    )
    data = RunData(
        [Metric(k, v, 0, 0) for k, v in metrics.items()],
        [Param(k, v) for k, v in params.items()],
        [RunTag("mlflow.runName", f"n{i}")],
    )
    return Run(info, data)


def test_columns_values_and_missing_entries() -> None:
    runs = [
        _run(0, {"rmse": 1.5}, {"alpha": "0.1"}, 1_700_000_001_000),
        _run(1, {"mae": 2.0, "rmse": float("nan")}, {}, None),
    ]
    df = runs_to_dataframe(runs)
    assert list(df.columns) == [
        *INFO_COLUMNS,
        "metrics.rmse",
        "metrics.mae",
        "params.alpha",
        "tags.mlflow.runName",
    ]
    assert df["run_id"].tolist() == ["r0", "r1"]
    assert df["status"].tolist() == ["FINISHED", "RUNNING"]
    assert df["start_time"].iloc[0] == pd.Timestamp(1_700_000_000_000, unit="ms", tz="UTC")
    assert df["end_time"].iloc[0] == pd.Timestamp(1_700_000_001_000, unit="ms", tz="UTC")
    assert pd.isna(df["end_time"].iloc[1])
    assert df["metrics.rmse"].dtype == "float64"
    assert df["metrics.rmse"].iloc[0] == 1.5
    assert math.isnan(df["metrics.rmse"].iloc[1])
    assert math.isnan(df["metrics.mae"].iloc[0])
    assert df["metrics.mae"].iloc[1] == 2.0
    assert df["params.alpha"].iloc[0] == "0.1"
    assert pd.isna(df["params.alpha"].iloc[1])
    assert df["tags.mlflow.runName"].tolist() == ["n0", "n1"]


def test_no_runs_gives_the_info_columns() -> None:
    df = runs_to_dataframe([])
    assert list(df.columns) == list(INFO_COLUMNS)
    assert len(df) == 0
