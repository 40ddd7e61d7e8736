"""The registry's audit trail as the model and version pages show it: who, when, what,
from -> to, newest first.

The store keeps the trail oldest first; the pages show the newest :data:`MAX_EVENTS` changes
of a model (its versions' included) or of one version (with the aliases set to it or moved
away from it), and say how many there were in all.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from trackline.entities import RegistryEvent
from trackline.exceptions import MlflowException
from trackline.store.registry_store import (
    SEARCH_REGISTRY_EVENTS_MAX_RESULTS_THRESHOLD,
    RegistryStore,
)
from trackline.ui import urls

__all__ = ["MAX_EVENTS", "audit_trail", "event_json"]

#: At most this many changes are shown, the newest.
MAX_EVENTS = 200

#: What each action of the trail is called on the pages.
ACTION_LABELS = {
    "create_registered_model": "created the model",
    "rename_registered_model": "renamed the model",
    "update_registered_model": "changed the model's description",
    "delete_registered_model": "deleted the model",
    "set_registered_model_tag": "set a model tag",
    "delete_registered_model_tag": "deleted a model tag",
    "create_model_version": "registered the version",
    "update_model_version": "changed the version's description",
    "transition_model_version_stage": "moved the version to another stage",
    "delete_model_version": "deleted the version",
    "set_model_version_tag": "set a version tag",
    "delete_model_version_tag": "deleted a version tag",
    "set_registered_model_alias": "set an alias",
    "delete_registered_model_alias": "deleted an alias",
}
#: Actions whose values are long texts: the trail shows their start.
_TEXTS = frozenset({"update_registered_model", "update_model_version"})
_SHOWN_TEXT = 200
_ALIAS_ACTIONS = frozenset({"set_registered_model_alias", "delete_registered_model_alias"})


def _short(value: str | None, action: str) -> str | None:
    if value is None or action not in _TEXTS or len(value) <= _SHOWN_TEXT:
        return value
    return value[:_SHOWN_TEXT] + "…"


def event_json(event: RegistryEvent) -> dict[str, Any]:
    """One change as the trail shows it (its version linked)."""
    return {
        "event_id": event.event_id,
        "timestamp": event.timestamp,
        "user_id": event.user_id,
        "action": event.action,
        "label": ACTION_LABELS.get(event.action, event.action.replace("_", " ")),
        "name": event.name,
        "version": event.version,
        "version_url": urls.model_version(event.name, event.version) if event.version else None,
        "key": event.key,
        "old_value": _short(event.old_value, event.action),
        "new_value": _short(event.new_value, event.action),
    }


def _concerns(event: RegistryEvent, version: str) -> bool:
    """Whether a change of the model concerns ``version``: a change of the version itself,
    or an alias set to it, moved from it or deleted from it."""
    if event.version is not None:
        return event.version == version
    return event.action in _ALIAS_ACTIONS and version in (event.old_value, event.new_value)


def audit_trail(registry: RegistryStore, name: str, version: str | None = None) -> dict[str, Any]:
    """The newest changes of model ``name`` (or those concerning one of its versions, aliases
    pointing to or away from it included), newest first, and how many there were:
    ``{"events": [...], "total": n, "error": None}`` (``error`` says why there is none when
    the registry keeps no trail)."""
    newest: deque[RegistryEvent] = deque(maxlen=MAX_EVENTS)
    total = 0
    token: str | None = None
    while True:
        try:
            page = registry.search_registry_events(
                name, None, SEARCH_REGISTRY_EVENTS_MAX_RESULTS_THRESHOLD, token
            )
        except MlflowException as exc:  # a registry that keeps none (an MLflow server's)
            return {"events": [], "total": 0, "error": exc.message}
        for event in page:
            if version is None or _concerns(event, version):
                newest.append(event)
                total += 1
        token = page.token
        if not token:
            break
    return {"events": [event_json(e) for e in reversed(newest)], "total": total, "error": None}
