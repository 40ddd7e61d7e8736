"""Benchmark workloads, run the same way against MLflow and against trackline.

This file runs as a script inside the implementation's own virtualenv::

    python bench/workloads.py --impl mlflow|trackline --workload NAME \
        --params JSON --workdir DIR [--backend sqlite]

It imports the implementation with ``importlib.import_module(impl)`` and uses only the public
API both share: the fluent API, ``<impl>.tracking.MlflowClient`` and ``<impl>.entities``.
The result is one JSON object printed on a stdout line that starts with ``RESULT_PREFIX``.
It imports nothing but the standard library at module level, so the harness (which runs in
trackline's virtualenv) can import its constants too; ``bench/catalog.py`` lists the
workloads, their sizes and figures.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "
DB_NAME = "bench.db"
BENCH_EXPERIMENT = "bench"
SEARCH_EXPERIMENT = "bench-search"
SEARCH_THRESHOLD = 0.5
SEARCH_FILTER = f"metrics.rmse < {SEARCH_THRESHOLD}"
SEARCH_ORDER = ["metrics.rmse ASC"]
SEARCH_PAGE = 100
# Bump when the populated search data changes, so cached databases are rebuilt.
POPULATE_LAYOUT = 1

Params = dict[str, Any]
Checks = dict[str, list[Any]]


@dataclass
class Result:
    """What one run of a workload measured (``figures``) and verified (``checks``)."""

    figures: dict[str, float]
    checks: Checks = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- context


class Context:
    """One implementation, pointed at the benchmark database in the working directory.

    The implementation is imported on first use of ``mod``, ``entities`` or ``client``.
    Sub-processes (writers) run ``script`` with ``child_args()`` to get the same context.
    """

    script = Path(__file__).resolve()

    def child_args(self) -> list[str]:
        """Command-line arguments, beyond the workload's, that recreate this context."""
        return []

    def __init__(self, impl: str, workdir: Path, backend: str = "sqlite") -> None:
        if backend != "sqlite":
            raise SystemExit(f"backend {backend!r} is not supported yet (only 'sqlite')")
        self.impl = impl
        self.workdir = workdir
        self.uri = f"sqlite:///{(workdir / DB_NAME).resolve()}"

    @functools.cached_property
    def mod(self) -> Any:
        """The implementation's top-level module, with the tracking URI set."""
        mod: Any = importlib.import_module(self.impl)
        mod.set_tracking_uri(self.uri)
        return mod

    @functools.cached_property
    def entities(self) -> Any:
        """``<impl>.entities``."""
        return importlib.import_module(f"{self.impl}.entities")

    @functools.cached_property
    def client(self) -> Any:
        """``<impl>.tracking.MlflowClient`` for the benchmark database."""
        tracking: Any = importlib.import_module(f"{self.impl}.tracking")
        self.mod  # noqa: B018 - sets the tracking URI for the fluent API too
        return tracking.MlflowClient(tracking_uri=self.uri)

    def experiment(self, name: str = BENCH_EXPERIMENT) -> str:
        """Return the id of experiment ``name``, creating it if needed (outside any timing)."""
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        return str(self.client.create_experiment(name))

    def flush(self) -> None:
        """Wait until every asynchronously logged value has been written."""
        flush = getattr(self.mod, "flush_async_logging", None) or self.mod.flush
        flush()

    def all_runs(self, experiment_id: str) -> list[Any]:
        """Every run of an experiment, read in pages of 1,000."""
        runs: list[Any] = []
        token = None
        while True:
            page = self.client.search_runs([experiment_id], max_results=1000, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def now_ms(self) -> int:
        """The current time in milliseconds, as metrics carry it."""
        return int(time.time() * 1000)


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _check(checks: Checks, name: str, expected: Any, got: Any) -> None:
    checks[name] = [expected, got]


# --------------------------------------------------------------------------- workloads


def wl_import(ctx: Context, p: Params) -> Result:
    """Wall time of ``python -c "import <impl>"`` in fresh interpreters (median)."""
    env = dict(os.environ)
    cmd = [sys.executable, "-c", f"import {ctx.impl}"]
    subprocess.run(cmd, check=True, env=env)  # warm-up: bytecode cache, page cache
    bare = [sys.executable, "-c", "pass"]
    samples, bare_samples = [], []
    for _ in range(int(p["reps"])):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env)
        samples.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run(bare, check=True, env=env)
        bare_samples.append(time.perf_counter() - t0)
    return Result(
        {"import_s": _median(samples)},
        details={"samples_s": samples, "interpreter_start_s": _median(bare_samples)},
    )


def wl_log_metric_sync(ctx: Context, p: Params) -> Result:
    """``log_metric`` once per step inside an active run, synchronously."""
    n = int(p["n"])
    ctx.mod.set_experiment(experiment_id=ctx.experiment())
    with ctx.mod.start_run() as run:
        t0 = time.perf_counter()
        for i in range(n):
            ctx.mod.log_metric("loss", 1.0 / (i + 1), step=i)
        elapsed = time.perf_counter() - t0
    history = ctx.client.get_metric_history(run.info.run_id, "loss")
    checks: Checks = {}
    _check(checks, "points readable", n, len(history))
    _check(checks, "steps 0..n-1 readable", n, len({m.step for m in history} & set(range(n))))
    return Result({"rate": n / elapsed}, checks, {"elapsed_s": elapsed})


def wl_log_metric_async(ctx: Context, p: Params) -> Result:
    """``log_metric(..., synchronous=False)``; counted until every point is readable."""
    n = int(p["n"])
    ctx.mod.set_experiment(experiment_id=ctx.experiment())
    with ctx.mod.start_run() as run:
        run_id = run.info.run_id
        t0 = time.perf_counter()
        for i in range(n):
            ctx.mod.log_metric("loss", 1.0 / (i + 1), step=i, synchronous=False)
        loop = time.perf_counter() - t0
        ctx.flush()
        deadline = time.monotonic() + float(p.get("visible_timeout_s", 600))
        readable = len(ctx.client.get_metric_history(run_id, "loss"))
        while readable < n and time.monotonic() < deadline:
            time.sleep(0.001)
            readable = len(ctx.client.get_metric_history(run_id, "loss"))
        visible = time.perf_counter() - t0
    checks: Checks = {}
    _check(checks, "points readable", n, readable)
    return Result(
        {"loop_rate": n / loop, "visible_rate": n / visible},
        checks,
        {"loop_s": loop, "until_readable_s": visible},
    )


def wl_log_batch(ctx: Context, p: Params) -> Result:
    """``MlflowClient.log_batch`` of ``batch_size`` metric points, ``batches`` times."""
    batches, size, keys = int(p["batches"]), int(p["batch_size"]), int(p["keys"])
    metric = ctx.entities.Metric
    run_id = ctx.client.create_run(ctx.experiment()).info.run_id
    ts = ctx.now_ms()
    per_key = size // keys
    payloads = [
        [
            metric(
                key=f"m{j % keys}", value=float(j), timestamp=ts + b, step=b * per_key + j // keys
            )
            for j in range(size)
        ]
        for b in range(batches)
    ]
    latencies = []
    t0 = time.perf_counter()
    for payload in payloads:
        t1 = time.perf_counter()
        ctx.client.log_batch(run_id, metrics=payload)
        latencies.append(time.perf_counter() - t1)
    elapsed = time.perf_counter() - t0
    read = sum(len(ctx.client.get_metric_history(run_id, f"m{k}")) for k in range(keys))
    checks: Checks = {}
    _check(checks, "points readable", batches * size, read)
    return Result(
        {"rate": batches * size / elapsed, "latency_p50_s": _median(latencies)},
        checks,
        {"elapsed_s": elapsed},
    )


def _run_payload(i: int) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    """Five params, three metrics and two tags of run number ``i`` (deterministic)."""
    rng = random.Random(i)
    rmse = rng.random()
    params = {
        "alpha": f"{rng.random():.6f}",
        "l1_ratio": f"{rng.random():.6f}",
        "max_iter": str(rng.choice([100, 500, 1000])),
        "model": rng.choice(["elasticnet", "ridge", "lasso"]),
        "seed": str(i),
    }
    metrics = {"rmse": rmse, "mae": rmse * rng.uniform(0.5, 0.9), "r2": 1.0 - rmse}
    tags = {"team": rng.choice(["vision", "nlp", "tabular"]), "stage": "bench"}
    return params, metrics, tags


def _check_runs(ctx: Context, experiment_id: str, n: int) -> Checks:
    runs = ctx.all_runs(experiment_id)
    checks: Checks = {}
    _check(checks, "runs readable", n, len(runs))
    _check(checks, "runs with 5 params", n, sum(len(r.data.params) == 5 for r in runs))
    _check(checks, "runs with 3 metrics", n, sum(len(r.data.metrics) == 3 for r in runs))
    both_tags = sum({"team", "stage"} <= set(r.data.tags) for r in runs)
    _check(checks, "runs with 2 tags", n, both_tags)
    return checks


def wl_run_create_batch(ctx: Context, p: Params) -> Result:
    """Runs made with 5 fluent calls: start_run, log_params, log_metrics, set_tags, end_run."""
    n = int(p["runs"])
    experiment_id = ctx.experiment()
    ctx.mod.set_experiment(experiment_id=experiment_id)
    payloads = [_run_payload(i) for i in range(n)]
    t0 = time.perf_counter()
    for i, (params, metrics, tags) in enumerate(payloads):
        with ctx.mod.start_run(run_name=f"run-{i}"):
            ctx.mod.log_params(params)
            ctx.mod.log_metrics(metrics)
            ctx.mod.set_tags(tags)
    elapsed = time.perf_counter() - t0
    return Result({"rate": n / elapsed}, _check_runs(ctx, experiment_id, n), {"elapsed_s": elapsed})


def wl_run_create_single(ctx: Context, p: Params) -> Result:
    """Runs made with 12 fluent calls: one per param, metric and tag, plus start and end."""
    n = int(p["runs"])
    experiment_id = ctx.experiment()
    ctx.mod.set_experiment(experiment_id=experiment_id)
    payloads = [_run_payload(i) for i in range(n)]
    t0 = time.perf_counter()
    for i, (params, metrics, tags) in enumerate(payloads):
        ctx.mod.start_run(run_name=f"run-{i}")
        for key, value in params.items():
            ctx.mod.log_param(key, value)
        for key, number in metrics.items():
            ctx.mod.log_metric(key, number)
        for key, value in tags.items():
            ctx.mod.set_tag(key, value)
        ctx.mod.end_run()
    elapsed = time.perf_counter() - t0
    return Result({"rate": n / elapsed}, _check_runs(ctx, experiment_id, n), {"elapsed_s": elapsed})


def expected_first_page(size: int) -> tuple[int, list[float]]:
    """How many populated runs match the search filter, and the first page's rmse values."""
    matching = sorted(
        rmse
        for rmse in (_run_payload(i)[1]["rmse"] for i in range(size))
        if rmse < SEARCH_THRESHOLD
    )
    return len(matching), matching[:SEARCH_PAGE]


def wl_search(ctx: Context, p: Params) -> Result:
    """Filtered, ordered first page of 100, and all runs as a DataFrame, on a populated db."""
    size = int(p["size"])
    found = ctx.client.get_experiment_by_name(SEARCH_EXPERIMENT)
    if found is None:
        raise SystemExit(f"{DB_NAME} has no experiment {SEARCH_EXPERIMENT!r}: populate it first")
    experiment_id = str(found.experiment_id)
    # Warm-up, outside the timing: open the store and make the DataFrame path import what
    # it imports lazily (pandas); import cost is the import workload's figure.
    ctx.mod.search_runs(experiment_ids=[experiment_id], max_results=1)
    page: list[Any] = []
    filtered: list[float] = []
    budget = float(p.get("budget_s", 10.0))
    # Up to filtered_reps samples, but no new one once the budget is spent (MLflow's
    # ordered search takes over a minute at 50,000 runs; the harness repeats anyway).
    while len(filtered) < int(p["filtered_reps"]) and sum(filtered) < budget:
        t0 = time.perf_counter()
        page = list(
            ctx.client.search_runs(
                [experiment_id],
                filter_string=SEARCH_FILTER,
                order_by=SEARCH_ORDER,
                max_results=SEARCH_PAGE,
            )
        )
        filtered.append(time.perf_counter() - t0)
    full = []
    rows = -1
    for _ in range(int(p["full_reps"])):
        t0 = time.perf_counter()
        frame = ctx.mod.search_runs(experiment_ids=[experiment_id])
        full.append(time.perf_counter() - t0)
        rows = len(frame)
    matching, first = expected_first_page(size)
    checks: Checks = {}
    _check(checks, "first page length", min(matching, SEARCH_PAGE), len(page))
    got = [r.data.metrics["rmse"] for r in page]
    same = sum(a == b for a, b in zip(first, got, strict=False))
    _check(checks, "first page = smallest rmse", len(first), same)
    _check(checks, "DataFrame rows", size, rows)
    return Result(
        {"filtered_s": _median(filtered), "full_df_s": _median(full)},
        checks,
        {"filtered_samples_s": filtered, "full_df_samples_s": full, "matching": matching},
    )


def wl_metric_history(ctx: Context, p: Params) -> Result:
    """``get_metric_history`` of one key holding ``points`` points logged with log_batch."""
    points, batch = int(p["points"]), int(p["batch_size"])
    metric = ctx.entities.Metric
    run_id = ctx.client.create_run(ctx.experiment()).info.run_id
    ts = ctx.now_ms()
    for start in range(0, points, batch):
        stop = min(points, start + batch)
        payload = [
            metric(key="loss", value=1.0 / (s + 1), timestamp=ts + s, step=s)
            for s in range(start, stop)
        ]
        ctx.client.log_batch(run_id, metrics=payload)
    samples = []
    history: list[Any] = []
    for _ in range(int(p["reps"])):
        t0 = time.perf_counter()
        history = ctx.client.get_metric_history(run_id, "loss")
        samples.append(time.perf_counter() - t0)
    checks: Checks = {}
    _check(checks, "points readable", points, len(history))
    _check(checks, "distinct steps", points, len({m.step for m in history}))
    return Result({"history_s": _median(samples)}, checks, {"samples_s": samples})


# --------------------------------------------------------------------------- processes


@contextlib.contextmanager
def _children(commands: list[list[str]], cwd: Path) -> Iterator[list[subprocess.Popen[str]]]:
    procs = [
        subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd in commands
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _child_result(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    raise RuntimeError(f"child exited {proc.returncode} without a result:\n{err[-3000:]}")


def _self_command(ctx: Context, workload: str, params: Params) -> list[str]:
    return [
        sys.executable,
        str(ctx.script),
        *ctx.child_args(),
        "--impl",
        ctx.impl,
        "--workload",
        workload,
        "--workdir",
        str(ctx.workdir),
        "--params",
        json.dumps(params),
    ]


def wl_concurrency(ctx: Context, p: Params) -> Result:
    """``procs`` processes write runs to one fresh SQLite file at the same moment.

    The coordinator creates the database and the experiment, starts the writers, waits until
    each has imported the implementation and opened the store, then releases them together.
    Operations = runs created + params logged + metric points logged (acknowledged ones).
    Afterwards every acknowledged write is read back: ``lost`` counts those missing.
    """
    procs, runs, steps, nparams = (int(p[k]) for k in ("procs", "runs", "steps", "params"))
    experiment_id = ctx.experiment()
    go = ctx.workdir / "go"
    child = {"experiment_id": experiment_id, "runs": runs, "steps": steps, "params": nparams}
    commands = [
        _self_command(ctx, "concurrency_writer", {**child, "writer": w}) for w in range(procs)
    ]
    timeout = float(p.get("timeout_s", 1800))
    with _children(commands, ctx.workdir) as children:
        deadline = time.monotonic() + timeout
        while sum((ctx.workdir / f"ready-{w}").exists() for w in range(procs)) < procs:
            if any(c.poll() is not None for c in children) or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        go.touch()
        reports = [_child_result(c, timeout) for c in children]
    errors = sum(int(r["errors"]) for r in reports)
    acked = {run_id: counts for r in reports for run_id, counts in r["acked"].items()}
    wall = max(r["t_end"] for r in reports) - min(r["t_start"] for r in reports)
    stored = {r.info.run_id: r for r in ctx.all_runs(experiment_id)}
    lost = 0
    for run_id, (n_params, n_points) in acked.items():
        run = stored.get(run_id)
        if run is None:
            lost += 1 + n_params + n_points
            continue
        lost += max(0, n_params - len(run.data.params))
        lost += max(0, n_points - len(ctx.client.get_metric_history(run_id, "loss")))
    orphans = len(set(stored) - set(acked))
    ops = sum(1 + n_params + n_points for n_params, n_points in acked.values())
    checks: Checks = {}
    _check(checks, "exceptions", 0, errors)
    _check(checks, "lost writes", 0, lost)
    _check(checks, "operations acknowledged", procs * runs * (1 + nparams + steps), ops)
    return Result(
        {"ops_rate": ops / wall, "errors": float(errors), "lost": float(lost)},
        checks,
        {
            "wall_s": wall,
            "operations": ops,
            "orphan_runs": orphans,
            "messages": [m for r in reports for m in r["messages"]][:10],
        },
    )


def concurrency_writer(ctx: Context, p: Params) -> dict[str, Any]:
    """One writer of ``wl_concurrency``: ``runs`` runs of params and per-step metrics."""
    writer, experiment_id = int(p["writer"]), str(p["experiment_id"])
    ctx.client.get_experiment(experiment_id)  # import and open the store before the start
    (ctx.workdir / f"ready-{writer}").touch()
    go = ctx.workdir / "go"
    while not go.exists():
        time.sleep(0.001)
    errors = 0
    messages: list[str] = []
    acked: dict[str, list[int]] = {}

    def failed(exc: Exception) -> None:
        nonlocal errors
        errors += 1
        if len(messages) < 5:
            messages.append(f"writer {writer}: {type(exc).__name__}: {exc}"[:500])

    t_start = time.time()
    for r in range(int(p["runs"])):
        try:
            run = ctx.mod.start_run(experiment_id=experiment_id, run_name=f"w{writer}-r{r}")
            run_id = str(run.info.run_id)
        except Exception as exc:
            failed(exc)
            continue
        counts = [0, 0]
        try:
            ctx.mod.log_params({f"p{k}": f"{writer}-{r}-{k}" for k in range(int(p["params"]))})
            counts[0] = int(p["params"])
        except Exception as exc:
            failed(exc)
        for step in range(int(p["steps"])):
            try:
                ctx.mod.log_metric("loss", 1.0 / (step + 1), step=step)
                counts[1] += 1
            except Exception as exc:
                failed(exc)
        try:
            ctx.mod.end_run()
        except Exception as exc:
            failed(exc)
        acked[run_id] = counts
    return {
        "errors": errors,
        "messages": messages,
        "acked": acked,
        "t_start": t_start,
        "t_end": time.time(),
    }


def populate(ctx: Context, p: Params) -> Result:
    """Fill the search experiment with ``size`` runs through ``MlflowClient``, ``procs`` at once.

    Each run is ``create_run``, one ``log_batch`` (5 params, 3 metrics, 2 tags) and
    ``set_terminated``; the harness caches the resulting database file.
    """
    size, procs = int(p["size"]), int(p["procs"])
    experiment_id = ctx.experiment(SEARCH_EXPERIMENT)
    commands = [
        _self_command(
            ctx,
            "populate_writer",
            {"experiment_id": experiment_id, "indices": [part, size, procs]},
        )
        for part in range(procs)
    ]
    t0 = time.perf_counter()
    with _children(commands, ctx.workdir) as children:
        reports = [_child_result(c, float(p.get("timeout_s", 4 * 3600))) for c in children]
    elapsed = time.perf_counter() - t0
    checks: Checks = {}
    _check(checks, "runs written", size, sum(int(r["written"]) for r in reports))
    _check(checks, "runs readable", size, len(ctx.all_runs(experiment_id)))
    return Result({"rate": size / elapsed}, checks, {"elapsed_s": elapsed})


def populate_writer(ctx: Context, p: Params) -> dict[str, Any]:
    """One process of ``populate``: runs ``start, start + step, ...`` below ``stop``."""
    experiment_id = str(p["experiment_id"])
    start, stop, step = (int(v) for v in p["indices"])
    ent = ctx.entities
    written = 0
    for i in range(start, stop, step):
        params, metrics, tags = _run_payload(i)
        ts = ctx.now_ms()
        run = ctx.client.create_run(experiment_id, start_time=ts, run_name=f"run-{i}")
        run_id = run.info.run_id
        ctx.client.log_batch(
            run_id,
            metrics=[ent.Metric(key=k, value=v, timestamp=ts, step=0) for k, v in metrics.items()],
            params=[ent.Param(k, v) for k, v in params.items()],
            tags=[ent.RunTag(k, v) for k, v in tags.items()],
        )
        ctx.client.set_terminated(run_id)
        written += 1
    return {"written": written}


COMMANDS: dict[str, Callable[[Context, Params], Result]] = {
    "import": wl_import,
    "log_metric.sync": wl_log_metric_sync,
    "log_metric.async": wl_log_metric_async,
    "log_batch": wl_log_batch,
    "run_create.batch": wl_run_create_batch,
    "run_create.single": wl_run_create_single,
    "search": wl_search,
    "metric_history": wl_metric_history,
    "concurrency": wl_concurrency,
    "populate": populate,
}

SUBCOMMANDS: dict[str, Callable[[Context, Params], dict[str, Any]]] = {
    "concurrency_writer": concurrency_writer,
    "populate_writer": populate_writer,
}


def info(impl: str) -> dict[str, Any]:
    """Version of an implementation and a fingerprint of its store code (for the db cache)."""
    mod: Any = importlib.import_module(impl)
    root = Path(mod.__file__).parent
    digest = hashlib.sha256(str(POPULATE_LAYOUT).encode())
    for path in sorted((root / "store").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return {"impl": impl, "version": str(mod.__version__), "store_fingerprint": digest.hexdigest()}


# --------------------------------------------------------------------------- main


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(payload) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run one workload (or sub-command) and print its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", required=True, choices=["mlflow", "trackline"])
    parser.add_argument("--workload", default="info")
    parser.add_argument("--params", default="{}", help="the workload's sizes as JSON")
    parser.add_argument("--workdir", type=Path, default=Path.cwd())
    parser.add_argument("--backend", default="sqlite", choices=["sqlite"])
    args = parser.parse_args(argv)
    params: Params = json.loads(args.params)
    if args.workload == "info":
        _emit({"figures": {}, "checks": {}, "details": info(args.impl)})
        return 0
    workdir = args.workdir.resolve()
    os.chdir(workdir)
    ctx = Context(args.impl, workdir, args.backend)
    if args.workload in SUBCOMMANDS:
        _emit(SUBCOMMANDS[args.workload](ctx, params))
        return 0
    commands = {**COMMANDS, **_model_commands()}
    if args.workload not in commands:
        parser.error(f"unknown workload {args.workload!r}; known: {', '.join(sorted(commands))}")
    result = commands[args.workload](ctx, params)
    _emit({"figures": result.figures, "checks": result.checks, "details": result.details})
    return 0


def _model_commands() -> dict[str, Callable[[Context, Params], Result]]:
    """The workloads of ``bench/model_workloads.py`` (imported late: it imports this)."""
    try:
        from bench import model_workloads
    except ImportError:  # run as a script: bench/ itself is on sys.path
        import model_workloads  # type: ignore[no-redef,import-not-found]
    return dict(model_workloads.COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
