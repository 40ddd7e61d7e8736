"""Downsampling metric histories for charts: min and max per bucket, on every backend."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackline.entities import Metric
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.ui.history import metric_series

T0 = 1_700_000_000_000


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(db_uri, str(tmp_path / "artifacts"))
    try:
        yield opened
    finally:
        opened.close()


def _run(store: SqlTrackingStore, points: list[Metric]) -> str:
    run_id = store.create_run("0", "ana", T0, [], "history").info.run_id
    for first in range(0, len(points), 1000):
        store.log_batch(run_id, metrics=points[first : first + 1000])
    return run_id


def test_a_long_series_keeps_its_spike_and_its_dip(store: SqlTrackingStore) -> None:
    values = [1 / (1 + s / 100) for s in range(3000)]
    values[1234], values[2500] = 40.0, -5.0
    points = [Metric("loss", v, T0 + s * 7, s) for s, v in enumerate(values)]
    points.append(Metric("loss", math.nan, T0 + 3000 * 7, 3000))
    points.append(Metric("loss", math.inf, T0 + 3001 * 7, 3001))
    series = metric_series(store, _run(store, points), "loss", buckets=100)
    assert series.sampled
    assert series.total == 3000  # NaN and infinity are gaps, not points
    assert len(series.value) <= 200
    drawn = [v for v in series.value if v is not None]
    assert max(drawn) == 40.0
    assert min(drawn) == -5.0
    assert series.timestamp == sorted(series.timestamp)
    spike = series.value.index(40.0)
    assert abs(series.step[spike] - 1234) <= 3000 / 100  # within its bucket
    assert series.step[0] == 0
    assert series.step[-1] == 2999


def test_a_short_series_comes_back_whole(store: SqlTrackingStore) -> None:
    points = [Metric("acc", s / 150, T0 + s, s) for s in range(150)]
    points.append(Metric("acc", math.nan, T0 + 150, 150))
    series = metric_series(store, _run(store, points), "acc", buckets=100)
    assert not series.sampled
    assert series.total == 151
    assert series.step == list(range(151))
    assert series.value[:150] == [s / 150 for s in range(150)]
    assert series.value[150] is None


def test_a_batch_stamped_alike_is_reduced_by_position(store: SqlTrackingStore) -> None:
    # log_batch often gives a whole history one timestamp: buckets of time would merge it.
    values = [float(s % 10) for s in range(2000)]
    values[777] = 1000.0
    points = [Metric("loss", v, T0, s) for s, v in enumerate(values)]
    series = metric_series(store, _run(store, points), "loss", buckets=50)
    assert series.sampled
    assert len(series.value) <= 100
    assert 1000.0 in series.value
    assert series.step == sorted(series.step)
    assert series.step[series.value.index(1000.0)] == 777  # exact position


def test_an_unknown_metric_has_no_points(store: SqlTrackingStore) -> None:
    run_id = _run(store, [Metric("loss", 1.0, T0, 0)])
    series = metric_series(store, run_id, "nothing")
    assert (series.total, series.value, series.sampled) == (0, [], False)
