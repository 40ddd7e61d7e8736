"""The column-wise search behind ``search_runs``' DataFrame: the same runs, values, order,
missing entries and pages as the entity search, on every database."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from trackline.entities import Metric, Param, RunColumns, RunTag, ViewType
from trackline.exceptions import MlflowException
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.tracking.frame import columns_to_dataframe, runs_to_dataframe


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    uri = request.getfixturevalue(f"{request.param}_uri")
    sql_store = SqlTrackingStore(uri, (tmp_path / "artifacts").as_uri())
    yield sql_store
    sql_store.close()


def _populate(store: SqlTrackingStore) -> str:
    experiment_id = store.create_experiment("columns")
    for i in range(7):
        run = store.create_run(experiment_id, "u", 1_700_000_000_000 + i, [], f"run-{i}")
        run_id = run.info.run_id
        metrics = [Metric("rmse", 1.0 / (i + 1), 1, 0)]
        if i % 2:
            metrics.append(Metric("mae", float("nan") if i == 3 else float(i), 1, 0))
        if i == 5:
            metrics.append(Metric("inf", float("inf"), 1, 0))
        params = [Param("alpha", str(i / 10))] if i != 4 else []
        tags = [RunTag("model", "xgboost")] if i > 2 else []
        store.log_batch(run_id, metrics, params, tags)
        if i == 6:
            store.update_run_info(run_id, "FINISHED", 1_700_000_009_000, None)
    return experiment_id


def _frames(store: SqlTrackingStore, experiment_id: str, **kwargs: Any) -> tuple[Any, Any]:
    runs = store.search_runs([experiment_id], **kwargs)
    columns = store.search_run_columns([experiment_id], **kwargs)
    assert columns.token == runs.token
    return columns_to_dataframe(columns), runs_to_dataframe(runs)


def test_columns_equal_the_entity_search(store: SqlTrackingStore) -> None:
    experiment_id = _populate(store)
    for kwargs in (
        {},
        {"filter_string": "metrics.rmse < 0.3", "order_by": ["metrics.rmse DESC"]},
        {"filter_string": "params.alpha = '0.1' OR tags.model = 'xgboost'"},
        {"order_by": ["params.alpha ASC"]},
    ):
        by_columns, by_runs = _frames(store, experiment_id, **kwargs)
        # Within one run, keys come in the database's row order for the entity search (on
        # PostgreSQL not by name); the column search orders them by name.
        assert sorted(by_columns.columns) == sorted(by_runs.columns)
        pd.testing.assert_frame_equal(by_columns, by_runs[list(by_columns.columns)])
    by_columns, _ = _frames(store, experiment_id)
    assert len(by_columns) == 7
    assert by_columns["run_id"].tolist() == [
        r.info.run_id for r in store.search_runs([experiment_id])
    ]
    row = by_columns.set_index("tags.mlflow.runName").loc["run-3"]
    assert math.isnan(row["metrics.mae"])  # a NaN metric is NaN, not missing
    # Infinity is stored as the largest float (as MLflow's SQL store does).
    assert by_columns.set_index("tags.mlflow.runName").loc["run-5"]["metrics.inf"] > 1e308
    assert pd.isna(by_columns.set_index("tags.mlflow.runName").loc["run-4"]["params.alpha"])
    assert by_columns["status"].tolist()[0] == "FINISHED"


def test_pages_join_into_one_frame(store: SqlTrackingStore) -> None:
    experiment_id = _populate(store)
    found = RunColumns()
    pages = 0
    while True:
        page = store.search_run_columns([experiment_id], max_results=3, page_token=found.token)
        found.extend(page)
        pages += 1
        if not page.token:
            break
    assert pages == 3
    whole = store.search_run_columns([experiment_id])
    pd.testing.assert_frame_equal(columns_to_dataframe(found), columns_to_dataframe(whole))


def test_no_experiment_or_no_match_gives_no_rows(store: SqlTrackingStore) -> None:
    experiment_id = _populate(store)
    assert len(store.search_run_columns(["12345"])) == 0
    empty = store.search_run_columns([experiment_id], filter_string="metrics.rmse > 5")
    assert len(columns_to_dataframe(empty)) == 0
    deleted = store.search_run_columns([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert len(deleted) == 0


def test_bad_arguments_are_refused(store: SqlTrackingStore) -> None:
    experiment_id = _populate(store)
    with pytest.raises(MlflowException) as info:
        store.search_run_columns([experiment_id], filter_string="metrics.rmse <")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException):
        store.search_run_columns([experiment_id], page_token="not a token")
