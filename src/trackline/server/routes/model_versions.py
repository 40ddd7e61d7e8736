"""``model-versions/*``: register, read, describe, stage, tag, search and delete model versions.

A version travels as MLflow's ``ModelVersion`` message: ``version`` a string of digits, the
stage by its name (``"Production"``), the status by its enum name (``"READY"``), ``aliases`` a
list of alias names, unset fields left out. Who made a change is the HTTP Basic username of
the request (None without one); the registry store records it in the audit trail.

A version's ``source`` is checked by the store (:mod:`trackline.store.model_source`). A URL of
this server's own proxied artifacts (``http(s)://<this host>/api/2.0/mlflow-artifacts/
artifacts/<p>``, what MLflow 2 clients send for runs whose artifacts the server proxies) is
first rewritten to ``mlflow-artifacts:/<p>``, the form the store knows.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from trackline.entities import ModelVersion, ModelVersionStatus, ModelVersionTag
from trackline.exceptions import NOT_IMPLEMENTED, MlflowException
from trackline.server import requests as rq
from trackline.server.routes import Endpoint, ServerContext, response_message
from trackline.server.routes.runs import IDEMPOTENCY_HEADER
from trackline.server.wire import Field, Message, Params
from trackline.store.registry_store import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    RegistryStore,
)

__all__ = [
    "ENDPOINTS",
    "MODEL_VERSION",
    "MODEL_VERSION_STATUSES",
    "USER_HEADERS",
    "model_version_json",
    "registry_of",
    "request_user",
    "server_source",
]

#: The protocol's names and numbers of a version's status.
MODEL_VERSION_STATUSES = {s.value: s.to_int() for s in ModelVersionStatus}
#: The request headers the registry routes read: who is asking, and at which host.
USER_HEADERS = (("authorization", "_authorization"), ("host", "_host"))
_PROXY_PATH = "/api/2.0/mlflow-artifacts/artifacts/"


def _s(name: str, doc: str = "", *, required: bool = False, repeated: bool = False) -> Field:
    return Field(name, "string", required=required, repeated=repeated, doc=doc)


def _i(name: str, doc: str = "") -> Field:
    return Field(name, "int64", doc=doc)


_TAGS = Field("tags", "message", repeated=True, message=rq.TAG)
_NAME = _s("name", "Name of the registered model.", required=True)
_VERSION = _s("version", "Version number, a string of digits.", required=True)

MODEL_VERSION = Message(
    "ModelVersion",
    (
        _s("name"),
        _s("version", "A string of digits."),
        _i("creation_timestamp", "Epoch milliseconds."),
        _i("last_updated_timestamp", "Epoch milliseconds."),
        _s("user_id"),
        _s("current_stage", "None, Staging, Production or Archived."),
        _s("description"),
        _s("source", "Where the version's files came from."),
        _s("run_id"),
        Field("status", "enum", enum=MODEL_VERSION_STATUSES),
        _s("status_message"),
        _TAGS,
        _s("run_link"),
        _s("aliases", "The aliases pointing at this version.", repeated=True),
        _s("model_id", "The logged model the version was registered from."),
    ),
)

CREATE = Message(
    "CreateModelVersion",
    (
        _NAME,
        _s("source", "models:/<model_id>, runs:/<run>/<path> or an artifact URI.", required=True),
        _s("run_id"),
        _TAGS,
        _s("run_link"),
        _s("description"),
        _s("model_id"),
    ),
)
ONE_VERSION = Message("ModelVersionRef", (_NAME, _VERSION))
UPDATE = Message("UpdateModelVersion", (_NAME, _VERSION, _s("description")))
TRANSITION = Message(
    "TransitionModelVersionStage",
    (
        _NAME,
        _VERSION,
        _s("stage", "None, Staging, Production or Archived (any case).", required=True),
        Field(
            "archive_existing_versions",
            "bool",
            required=True,
            doc="Move the model's other versions in this stage (Staging or Production only) "
            "to Archived.",
        ),
    ),
)
SEARCH = Message(
    "SearchModelVersions",
    (
        _s("filter", "e.g. name = 'm' AND tags.k = 'v' (name, run_id, source_path, "
                     "version_number, tags.<k>)."),
        _i("max_results", "Page size, at most 200000; defaults to 10000."),
        _s("order_by", "name, version_number, creation_timestamp or last_updated_timestamp, "
                       "with ASC or DESC.", repeated=True),
        _s("page_token"),
    ),
)  # fmt: skip
SET_TAG = Message(
    "SetModelVersionTag", (_NAME, _VERSION, _s("key", required=True), _s("value", required=True))
)
DELETE_TAG = Message("DeleteModelVersionTag", (_NAME, _VERSION, _s("key", required=True)))


def model_version_json(version: ModelVersion) -> dict[str, Any]:
    """A :class:`ModelVersion` as the wire shows it."""
    out: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "user_id": version.user_id,
        "current_stage": version.current_stage,
        "description": version.description,
        "source": version.source,
        "run_id": version.run_id,
        "status": version.status.value,
        "status_message": version.status_message,
        "run_link": version.run_link,
        "model_id": version.model_id,
    }
    out = {k: v for k, v in out.items() if v is not None and v != ""}
    if version.tags:
        out["tags"] = [{"key": k, "value": v} for k, v in version.tags.items()]
    if version.aliases:
        out["aliases"] = list(version.aliases)
    return out


def registry_of(ctx: ServerContext) -> RegistryStore:
    """The server's registry store (NOT_IMPLEMENTED when it runs without one)."""
    registry = ctx.registry
    if registry is None:
        raise MlflowException("This server has no model registry.", error_code=NOT_IMPLEMENTED)
    return registry


def request_user(req: Params) -> str | None:
    """The HTTP Basic username of the request, or None."""
    header = req.opt_string("_authorization") or ""
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username = decoded.partition(":")[0]
    return username or None


def server_source(source: str, host: str | None) -> str:
    """``source`` with a URL of this server's proxied artifacts (``http(s)://<host>/api/2.0/
    mlflow-artifacts/artifacts/<p>``) rewritten to ``mlflow-artifacts:/<p>``; anything else
    unchanged."""
    if not host or not source.lower().startswith(("http://", "https://")):
        return source
    parts = urlsplit(source)
    if parts.netloc.lower() != host.strip().lower() or parts.query or parts.fragment:
        return source
    if not parts.path.startswith(_PROXY_PATH):
        return source
    rest = parts.path[len(_PROXY_PATH) :]
    return f"mlflow-artifacts:/{rest}" if rest else source


def _version(version: ModelVersion) -> dict[str, Any]:
    return {"model_version": model_version_json(version)}


def create(ctx: ServerContext, req: Params) -> dict[str, Any]:
    tags = [ModelVersionTag(t.string("key"), t.string("value")) for t in req.messages("tags")]
    return _version(
        registry_of(ctx).create_model_version(
            req.string("name"),
            server_source(req.string("source"), req.opt_string("_host")),
            run_id=req.opt_string("run_id") or None,
            tags=tags,
            run_link=req.opt_string("run_link") or None,
            description=req.opt_string("description"),
            model_id=req.opt_string("model_id") or None,
            user_id=request_user(req),
            request_key=req.opt_string("request_key"),
        )
    )


def get(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return _version(registry_of(ctx).get_model_version(req.string("name"), req.string("version")))


def update(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return _version(
        registry_of(ctx).update_model_version(
            req.string("name"),
            req.string("version"),
            req.opt_string("description"),
            user_id=request_user(req),
        )
    )


def delete(ctx: ServerContext, req: Params) -> dict[str, Any]:
    registry_of(ctx).delete_model_version(
        req.string("name"), req.string("version"), user_id=request_user(req)
    )
    return {}


def transition_stage(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return _version(
        registry_of(ctx).transition_model_version_stage(
            req.string("name"),
            req.string("version"),
            req.string("stage"),
            archive_existing_versions=req.get("archive_existing_versions") is True,
            user_id=request_user(req),
        )
    )


def get_download_uri(ctx: ServerContext, req: Params) -> dict[str, Any]:
    uri = registry_of(ctx).get_model_version_download_uri(req.string("name"), req.string("version"))
    return {"artifact_uri": uri}


def search(ctx: ServerContext, req: Params) -> dict[str, Any]:
    max_results = req.opt_int("max_results")
    page = registry_of(ctx).search_model_versions(
        filter_string=req.opt_string("filter") or None,
        max_results=SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT
        if max_results is None
        else max_results,
        order_by=req.strings("order_by") or None,
        page_token=req.opt_string("page_token") or None,
    )
    out: dict[str, Any] = {}
    if page:
        out["model_versions"] = [model_version_json(v) for v in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


def set_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    tag = ModelVersionTag(req.string("key"), req.string("value"))
    registry_of(ctx).set_model_version_tag(
        req.string("name"), req.string("version"), tag, user_id=request_user(req)
    )
    return {}


def delete_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    registry_of(ctx).delete_model_version_tag(
        req.string("name"), req.string("version"), req.string("key"), user_id=request_user(req)
    )
    return {}


_ONE = response_message(
    "ModelVersionResponse", Field("model_version", "message", message=MODEL_VERSION)
)
_BASE = "model-versions"

ENDPOINTS = [
    Endpoint(f"{_BASE}/create", ("POST",), CREATE, _ONE, create,
             "Register the next version of a registered model (status READY). The source "
             "must name the run's or logged model's artifacts or lie in a known artifact root. "
             f"A repeat carrying the same {IDEMPOTENCY_HEADER} header answers with the "
             "version already registered.",
             headers=(*USER_HEADERS, (IDEMPOTENCY_HEADER, "request_key"))),
    Endpoint(f"{_BASE}/get", ("GET",), ONE_VERSION, _ONE, get,
             "Get a model version with its tags and aliases."),
    Endpoint(f"{_BASE}/update", ("PATCH",), UPDATE, _ONE, update,
             "Replace a model version's description.", headers=USER_HEADERS),
    Endpoint(f"{_BASE}/delete", ("DELETE",), ONE_VERSION, rq.EMPTY, delete,
             "Delete a model version (its number is never reused; its aliases go with it).",
             headers=USER_HEADERS),
    Endpoint(f"{_BASE}/transition-stage", ("POST",), TRANSITION, _ONE, transition_stage,
             "Move a model version to a stage, optionally archiving the model's other "
             "versions in that stage.", headers=USER_HEADERS),
    Endpoint(f"{_BASE}/get-download-uri", ("GET",), ONE_VERSION,
             response_message("GetModelVersionDownloadUriResponse",
                              Field("artifact_uri", "string")),
             get_download_uri, "Where a model version's files are."),
    Endpoint(f"{_BASE}/search", ("GET",), SEARCH,
             response_message("SearchModelVersionsResponse",
                              Field("model_versions", "message", repeated=True,
                                    message=MODEL_VERSION),
                              Field("next_page_token", "string")),
             search, "Search model versions with a filter, an ordering and pages."),
    Endpoint(f"{_BASE}/set-tag", ("POST",), SET_TAG, rq.EMPTY, set_tag,
             "Set a tag on a model version.", headers=USER_HEADERS),
    Endpoint(f"{_BASE}/delete-tag", ("DELETE",), DELETE_TAG, rq.EMPTY, delete_tag,
             "Delete a tag of a model version.", headers=USER_HEADERS),
]  # fmt: skip
