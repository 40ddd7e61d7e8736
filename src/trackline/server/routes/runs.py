"""``runs/*``: create, read, update, delete and restore runs; log to them; search them."""

from __future__ import annotations

from typing import Any

from trackline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from trackline.exceptions import BAD_REQUEST, InvalidParameterValue, MlflowException
from trackline.server import requests as rq
from trackline.server.routes import Endpoint, ServerContext, response_message
from trackline.server.wire import (
    Field,
    Message,
    Params,
    metric_points,
    parse_message,
    run_info_json,
    run_json,
)
from trackline.store.tracking_store import SEARCH_MAX_RESULTS_DEFAULT

__all__ = [
    "ENDPOINTS",
    "IDEMPOTENCY_HEADER",
    "LOG_BATCH_MAX_BODY_BYTES",
    "LOG_OUTPUTS",
    "parse_log_batch",
    "search_arguments",
]

#: MLflow's limit on the size of one ``runs/log-batch`` request body.
LOG_BATCH_MAX_BODY_BYTES = 1_000_000
#: The header by which a client marks the attempts of one ``runs/create`` call: a repeat
#: answers with the run the first attempt created.
IDEMPOTENCY_HEADER = "X-Trackline-Idempotency-Key"

LOG_OUTPUTS = Message(
    "LogOutputs",
    (
        Field("run_id", "string", required=True),
        Field(
            "models",
            "message",
            required=True,
            repeated=True,
            message=Message(
                "LoggedModelOutput",
                (Field("model_id", "string", required=True), Field("step", "int64")),
            ),
        ),
    ),
    doc="Record logged models a run produced (called by every MLflow 3 log_model).",
)


def _run_tags(items: list[Params]) -> list[RunTag]:
    return [RunTag(t.string("key"), t.string("value")) for t in items]


def _metric(m: Params, run_id: str | None = None) -> Metric:
    return Metric(
        key=m.string("key"),
        value=m.double("value"),
        timestamp=m.opt_int("timestamp") or 0,
        step=m.opt_int("step") or 0,
        dataset_name=m.opt_string("dataset_name") or None,
        dataset_digest=m.opt_string("dataset_digest") or None,
        model_id=m.opt_string("model_id") or None,
        run_id=m.opt_string("run_id") or run_id,
    )


def create(ctx: ServerContext, req: Params) -> dict[str, Any]:
    experiment_id = req.opt_string("experiment_id")
    if not experiment_id:
        raise MlflowException(
            "Missing value for parameter 'experiment_id': a run must belong to an experiment.",
            error_code=BAD_REQUEST,
        )
    run = ctx.store.create_run(
        experiment_id=experiment_id,
        user_id=req.opt_string("user_id"),
        start_time=req.opt_int("start_time"),
        tags=_run_tags(req.messages("tags")),
        run_name=req.opt_string("run_name") or None,
        request_key=req.opt_string("request_key"),
    )
    return {"run": run_json(run)}


def get(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return {"run": run_json(ctx.store.get_run(req.string("run_id")))}


def update(ctx: ServerContext, req: Params) -> dict[str, Any]:
    status = req.opt_int("status")  # the parser drops unknown statuses, as MLflow ignores them
    info = ctx.store.update_run_info(
        req.string("run_id"),
        RunStatus.to_string(status) if status is not None else None,
        req.opt_int("end_time"),
        req.opt_string("run_name") or None,
    )
    return {"run_info": run_info_json(info)}


def delete(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.delete_run(req.string("run_id"))
    return {}


def restore(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.restore_run(req.string("run_id"))
    return {}


def log_param(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.log_param(req.string("run_id"), Param(req.string("key"), req.string("value")))
    return {}


def log_metric(ctx: ServerContext, req: Params) -> dict[str, Any]:
    run_id = req.string("run_id")
    ctx.store.log_metric(run_id, _metric(req, run_id))
    return {}


def set_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.set_tag(req.string("run_id"), RunTag(req.string("key"), req.string("value")))
    return {}


def delete_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.delete_tag(req.string("run_id"), req.string("key"))
    return {}


def log_batch(ctx: ServerContext, req: Params) -> dict[str, Any]:
    run_id = req.string("run_id")
    points = req.get("metrics") or ()
    ctx.store.log_batch(
        run_id,
        # Entities already when the fast parser read them (parse_log_batch).
        metrics=[m if isinstance(m, Metric) else _metric(m, run_id) for m in points],
        params=[Param(p.string("key"), p.string("value")) for p in req.messages("params")],
        tags=_run_tags(req.messages("tags")),
    )
    return {}


def parse_log_batch(message: Message, data: object) -> Params:
    """The ``runs/log-batch`` request, its metrics read straight into entities when they
    come in the plain shape (:func:`~trackline.server.wire.metric_points`); otherwise
    exactly what :func:`~trackline.server.wire.parse_message` makes of it."""
    if isinstance(data, dict) and isinstance(data.get("metrics"), list):
        try:
            params = parse_message(message, {k: v for k, v in data.items() if k != "metrics"})
        except InvalidParameterValue:
            params = None  # the general parser below words the error, fields in order
        points = None if params is None else metric_points(data["metrics"], params.string("run_id"))
        if params is not None and points is not None:
            if points:
                params["metrics"] = points
            return params
    return parse_message(message, data)


def _dataset_input(item: Params) -> DatasetInput:
    ds = item.message("dataset")
    dataset = Dataset(
        name=ds.string("name"),
        digest=ds.string("digest"),
        source_type=ds.string("source_type"),
        source=ds.string("source"),
        schema=ds.opt_string("schema"),
        profile=ds.opt_string("profile"),
    )
    tags = [InputTag(t.string("key"), t.string("value")) for t in item.messages("tags")]
    return DatasetInput(dataset=dataset, tags=tags)


def log_inputs(ctx: ServerContext, req: Params) -> dict[str, Any]:
    models = [LoggedModelInput(m.string("model_id")) for m in req.messages("models")]
    ctx.store.log_inputs(
        req.string("run_id"),
        datasets=[_dataset_input(d) for d in req.messages("datasets")],
        models=models or None,
    )
    return {}


def log_outputs(ctx: ServerContext, req: Params) -> dict[str, Any]:
    models = [
        LoggedModelOutput(m.string("model_id"), m.opt_int("step") or 0)
        for m in req.messages("models")
    ]
    ctx.store.log_outputs(req.string("run_id"), models)
    return {}


def search_arguments(req: Params) -> dict[str, Any]:
    """The store's ``search_runs`` arguments from a ``runs/search`` request."""
    max_results = req.opt_int("max_results")
    return {
        "experiment_ids": req.strings("experiment_ids"),
        "filter_string": req.opt_string("filter") or None,
        "run_view_type": req.opt_int("run_view_type") or ViewType.ACTIVE_ONLY,
        "max_results": SEARCH_MAX_RESULTS_DEFAULT if max_results is None else max_results,
        "order_by": req.strings("order_by") or None,
        "page_token": req.opt_string("page_token") or None,
    }


def search(ctx: ServerContext, req: Params) -> dict[str, Any]:
    arguments = search_arguments(req)
    if not arguments["experiment_ids"]:
        return {}
    page = ctx.store.search_runs(**arguments)
    out: dict[str, Any] = {}
    if page:
        out["runs"] = [run_json(r) for r in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


_RUN = response_message("RunResponse", Field("run", "message", message=rq.RUN))
_POST = ("POST",)

ENDPOINTS = [
    Endpoint("runs/create", _POST, rq.CREATE_RUN, _RUN, create,
             "Create a RUNNING run in an active experiment. A repeat carrying the same "
             f"{IDEMPOTENCY_HEADER} header answers with the run already created.",
             headers=((IDEMPOTENCY_HEADER, "request_key"),), quick=True),
    Endpoint("runs/get", ("GET",), rq.RUN_ID, _RUN, get,
             "Get a run (deleted or not) with its latest metrics, params, tags and inputs.",
             quick=True),
    Endpoint("runs/update", _POST, rq.UPDATE_RUN,
             response_message("UpdateRunResponse",
                              Field("run_info", "message", message=rq.RUN_INFO)),
             update, "Change a run's status, end time or name.", quick=True),
    Endpoint("runs/delete", _POST, rq.RUN_ID, rq.EMPTY, delete, "Soft-delete a run.",
             quick=True),
    Endpoint("runs/restore", _POST, rq.RUN_ID, rq.EMPTY, restore, "Restore a deleted run.",
             quick=True),
    Endpoint("runs/log-parameter", _POST, rq.LOG_PARAM, rq.EMPTY, log_param,
             "Log a param; logging a different value for the same key is an error.",
             quick=True),
    Endpoint("runs/log-metric", _POST, rq.LOG_METRIC, rq.EMPTY, log_metric,
             "Log one metric point.", quick=True),
    Endpoint("runs/set-tag", _POST, rq.SET_RUN_TAG, rq.EMPTY, set_tag, "Set a tag on a run.",
             quick=True),
    Endpoint("runs/delete-tag", _POST, rq.DELETE_RUN_TAG, rq.EMPTY, delete_tag,
             "Delete a tag of a run.", quick=True),
    Endpoint("runs/log-batch", _POST, rq.LOG_BATCH, rq.EMPTY, log_batch,
             "Log metrics, params and tags in one all-or-nothing call.",
             max_body_bytes=LOG_BATCH_MAX_BODY_BYTES, parse=parse_log_batch),
    Endpoint("runs/log-inputs", _POST, rq.LOG_INPUTS, rq.EMPTY, log_inputs,
             "Record datasets and models a run used."),
    Endpoint("runs/outputs", _POST, LOG_OUTPUTS, rq.EMPTY, log_outputs,
             "Record logged models a run produced, each at a step."),
    Endpoint("runs/search", _POST, rq.SEARCH_RUNS,
             response_message("SearchRunsResponse",
                              Field("runs", "message", repeated=True, message=rq.RUN),
                              Field("next_page_token", "string")),
             search, "Search runs of some experiments with a filter, an ordering and pages."),
]  # fmt: skip
