"""The scaling workloads: 8 client processes logging at once through one server of 1, 2 and 4
worker processes, on PostgreSQL (``bench/run --backend postgresql --only http.scale``).

Each is the ``concurrency`` workload of ``bench/http_workloads.py`` (every client process
creates runs and logs params and one metric point per call; every acknowledged write is read
back afterwards, ``lost`` counts those missing) against a server started with
``--workers N``: ``trackline server --workers N`` and ``mlflow server --workers N``, each on
a scratch PostgreSQL database of its own. The figure is operations per second (runs created
+ params logged + metric points logged, over the wall time of the slowest client).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.catalog import Figure, Params, Workload

#: The server sizes measured.
WORKERS = (1, 2, 4)
SIZES: dict[str, Params] = {
    "full": {"procs": 8, "runs": 20, "steps": 50, "params": 5},
    "quick": {"procs": 8, "runs": 5, "steps": 20, "params": 5},
    "tiny": {"procs": 3, "runs": 2, "steps": 3, "params": 2},
}


@dataclass(frozen=True)
class ScaledWorkload(Workload):
    """An HTTP workload run against servers of ``workers`` processes (both implementations)."""

    workers: int = 1


def scaling_workloads() -> list[Workload]:
    """``http.scale.w1``, ``http.scale.w2``, ``http.scale.w4``."""
    return [
        ScaledWorkload(
            f"http.scale.w{n}",
            "concurrency",
            SIZES,
            (
                Figure("ops_rate", f"clients at once, server --workers {n}", "ops/s", "higher"),
                Figure("errors", "exceptions", "count", "lower", 0),
                Figure("lost", "lost writes", "count", "lower", 0),
            ),
            description=f"8 client processes logging at once through one server with {n} "
            "worker process(es)",
            server=True,
            workers=n,
        )
        for n in WORKERS
    ]
