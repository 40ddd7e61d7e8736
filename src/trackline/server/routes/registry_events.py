"""``GET /api/2.0/trackline/registry/events``: the model registry's audit trail (trackline's own
endpoint; MLflow has none).

Every change to a registered model or a version (stage transitions, alias moves, description
edits, tag changes, renames, deletions) is an event: who (``user_id``), when (``timestamp``,
epoch ms), what (``action``, ``key``) and from -> to (``old_value``, ``new_value``). The
answer is ``{"events": [...], "next_page_token": ...}``, oldest first; ``name`` narrows it to
one model (following renames), ``version`` to one of its versions.
"""

from __future__ import annotations

from typing import Any

from trackline.entities import RegistryEvent
from trackline.server.routes import TRACKLINE_PREFIXES, Endpoint, ServerContext, response_message
from trackline.server.routes.model_versions import registry_of
from trackline.server.wire import Field, Message, Params
from trackline.store.registry_store import SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT

__all__ = ["ENDPOINTS", "REGISTRY_EVENT", "registry_event_json"]


def _s(name: str, doc: str = "") -> Field:
    return Field(name, "string", doc=doc)


REGISTRY_EVENT = Message(
    "RegistryEvent",
    (
        Field("event_id", "int64", doc="Increases in the order the changes happened."),
        Field("timestamp", "int64", doc="Epoch milliseconds."),
        _s("user_id", "Who made the change (absent when unknown)."),
        _s("action", "e.g. transition_model_version_stage, set_registered_model_alias."),
        _s("name", "The model's name at the time of the change."),
        _s("version", "The version changed; absent for a change to the model itself."),
        _s("key", "What changed, where the action needs it: a tag key, an alias, description."),
        _s("old_value", "The value before (absent when there was none)."),
        _s("new_value", "The value after (absent when there is none)."),
    ),
)
SEARCH = Message(
    "SearchRegistryEvents",
    (
        _s("name", "Only this registered model's events (following renames)."),
        Field("version", "int64", doc="Only this version's events (with name)."),
        Field("max_results", "int64", doc="Page size, at most 10000; defaults to 1000."),
        _s("page_token"),
    ),
)


def registry_event_json(event: RegistryEvent) -> dict[str, Any]:
    """A :class:`RegistryEvent` as the wire shows it (unset fields left out)."""
    return event.to_dictionary()


def search(ctx: ServerContext, req: Params) -> dict[str, Any]:
    max_results = req.opt_int("max_results")
    page = registry_of(ctx).search_registry_events(
        name=req.opt_string("name") or None,
        version=req.opt_int("version"),
        max_results=SEARCH_REGISTRY_EVENTS_MAX_RESULTS_DEFAULT
        if max_results is None
        else max_results,
        page_token=req.opt_string("page_token") or None,
    )
    out: dict[str, Any] = {"events": [registry_event_json(e) for e in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


ENDPOINTS = [
    Endpoint(
        "registry/events",
        ("GET",),
        SEARCH,
        response_message(
            "SearchRegistryEventsResponse",
            Field("events", "message", repeated=True, message=REGISTRY_EVENT),
            Field("next_page_token", "string"),
        ),
        search,
        "The model registry's audit trail, oldest first: every change with who, when, "
        "what and from -> to.",
        prefixes=TRACKLINE_PREFIXES,
    ),
]
