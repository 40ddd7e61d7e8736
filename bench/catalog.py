"""The benchmark's catalogue: workloads, their sizes per profile, figures and targets.

Each workload names a command of ``bench/workloads.py`` (which runs it in the
implementation's own interpreter); this module only describes them, for the harness.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    """A named workload: the command that runs it (a key of ``COMMANDS``), sizes, figures.

    A ``server`` workload runs its command from ``bench/http_workloads.py`` against the
    implementation's tracking server, which the harness starts for each repetition.
    """

    name: str
    command: str
    sizes: dict[str, Params]
    figures: tuple[Figure, ...]
    search_size: int | None = None
    description: str = ""
    # HTTP workloads: the client talks to the implementation's server (bench/server.py).
    server: bool = False
    mlflow_workers: int | None = None  # None: `mlflow server`'s default (4 uvicorn workers)
    client: str | None = None  # whose interpreter runs the client (None: the measured one)


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
    # bench/model_workloads.py
    Workload(
        "autolog.xgb",
        "autolog.xgb",
        {
            "full": {"rows": 5000, "cols": 20, "rounds": 1000, "reps": 5},
            "quick": {"rows": 2000, "cols": 20, "rounds": 300, "reps": 3},
            "tiny": {"rows": 200, "cols": 5, "rounds": 10, "reps": 1},
        },
        (
            Figure("plain_s", "xgb.train, no autolog (best of reps)", "s", "lower"),
            Figure("autolog_s", "xgb.train, <impl>.xgboost.autolog()", "s", "lower"),
            Figure("overhead_pct", "autolog overhead, wall", "%", "lower", 10),
            Figure("cpu_overhead_pct", "autolog overhead, CPU", "%", "lower", 10),
            Figure("outside_loop_s", "added before/after the loop", "s", "lower"),
        ),
        description="xgb.train 1,000 rounds on 5,000 x 20 with an eval set, with and without "
        "autolog",
    ),
)


def workloads_for(profile: str, search_sizes: list[int]) -> list[Workload]:
    """The workloads of a profile (``full``, ``quick`` or ``tiny``), search sizes included."""
    chosen = list(WORKLOADS)
    position = next(i for i, w in enumerate(chosen) if w.name == "metric_history")
    searches = [search_workload(size, profile) for size in search_sizes]
    return chosen[:position] + searches + chosen[position:]


# --------------------------------------------------------------------------- HTTP

SERVER_START = Figure("server_start_s", "start until /health answers", "s", "lower", 1.5)
SERVER_RSS = Figure("server_rss_mb", "server tree RSS after the search", "MB", "lower", 150)
HTTP_SEARCH_TARGETS: dict[int, tuple[float, float]] = {
    10_000: (0.050, 0.600),
    50_000: (0.080, 3.0),
}
# The workloads also measured against `mlflow server --workers 1`: those where MLflow's
# multi-worker keep-alive latency (Nagle + delayed ACK) dominates, plus start-up and memory.
W1_VARIANTS = ("start", "log_metric.sync", "run_create", "runs_get", "search")


def _http_search(size: int, profile: str) -> Workload:
    first, full = HTTP_SEARCH_TARGETS.get(size, (None, None))
    embedded = search_workload(size, profile)
    return Workload(
        "http." + embedded.name,
        "search",
        embedded.sizes,
        (
            Figure("filtered_s", "filtered top-100 (client)", "s", "lower", first),
            Figure("full_df_s", "all runs -> DataFrame", "s", "lower", full),
            SERVER_RSS,
        ),
        search_size=size,
        description=f"search_runs over HTTP, {size:,} runs; then the server's memory",
        server=True,
    )


def _http_workloads(profile: str, search_sizes: list[int]) -> list[Workload]:
    sizes: dict[str, Params] = {"full": {}, "quick": {}, "tiny": {}}
    return [
        Workload(
            "http.start",
            "server.start",
            sizes,
            (SERVER_START,),
            description="server start-up on a fresh SQLite file until /health answers",
            server=True,
        ),
        Workload(
            "http.log_metric.sync",
            "log_metric.sync",
            {"full": {"n": 500}, "quick": {"n": 100}, "tiny": {"n": 10}},
            (Figure("rate", "log_metric loop", "pts/s", "higher", 1_500),),
            description="log_metric per step over HTTP",
            server=True,
        ),
        Workload(
            "http.log_metric.async",
            "log_metric.async",
            {"full": {"n": 500}, "quick": {"n": 100}, "tiny": {"n": 10}},
            (
                Figure("loop_rate", "log_metric loop (synchronous=False)", "pts/s", "higher"),
                Figure("visible_rate", "until flushed + readable", "pts/s", "higher", 50_000),
            ),
            description="log_metric(synchronous=False) over HTTP, then flush and read back",
            server=True,
        ),
        Workload(
            "http.log_batch",
            "log_batch",
            {
                "full": {"batches": 50, "batch_size": 1000, "keys": 10},
                "quick": {"batches": 5, "batch_size": 1000, "keys": 10},
                "tiny": {"batches": 2, "batch_size": 100, "keys": 10},
            },
            (
                Figure("rate", "log_batch x1000 metrics", "pts/s", "higher", 100_000),
                Figure("latency_p50_s", "log_batch call p50", "s", "lower"),
            ),
            description="MlflowClient.log_batch of 1,000 metric points per call over HTTP",
            server=True,
        ),
        Workload(
            "http.run_create",
            "run_create.batch",
            {"full": {"runs": 100}, "quick": {"runs": 20}, "tiny": {"runs": 3}},
            (Figure("rate", "runs (5 calls/run)", "runs/s", "higher"),),
            description="runs with 5 params, 3 metrics, 2 tags over HTTP",
            server=True,
        ),
        *(_http_search(size, profile) for size in search_sizes),
        Workload(
            "http.metric_history",
            "metric_history",
            {
                "full": {"points": 100_000, "batch_size": 1000, "reps": 5},
                "quick": {"points": 10_000, "batch_size": 1000, "reps": 3},
                "tiny": {"points": 250, "batch_size": 100, "reps": 1},
            },
            (Figure("history_s", "get_metric_history", "s", "lower", 0.300),),
            description="get_metric_history of one metric with 100,000 points over HTTP",
            server=True,
        ),
        Workload(
            "http.runs_get",
            "runs_get",
            {
                "full": {"requests": 1000, "warmup": 20},
                "quick": {"requests": 300, "warmup": 20},
                "tiny": {"requests": 20, "warmup": 2},
            },
            (
                Figure("latency_p50_s", "GET runs/get p50 (keep-alive)", "s", "lower", 0.001),
                Figure("latency_p99_s", "GET runs/get p99 (keep-alive)", "s", "lower", 0.005),
            ),
            description="raw GET runs/get over one httpx.Client, the same client for both",
            server=True,
            client="trackline",
        ),
        Workload(
            "http.concurrency",
            "concurrency",
            {
                "full": {"procs": 8, "runs": 50, "steps": 20, "params": 5},
                "quick": {"procs": 8, "runs": 5, "steps": 20, "params": 5},
                "tiny": {"procs": 3, "runs": 2, "steps": 3, "params": 2},
            },
            (
                Figure("ops_rate", "client processes at once, one server", "ops/s", "higher", 1140),
                Figure("errors", "exceptions", "count", "lower", 0),
                Figure("lost", "lost writes", "count", "lower", 0),
            ),
            description="8 client processes writing runs, params and metric points at once",
            server=True,
        ),
    ]


def _workers_1(workload: Workload) -> Workload:
    return replace(
        workload,
        name=workload.name.replace("http.", "http-w1.", 1),
        description=workload.description + " (mlflow server --workers 1)",
        mlflow_workers=1,
    )


def http_workloads_for(profile: str, search_sizes: list[int]) -> list[Workload]:
    """The HTTP workloads of a profile; each W1_VARIANTS one is followed by its
    ``--workers 1`` variant. Search runs over each of ``search_sizes``."""
    out: list[Workload] = []
    for workload in _http_workloads(profile, search_sizes or [10_000]):
        out.append(workload)
        short = workload.name.removeprefix("http.")
        if short in W1_VARIANTS or short.startswith("search."):
            out.append(_workers_1(workload))
    return out


def all_workloads(profile: str, search_sizes: list[int]) -> list[Workload]:
    """The embedded workloads, then the HTTP ones."""
    return workloads_for(profile, search_sizes) + http_workloads_for(profile, search_sizes)
