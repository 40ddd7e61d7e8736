"""A registered model's page and the actions on a model.

``/models/<name>`` shows the description, tags, aliases, the versions (newest first, 100 a
page: ``offset``) with their stage, aliases, times, author, source run and status, and the
model's audit trail. Actions: set the description, set and delete tags, set (or move) and
delete aliases, rename and delete the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trackline.entities import RegisteredModelTag
from trackline.exceptions import InvalidParameterValue
from trackline.search import encode_page_token
from trackline.ui import urls
from trackline.ui.actions import Body
from trackline.ui.audit import audit_trail
from trackline.ui.context import UiContext
from trackline.ui.registry_data import STAGES, model_json, quoted, registry_of, version_json
from trackline.ui.rendering import Page, Query

__all__ = [
    "delete_model",
    "delete_model_alias",
    "delete_model_tag",
    "model_page",
    "rename_model",
    "set_model_alias",
    "set_model_description",
    "set_model_tag",
]

#: Versions shown per page.
VERSIONS_PER_PAGE = 100


def model_page(ctx: UiContext, query: Query) -> Page:
    """Everything about one registered model."""
    registry = registry_of(ctx)
    model = registry.get_registered_model(query.path["name"])
    name = model.name
    offset = query.integer("offset", 0, 0, 10**9)
    found = registry.search_model_versions(
        f"name = {quoted(name)}",
        VERSIONS_PER_PAGE,
        ["version_number DESC"],
        encode_page_token(offset) if offset else None,
    )
    versions = [version_json(v) for v in found]
    data = {
        "model": model_json(model),
        "versions": versions,
        "offset": offset,
        "links": {
            "prev": urls.model(name, offset=max(0, offset - VERSIONS_PER_PAGE) or None)
            if offset > 0
            else None,
            "next": urls.model(name, offset=offset + VERSIONS_PER_PAGE) if found.token else None,
        },
        "stages": list(STAGES),
        "audit": audit_trail(registry, name),
    }
    return Page("model.html", name, data)


def set_model_description(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Set the model's description (``text``; empty clears it)."""
    text = body.string("text", allow_empty=True)
    registry_of(ctx).update_registered_model(body.path["name"], text, body.user)
    return {}


def set_model_tag(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Set tag ``key`` to ``value`` on the model."""
    tag = RegisteredModelTag(body.string("key").strip(), body.string("value", allow_empty=True))
    registry_of(ctx).set_registered_model_tag(body.path["name"], tag, body.user)
    return {}


def delete_model_tag(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Delete the model's tag ``key``."""
    registry_of(ctx).delete_registered_model_tag(body.path["name"], body.string("key"), body.user)
    return {}


def set_model_alias(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Point alias ``alias`` at ``version`` (moving it if it points elsewhere)."""
    name = body.path["name"]
    alias, version = body.string("alias").strip(), body.string("version").strip()
    registry_of(ctx).set_registered_model_alias(name, alias, version, body.user)
    return {"version_url": urls.model_version(name, version)}


def delete_model_alias(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Remove the model's alias ``alias``."""
    registry_of(ctx).delete_registered_model_alias(
        body.path["name"], body.string("alias"), body.user
    )
    return {}


def rename_model(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Rename the model to ``new_name``; answers the model's new page."""
    model = registry_of(ctx).rename_registered_model(
        body.path["name"], body.string("new_name").strip(), body.user
    )
    return {"name": model.name, "url": urls.model(model.name)}


def delete_model(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Delete the model with its versions; ``confirm`` must repeat its name."""
    name = body.path["name"]
    if body.string("confirm") != name:
        raise InvalidParameterValue("To delete the model, 'confirm' must repeat its name")
    registry_of(ctx).delete_registered_model(name, body.user)
    return {"url": urls.models()}
