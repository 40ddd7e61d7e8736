"""The benchmark's HTTP workloads: the same client code, pointed at a tracking server.

This file runs as a script inside the implementation's own virtualenv, like
``bench/workloads.py``, with the URL of a server the harness started
(``bench/server.py``)::

    python bench/http_workloads.py --url http://127.0.0.1:PORT --impl mlflow|trackline \
        --workload NAME --params JSON --workdir DIR

The workloads are those of ``bench/workloads.py`` with the tracking URI set to the server
(``mlflow.set_tracking_uri(url)`` and ``MlflowClient(tracking_uri=url)``); the concurrency
writers are started through this file, so they talk to the server too. ``runs_get`` is raw
HTTP: one ``httpx.Client`` with keep-alive sends ``GET /api/2.0/mlflow/runs/get`` (the
harness runs it with trackline's interpreter for both servers, so the client is the same).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from bench import workloads as wl
except ImportError:  # run as a script: bench/ itself is on sys.path
    import workloads as wl  # type: ignore[no-redef,import-not-found]

API = "/api/2.0/mlflow"
GET_EXPERIMENT = "bench-runs-get"


class HttpContext(wl.Context):
    """An implementation pointed at the tracking server at ``url``."""

    script = Path(__file__).resolve()

    def __init__(self, impl: str, workdir: Path, url: str) -> None:
        super().__init__(impl, workdir)
        self.uri = url.rstrip("/")

    def child_args(self) -> list[str]:
        """Writers get the server's URL too."""
        return ["--url", self.uri]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q <= 100) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _make_run(http: Any, ts: int) -> str:
    """A run with 5 params, 3 metrics and 2 tags, made through the REST API."""
    created = http.post(f"{API}/experiments/create", json={"name": GET_EXPERIMENT})
    experiment_id = created.raise_for_status().json()["experiment_id"]
    body = {"experiment_id": experiment_id, "start_time": ts, "run_name": "get-me"}
    run = http.post(f"{API}/runs/create", json=body).raise_for_status().json()
    run_id = str(run["run"]["info"]["run_id"])
    params, metrics, tags = wl._run_payload(0)
    batch = {
        "run_id": run_id,
        "params": [{"key": k, "value": v} for k, v in params.items()],
        "metrics": [{"key": k, "value": v, "timestamp": ts, "step": 0} for k, v in metrics.items()],
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
    }
    http.post(f"{API}/runs/log-batch", json=batch).raise_for_status()
    return run_id


def _complete(body: dict[str, Any], run_id: str) -> bool:
    run = body.get("run", {})
    data = run.get("data", {})
    return (
        run.get("info", {}).get("run_id") == run_id
        and len(data.get("params", [])) == 5
        and len(data.get("metrics", [])) == 3
        and {"team", "stage"} <= {t["key"] for t in data.get("tags", [])}
    )


def wl_runs_get(ctx: wl.Context, p: wl.Params) -> wl.Result:
    """``GET runs/get`` of one run, ``requests`` times over one keep-alive connection."""
    import httpx

    n, warmup = int(p["requests"]), int(p["warmup"])
    with httpx.Client(base_url=ctx.uri, timeout=120.0) as http:
        run_id = _make_run(http, ctx.now_ms())
        path = f"{API}/runs/get?run_id={run_id}"
        for _ in range(warmup):
            http.get(path)
        latencies: list[float] = []
        responses: list[httpx.Response] = []
        for _ in range(n):
            t0 = time.perf_counter()
            response = http.get(path)
            latencies.append(time.perf_counter() - t0)
            responses.append(response)
    checks: wl.Checks = {}
    wl._check(checks, "responses 200", n, sum(r.status_code == 200 for r in responses))
    complete = sum(r.status_code == 200 and _complete(r.json(), run_id) for r in responses)
    wl._check(checks, "run with 5 params, 3 metrics, 2 tags", n, complete)
    return wl.Result(
        {"latency_p50_s": percentile(latencies, 50), "latency_p99_s": percentile(latencies, 99)},
        checks,
        {"requests": n, "max_s": max(latencies), "mean_s": sum(latencies) / n},
    )


COMMANDS: dict[str, Callable[[wl.Context, wl.Params], wl.Result]] = {
    "log_metric.sync": wl.wl_log_metric_sync,
    "log_metric.async": wl.wl_log_metric_async,
    "log_batch": wl.wl_log_batch,
    "run_create.batch": wl.wl_run_create_batch,
    "search": wl.wl_search,
    "metric_history": wl.wl_metric_history,
    "runs_get": wl_runs_get,
    "concurrency": wl.wl_concurrency,
}

SUBCOMMANDS: dict[str, Callable[[wl.Context, wl.Params], dict[str, Any]]] = {
    "concurrency_writer": wl.concurrency_writer,
}


def main(argv: list[str] | None = None) -> int:
    """Run one HTTP workload (or writer) against the server at ``--url``; print its result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the tracking server, http://host:port")
    parser.add_argument("--impl", required=True, choices=["mlflow", "trackline"])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--params", default="{}", help="the workload's sizes as JSON")
    parser.add_argument("--workdir", type=Path, default=Path.cwd())
    parser.add_argument("--backend", default="sqlite", choices=["sqlite"], help="the server's")
    args = parser.parse_args(argv)
    params: wl.Params = json.loads(args.params)
    workdir = args.workdir.resolve()
    os.chdir(workdir)
    ctx = HttpContext(args.impl, workdir, args.url)
    if args.workload in SUBCOMMANDS:
        wl._emit(SUBCOMMANDS[args.workload](ctx, params))
        return 0
    if args.workload not in COMMANDS:
        parser.error(f"unknown workload {args.workload!r}; known: {', '.join(sorted(COMMANDS))}")
    result = COMMANDS[args.workload](ctx, params)
    wl._emit({"figures": result.figures, "checks": result.checks, "details": result.details})
    return 0


if __name__ == "__main__":
    sys.exit(main())
