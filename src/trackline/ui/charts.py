"""The metric chart page: histories of one or more metrics of one or more runs, overlaid.

``/runs/<id>/metrics/<key>`` draws ``key`` of run ``id``; repeated ``run=<id>`` adds runs and
``metric=<key>`` adds metrics (every run and every metric, at most :data:`MAX_SERIES` lines).
``x`` (``step``, ``wall`` or ``relative``), ``smooth`` (0 to 0.99, an exponential moving
average) and ``log`` (``1``: a logarithmic y axis) set the initial view; the page switches
them without asking the server again. Every series is downsampled on the server
(:mod:`trackline.ui.history`); ``buckets`` (10 to 5,000) sets how finely.

The page's controls add and remove runs (picked among the first run's experiment through
``run_search_url``, :mod:`trackline.ui.run_picker`) and metrics (among ``available_metrics``,
the keys the chosen runs have): the script fetches this page's JSON twin for the new
selection, puts its address in the browser's history and redraws.
"""

from __future__ import annotations

from typing import Any

from trackline.exceptions import InvalidParameterValue
from trackline.ui import urls
from trackline.ui.context import UiContext
from trackline.ui.history import DEFAULT_BUCKETS, metric_series
from trackline.ui.rendering import Page, Query
from trackline.ui.summary import run_summary

__all__ = ["MAX_SERIES", "metric_page"]

MAX_SERIES = 50
X_AXES = ("step", "wall", "relative")


def _smoothing(text: str) -> float:
    try:
        value = float(text) if text else 0.0
    except ValueError:
        return 0.0
    return min(0.99, max(0.0, value))


def _listed(run: dict[str, Any]) -> dict[str, Any]:
    """A run as the page lists it among the chart's runs."""
    return {
        "run_id": run["run_id"],
        "name": run["name"],
        "url": urls.run(run["run_id"]),
        "experiment_id": run["experiment_id"],
    }


def metric_page(ctx: UiContext, query: Query) -> Page:
    """Histories of metrics of runs, downsampled, overlaid on one chart."""
    run_id, key = query.path["run_id"], query.path["key"]
    run_ids = list(dict.fromkeys([run_id, *query.multi.get("run", [])]))
    keys = list(dict.fromkeys([key, *query.multi.get("metric", [])]))
    if len(run_ids) * len(keys) > MAX_SERIES:
        raise InvalidParameterValue(f"At most {MAX_SERIES} lines per chart (runs times metrics)")
    buckets = query.integer("buckets", DEFAULT_BUCKETS, 10, 5000)
    x_axis = query.get("x", "step")
    if x_axis not in X_AXES:
        raise InvalidParameterValue(f"Invalid x axis {x_axis!r}: expected step, wall or relative")
    runs = {}
    available: set[str] = set()
    for rid in run_ids:
        run = ctx.store.get_run(rid)
        runs[rid] = run_summary(ctx, run) if rid == run_id else {
            "run_id": rid, "name": run.info.run_name or rid,
            "experiment_id": run.info.experiment_id,
        }  # fmt: skip
        available.update(run.data.metrics)
    series: list[dict[str, Any]] = []
    for rid in run_ids:
        for metric in keys:
            line = metric_series(ctx.store, rid, metric, buckets).as_json()
            line["run_name"] = runs[rid]["name"]
            series.append(line)
    data = {
        "run": runs[run_id],
        "key": key,
        "runs": [_listed(runs[r]) for r in run_ids],
        "run_search_url": urls.experiment_runs(runs[run_id]["experiment_id"]),
        "metrics": keys,
        "available_metrics": sorted(available),
        "x": x_axis,
        "smooth": _smoothing(query.get("smooth")),
        "log": query.get("log") in ("1", "true", "on"),
        "series": series,
    }
    return Page("metric.html", f"{key}: {runs[run_id]['name']}", data)
