"""One entry of the registry's audit trail."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(slots=True, frozen=True)
class RegistryEvent:
    """A change to a registered model or one of its versions: who, when, what, from -> to.

    ``action`` names the change, one of :data:`REGISTRY_ACTIONS`; ``version`` is None for a
    change to the model itself; ``key`` names what changed where the action needs it (a tag
    key, an alias, ``description``); ``old_value``/``new_value`` are its values before and
    after (None where there was none). ``event_id`` increases in the order changes happened.
    """

    event_id: int
    timestamp: int
    user_id: str | None
    action: str
    name: str
    version: str | None = None
    key: str | None = None
    old_value: str | None = None
    new_value: str | None = None

    def to_dictionary(self) -> dict[str, Any]:
        """The event as a plain dict (unset fields left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


#: Every action the audit trail records.
REGISTRY_ACTIONS: tuple[str, ...] = (
    "create_registered_model",
    "rename_registered_model",
    "update_registered_model",  # key "description"
    "delete_registered_model",
    "set_registered_model_tag",
    "delete_registered_model_tag",
    "create_model_version",  # new_value: the source
    "update_model_version",  # key "description"
    "transition_model_version_stage",  # old_value/new_value: the stages
    "delete_model_version",
    "set_model_version_tag",
    "delete_model_version_tag",
    "set_registered_model_alias",  # key: the alias; old_value/new_value: the versions
    "delete_registered_model_alias",
)
