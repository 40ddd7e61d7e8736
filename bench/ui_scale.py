"""The web UI at scale: an experiment with 100,000 runs, opened, sorted and filtered in the
browser (issue #6's target: under 1 s each).

    .venv/bin/python -m bench.ui_scale                 # 100,000 runs (seeded once, cached)
    .venv/bin/python -m bench.ui_scale --runs 10000 --reps 5

Seeds a SQLite store in bulk (straight SQL through the store's schema: 5 params, 4 metrics
and 3 tags per run, three in ten nested under a parent), caches it in
``bench/.cache``, starts ``trackline ui`` on it on a loopback port and drives Debian's
Chromium headless through Playwright. Each figure is the time from starting a navigation
until the runs table shows (its rows in the DOM), the median
of ``--reps`` tries after one warm-up:

* **open**: the experiment's page, default order (newest first), 100 rows;
* **sort**: from the open table, clicking a metric's column header until the reordered
  table shows;
* **filter**: from the open table, a filter typed into the filter box and submitted
  (``metrics.rmse < 0.5 AND params.model = 'tree'``) until the narrowed table shows;
* **filter OR**: ``metrics.rmse < 0.1 OR tags.team = 'vision'``;
* **filter + its count**: the first filter, until the number of matching runs (which the
  page fetches after its rows, as it counts them all) shows too;
* **chart**: a run's page for a 1,000,000-point metric (downsampled) until Plotly drew it.

Needs ``playwright`` (the dev extra) and ``/usr/bin/chromium`` (``scripts/bootstrap``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
_BATCH = 5000


def seed(db_path: Path, runs: int, *, history_points: int = 1_000_000) -> str:
    """Fill a new SQLite store at ``db_path`` with an experiment of ``runs`` runs (and one
    run with a ``history_points``-point metric); return the experiment id."""
    import sqlalchemy as sa

    from trackline.store.sql import schema
    from trackline.store.sql.tracking import SqlTrackingStore

    store = SqlTrackingStore(f"sqlite:///{db_path}", str(db_path.parent / "mlruns"))
    experiment_id = store.create_experiment("scale")
    rng = random.Random(7)
    start = 1_700_000_000_000
    models = ("tree", "linear", "xgboost", "forest")
    teams = ("vision", "speech", "tabular")
    parents: list[str] = []
    with store.db.write() as conn:
        for first in range(0, runs, _BATCH):
            run_rows, params, metrics, latest, tags = [], [], [], [], []
            for i in range(first, min(runs, first + _BATCH)):
                run_id = uuid.uuid4().hex
                began = start + i * 1000
                run_rows.append(
                    {
                        "run_uuid": run_id, "name": f"run-{i}", "source_type": "LOCAL",
                        "source_name": "train.py", "user_id": rng.choice(("ana", "ben")),
                        "status": "FINISHED", "start_time": began,
                        "end_time": began + rng.randint(1000, 600_000),
                        "lifecycle_stage": "active", "experiment_id": int(experiment_id),
                        "artifact_uri": str(db_path.parent / "mlruns" / run_id),
                    }
                )  # fmt: skip
                for key, value in (
                    ("model", rng.choice(models)),
                    ("alpha", f"{rng.random():.4f}"),
                    ("max_depth", str(rng.randint(2, 12))),
                    ("learning_rate", f"{10 ** rng.uniform(-4, -1):.5f}"),
                    ("seed", str(i)),
                ):
                    params.append({"run_uuid": run_id, "key": key, "value": value})
                for key in ("rmse", "mae", "r2", "train_time"):
                    value = rng.random()
                    point = {"run_uuid": run_id, "key": key, "value": value,
                             "timestamp": began, "step": 0, "is_nan": False}  # fmt: skip
                    metrics.append(point)
                    latest.append({**point, "experiment_id": int(experiment_id)})
                run_tags = {"team": rng.choice(teams), "mlflow.runName": f"run-{i}",
                            "mlflow.user": "ana"}  # fmt: skip
                if i % 10 == 0:
                    parents.append(run_id)
                elif i % 10 < 4 and parents:
                    run_tags["mlflow.parentRunId"] = parents[-1]
                tags += [{"run_uuid": run_id, "key": k, "value": v} for k, v in run_tags.items()]
            conn.execute(sa.insert(schema.runs), run_rows)
            conn.execute(sa.insert(schema.params), params)
            conn.execute(sa.insert(schema.metrics), metrics)
            conn.execute(sa.insert(schema.latest_metrics), latest)
            conn.execute(sa.insert(schema.tags), tags)
        if history_points:
            _seed_history(conn, run_rows[-1]["run_uuid"], history_points, int(experiment_id))
    store.close()
    return experiment_id


def _seed_history(conn: object, run_id: str, points: int, experiment_id: int) -> None:
    """A long ``loss`` series with one spike, for the chart figure."""
    import math

    import sqlalchemy as sa

    from trackline.store.sql import schema

    rows = []
    for step in range(points):
        value = 1 / (1 + step / 1000) + 0.01 * math.sin(step)
        if step == points // 3:
            value = 50.0
        stamp = 1_700_000_000_000 + step
        rows.append({"run_uuid": run_id, "key": "loss", "value": value,
                     "timestamp": stamp, "step": step, "is_nan": False})  # fmt: skip
        if len(rows) == 50_000:
            conn.execute(sa.insert(schema.metrics), rows)  # type: ignore[attr-defined]
            rows = []
    if rows:
        conn.execute(sa.insert(schema.metrics), rows)  # type: ignore[attr-defined]
    last = {"run_uuid": run_id, "key": "loss", "value": rows[-1]["value"] if rows else 0.0,
            "timestamp": 1_700_000_000_000 + points - 1, "step": points - 1, "is_nan": False,
            "experiment_id": experiment_id}  # fmt: skip
    conn.execute(  # type: ignore[attr-defined]
        sa.insert(schema.latest_metrics).prefix_with("OR REPLACE"), [last]
    )


def _cached_db(runs: int, refresh: bool) -> Path:
    from trackline.store.sql.schema import SCHEMA_REVISION

    path = CACHE / f"ui-scale-{runs}-{SCHEMA_REVISION}" / "trackline.db"
    if path.exists() and not refresh:
        return path
    shutil.rmtree(path.parent, ignore_errors=True)
    path.parent.mkdir(parents=True)
    began = time.perf_counter()
    seed(path, runs)
    print(f"seeded {runs:,} runs in {time.perf_counter() - began:.1f} s ({path})")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(db_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
    command = [sys.executable, "-m", "trackline", "ui", "--backend-store-uri",
               f"sqlite:///{db_path}", "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("trackline ui did not start")


def _median_ms(
    action: Callable[[], None], reps: int, setup: Callable[[], None] | None = None
) -> float:
    """The median time of ``action`` over ``reps`` tries after a warm-up; ``setup`` runs
    before each try, outside the clock."""
    samples = []
    for attempt in range(reps + 1):
        if setup is not None:
            setup()
        began = time.perf_counter()
        action()
        if attempt:  # the first try warms up
            samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def measure(url: str, experiment_id: str, reps: int) -> dict[str, float]:
    """The figures of the module docstring, in milliseconds."""
    from playwright.sync_api import sync_playwright

    page_url = f"{url}/experiments/{experiment_id}"
    figures: dict[str, float] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        def open_table() -> None:
            page.goto(page_url)
            page.wait_for_selector("#runs-table tbody tr")

        def sort_by_metric() -> None:
            with page.expect_navigation():
                page.click("th[data-column='metrics.rmse'] a")
            page.wait_for_selector("#runs-table tbody tr")

        def filter_with(text: str, count: bool = False) -> Callable[[], None]:
            def run_filter() -> None:
                page.fill("#filter-input", text)
                with page.expect_navigation():
                    page.press("#filter-input", "Enter")
                page.wait_for_selector("#runs-table tbody tr")
                if count:  # the number of matching runs, which the page fetches apart
                    page.wait_for_function("document.getElementById('run-total').textContent")

            return run_filter

        figures["open"] = _median_ms(open_table, reps)
        figures["sort"] = _median_ms(sort_by_metric, reps, setup=open_table)
        figures["filter"] = _median_ms(
            filter_with("metrics.rmse < 0.5 AND params.model = 'tree'"), reps, setup=open_table
        )
        figures["filter OR"] = _median_ms(
            filter_with("metrics.rmse < 0.1 OR tags.team = 'vision'"), reps, setup=open_table
        )
        figures["filter + its count"] = _median_ms(
            filter_with("metrics.rmse < 0.5 AND params.model = 'tree'", count=True),
            reps,
            setup=open_table,
        )
        browser.close()
    return figures


def measure_chart(url: str, run_id: str, reps: int) -> float:
    """Milliseconds until the chart of the long series has drawn its line."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        def chart() -> None:
            page.goto(f"{url}/runs/{run_id}/metrics/loss")
            page.wait_for_selector("#metric-chart .scatterlayer .trace")

        figure = _median_ms(chart, reps)
        browser.close()
    return figure


def _long_run(db_path: Path) -> str:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT run_uuid FROM latest_metrics WHERE key = 'loss' LIMIT 1"
        ).fetchone()
    return str(row[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--refresh", action="store_true", help="seed the database again")
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing: run scripts/bootstrap")
    db_path = _cached_db(args.runs, args.refresh)
    process, url = _serve(db_path)
    load_before = os.getloadavg()[0]
    try:
        figures = measure(url, "1", args.reps)
        figures["chart (1M points)"] = measure_chart(url, _long_run(db_path), args.reps)
    finally:
        process.terminate()
        process.wait(timeout=30)
    load = f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    print(f"\nUI at {args.runs:,} runs (median of {args.reps}, in Chromium headless; {load}):")
    for name, value in figures.items():
        print(f"  {name:<20} {value:8.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
