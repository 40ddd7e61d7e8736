"""Metric logging in the SQL store: history, latest values, NaN/inf, batches, concurrency."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from trackline.entities import Metric, Param, RunTag
from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.validation import METRIC_VALUE_MAX


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def db(request: pytest.FixtureRequest) -> str:
    uri: str = request.getfixturevalue(f"{request.param}_uri")
    return uri


@pytest.fixture
def store(db: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(db, str(tmp_path / "mlruns"))
    yield opened
    opened.close()


@pytest.fixture
def run_id(store: SqlTrackingStore) -> str:
    return store.create_run("0", "u", 0, [], "r").info.run_id


def _latest(store: SqlTrackingStore, run_id: str, key: str) -> tuple[float, int, int]:
    [found] = [m for m in store.get_run(run_id).data.to_dictionary()["metrics"] if m["key"] == key]
    return found["value"], found["timestamp"], found["step"]


def _history(store: SqlTrackingStore, run_id: str, key: str) -> list[tuple[float, int, int]]:
    return [(m.value, m.timestamp, m.step) for m in store.get_metric_history(run_id, key)]


def test_latest_is_the_max_by_step_timestamp_value(store: SqlTrackingStore, run_id: str) -> None:
    # Each point is its own call, so the database (not Python) decides.
    steps: list[tuple[Metric, tuple[float, int, int]]] = [
        (Metric("m", 1.0, 10, 1), (1.0, 10, 1)),
        (Metric("m", 5.0, 100, 0), (1.0, 10, 1)),  # lower step
        (Metric("m", 9.0, 5, 1), (1.0, 10, 1)),  # same step, earlier
        (Metric("m", 0.5, 10, 1), (1.0, 10, 1)),  # same step and time, smaller
        (Metric("m", 2.0, 10, 1), (2.0, 10, 1)),  # same step and time, larger
        (Metric("m", -1.0, 20, 1), (-1.0, 20, 1)),  # same step, later
        (Metric("m", 0.0, 1, 2), (0.0, 1, 2)),  # higher step
    ]
    for point, expected in steps:
        store.log_metric(run_id, point)
        assert _latest(store, run_id, "m") == expected
    assert len(_history(store, run_id, "m")) == 7


def test_latest_within_one_batch(store: SqlTrackingStore, run_id: str) -> None:
    points = [Metric("a", float(v), 100 - v, v % 4) for v in range(20)]
    points += [Metric("b", 1.0, 5, 0), Metric("b", 3.0, 5, 0), Metric("b", 2.0, 5, 0)]
    store.log_batch(run_id, metrics=points)
    assert _latest(store, run_id, "a") == (3.0, 97, 3)
    assert _latest(store, run_id, "b") == (3.0, 5, 0)
    assert store.get_run(run_id).data.metrics == {"a": 3.0, "b": 3.0}


def test_history_order_and_exact_repeats(store: SqlTrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[
            Metric("h", 3.0, 20, 0),
            Metric("h", 2.0, 10, 1),
            Metric("h", 1.0, 10, 1),
            Metric("h", 5.0, 10, 0),
            Metric("h", 5.0, 10, 0),  # an exact repeat in the same batch
            Metric("other", 1.0, 1, 0),
        ],
    )
    store.log_metric(run_id, Metric("h", 3.0, 20, 0))  # an exact repeat later
    assert _history(store, run_id, "h") == [(5.0, 10, 0), (1.0, 10, 1), (2.0, 10, 1), (3.0, 20, 0)]
    assert all(m.key == "h" for m in store.get_metric_history(run_id, "h"))


def test_nan_and_infinity_round_trip(store: SqlTrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[
            Metric("nan", math.nan, 1, 0),
            Metric("inf", math.inf, 1, 0),
            Metric("ninf", -math.inf, 1, 0),
            Metric("mixed", 1.0, 1, 0),
            Metric("mixed", math.nan, 2, 1),
        ],
    )
    metrics = store.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == METRIC_VALUE_MAX
    assert metrics["ninf"] == -METRIC_VALUE_MAX
    assert math.isnan(metrics["mixed"])
    [nan_point] = store.get_metric_history(run_id, "nan")
    assert math.isnan(nan_point.value)
    assert [m.value for m in store.get_metric_history(run_id, "inf")] == [METRIC_VALUE_MAX]
    mixed = store.get_metric_history(run_id, "mixed")
    assert mixed[0].value == 1.0
    assert math.isnan(mixed[1].value)
    # NaN at the same point as a number is a different point, not a repeat.
    store.log_metric(run_id, Metric("nan", 0.0, 1, 0))
    assert len(store.get_metric_history(run_id, "nan")) == 2


def test_history_paging(store: SqlTrackingStore, run_id: str) -> None:
    store.log_batch(run_id, metrics=[Metric("p", float(i), i, i) for i in range(7)])
    values: list[float] = []
    token = None
    pages = 0
    while True:
        page = store.get_metric_history(run_id, "p", max_results=3, page_token=token)
        values += [m.value for m in page]
        pages += 1
        token = page.token
        if token is None:
            break
    assert (values, pages) == ([float(i) for i in range(7)], 3)
    assert store.get_metric_history(run_id, "p").token is None
    exact = store.get_metric_history(run_id, "p", max_results=7)
    assert (len(exact), exact.token) == (7, None)
    with pytest.raises(InvalidParameterValue):
        store.get_metric_history(run_id, "p", max_results=0)
    with pytest.raises(InvalidParameterValue):
        store.get_metric_history(run_id, "p", page_token="%%%")


def test_history_columns_equal_the_points(store: SqlTrackingStore, run_id: str) -> None:
    values = [2.5, math.nan, math.inf, -math.inf, -1.0, 1e-300, 7.0]
    store.log_batch(
        run_id, metrics=[Metric("c", v, 50 - i, 2**40 + i) for i, v in enumerate(values)]
    )
    points = store.get_metric_history(run_id, "c")
    history = store.get_metric_history_columns(run_id, "c")
    assert (history.key, history.token) == ("c", None)
    assert history.timestamp.tolist() == [m.timestamp for m in points]
    assert history.step.tolist() == [m.step for m in points]
    assert [repr(v) for v in history.value.tolist()] == [repr(m.value) for m in points]
    assert [repr(m) for m in history.to_metrics()] == [repr(m) for m in points]
    first = store.get_metric_history_columns(run_id, "c", max_results=4)
    assert len(first) == 4
    rest = store.get_metric_history_columns(run_id, "c", 4, first.token)
    assert (len(rest), rest.token) == (3, None)
    assert rest.step.tolist() == [m.step for m in points[4:]]
    empty = store.get_metric_history_columns("c" * 32, "c")
    assert (len(empty), empty.step.typecode, empty.value.typecode) == (0, "q", "d")


def test_history_of_unknown_run_or_key_is_empty(store: SqlTrackingStore, run_id: str) -> None:
    assert store.get_metric_history("c" * 32, "m") == []
    assert store.get_metric_history(run_id, "never") == []


@pytest.mark.parametrize(
    ("counts", "fragment"),
    [
        ((1001, 0, 0), "at most 1000 metrics"),
        ((0, 101, 0), "at most 100 params"),
        ((0, 0, 101), "at most 100 tags"),
        ((901, 100, 0), "at most 1000 total"),
    ],
)
def test_batch_limits_leave_nothing_behind(
    store: SqlTrackingStore, run_id: str, counts: tuple[int, int, int], fragment: str
) -> None:
    n_metrics, n_params, n_tags = counts
    with pytest.raises(InvalidParameterValue, match=fragment):
        store.log_batch(
            run_id,
            metrics=[Metric(f"m{i}", 1.0, 1, 0) for i in range(n_metrics)],
            params=[Param(f"p{i}", "v") for i in range(n_params)],
            tags=[RunTag(f"t{i}", "v") for i in range(n_tags)],
        )
    _assert_untouched(store, run_id)


def _assert_untouched(store: SqlTrackingStore, run_id: str) -> None:
    data = store.get_run(run_id).data
    assert data.metrics == {}
    assert data.params == {}
    assert set(data.tags) == {"mlflow.runName"}
    assert store.get_metric_history(run_id, "m0") == []


def test_largest_batch_is_accepted(store: SqlTrackingStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        metrics=[Metric(f"m{i % 50}", float(i), i, i) for i in range(800)],
        params=[Param(f"p{i}", "v") for i in range(100)],
        tags=[RunTag(f"t{i}", "v") for i in range(100)],
    )
    data = store.get_run(run_id).data
    assert (len(data.metrics), len(data.params), len(data.tags)) == (50, 100, 101)
    assert len(store.get_metric_history(run_id, "m0")) == 16


@pytest.mark.parametrize(
    "bad_batch",
    [
        pytest.param(lambda: {"params": [Param("a", "1"), Param("a", "1")]}, id="duplicate-param"),
        pytest.param(
            lambda: {"metrics": [Metric("m0", 1.0, 1, 0), Metric("../bad", 1.0, 1, 0)]},
            id="bad-metric-key",
        ),
        pytest.param(
            lambda: {"metrics": [Metric("m0", 1.0, 1, 0), Metric("x", "NaN", 1, 0)]},  # type: ignore[arg-type]
            id="string-value",
        ),
        pytest.param(
            lambda: {"metrics": [Metric("m0", 1.0, 1, 0)], "tags": [RunTag("a//b", "v")]},
            id="bad-tag-key",
        ),
        pytest.param(
            lambda: {"metrics": [Metric("m0", 1.0, 2**63, 0)]},
            id="timestamp-overflow",
        ),
    ],
)
def test_rejected_batches_leave_nothing_behind(
    store: SqlTrackingStore, run_id: str, bad_batch: Callable[[], dict[str, Any]]
) -> None:
    with pytest.raises(InvalidParameterValue):
        store.log_batch(run_id, **bad_batch())
    _assert_untouched(store, run_id)


def test_batch_failing_in_the_database_is_rolled_back(store: SqlTrackingStore, run_id: str) -> None:
    store.log_param(run_id, Param("fixed", "1"))
    with pytest.raises(InvalidParameterValue, match="Changing param values"):
        store.log_batch(
            run_id,
            metrics=[Metric("m0", float(i), i, i) for i in range(30)],
            params=[Param("new", "x"), Param("fixed", "2")],
            tags=[RunTag("t", "v")],
        )
    data = store.get_run(run_id).data
    assert data.metrics == {}
    assert data.params == {"fixed": "1"}
    assert "t" not in data.tags
    assert store.get_metric_history(run_id, "m0") == []


def test_concurrent_writers_keep_latest_correct(db: str, tmp_path: Path) -> None:
    stores = [SqlTrackingStore(db, str(tmp_path)) for _ in range(2)]
    run_id = stores[0].create_run("0", "u", 0, [], "race").info.run_id
    errors: list[BaseException] = []

    def log(store: SqlTrackingStore, parity: int) -> None:
        try:
            for step in range(parity, 120, 2):
                store.log_metric(run_id, Metric("loss", float(step), 1000 + step, step))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(s, i)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _latest(stores[0], run_id, "loss") == (119.0, 1119, 119)
    assert len(stores[1].get_metric_history(run_id, "loss")) == 120
    for store in stores:
        store.close()


def test_concurrent_conflicting_params_one_wins(db: str, tmp_path: Path) -> None:
    stores = [SqlTrackingStore(db, str(tmp_path)) for _ in range(2)]
    run_id = stores[0].create_run("0", "u", 0, [], "race").info.run_id
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def log(store: SqlTrackingStore, value: str) -> None:
        barrier.wait()
        try:
            store.log_param(run_id, Param("lr", value))
            outcomes.append("ok")
        except MlflowException as exc:
            outcomes.append(exc.error_code)

    threads = [threading.Thread(target=log, args=(s, str(i))) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["INVALID_PARAMETER_VALUE", "ok"]
    assert stores[1].get_run(run_id).data.params["lr"] in ("0", "1")
    for store in stores:
        store.close()
