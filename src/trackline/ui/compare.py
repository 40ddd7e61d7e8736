"""The comparison of runs: their params, metrics and tags side by side, and the charts.

``/compare?runs=<id>,<id>,...`` (or repeated ``run=<id>``) lists the runs' params, latest
metrics and tags with the rows whose values differ marked, and draws (in the page, from its
data) parallel coordinates, a scatter plot of any two params or metrics, a contour plot of
three, box plots of a metric grouped by a param, and the runs' histories of a metric
overlaid.
"""

from __future__ import annotations

import math
from typing import Any

from trackline.entities import Run
from trackline.exceptions import InvalidParameterValue
from trackline.ui import urls
from trackline.ui.context import UiContext
from trackline.ui.rendering import Page, Query

__all__ = ["MAX_RUNS", "compare_page"]

MAX_RUNS = 100
_SYSTEM_PREFIX = "mlflow."


def _run_ids(query: Query) -> list[str]:
    ids: list[str] = []
    for text in [query.get("runs"), *query.multi.get("run", [])]:
        ids += [part.strip() for part in text.split(",") if part.strip()]
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise InvalidParameterValue("Name the runs to compare: /compare?runs=<id>,<id>")
    if len(ids) > MAX_RUNS:
        raise InvalidParameterValue(f"At most {MAX_RUNS} runs can be compared at once")
    return ids


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rows(values: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    rows = []
    for key in keys:
        row = [v.get(key) for v in values]
        present = [v for v in row if v is not None]
        rows.append({"key": key, "values": row, "differs": len({repr(v) for v in row}) > 1,
                     "complete": len(present) == len(row)})  # fmt: skip
    return rows


def _metric(value: float) -> float | None:
    return value if math.isfinite(value) else None


def compare_page(ctx: UiContext, query: Query) -> Page:
    """Several runs side by side."""
    runs: list[Run] = [ctx.store.get_run(run_id) for run_id in _run_ids(query)]
    params = [r.data.params for r in runs]
    metrics = [{k: _metric(v) for k, v in r.data.metrics.items()} for r in runs]
    tags = [
        {k: v for k, v in r.data.tags.items() if not k.startswith(_SYSTEM_PREFIX)} for r in runs
    ]
    param_keys = sorted({k for p in params for k in p})
    metric_keys = sorted({k for m in metrics for k in m})
    numeric_params = [
        k for k in param_keys if all(_number(p.get(k)) is not None for p in params if k in p)
    ]
    summaries: list[dict[str, Any]] = []
    for run in runs:
        info = run.info
        end, start = info.end_time, info.start_time
        summaries.append(
            {
                "run_id": info.run_id,
                "name": info.run_name or info.run_id,
                "experiment_id": info.experiment_id,
                "status": info.status,
                "start_time": start,
                "end_time": end,
                "duration": end - start if end and start else None,
                "url": urls.run(info.run_id),
            }
        )
    experiment_ids: list[str] = list(dict.fromkeys(s["experiment_id"] for s in summaries))
    experiments = {e: ctx.store.get_experiment(e).name for e in experiment_ids}
    data = {
        "runs": summaries,
        "experiments": [
            {"experiment_id": k, "name": v, "url": urls.experiment(k)}
            for k, v in experiments.items()
        ],
        "params": _rows(params, param_keys),
        "metrics": _rows(metrics, metric_keys),
        "tags": _rows(tags, sorted({k for t in tags for k in t})),
        "param_keys": param_keys,
        "metric_keys": metric_keys,
        "numeric_params": numeric_params,
        "history_url": urls.twin(urls.metric(summaries[0]["run_id"], "__KEY__")),
    }
    return Page("compare.html", f"Comparing {len(runs)} runs", data)
