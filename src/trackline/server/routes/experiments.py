"""``experiments/*``: create, read, search, rename, delete, restore and tag experiments.

A client may name an experiment's ``artifact_location`` only inside the server's default
artifact root (:func:`check_artifact_location`): the server must never be made to write or
serve files at an arbitrary place.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from trackline.artifacts.paths import check_artifact_path
from trackline.entities import ExperimentTag, ViewType
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.server import requests as rq
from trackline.server.routes import Endpoint, ServerContext, response_message
from trackline.server.wire import Field, Params, experiment_json
from trackline.store.tracking_store import SEARCH_MAX_RESULTS_THRESHOLD

__all__ = ["ENDPOINTS", "check_artifact_location"]


def _split(uri: str) -> tuple[str, str, str]:
    """``(scheme, netloc, unquoted path)`` of a URI; plain paths become absolute file paths."""
    parsed = urlparse(uri)
    if len(parsed.scheme) <= 1:  # a plain path (or a Windows drive letter)
        return "file", "", os.path.join(os.getcwd(), uri)
    if parsed.params or parsed.query or parsed.fragment:
        raise InvalidParameterValue(
            f"Artifact location {uri!r} must not carry URL parameters, a query or a fragment."
        )
    netloc = parsed.netloc
    if parsed.scheme == "file" and netloc == "localhost":
        netloc = ""
    try:
        path = unquote(parsed.path, errors="strict")
    except UnicodeDecodeError:  # e.g. an overlong "%c0%ae" (a dot, for lax decoders)
        raise InvalidParameterValue(
            f"Artifact location {uri!r} contains percent-encoded bytes that are not UTF-8."
        ) from None
    return parsed.scheme.lower(), netloc, path


def check_artifact_location(location: str | None, artifact_root: str) -> str | None:
    """The artifact location to give a new experiment, checked against the server's root.

    None or ``""`` means the store's default (``<root>/<experiment id>``). Otherwise the
    location must use the root's scheme and host and lie at or below the root's path, with
    no ``..`` or encoded tricks in between (:func:`~trackline.artifacts.paths.
    check_artifact_path`); a local location must not leave the root through a symlink.
    Returns the location as the store should keep it (local paths as absolute ``file:``
    URIs). Raises :class:`~trackline.exceptions.InvalidParameterValue` otherwise.
    """
    if not location:
        return None
    scheme, netloc, path = _split(location)
    root_scheme, root_netloc, root_path = _split(artifact_root)
    if (scheme, netloc) != (root_scheme, root_netloc):
        raise _outside(location, artifact_root)
    roots = [root_path.rstrip("/") or "/"]
    if scheme == "file":
        roots.append(str(Path(root_path).resolve()))
    for root_text in roots:
        prefix = root_text.rstrip("/") + "/"
        if path == root_text or path.startswith(prefix):
            relative = check_artifact_path(path[len(prefix) :] if path != root_text else "")
            break
    else:
        raise _outside(location, artifact_root)
    if scheme != "file":
        joined = str(PurePosixPath(root_text, relative))
        return f"{scheme}://{netloc}{joined}" if netloc else f"{scheme}:{joined}"
    root = Path(root_path).resolve()
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise _outside(location, artifact_root)
    return target.as_uri()


def _outside(location: str, root: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Artifact location {location!r} is not inside this server's artifact root {root!r}. "
        "Leave it out to use the default location."
    )


def _experiment(ctx: ServerContext, experiment_id: str) -> dict[str, Any]:
    return {"experiment": experiment_json(ctx.store.get_experiment(experiment_id))}


def get_by_name(ctx: ServerContext, req: Params) -> dict[str, Any]:
    name = req.string("experiment_name")
    experiment = ctx.store.get_experiment_by_name(name)
    if experiment is None:
        raise ResourceDoesNotExist(f"Could not find experiment with name '{name}'")
    return {"experiment": experiment_json(experiment)}


def create(ctx: ServerContext, req: Params) -> dict[str, Any]:
    location = check_artifact_location(req.opt_string("artifact_location"), ctx.artifact_root)
    tags = [ExperimentTag(t.string("key"), t.string("value")) for t in req.messages("tags")]
    experiment_id = ctx.store.create_experiment(req.string("name"), location, tags)
    return {"experiment_id": experiment_id}


def get(ctx: ServerContext, req: Params) -> dict[str, Any]:
    return _experiment(ctx, req.string("experiment_id"))


def search(ctx: ServerContext, req: Params) -> dict[str, Any]:
    max_results = req.opt_int("max_results")
    if max_results is None or max_results < 1:
        raise InvalidParameterValue(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a "
            "positive integer."
        )
    if max_results > SEARCH_MAX_RESULTS_THRESHOLD:
        raise InvalidParameterValue(
            "Invalid value for request parameter max_results. It must be at most "
            f"{SEARCH_MAX_RESULTS_THRESHOLD}, but got value {max_results}"
        )
    page = ctx.store.search_experiments(
        view_type=req.opt_int("view_type") or ViewType.ACTIVE_ONLY,
        max_results=max_results,
        filter_string=req.opt_string("filter") or None,
        order_by=req.strings("order_by") or None,
        page_token=req.opt_string("page_token") or None,
    )
    out: dict[str, Any] = {}
    if page:
        out["experiments"] = [experiment_json(e) for e in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


def update(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.rename_experiment(req.string("experiment_id"), req.string("new_name"))
    return {}


def delete(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.delete_experiment(req.string("experiment_id"))
    return {}


def restore(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.restore_experiment(req.string("experiment_id"))
    return {}


def set_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    tag = ExperimentTag(req.string("key"), req.string("value"))
    ctx.store.set_experiment_tag(req.string("experiment_id"), tag)
    return {}


def delete_tag(ctx: ServerContext, req: Params) -> dict[str, Any]:
    ctx.store.delete_experiment_tag(req.string("experiment_id"), req.string("key"))
    return {}


_ONE = response_message("ExperimentResponse", Field("experiment", "message", message=rq.EXPERIMENT))
_POST = ("POST",)
_GET = ("GET",)

ENDPOINTS = [
    Endpoint("experiments/get-by-name", _GET, rq.GET_EXPERIMENT_BY_NAME, _ONE, get_by_name,
             "Get an experiment by name, deleted or not."),
    Endpoint("experiments/create", _POST, rq.CREATE_EXPERIMENT,
             response_message("CreateExperimentResponse", Field("experiment_id", "string")),
             create, "Create an experiment; a taken name is RESOURCE_ALREADY_EXISTS."),
    Endpoint("experiments/get", _GET, rq.EXPERIMENT_ID, _ONE, get,
             "Get an experiment with its tags."),
    Endpoint("experiments/search", ("POST", "GET"), rq.SEARCH_EXPERIMENTS,
             response_message("SearchExperimentsResponse",
                              Field("experiments", "message", repeated=True,
                                    message=rq.EXPERIMENT),
                              Field("next_page_token", "string")),
             search, "Search experiments with a filter, an ordering and pages."),
    Endpoint("experiments/update", _POST, rq.UPDATE_EXPERIMENT, rq.EMPTY, update,
             "Rename an active experiment."),
    Endpoint("experiments/delete", _POST, rq.EXPERIMENT_ID, rq.EMPTY, delete,
             "Soft-delete an experiment and its runs."),
    Endpoint("experiments/restore", _POST, rq.EXPERIMENT_ID, rq.EMPTY, restore,
             "Restore a deleted experiment and its runs."),
    Endpoint("experiments/set-experiment-tag", _POST, rq.SET_EXPERIMENT_TAG, rq.EMPTY, set_tag,
             "Set a tag on an active experiment."),
    Endpoint("experiments/delete-experiment-tag", _POST, rq.DELETE_EXPERIMENT_TAG, rq.EMPTY,
             delete_tag, "Delete a tag of an experiment."),
]  # fmt: skip
