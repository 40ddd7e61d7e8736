"""The runs table's SQL on every backend: pages, totals, duration order, keys, counts."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackline.entities import Metric, Param, RunTag, ViewType
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.ui.queries import experiment_keys, run_counts, run_page

T0 = 1_700_000_000_000


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(db_uri, str(tmp_path / "artifacts"))
    try:
        yield opened
    finally:
        opened.close()


def _fill(store: SqlTrackingStore) -> tuple[str, list[str]]:
    experiment_id = store.create_experiment("runs")
    other = store.create_experiment("other")
    ids = []
    for index in range(12):
        run = store.create_run(experiment_id, "ana", T0 + index, [RunTag("team", "a")], f"r{index}")
        run_id = run.info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("rmse", 10.0 - index, T0, 0)],
            params=[Param("model", "tree" if index % 2 else "linear")],
        )
        if index < 10:  # two runs are still running: no duration
            store.update_run_info(run_id, "FINISHED", T0 + index + 1000 * (index % 5), None)
        ids.append(run_id)
    elsewhere = store.create_run(other, "ben", T0, [RunTag("only-elsewhere", "x")], "x")
    store.log_batch(elsewhere.info.run_id, params=[Param("lr", "0.1")])
    return experiment_id, ids


def test_a_page_with_its_total(store: SqlTrackingStore) -> None:
    experiment_id, _ids = _fill(store)
    page = run_page(store, [experiment_id], "params.model = 'tree' OR metrics.rmse > 8.5",
                    ViewType.ACTIVE_ONLY, ["metrics.rmse ASC"], 1, 3)  # fmt: skip
    assert page.total == 7  # six trees and r0 and r1 (r1 is a tree)
    assert len(page.columns) == 3
    assert list(page.columns.metrics["rmse"]) == [1.0, 3.0, 5.0]
    assert page.names == ["r9", "r7", "r5"]
    assert page.users == ["ana"] * 3


def test_ordering_by_duration_puts_running_runs_last(store: SqlTrackingStore) -> None:
    experiment_id, _ids = _fill(store)
    page = run_page(store, [experiment_id], None, ViewType.ACTIVE_ONLY, [], 0, 12,
                    by_duration=False)  # fmt: skip
    durations = [
        None if end is None else end - start
        for start, end in zip(page.columns.start_time, page.columns.end_time, strict=True)
    ]
    assert durations[-2:] == [None, None]
    assert durations[:10] == sorted(durations[:10], reverse=True)  # type: ignore[type-var]


def test_keys_and_counts_of_an_experiment(store: SqlTrackingStore) -> None:
    experiment_id, _ = _fill(store)
    keys = experiment_keys(store, [experiment_id])
    assert keys["metrics"] == ["rmse"]
    assert keys["params"] == ["model"]  # "lr" belongs to another experiment only
    assert "team" in keys["tags"]
    assert "only-elsewhere" not in keys["tags"]
    assert run_counts(store, [experiment_id, "0"]) == {experiment_id: 12, "0": 0}


@pytest.mark.parametrize("ascending", [True, False])
def test_pages_ordered_by_a_metric_match_the_search_order(
    store: SqlTrackingStore, ascending: bool
) -> None:
    experiment_id, _ids = _fill(store)
    for index in range(3):  # runs without the metric, and one whose value is NaN
        run = store.create_run(experiment_id, "ana", T0 + 100 + index, [], f"bare{index}")
        if index == 0:
            store.log_batch(run.info.run_id, metrics=[Metric("rmse", math.nan, T0, 0)])
    order = [f"metrics.`rmse` {'ASC' if ascending else 'DESC'}"]
    for text in (None, "params.model = 'tree' OR attributes.run_name LIKE 'bare%'"):
        expected = [r.info.run_id for r in store.search_runs([experiment_id], text, order_by=order)]
        got: list[str] = []
        for offset in range(0, 20, 4):
            page = run_page(store, [experiment_id], text, ViewType.ACTIVE_ONLY, order, offset, 4,
                            with_total=False)  # fmt: skip
            got += page.columns.run_id
            assert page.has_more == (offset + 4 < len(expected))
        assert got == expected, text
