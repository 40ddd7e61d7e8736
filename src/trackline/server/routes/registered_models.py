"""``registered-models/*``: create, read, rename, describe, tag, search and delete registered
models; their latest versions per stage; their aliases.

A model travels as MLflow's ``RegisteredModel`` message: its ``latest_versions`` (the newest
version in each stage), ``tags`` as ``[{key, value}]`` and ``aliases`` as
``[{alias, version}]``. ``registered-models/alias`` serves three methods: POST points an alias
at a version, DELETE removes it, GET reads the version it points to (an unknown alias is a
400 INVALID_PARAMETER_VALUE, as MLflow's clients expect). ``get-latest-versions`` answers GET
and POST (MLflow's client sends POST and falls back to GET).
"""

from __future__ import annotations

from typing import Any

from trackline.entities import RegisteredModel, RegisteredModelTag
from trackline.exceptions import InvalidParameterValue
from trackline.server import requests as rq
from trackline.server.routes import Endpoint, ServerContext, response_message
from trackline.server.routes.model_versions import (
    MODEL_VERSION,
    USER_HEADERS,
    model_version_json,
    registry_of,
    request_user,
)
from trackline.server.wire import Field, Message, Params
from trackline.store.registry_store import SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT

__all__ = ["ENDPOINTS", "REGISTERED_MODEL", "registered_model_json"]


def _s(name: str, doc: str = "", *, required: bool = False, repeated: bool = False) -> Field:
    return Field(name, "string", required=required, repeated=repeated, doc=doc)


_TAGS = Field("tags", "message", repeated=True, message=rq.TAG)
_NAME = _s("name", "Name of the registered model.", required=True)
ALIAS = Message("RegisteredModelAlias", (_s("alias"), _s("version", "A string of digits.")))

REGISTERED_MODEL = Message(
    "RegisteredModel",
    (
        _s("name"),
        Field("creation_timestamp", "int64", doc="Epoch milliseconds."),
        Field("last_updated_timestamp", "int64", doc="Epoch milliseconds."),
        _s("user_id"),
        _s("description"),
        Field("latest_versions", "message", repeated=True, message=MODEL_VERSION,
              doc="The newest version in each stage."),
        _TAGS,
        Field("aliases", "message", repeated=True, message=ALIAS),
    ),
)  # fmt: skip

CREATE = Message(
    "CreateRegisteredModel",
    (_s("name", "Must not be empty or contain / or :.", required=True), _TAGS,
     _s("description")),
)  # fmt: skip
NAME_ONLY = Message("RegisteredModelName", (_NAME,))
RENAME = Message("RenameRegisteredModel", (_NAME, _s("new_name", required=True)))
UPDATE = Message("UpdateRegisteredModel", (_NAME, _s("description")))
SEARCH = Message(
    "SearchRegisteredModels",
    (
        _s("filter", "e.g. name LIKE 'm%' AND tags.team = 'a' (name, tags.<k>)."),
        Field("max_results", "int64", doc="Page size, at most 1000; defaults to 100."),
        _s("order_by", "name, timestamp or last_updated_timestamp, with ASC or DESC.",
           repeated=True),
        _s("page_token"),
    ),
)  # fmt: skip
LATEST_VERSIONS = Message(
    "GetLatestVersions",
    (_NAME, _s("stages", "Stages to look in (any case); all four when empty.", repeated=True)),
)
SET_TAG = Message(
    "SetRegisteredModelTag", (_NAME, _s("key", required=True), _s("value", required=True))
)
DELETE_TAG = Message("DeleteRegisteredModelTag", (_NAME, _s("key", required=True)))
ALIAS_REQUEST = Message(
    "RegisteredModelAliasRequest",
    (
        _NAME,
        _s("alias", required=True),
        _s("version", "POST (required): the version to point the alias at."),
    ),
    doc="POST points the alias at a version, DELETE removes it, GET reads its version.",
)


def registered_model_json(model: RegisteredModel) -> dict[str, Any]:
    """A :class:`RegisteredModel` as the wire shows it."""
    out: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
        "user_id": model.user_id,
        "description": model.description,
    }
    out = {k: v for k, v in out.items() if v is not None and v != ""}
    if model.latest_versions:
        out["latest_versions"] = [model_version_json(v) for v in model.latest_versions]
    if model.tags:
        out["tags"] = [{"key": k, "value": v} for k, v in model.tags.items()]
    if model.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in model.aliases.items()]
    return out


def _model(model: RegisteredModel) -> dict[str, Any]:
    return {"registered_model": registered_model_json(model)}


def create(ctx: ServerContext, req: Params) -> dict[str, Any]:
    tags = [RegisteredModelTag(t.string("key"), t.string("value")) for t in req.messages("tags")]
    return _model(
        registry_of(ctx).create_registered_model(
            req.string("name"),
            tags=tags,
            description=req.opt_string("description"),
            user_id=request_user(req),
        )
    )


def get(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return _model(registry_of(ctx).get_registered_model(req.string("name")))


def rename(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return _model(
        registry_of(ctx).rename_registered_model(
            req.string("name"), req.string("new_name"), user_id=request_user(req)
        )
    )


def update(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return _model(
        registry_of(ctx).update_registered_model(
            req.string("name"), req.opt_string("description"), user_id=request_user(req)
        )
    )


def delete(ctx: ServerContext, req: Params) -> dict[str, Any]:
    registry_of(ctx).delete_registered_model(req.string("name"), user_id=request_user(req))
    return {}


def search(ctx: ServerContext, req: Params) -> dict[str, Any]:
    max_results = req.opt_int("max_results")
    page = registry_of(ctx).search_registered_models(
        filter_string=req.opt_string("filter") or None,
        max_results=SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT
        if max_results is None
        else max_results,
        order_by=req.strings("order_by") or None,
        page_token=req.opt_string("page_token") or None,
    )
    out: dict[str, Any] = {}
    if page:
        out["registered_models"] = [registered_model_json(m) for m in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


def latest_versions(ctx: ServerContext, req: Params) -> dict[str, Any]:
    versions = registry_of(ctx).get_latest_versions(
        req.string("name"), req.strings("stages") or None
    )
    return {"model_versions": [model_version_json(v) for v in versions]} if versions else {}


def set_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    tag = RegisteredModelTag(req.string("key"), req.string("value"))
    registry_of(ctx).set_registered_model_tag(req.string("name"), tag, user_id=request_user(req))
    return {}


def delete_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    registry_of(ctx).delete_registered_model_tag(
        req.string("name"), req.string("key"), user_id=request_user(req)
    )
    return {}


def set_alias(ctx: ServerContext, req: Params) -> dict[str, Any]:
    version = req.opt_string("version")
    if not version:
        raise InvalidParameterValue(
            "Missing value for required parameter 'version'. "
            "See the API docs for more information about request parameters."
        )
    registry_of(ctx).set_registered_model_alias(
        req.string("name"), req.string("alias"), version, user_id=request_user(req)
    )
    return {}


def delete_alias(ctx: ServerContext, req: Params) -> dict[str, Any]:
    registry_of(ctx).delete_registered_model_alias(
        req.string("name"), req.string("alias"), user_id=request_user(req)
    )
    return {}


def get_alias(ctx: ServerContext, req: Params) -> dict[str, Any]:
    version = registry_of(ctx).get_model_version_by_alias(req.string("name"), req.string("alias"))
    return {"model_version": model_version_json(version)}


_ONE = response_message(
    "RegisteredModelResponse", Field("registered_model", "message", message=REGISTERED_MODEL)
)
_VERSIONS = response_message(
    "ModelVersionsResponse",
    Field("model_versions", "message", repeated=True, message=MODEL_VERSION),
)
_ALIAS_RESPONSE = response_message(
    "RegisteredModelAliasResponse",
    Field("model_version", "message", message=MODEL_VERSION, doc="GET only."),
)
_BASE = "registered-models"

ENDPOINTS = [
    Endpoint(f"{_BASE}/create", ("POST",), CREATE, _ONE, create,
             "Create a registered model; a taken name is RESOURCE_ALREADY_EXISTS.",
             headers=USER_HEADERS),
    Endpoint(f"{_BASE}/get", ("GET",), NAME_ONLY, _ONE, get,
             "Get a registered model with its tags, aliases and latest versions."),
    Endpoint(f"{_BASE}/rename", ("POST",), RENAME, _ONE, rename,
             "Rename a registered model; its versions, tags and aliases follow.",
             headers=USER_HEADERS),
    Endpoint(f"{_BASE}/update", ("PATCH",), UPDATE, _ONE, update,
             "Replace a registered model's description.", headers=USER_HEADERS),
    Endpoint(f"{_BASE}/delete", ("DELETE",), NAME_ONLY, rq.EMPTY, delete,
             "Delete a registered model with its versions, tags and aliases.",
             headers=USER_HEADERS),
    Endpoint(f"{_BASE}/search", ("GET",), SEARCH,
             response_message("SearchRegisteredModelsResponse",
                              Field("registered_models", "message", repeated=True,
                                    message=REGISTERED_MODEL),
                              Field("next_page_token", "string")),
             search, "Search registered models with a filter, an ordering and pages "
             "(prompts are left out unless the filter asks for them)."),
    Endpoint(f"{_BASE}/get-latest-versions", ("GET", "POST"), LATEST_VERSIONS, _VERSIONS,
             latest_versions, "The newest version of a registered model in each stage."),
    Endpoint(f"{_BASE}/set-tag", ("POST",), SET_TAG, rq.EMPTY, set_tag,
             "Set a tag on a registered model.", headers=USER_HEADERS),
    Endpoint(f"{_BASE}/delete-tag", ("DELETE",), DELETE_TAG, rq.EMPTY, delete_tag,
             "Delete a tag of a registered model.", headers=USER_HEADERS),
    Endpoint(f"{_BASE}/alias", ("POST", "DELETE", "GET"), ALIAS_REQUEST, _ALIAS_RESPONSE,
             set_alias, "POST points an alias at a version (moving it), DELETE removes it "
             "(both answer {}), GET returns the version it points to.",
             headers=USER_HEADERS,
             method_handlers=(("DELETE", delete_alias), ("GET", get_alias))),
]  # fmt: skip
