"""The columnar reads over REST: a search's DataFrame and a metric's history through
``/api/2.0/trackline``, equal to MLflow's per-object answers, and MLflow's calls again
against a server without them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trackline.entities import Metric, MetricHistory, Param, RunColumns, RunTag, ViewType
from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.store import column_wire
from trackline.store.rest import RestTrackingStore, tracking
from trackline.tracking.frame import columns_to_dataframe, runs_to_dataframe
from trackline.validation import METRIC_VALUE_MAX

from .conftest import Wire

SEARCH = "runs/search-columns"
HISTORY = "metrics/get-history-columns"


def _populate(store: RestTrackingStore) -> str:
    experiment_id = store.create_experiment("columns")
    for i in range(7):
        run = store.create_run(experiment_id, "u", 1_700_000_000_000 + i, [], f"run-{i}")
        run_id = run.info.run_id
        metrics = [Metric("rmse", 1.0 / (i + 1), 1, 0)]
        if i % 2:
            metrics.append(Metric("mae", float("nan") if i == 3 else float(i), 1, 0))
        if i == 5:
            metrics += [Metric("inf", math.inf, 1, 0), Metric("ninf", -math.inf, 1, 0)]
        params = [Param("alpha", str(i / 10))] if i != 4 else []
        tags = [RunTag("note", "é<script>" if i == 2 else "")] if i > 1 else []
        store.log_batch(run_id, metrics, params, tags)
        if i == 6:
            store.update_run_info(run_id, "FINISHED", 1_700_000_009_000, None)
    return experiment_id


def _entity_frame(store: RestTrackingStore, experiment_id: str, **kwargs: Any) -> pd.DataFrame:
    return runs_to_dataframe(store.search_runs([experiment_id], **kwargs))


def test_search_columns_equal_the_entity_search(store: RestTrackingStore, wire: Wire) -> None:
    experiment_id = _populate(store)
    for kwargs in (
        {},
        {"filter_string": "metrics.rmse < 0.5", "order_by": ["metrics.mae DESC"]},
        {"run_view_type": ViewType.ALL, "order_by": ["params.alpha"]},
    ):
        columns = store.search_run_columns([experiment_id], **kwargs)
        pd.testing.assert_frame_equal(
            columns_to_dataframe(columns), _entity_frame(store, experiment_id, **kwargs)
        )
    assert len(wire.calls(SEARCH)) == 3
    frame = columns_to_dataframe(store.search_run_columns([experiment_id]))
    inf_row = frame[frame["metrics.inf"].notna()]  # stored clamped, as MLflow's SQL store does
    assert inf_row["metrics.inf"].tolist() == [METRIC_VALUE_MAX]
    assert inf_row["metrics.ninf"].tolist() == [-METRIC_VALUE_MAX]
    assert frame["metrics.mae"].isna().sum() == 5  # four runs without, one NaN
    assert frame["tags.note"].tolist().count("é<script>") == 1
    assert frame["end_time"].notna().sum() == 1  # running runs have no end time


def test_search_columns_pages(store: RestTrackingStore) -> None:
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
    pd.testing.assert_frame_equal(columns_to_dataframe(found), _entity_frame(store, experiment_id))
    assert len(store.search_run_columns(["12345"])) == 0
    with pytest.raises(InvalidParameterValue):
        store.search_run_columns([experiment_id], "metrics.rmse <")


def test_search_falls_back_to_mlflows_calls(store: RestTrackingStore, wire: Wire) -> None:
    """An MLflow server answers the trackline path with a plain 404: the store reads runs/search
    instead, and remembers not to ask again."""
    experiment_id = _populate(store)
    wire.script(SEARCH, 404)
    frame = columns_to_dataframe(store.search_run_columns([experiment_id]))
    pd.testing.assert_frame_equal(frame, _entity_frame(store, experiment_id))
    store.search_run_columns([experiment_id])
    assert len(wire.calls(SEARCH)) == 1
    assert store.columnar is False


def test_history_columns_are_exact_and_page(store: RestTrackingStore, wire: Wire) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    values = [0.5, math.nan, math.inf, -math.inf, -2.5, 1e308, 5e-324]
    points = [Metric("loss", v, 100 + i, 2**40 + i) for i, v in enumerate(values)]
    store.log_batch(run_id, points)
    history = store.get_metric_history_columns(run_id, "loss")
    assert history.timestamp.tolist() == [100 + i for i in range(7)]
    assert history.step.tolist() == [2**40 + i for i in range(7)]
    stored = [0.5, math.nan, METRIC_VALUE_MAX, -METRIC_VALUE_MAX, -2.5, 1e308, 5e-324]
    np.testing.assert_array_equal(history.value, np.array(stored))
    assert history.token is None
    got = store.get_metric_history(run_id, "loss")
    store.columnar = False
    assert [repr(m) for m in got] == [  # what MLflow's pages say (repr: NaN != NaN)
        repr(m) for m in store.get_metric_history(run_id, "loss")
    ]
    store.columnar = True
    assert [repr(m.value) for m in got] == [repr(v) for v in stored]
    first = store.get_metric_history(run_id, "loss", max_results=4)
    assert len(first) == 4
    assert first.token
    rest = store.get_metric_history(run_id, "loss", max_results=4, page_token=first.token)
    assert [m.timestamp for m in rest] == [104, 105, 106]
    assert rest.token is None
    assert len(wire.calls("metrics/get-history")) == 1  # the comparison above
    assert len(wire.calls(HISTORY)) == 4
    assert store.get_metric_history("0" * 32, "loss") == []  # unknown run: no points
    with pytest.raises(InvalidParameterValue):
        store.get_metric_history(run_id, "loss", max_results=0)


def test_history_reads_every_page_in_big_requests(
    store: RestTrackingStore, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackline.store.rest import columns

    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_batch(run_id, [Metric("m", float(i), i, i) for i in range(10)])
    monkeypatch.setattr(columns, "HISTORY_PAGE", 4)
    history = store.get_metric_history_columns(run_id, "m")
    assert history.step.tolist() == list(range(10))
    assert len(wire.calls(HISTORY)) == 3


def test_history_falls_back_to_mlflows_pages(
    store: RestTrackingStore, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = store.create_run("0", "u", 1, [], None).info.run_id
    store.log_batch(run_id, [Metric("loss", float(i), 100 + i, i) for i in range(7)])
    monkeypatch.setattr(tracking, "GET_METRIC_HISTORY_MAX_RESULTS", 3)
    wire.script(HISTORY, 404)
    assert [m.step for m in store.get_metric_history(run_id, "loss")] == list(range(7))
    assert [m.step for m in store.get_metric_history(run_id, "loss")] == list(range(7))
    assert len(wire.calls(HISTORY)) == 1
    assert len(wire.calls("metrics/get-history")) == 6  # two reads of three pages
    assert store.get_metric_history_columns(run_id, "loss").step.tolist() == list(range(7))


def test_a_malformed_answer_is_a_clear_error() -> None:
    good = column_wire.history_json(MetricHistory.from_metrics("m", [Metric("m", 1.0, 2, 3)]))
    assert column_wire.history_from_json("m", good).value.tolist() == [1.0]
    for broken in ({**good, "value": "%%%"}, {**good, "step": good["step"] * 2}, {"value": 1}):
        with pytest.raises(MlflowException, match="columnar answer is malformed"):
            column_wire.history_from_json("m", broken)
    with pytest.raises(MlflowException, match="one value per run"):
        column_wire.run_columns_from_json({"run_id": ["a", "b"], "status": ["RUNNING"]})
