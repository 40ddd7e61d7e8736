"""trackline's columnar reads: ``runs/search-columns`` and ``metrics/get-history-columns``
under ``/api/2.0/trackline``.

They answer what ``runs/search`` and ``metrics/get-history`` answer, column by column (the
format is in :mod:`trackline.store.column_wire`): a DataFrame of 10,000 runs or a history of
100,000 points then travels as a few arrays instead of one JSON object per run or point.
trackline's client uses them when the server has them; MLflow's client never calls them.
"""

from __future__ import annotations

import orjson

from trackline.entities import MetricHistory
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.server import requests as rq
from trackline.server.routes import TRACKLINE_PREFIXES, Endpoint, ServerContext, response_message
from trackline.server.routes.runs import search_arguments
from trackline.server.wire import Field, Message, Params
from trackline.store import column_wire
from trackline.store.column_wire import HISTORY_COLUMNS_PATH, SEARCH_COLUMNS_PATH

__all__ = ["ENDPOINTS"]


def search_columns(ctx: ServerContext, req: Params) -> bytes:
    arguments = search_arguments(req)
    if not arguments["experiment_ids"]:
        return b"{}"
    columns = ctx.store.search_run_columns(**arguments)
    # No bare doubles in this payload (metric columns are base64): orjson alone is exact.
    return orjson.dumps(column_wire.run_columns_json(columns))


def history_columns(ctx: ServerContext, req: Params) -> bytes:
    max_results = req.opt_int("max_results")
    if max_results is not None and max_results < 1:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a "
            "positive integer."
        )
    key = req.string("metric_key")
    try:
        history = ctx.store.get_metric_history_columns(
            req.string("run_id"),
            key,
            max_results=max_results,
            page_token=req.opt_string("page_token") or None,
        )
    except ResourceDoesNotExist:  # an unknown run has no points, as in metrics/get-history
        history = MetricHistory.from_metrics(key, [])
    return orjson.dumps(column_wire.history_json(history))


def _column(name: str, doc: str) -> Field:
    return Field(name, "string", repeated=True, doc=doc)


def _base64(name: str, doc: str) -> Field:
    return Field(name, "string", doc=doc + " (base64 of little-endian values)")


_GROUP = Message("Columns", doc="One entry per key, in order of first appearance.")

ENDPOINTS = [
    Endpoint(
        SEARCH_COLUMNS_PATH,
        ("POST",),
        rq.SEARCH_RUNS,
        response_message(
            "SearchRunColumnsResponse",
            _column("run_id", "The runs, in search order."),
            _column("experiment_id", "Each run's experiment."),
            _column("status", "Each run's status."),
            _column("artifact_uri", "Each run's artifact root."),
            Field("start_time", "int64", repeated=True, doc="Epoch ms; null when unset."),
            Field("end_time", "int64", repeated=True, doc="Epoch ms; null when unset."),
            Field("metrics", "message", message=_GROUP,
                  doc="Each metric key's latest values: base64 of little-endian float64, "
                  "NaN where a run has none."),
            Field("params", "message", message=_GROUP,
                  doc="Each param key's values: a list, null where a run has none."),
            Field("tags", "message", message=_GROUP,
                  doc="Each tag key's values: a list, null where a run has none."),
            Field("next_page_token", "string"),
        ),
        search_columns,
        "runs/search answered column by column (what a DataFrame of runs is built from).",
        prefixes=TRACKLINE_PREFIXES,
    ),
    Endpoint(
        HISTORY_COLUMNS_PATH,
        ("GET",),
        rq.GET_METRIC_HISTORY,
        response_message(
            "GetMetricHistoryColumnsResponse",
            Field("key", "string"),
            _base64("timestamp", "Each point's epoch ms: int64"),
            _base64("step", "Each point's step: int64"),
            _base64("value", "Each point's value: float64, NaN and infinities exact"),
            Field("next_page_token", "string"),
        ),
        history_columns,
        "metrics/get-history answered as three arrays, ordered by (timestamp, step, value); "
        "all points when max_results is absent.",
        prefixes=TRACKLINE_PREFIXES,
    ),
]  # fmt: skip
