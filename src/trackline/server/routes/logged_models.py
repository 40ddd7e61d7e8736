"""``logged-models/*``: MLflow 3's logged models, which every ``log_model`` of its client
creates, reads, finalizes, searches and tags.

The model's id travels in the path (``logged-models/{model_id}``); a tag key too
(``logged-models/{model_id}/tags/{tag_key}``, where the key may contain ``/``). A model is
encoded as ``{"info": {...}, "data": {"params", "metrics"}}`` with its status as the
protocol's enum name (``LOGGED_MODEL_READY``).
"""

from __future__ import annotations

from typing import Any

from trackline.entities import LoggedModel, LoggedModelParameter, LoggedModelStatus, LoggedModelTag
from trackline.exceptions import InvalidParameterValue
from trackline.server import requests as rq
from trackline.server.routes import Endpoint, ServerContext, response_message
from trackline.server.routes.runs import IDEMPOTENCY_HEADER
from trackline.server.wire import Field, Message, Params, metric_json

__all__ = ["ENDPOINTS", "LOGGED_MODEL", "LOGGED_MODEL_STATUSES", "logged_model_json"]

#: The protocol's names and numbers of a logged model's status.
LOGGED_MODEL_STATUSES = {s.to_proto_name(): s.to_int() for s in LoggedModelStatus}


def _s(name: str, doc: str = "", *, required: bool = False, repeated: bool = False) -> Field:
    return Field(name, "string", required=required, repeated=repeated, doc=doc)


def _tags() -> Field:
    return Field("tags", "message", repeated=True, message=rq.TAG)


_STATUS = Field("status", "enum", enum=LOGGED_MODEL_STATUSES)
_MODEL_ID = _s("model_id", "In the path.", required=True)

LOGGED_MODEL = Message(
    "LoggedModel",
    (
        Field(
            "info",
            "message",
            message=Message(
                "LoggedModelInfo",
                (
                    _s("model_id", "m-<32 hex digits>."),
                    _s("experiment_id"),
                    _s("name"),
                    Field("creation_timestamp_ms", "int64"),
                    Field("last_updated_timestamp_ms", "int64"),
                    _s("artifact_uri", "Where the model's files are uploaded."),
                    _STATUS,
                    _s("model_type"),
                    _s("source_run_id"),
                    _s("status_message"),
                    _tags(),
                ),
            ),
        ),
        Field(
            "data",
            "message",
            message=Message(
                "LoggedModelData",
                (
                    Field("params", "message", repeated=True, message=rq.PARAM),
                    Field("metrics", "message", repeated=True, message=rq.METRIC),
                ),
            ),
        ),
    ),
)

CREATE = Message(
    "CreateLoggedModel",
    (
        _s("experiment_id", required=True),
        _s("name", "Generated when absent; must not contain / : . % \" '"),
        _s("model_type"),
        _s("source_run_id", "The run that logs the model."),
        Field("params", "message", repeated=True, message=rq.PARAM),
        _tags(),
    ),
)
ONE_MODEL = Message(
    "LoggedModelRequest",
    (
        _MODEL_ID,
        Field("allow_deleted", "bool", doc="GET: also return a deleted model."),
        Field("status", "enum", enum=LOGGED_MODEL_STATUSES,
              doc="PATCH (required): LOGGED_MODEL_READY, or LOGGED_MODEL_UPLOAD_FAILED."),
    ),
    doc="GET reads the model, PATCH finalizes it (sets its status), DELETE deletes it.",
)  # fmt: skip
SET_TAGS = Message("SetLoggedModelTags", (_MODEL_ID, _tags()))
DELETE_TAG = Message(
    "DeleteLoggedModelTag", (_MODEL_ID, _s("tag_key", "In the path.", required=True))
)
SEARCH = Message(
    "SearchLoggedModels",
    (
        _s("experiment_ids", required=True, repeated=True),
        _s("filter", "e.g. name = 'model'"),
        Field(
            "datasets",
            "message",
            repeated=True,
            message=Message(
                "DatasetFilter", (_s("dataset_name", required=True), _s("dataset_digest"))
            ),
            doc="Only metrics logged on these datasets count in the filter and the order.",
        ),
        Field("max_results", "int64", doc="Page size; defaults to 100."),
        Field(
            "order_by",
            "message",
            repeated=True,
            message=Message(
                "OrderBy",
                (
                    _s("field_name", required=True),
                    Field("ascending", "bool", doc="Defaults to true."),
                    _s("dataset_name"),
                    _s("dataset_digest"),
                ),
            ),
        ),
        _s("page_token"),
    ),
)


def logged_model_json(model: LoggedModel) -> dict[str, Any]:
    """A :class:`LoggedModel` as the wire shows it: ``{"info": ..., "data": ...}``."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_location,
        "status": model.status.to_proto_name(),
        "model_type": model.model_type,
        "source_run_id": model.source_run_id,
        "status_message": model.status_message,
    }
    info = {k: v for k, v in info.items() if v is not None and v != ""}
    if model.tags:
        info["tags"] = [{"key": k, "value": v} for k, v in model.tags.items()]
    data: dict[str, Any] = {}
    if model.params:
        data["params"] = [{"key": k, "value": v} for k, v in model.params.items()]
    if model.metrics:
        data["metrics"] = [metric_json(m) for m in model.metrics]
    return {"info": info, "data": data}


def _model(model: LoggedModel) -> dict[str, Any]:
    return {"model": logged_model_json(model)}


def _tag_list(req: Params) -> list[LoggedModelTag]:
    return [LoggedModelTag(t.string("key"), t.string("value")) for t in req.messages("tags")]


def create(ctx: ServerContext, req: Params) -> dict[str, Any]:
    params = [
        LoggedModelParameter(p.string("key"), p.string("value")) for p in req.messages("params")
    ]
    return _model(
        ctx.store.create_logged_model(
            req.string("experiment_id"),
            name=req.opt_string("name") or None,
            source_run_id=req.opt_string("source_run_id") or None,
            tags=_tag_list(req),
            params=params,
            model_type=req.opt_string("model_type") or None,
            request_key=req.opt_string("request_key"),
        )
    )


def get(ctx: ServerContext, req: Params) -> dict[str, Any]:
    allow_deleted = req.get("allow_deleted") is True
    return _model(ctx.store.get_logged_model(req.string("model_id"), allow_deleted=allow_deleted))


def finalize(ctx: ServerContext, req: Params) -> dict[str, Any]:
    number = req.opt_int("status")
    if number is None:
        raise InvalidParameterValue(
            "Missing value for required parameter 'status'. "
            "See the API docs for more information about request parameters."
        )
    status = LoggedModelStatus.from_int(number)
    return _model(ctx.store.finalize_logged_model(req.string("model_id"), status))


def delete(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.delete_logged_model(req.string("model_id"))
    return {}


def set_tags(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.set_logged_model_tags(req.string("model_id"), _tag_list(req))
    return {}


def delete_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.delete_logged_model_tag(req.string("model_id"), req.string("tag_key"))
    return {}


def search(ctx: ServerContext, req: Params) -> dict[str, Any]:
    datasets = [
        {"dataset_name": d.string("dataset_name"), "dataset_digest": d.opt_string("dataset_digest")}
        for d in req.messages("datasets")
    ]
    order_by = [
        {
            "field_name": o.string("field_name"),
            "ascending": o.get("ascending", True),
            "dataset_name": o.opt_string("dataset_name"),
            "dataset_digest": o.opt_string("dataset_digest"),
        }
        for o in req.messages("order_by")
    ]
    page = ctx.store.search_logged_models(
        req.strings("experiment_ids"),
        filter_string=req.opt_string("filter") or None,
        datasets=datasets or None,
        max_results=req.opt_int("max_results"),
        order_by=order_by or None,
        page_token=req.opt_string("page_token") or None,
    )
    out: dict[str, Any] = {}
    if page:
        out["models"] = [logged_model_json(m) for m in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


_MODEL = response_message("LoggedModelResponse", Field("model", "message", message=LOGGED_MODEL))
_BASE = "logged-models"

ENDPOINTS = [
    Endpoint(_BASE, ("POST",), CREATE, _MODEL, create,
             "Create a PENDING logged model (its files go under its artifact_uri). A repeat "
             f"carrying the same {IDEMPOTENCY_HEADER} header answers with the model already "
             "created.",
             headers=((IDEMPOTENCY_HEADER, "request_key"),)),
    Endpoint(f"{_BASE}/search", ("POST",), SEARCH,
             response_message("SearchLoggedModelsResponse",
                              Field("models", "message", repeated=True, message=LOGGED_MODEL),
                              Field("next_page_token", "string")),
             search, "Search the logged models of some experiments."),
    Endpoint(f"{_BASE}/{{model_id}}", ("GET", "PATCH", "DELETE"), ONE_MODEL, _MODEL, get,
             "GET a logged model with its tags, params and metrics; PATCH finalizes it (READY "
             "once its files are uploaded, or UPLOAD_FAILED) and returns it; DELETE deletes "
             "it (and returns {}).",
             method_handlers=(("PATCH", finalize), ("DELETE", delete))),
    Endpoint(f"{_BASE}/{{model_id}}/tags", ("PATCH",), SET_TAGS, rq.EMPTY, set_tags,
             "Set tags on a logged model."),
    Endpoint(f"{_BASE}/{{model_id}}/tags/{{tag_key:path}}", ("DELETE",), DELETE_TAG, rq.EMPTY,
             delete_tag, "Delete a tag of a logged model."),
]  # fmt: skip
