"""The model registry in MLflow's REST JSON, both ways (the client side of ``registered-models/*``,
``model-versions/*`` and trackline's ``registry/events``).

Answers are read leniently, as MLflow's client reads them: versions and times may be numbers
or decimal strings, a version's status its enum name or number, unknown fields are ignored and
an empty string counts as unset. A registered model lists its aliases as
``[{"alias", "version"}]``, a model version as a list of alias names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trackline.entities import (
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
    RegistryEvent,
)
from trackline.entities.model_version_stage import STAGE_NONE
from trackline.exceptions import InvalidParameterValue
from trackline.store.rest import codec

__all__ = [
    "model_version_from_json",
    "registered_model_from_json",
    "registry_event_from_json",
    "tag_list",
]


def _items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = data.get(name)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _opt(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None or value == "" else str(value)


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value)


def _status(value: object) -> ModelVersionStatus:
    if value is None or value == "":
        return ModelVersionStatus.READY
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return ModelVersionStatus.from_value(value)
        except ValueError:
            pass
    raise InvalidParameterValue(
        f"The server sent {value!r} where a model version status was expected."
    )


def tag_list(tags: Sequence[RegisteredModelTag | ModelVersionTag] | None) -> list[dict[str, str]]:
    """Registry tags as ``[{"key", "value"}]``."""
    return [{"key": t.key, "value": t.value} for t in tags or ()]


def model_version_from_json(data: Mapping[str, Any]) -> ModelVersion:
    """A :class:`ModelVersion` from its JSON."""
    aliases = data.get("aliases")
    return ModelVersion(
        name=_str(data, "name"),
        version=_str(data, "version"),
        creation_timestamp=codec.int64_from_json(data.get("creation_timestamp")) or 0,
        last_updated_timestamp=codec.int64_from_json(data.get("last_updated_timestamp")),
        description=_opt(data, "description"),
        user_id=_opt(data, "user_id"),
        current_stage=_opt(data, "current_stage") or STAGE_NONE,
        source=_opt(data, "source"),
        run_id=_opt(data, "run_id"),
        status=_status(data.get("status")),
        status_message=_opt(data, "status_message"),
        tags=[ModelVersionTag(_str(t, "key"), _str(t, "value")) for t in _items(data, "tags")],
        run_link=_opt(data, "run_link"),
        aliases=[str(a) for a in aliases] if isinstance(aliases, list) else (),
        model_id=_opt(data, "model_id"),
    )


def registered_model_from_json(data: Mapping[str, Any]) -> RegisteredModel:
    """A :class:`RegisteredModel` from its JSON."""
    return RegisteredModel(
        name=_str(data, "name"),
        creation_timestamp=codec.int64_from_json(data.get("creation_timestamp")),
        last_updated_timestamp=codec.int64_from_json(data.get("last_updated_timestamp")),
        description=_opt(data, "description"),
        latest_versions=[model_version_from_json(v) for v in _items(data, "latest_versions")],
        tags=[RegisteredModelTag(_str(t, "key"), _str(t, "value")) for t in _items(data, "tags")],
        aliases=[
            RegisteredModelAlias(_str(a, "alias"), _str(a, "version"))
            for a in _items(data, "aliases")
        ],
        user_id=_opt(data, "user_id"),
    )


def registry_event_from_json(data: Mapping[str, Any]) -> RegistryEvent:
    """A :class:`RegistryEvent` from its JSON."""
    return RegistryEvent(
        event_id=codec.int64_from_json(data.get("event_id")) or 0,
        timestamp=codec.int64_from_json(data.get("timestamp")) or 0,
        user_id=_opt(data, "user_id"),
        action=_str(data, "action"),
        name=_str(data, "name"),
        version=_opt(data, "version"),
        key=_opt(data, "key"),
        old_value=data["old_value"] if isinstance(data.get("old_value"), str) else None,
        new_value=data["new_value"] if isinstance(data.get("new_value"), str) else None,
    )
