"""The benchmark's catalogue: workloads, their sizes per profile, figures and targets.

Each workload names a command of ``bench/workloads.py`` (which runs it in the
implementation's own interpreter); this module only describes them, for the harness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Params = dict[str, Any]


@dataclass(frozen=True)
class Figure:
    """One reported number of a workload.

    ``unit`` is ``"s"`` for durations, a rate unit such as ``"pts/s"``, or ``"count"``.
    ``better`` is ``"higher"`` or ``"lower"``; ``target`` is trackline's goal at full size,
    compared with ``">="`` for higher-is-better figures and ``"<="`` otherwise.
    """

    key: str
    label: str
    unit: str
    better: str
    target: float | None = None


@dataclass(frozen=True)
class Workload:
    """A named workload: the command that runs it (a key of ``COMMANDS``), sizes, figures."""

    name: str
    command: str
    sizes: dict[str, Params]
    figures: tuple[Figure, ...]
    search_size: int | None = None
    description: str = ""


def _search_name(size: int) -> str:
    return f"search.{size // 1000}k" if size % 1000 == 0 else f"search.{size}"


SEARCH_TARGETS: dict[int, tuple[float, float]] = {10_000: (0.030, 0.300), 50_000: (0.060, 1.5)}


def search_workload(size: int, profile: str) -> Workload:
    """The search workload over a population of ``size`` runs."""
    first, full = SEARCH_TARGETS.get(size, (None, None))
    reps = {"full": (3, 1), "quick": (3, 1), "tiny": (1, 1)}[profile]
    params = {"size": size, "filtered_reps": reps[0], "full_reps": reps[1], "budget_s": 10.0}
    return Workload(
        _search_name(size),
        "search",
        {profile: params},
        (
            Figure("filtered_s", "filtered top-100 (client)", "s", "lower", first),
            Figure("full_df_s", "all runs -> DataFrame", "s", "lower", full),
        ),
        search_size=size,
        description=f"search_runs over {size:,} runs (metrics.rmse filter + order, page of 100)",
    )


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "import",
        "import",
        {"full": {"reps": 7}, "quick": {"reps": 3}, "tiny": {"reps": 1}},
        (Figure("import_s", "python -c 'import …' wall", "s", "lower", 0.100),),
        description="import time of the package in a fresh interpreter",
    ),
    Workload(
        "log_metric.sync",
        "log_metric.sync",
        {"full": {"n": 2000}, "quick": {"n": 300}, "tiny": {"n": 20}},
        (Figure("rate", "log_metric loop", "pts/s", "higher", 10_000),),
        description="log_metric per step in an active run",
    ),
    Workload(
        "log_metric.async",
        "log_metric.async",
        {"full": {"n": 2000}, "quick": {"n": 300}, "tiny": {"n": 20}},
        (
            Figure("loop_rate", "log_metric loop (synchronous=False)", "pts/s", "higher"),
            Figure("visible_rate", "until flushed + readable", "pts/s", "higher", 100_000),
        ),
        description="log_metric(synchronous=False), then flush and read back",
    ),
    Workload(
        "log_batch",
        "log_batch",
        {
            "full": {"batches": 50, "batch_size": 1000, "keys": 10},
            "quick": {"batches": 5, "batch_size": 1000, "keys": 10},
            "tiny": {"batches": 2, "batch_size": 100, "keys": 10},
        },
        (
            Figure("rate", "log_batch x1000 metrics", "pts/s", "higher", 200_000),
            Figure("latency_p50_s", "log_batch call p50", "s", "lower"),
        ),
        description="MlflowClient.log_batch of 1,000 metric points per call",
    ),
    Workload(
        "run_create.batch",
        "run_create.batch",
        {"full": {"runs": 1000}, "quick": {"runs": 50}, "tiny": {"runs": 3}},
        (Figure("rate", "runs (5 calls/run)", "runs/s", "higher", 500),),
        description="runs with 5 params, 3 metrics, 2 tags via log_params/metrics/set_tags",
    ),
    Workload(
        "run_create.single",
        "run_create.single",
        {"full": {"runs": 1000}, "quick": {"runs": 50}, "tiny": {"runs": 3}},
        (Figure("rate", "runs (12 calls/run)", "runs/s", "higher", 500),),
        description="runs with 5 params, 3 metrics, 2 tags, one call per value",
    ),
    Workload(
        "metric_history",
        "metric_history",
        {
            "full": {"points": 100_000, "batch_size": 1000, "reps": 5},
            "quick": {"points": 10_000, "batch_size": 1000, "reps": 3},
            "tiny": {"points": 250, "batch_size": 100, "reps": 1},
        },
        (Figure("history_s", "get_metric_history", "s", "lower", 0.150),),
        description="get_metric_history of one metric with 100,000 points",
    ),
    Workload(
        "concurrency",
        "concurrency",
        {
            "full": {"procs": 8, "runs": 50, "steps": 20, "params": 5},
            "quick": {"procs": 8, "runs": 5, "steps": 20, "params": 5},
            "tiny": {"procs": 3, "runs": 2, "steps": 3, "params": 2},
        },
        (
            Figure("ops_rate", "writers at once, one fresh SQLite file", "ops/s", "higher", 2600),
            Figure("errors", "exceptions", "count", "lower", 0),
            Figure("lost", "lost writes", "count", "lower", 0),
        ),
        description="8 processes writing runs, params and metric points at once",
    ),
)


def workloads_for(profile: str, search_sizes: list[int]) -> list[Workload]:
    """The workloads of a profile (``full``, ``quick`` or ``tiny``), search sizes included."""
    chosen = list(WORKLOADS)
    position = next(i for i, w in enumerate(chosen) if w.name == "metric_history")
    searches = [search_workload(size, profile) for size in search_sizes]
    return chosen[:position] + searches + chosen[position:]
