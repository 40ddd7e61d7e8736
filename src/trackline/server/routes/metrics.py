"""``metrics/get-history``: every point of one metric of a run, in pages."""

from __future__ import annotations

import math
from typing import Any

from trackline.entities import Metric
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.server import requests as rq
from trackline.server.routes import Endpoint, ServerContext, response_message
from trackline.server.wire import Field, Params, metric_json

__all__ = ["ENDPOINTS"]


def get_history(ctx: ServerContext, req: Params) -> dict[str, Any]:
    max_results = req.opt_int("max_results")
    if max_results is not None and max_results < 1:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a "
            "positive integer."
        )
    try:
        page = ctx.store.get_metric_history(
            req.string("run_id"),
            req.string("metric_key"),
            max_results=max_results,
            page_token=req.opt_string("page_token") or None,
        )
    except ResourceDoesNotExist:
        return {}  # MLflow answers an unknown run with an empty history
    out: dict[str, Any] = {}
    if page:
        out["metrics"] = _points_json(page)
    if page.token:
        out["next_page_token"] = page.token
    return out


def _points_json(points: list[Metric]) -> list[dict[str, Any]]:
    """:func:`~trackline.server.wire.metric_json` of each point, the plain ones (a finite
    value, no dataset, model or run) built inline: a history may hold 100,000 points."""
    out: list[dict[str, Any]] = []
    append = out.append
    isfinite = math.isfinite
    for m in points:
        value = m.value
        if (
            type(value) is float
            and isfinite(value)
            and m.dataset_name is None
            and m.dataset_digest is None
            and m.model_id is None
            and m.run_id is None
        ):
            append({"key": m.key, "value": value, "timestamp": m.timestamp, "step": m.step})
        else:
            append(metric_json(m))
    return out


ENDPOINTS = [
    Endpoint(
        "metrics/get-history",
        ("GET",),
        rq.GET_METRIC_HISTORY,
        response_message(
            "GetMetricHistoryResponse",
            Field("metrics", "message", repeated=True, message=rq.METRIC),
            Field("next_page_token", "string"),
        ),
        get_history,
        "Every point of a metric, ordered by (timestamp, step, value), in pages.",
    ),
]
