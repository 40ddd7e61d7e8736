"""Version numbers under concurrency: several processes registering versions of one model at
once get 1..N, no gaps, no duplicates, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from trackline.store.sql.registry import SqlRegistryStore

WORKERS = 6
PER_WORKER = 10


def _register(uri: str, root: str, worker: int, go: Any, queue: Any) -> None:
    try:
        store = SqlRegistryStore(uri, root)
        go.wait(60)
        versions = [
            int(
                store.create_model_version(
                    "shared", f"{root}/w{worker}/{i}", user_id=str(worker)
                ).version
            )
            for i in range(PER_WORKER)
        ]
        store.close()
        queue.put(("ok", worker, versions))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(("error", worker, f"{type(exc).__name__}: {exc}"))


def test_concurrent_registrations_number_versions_without_gaps(db_uri: str, tmp_path: Path) -> None:
    root = str(tmp_path / "mlruns")
    store = SqlRegistryStore(db_uri, root)
    store.create_registered_model("shared")
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    queue: Any = ctx.Queue()
    procs = [
        ctx.Process(target=_register, args=(db_uri, root, w, go, queue)) for w in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    go.set()
    results = [queue.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    errors = [r for r in results if r[0] != "ok"]
    assert errors == []
    numbers: list[int] = []
    for _, _, versions in results:
        assert versions == sorted(versions)  # each process sees its versions increase
        numbers += versions
    total = WORKERS * PER_WORKER
    assert sorted(numbers) == list(range(1, total + 1))
    found = store.search_model_versions("name = 'shared'", order_by=["version_number"])
    assert [int(v.version) for v in found] == list(range(1, total + 1))
    created = [
        e
        for e in store.search_registry_events("shared", max_results=1000)
        if e.action == "create_model_version"
    ]
    assert sorted(int(e.version or 0) for e in created) == list(range(1, total + 1))
    # Each version's event names the process that registered it.
    owner = {v: str(w) for _, w, versions in results for v in versions}
    assert all(e.user_id == owner[int(e.version or 0)] for e in created)
    store.close()
