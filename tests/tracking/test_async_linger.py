"""A store that asks the asynchronous writer to linger gets a burst in one batch, and a
flush or a read never waits for the linger."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from trackline.entities import Metric, Param, RunTag
from trackline.store.rest import RestTrackingStore
from trackline.store.sql.tracking import SqlTrackingStore
from trackline.tracking.async_logging import AsyncLoggingQueue


class LingeringStore(SqlTrackingStore):
    """A real SQLite store that lingers like the REST store (for an hour: a test that waited
    for it would hit the test timeout), and counts its batches and the threads writing them."""

    batch_linger_s = 3600.0

    def __init__(self, db_uri: str, root: str) -> None:
        super().__init__(db_uri, root)
        self.batches: list[int] = []
        self.writers: list[str] = []

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        self.batches.append(len(metrics))
        self.writers.append(threading.current_thread().name)
        super().log_batch(run_id, metrics, params, tags)


def test_a_burst_leaves_as_one_batch_and_a_flush_does_not_wait(
    sqlite_uri: str, tmp_path: Path
) -> None:
    store = LingeringStore(sqlite_uri, tmp_path.as_uri())
    run_id = store.create_run("0", None, 0, [], None).info.run_id
    queue = AsyncLoggingQueue(store)
    for step in range(300):
        queue.submit(run_id, [Metric("loss", 1.0 / (step + 1), step, step)])
    queue.flush()
    assert store.batches == [300]
    assert len(store.get_metric_history(run_id, "loss")) == 300
    store.close()


def test_a_wait_on_one_operation_ends_the_linger(sqlite_uri: str, tmp_path: Path) -> None:
    store = LingeringStore(sqlite_uri, tmp_path.as_uri())
    run_id = store.create_run("0", None, 0, [], None).info.run_id
    queue = AsyncLoggingQueue(store)
    handle = queue.submit(run_id, [Metric("a", 1.0, 1, 0)])
    handle.wait()
    assert store.batches == [1]
    store.close()


class _Deaf(threading.Event):
    """An event whose ``set`` does nothing: the writer thread never hears a hurry."""

    def set(self) -> None:
        pass


class ShortLingerStore(LingeringStore):
    """Lingers 5 s: without the waiting thread writing, a flush would take that long."""

    batch_linger_s = 5.0


def test_a_flush_writes_in_the_waiting_thread_while_the_writer_lingers(
    sqlite_uri: str, tmp_path: Path
) -> None:
    """The waiting thread does not depend on the writer thread being scheduled: it writes
    the queue itself (the writer here never learns that anyone waits)."""
    store = ShortLingerStore(sqlite_uri, tmp_path.as_uri())
    run_id = store.create_run("0", None, 0, [], None).info.run_id
    queue = AsyncLoggingQueue(store)
    queue._hurry = _Deaf()
    for step in range(50):
        queue.submit(run_id, [Metric("loss", float(step), step, step)])
    queue.flush()
    assert store.writers == [threading.current_thread().name]
    assert [m.step for m in store.get_metric_history(run_id, "loss")] == list(range(50))
    queue.submit(run_id, [Metric("loss", 1.0, 99, 99)])  # the writer still works after
    queue.flush()
    assert len(store.get_metric_history(run_id, "loss")) == 51
    store.close()


def test_the_rest_store_lingers_and_the_sql_store_does_not() -> None:
    assert 0 < RestTrackingStore.batch_linger_s <= 0.05
    assert getattr(SqlTrackingStore, "batch_linger_s", 0.0) == 0.0
