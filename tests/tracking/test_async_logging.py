"""The asynchronous logging queue on a real SQLite store."""

from __future__ import annotations

from typing import Any

import pytest

from trackline.entities import Metric, Param, RunTag
from trackline.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from trackline.store.tracking_store import TrackingStore
from trackline.store.uri import get_tracking_store
from trackline.tracking import async_logging
from trackline.tracking.async_logging import (
    AsyncLoggingQueue,
    RunOperations,
    _Operation,
    _pack,
)


@pytest.fixture
def store(sqlite_uri: str) -> TrackingStore:
    return get_tracking_store(sqlite_uri)


@pytest.fixture
def run_id(store: TrackingStore) -> str:
    return store.create_run("0", "me", 0, [], None).info.run_id


def _metrics(n: int, key: str = "m") -> list[Metric]:
    return [Metric(key, float(i), i, i) for i in range(n)]


# -- packing -------------------------------------------------------------------------------
def _op(
    seq: int, metrics: int = 0, params: tuple[str, ...] = (), tags: tuple[str, ...] = ()
) -> _Operation:
    return _Operation(
        seq,
        "r",
        _metrics(metrics),
        [Param(k, "v") for k in params],
        [RunTag(k, "v") for k in tags],
    )


def _sizes(batches: list[list[Any]]) -> list[tuple[int, int, int]]:
    return [
        (
            sum(len(p.metrics) for p in b),
            sum(len(p.params) for p in b),
            sum(len(p.tags) for p in b),
        )
        for b in batches
    ]


def test_pack_respects_the_batch_limits() -> None:
    ops = [_op(i, metrics=1) for i in range(2500)]
    assert _sizes(_pack(ops)) == [(1000, 0, 0), (1000, 0, 0), (500, 0, 0)]
    big = [_op(1, metrics=2300, params=tuple(f"p{i}" for i in range(150)))]
    sizes = _sizes(_pack(big))
    assert all(m <= 1000 and p <= 100 and m + p <= 1000 for m, p, _ in sizes)
    assert sum(m for m, _, _ in sizes) == 2300
    assert sum(p for _, p, _ in sizes) == 150


def test_pack_starts_a_new_batch_when_a_key_repeats() -> None:
    ops = [_op(1, tags=("t",)), _op(2, metrics=1), _op(3, tags=("t",)), _op(4, params=("p", "p"))]
    batches = _pack(ops)
    assert _sizes(batches) == [(1, 0, 1), (0, 1, 1), (0, 1, 0)]
    assert [[p.op.seq for p in b] for b in batches] == [[1, 2], [3, 4], [4]]


# -- writing -------------------------------------------------------------------------------
def test_operations_of_a_run_are_written_in_order(store: TrackingStore, run_id: str) -> None:
    queue = AsyncLoggingQueue(store)
    for i in range(50):
        queue.submit(run_id, tags=[RunTag("t", str(i))])
    queue.submit(run_id, metrics=_metrics(5000))  # one operation larger than a batch
    queue.flush()
    run = store.get_run(run_id)
    assert run.data.tags["t"] == "49"
    assert len(store.get_metric_history(run_id, "m")) == 5000


def test_a_failing_operation_loses_only_itself(store: TrackingStore, run_id: str) -> None:
    store.log_param(run_id, Param("p", "1"))
    queue = AsyncLoggingQueue(store)
    before = queue.submit(run_id, metrics=_metrics(3, "before"))
    bad = queue.submit(run_id, params=[Param("p", "2")])
    after = queue.submit(run_id, metrics=_metrics(3, "after"), tags=[RunTag("t", "v")])
    before.wait()
    after.wait()
    with pytest.raises(MlflowException) as info:
        bad.wait()
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    queue.flush()  # already reported
    data = store.get_run(run_id).data
    assert data.metrics == {"before": 2.0, "after": 2.0}
    assert data.params == {"p": "1"}
    assert data.tags["t"] == "v"


def test_flush_raises_the_first_unreported_error_once(store: TrackingStore, run_id: str) -> None:
    queue = AsyncLoggingQueue(store)
    queue.submit("f" * 32, metrics=_metrics(1))  # no such run
    queue.submit(run_id, metrics=_metrics(1))
    queue.wait_idle()  # waiting does not raise
    assert not queue.pending
    with pytest.raises(MlflowException):
        queue.flush()
    queue.flush()
    assert store.get_run(run_id).data.metrics == {"m": 0.0}


def test_run_operations_combine(store: TrackingStore, run_id: str) -> None:
    queue = AsyncLoggingQueue(store)
    both = queue.submit(run_id, metrics=_metrics(1, "a")) + queue.submit(
        "f" * 32, metrics=_metrics(1, "b")
    )
    with pytest.raises(MlflowException):
        both.wait()
    RunOperations().wait()  # nothing to wait for
    assert store.get_run(run_id).data.metrics == {"a": 0.0}


def test_producers_wait_when_too_much_is_pending(
    store: TrackingStore, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(async_logging, "MAX_PENDING_OPERATIONS", 4)
    queue = AsyncLoggingQueue(store)
    for i in range(40):
        queue.submit(run_id, metrics=[Metric("m", float(i), i, i)])
    queue.flush()
    assert len(store.get_metric_history(run_id, "m")) == 40


def test_one_queue_per_store(store: TrackingStore) -> None:
    assert async_logging.existing_queue(store) is None
    queue = async_logging.queue_for(store)
    assert async_logging.queue_for(store) is queue
    assert async_logging.existing_queue(store) is queue


def test_flush_all_reports_a_failure_of_any_queue(store: TrackingStore, run_id: str) -> None:
    queue = async_logging.queue_for(store)
    queue.submit("f" * 32, metrics=_metrics(1))
    with pytest.raises(MlflowException):
        async_logging.flush_all()
    async_logging.flush_all()
