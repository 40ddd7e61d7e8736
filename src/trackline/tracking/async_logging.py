"""Asynchronous logging: a background thread that writes queued metrics, params and tags.

``log_metric(..., synchronous=False)`` puts one *operation* on the queue of the run's store
and returns at once. A daemon thread drains the queue, packs operations into
``store.log_batch`` calls within MLflow's batch limits (1000 metrics, 100 params, 100 tags,
1000 entities) and records, per operation, whether it was stored.

Guarantees:

* operations of one run are written in the order they were queued;
* :meth:`AsyncLoggingQueue.wait_idle` returns once everything queued so far is written (the
  client calls it before every read and synchronous write, so a process sees its own writes);
* an operation that fails is reported by :meth:`RunOperations.wait` or, at the latest, by the
  next :meth:`AsyncLoggingQueue.flush` (``end_run`` and ``flush`` call it). When a packed batch
  fails, its operations are retried one by one so that only the faulty one is lost;
* at interpreter exit every queue is flushed.

A store may ask the writer to *linger* (``batch_linger_s``: the REST store does): woken by a
first operation, it waits that long, or until someone waits for the queue, before sending.
A burst of logging calls then leaves as one request of up to 1,000 points instead of a
one-point request that the rest of the burst queues behind (the writer thread gets the GIL
back only when the logging loop pauses).

A thread that waits for the queue (a flush, a read) writes what is queued itself when the
writer is not busy writing, instead of waking the writer and sleeping until it is done: on
a loaded machine each of those two thread hand-offs may wait milliseconds for a core. One
thread drains at a time, so the order of operations is kept.
"""

from __future__ import annotations

import atexit
import itertools
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any, NamedTuple

from trackline.entities import Metric, Param, RunTag
from trackline.store.tracking_store import TrackingStore

__all__ = [
    "MAX_ENTITIES_PER_BATCH",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "AsyncLoggingQueue",
    "RunOperations",
    "existing_queue",
    "flush_all",
    "queue_for",
]


def _log_error(message: str, *args: object) -> None:
    # logging is imported only when something goes wrong: ``import trackline`` stays light.
    import logging

    logging.getLogger(__name__).error(message, *args)


MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
#: Queued operations above which producers wait for the writer to catch up.
MAX_PENDING_OPERATIONS = 200_000
_DRAIN_CHUNK = 20_000


class _Operation(NamedTuple):
    seq: int
    run_id: str
    metrics: Sequence[Metric]
    params: Sequence[Param]
    tags: Sequence[RunTag]

    @property
    def op(self) -> _Operation:
        """The operation itself, when it is written whole (see :class:`_Piece`)."""
        return self


class _Piece(NamedTuple):
    """The part of an operation that goes into one batch."""

    op: _Operation
    metrics: Sequence[Metric]
    params: Sequence[Param]
    tags: Sequence[RunTag]


_Part = _Piece | _Operation


class RunOperations:
    """Handles on queued writes. :meth:`wait` blocks until they are stored and raises the
    first error among them."""

    __slots__ = ("_handles",)

    def __init__(self, handles: Sequence[tuple[AsyncLoggingQueue, int]] = ()) -> None:
        self._handles = handles

    def wait(self) -> None:
        """Block until every operation is written; raise the first one's error, if any."""
        error: BaseException | None = None
        for queue, seq in self._handles:
            problem = queue.wait_for(seq)
            if problem is not None and error is None:
                error = problem
        if error is not None:
            raise error

    def __add__(self, other: RunOperations) -> RunOperations:
        return RunOperations((*self._handles, *other._handles))


class AsyncLoggingQueue:
    """The queue of one store and the daemon thread that writes it."""

    def __init__(self, store: TrackingStore) -> None:
        self._store = store
        self._items: deque[_Operation] = deque()
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._done_seq = 0
        self._submit_lock = threading.Lock()
        self._cond = threading.Condition()
        self._wake = threading.Event()
        # Set by anyone waiting for the queue: the writer stops lingering.
        self._hurry = threading.Event()
        linger = getattr(store, "batch_linger_s", 0.0)
        self._linger = float(linger) if isinstance(linger, (int, float)) else 0.0
        self._errors: dict[int, BaseException] = {}
        self._thread: threading.Thread | None = None
        # Held by whichever thread is draining the queue (the writer or a waiting caller).
        self._drain_lock = threading.Lock()

    # -- producer side ---------------------------------------------------------------------
    def submit(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> RunOperations:
        """Queue one operation for ``run_id`` and return its handle."""
        with self._submit_lock:
            seq = next(self._seq)
            # tuple.__new__ skips NamedTuple's Python-level constructor (this is the hot path).
            self._items.append(tuple.__new__(_Operation, (seq, run_id, metrics, params, tags)))
            self._last_seq = seq
        if not self._wake.is_set():
            self._wake.set()
        if self._thread is None:
            self._start()
        if seq - self._done_seq > MAX_PENDING_OPERATIONS:
            self._wait_done(seq - MAX_PENDING_OPERATIONS // 2)
        return RunOperations(((self, seq),))

    @property
    def pending(self) -> bool:
        """Whether some queued operation is not written yet."""
        return self._done_seq < self._last_seq

    def wait_idle(self) -> None:
        """Block until everything queued so far is written (errors stay for :meth:`flush`)."""
        if self._done_seq < self._last_seq:
            self._wait_done(self._last_seq)

    def wait_for(self, seq: int) -> BaseException | None:
        """Block until operation ``seq`` is written; return (and consume) its error."""
        self._wait_done(seq)
        with self._cond:
            return self._errors.pop(seq, None)

    def flush(self) -> None:
        """Block until everything queued so far is written; raise the first error not yet
        reported (the others are logged)."""
        self.wait_idle()
        with self._cond:
            errors = [self._errors[k] for k in sorted(self._errors)]
            self._errors.clear()
        for extra in errors[1:]:
            _log_error("Asynchronous logging failed: %s", extra)
        if errors:
            raise errors[0]

    def _wait_done(self, seq: int) -> None:
        if self._done_seq < seq:
            self._hurry.set()
            # Write it here rather than wait for the writer thread to be scheduled, unless
            # the writer is in the middle of a write (then it finishes the queue anyway).
            if self._drain_lock.acquire(blocking=False):
                try:
                    self._drain_locked(in_caller=True)
                finally:
                    self._drain_lock.release()
        with self._cond:
            while self._done_seq < seq:
                thread = self._thread
                if thread is None or not thread.is_alive():
                    raise RuntimeError("the asynchronous logging thread is not running")
                self._cond.wait(0.5)

    # -- writer side -----------------------------------------------------------------------
    def _start(self) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="trackline-async-logging", daemon=True
                )
                self._thread.start()
                _register_exit_flush()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._linger and len(self._items) < MAX_METRICS_PER_BATCH:
                self._hurry.wait(self._linger)
            self._hurry.clear()
            with self._drain_lock:
                self._drain_locked()

    def _drain_locked(self, in_caller: bool = False) -> None:
        """Write everything queued, in order (the caller holds ``_drain_lock``). In a
        waiting caller's thread a KeyboardInterrupt (or SystemExit) is recorded as the
        operations' error and raised on."""
        while self._items:
            ops: list[_Operation] = []
            while self._items and len(ops) < _DRAIN_CHUNK:
                ops.append(self._items.popleft())
            errors: dict[int, BaseException] = {}
            interrupted: BaseException | None = None
            try:
                self._write(ops, errors)
            except BaseException as exc:  # a bug here must not strand the waiters
                for op in ops:
                    errors.setdefault(op.seq, exc)
                if in_caller and not isinstance(exc, Exception):
                    interrupted = exc
            with self._cond:
                self._errors.update(errors)
                self._done_seq = ops[-1].seq
                self._cond.notify_all()
            if interrupted is not None:
                raise interrupted

    def _write(self, ops: list[_Operation], errors: dict[int, BaseException]) -> None:
        by_run: dict[str, list[_Operation]] = {}
        for op in ops:
            by_run.setdefault(op.run_id, []).append(op)
        for run_id, run_ops in by_run.items():
            for batch in _pack(run_ops):
                self._write_batch(run_id, batch, errors)

    def _write_batch(
        self, run_id: str, batch: list[_Part], errors: dict[int, BaseException]
    ) -> None:
        live = [p for p in batch if p.op.seq not in errors]
        if not live:
            return
        try:
            self._log_batch(run_id, live)
            return
        except Exception as exc:
            if len({p.op.seq for p in live}) == 1:
                errors[live[0].op.seq] = exc
                return
        for piece in live:  # retry one operation at a time so only the faulty one is lost
            if piece.op.seq in errors:
                continue
            try:
                self._log_batch(run_id, [piece])
            except Exception as exc:
                errors[piece.op.seq] = exc

    def _log_batch(self, run_id: str, pieces: list[_Part]) -> None:
        if len(pieces) == 1:
            p = pieces[0]
            self._store.log_batch(run_id, metrics=p.metrics, params=p.params, tags=p.tags)
            return
        metrics: list[Metric] = []
        params: list[Param] = []
        tags: list[RunTag] = []
        for p in pieces:
            metrics.extend(p.metrics)
            params.extend(p.params)
            tags.extend(p.tags)
        self._store.log_batch(run_id, metrics=metrics, params=params, tags=tags)


def _pack(ops: list[_Operation]) -> list[list[_Part]]:
    """Split operations (in order) into batches within the limits. A param or tag key seen
    twice starts a new batch, so later values still win and a batch has unique param keys."""
    batches: list[list[_Part]] = []
    current: list[_Part] = []
    n_metrics = n_params = n_tags = 0
    keys: set[tuple[str, str]] = set()

    def close() -> None:
        nonlocal current, n_metrics, n_params, n_tags
        if current:
            batches.append(current)
        current = []
        n_metrics = n_params = n_tags = 0
        keys.clear()

    for op in ops:
        nm = len(op.metrics)
        if (
            not op.params
            and not op.tags
            and n_metrics + nm <= MAX_METRICS_PER_BATCH
            and n_metrics + n_params + n_tags + nm <= MAX_ENTITIES_PER_BATCH
        ):  # the common case: a few metrics that fit whole
            current.append(op)
            n_metrics += nm
            continue
        m_at = p_at = t_at = 0
        while m_at < len(op.metrics) or p_at < len(op.params) or t_at < len(op.tags):
            room = MAX_ENTITIES_PER_BATCH - n_metrics - n_params - n_tags
            take_p = _unique_prefix(op.params, p_at, "p", keys)
            take_t = _unique_prefix(op.tags, t_at, "t", keys)
            np_ = min(take_p, MAX_PARAMS_TAGS_PER_BATCH - n_params, room)
            nt = min(take_t, MAX_PARAMS_TAGS_PER_BATCH - n_tags, room - np_)
            nm = min(len(op.metrics) - m_at, MAX_METRICS_PER_BATCH - n_metrics, room - np_ - nt)
            if np_ + nt + nm == 0:
                close()
                continue
            piece = _Piece(
                op,
                op.metrics[m_at : m_at + nm],
                op.params[p_at : p_at + np_],
                op.tags[t_at : t_at + nt],
            )
            keys.update(("p", p.key) for p in piece.params)
            keys.update(("t", t.key) for t in piece.tags)
            current.append(piece)
            n_metrics, n_params, n_tags = n_metrics + nm, n_params + np_, n_tags + nt
            m_at, p_at, t_at = m_at + nm, p_at + np_, t_at + nt
            if m_at < len(op.metrics) or p_at < len(op.params) or t_at < len(op.tags):
                close()
    close()
    return batches


def _unique_prefix(
    items: Sequence[Param] | Sequence[RunTag], start: int, kind: str, keys: set[tuple[str, str]]
) -> int:
    """How many items from ``start`` on can join the batch before a key repeats."""
    seen: set[str] = set()
    count = 0
    for item in items[start:]:
        if (kind, item.key) in keys or item.key in seen:
            break
        seen.add(item.key)
        count += 1
    return count


# -- one queue per store -------------------------------------------------------------------
_queues: dict[int, tuple[TrackingStore, AsyncLoggingQueue]] = {}
_queues_lock = threading.Lock()
_exit_registered = False


def queue_for(store: TrackingStore) -> AsyncLoggingQueue:
    """The queue of ``store``, created on first use."""
    entry = _queues.get(id(store))
    if entry is not None and entry[0] is store:
        return entry[1]
    with _queues_lock:
        entry = _queues.get(id(store))
        if entry is None or entry[0] is not store:
            entry = (store, AsyncLoggingQueue(store))
            _queues[id(store)] = entry
    return entry[1]


def existing_queue(store: TrackingStore) -> AsyncLoggingQueue | None:
    """The queue of ``store`` if one was ever created, without creating it."""
    entry = _queues.get(id(store))
    return entry[1] if entry is not None and entry[0] is store else None


def flush_all() -> None:
    """Flush every queue; raise the first error after trying them all."""
    first: BaseException | None = None
    for _, queue in list(_queues.values()):
        try:
            queue.flush()
        except Exception as exc:
            if first is None:
                first = exc
    if first is not None:
        raise first


def _flush_at_exit() -> None:
    try:
        flush_all()
    except Exception as exc:
        _log_error("Asynchronous logging failed before exit: %s", exc)


def _register_exit_flush(*_: Any) -> None:
    global _exit_registered
    if not _exit_registered:
        atexit.register(_flush_at_exit)
        _exit_registered = True
