"""A registered model: a name under which model versions are registered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from trackline.entities.model_version import ModelVersion
from trackline.entities.registered_model_tag import RegisteredModelAlias, RegisteredModelTag


class RegisteredModel:
    """A registered model with MLflow's attribute names.

    ``latest_versions`` holds the newest version in each stage; ``tags`` reads as a dict and
    ``aliases`` as a dict of alias to version (a string of digits).
    """

    __slots__ = (
        "_aliases",
        "_tags",
        "creation_timestamp",
        "description",
        "last_updated_timestamp",
        "latest_versions",
        "name",
        "user_id",
    )

    def __init__(
        self,
        name: str,
        creation_timestamp: int | None = None,
        last_updated_timestamp: int | None = None,
        description: str | None = None,
        latest_versions: Iterable[ModelVersion] | None = None,
        tags: Iterable[RegisteredModelTag] | Mapping[str, str] | None = None,
        aliases: Iterable[RegisteredModelAlias] | Mapping[str, str] | None = None,
        user_id: str | None = None,
    ) -> None:
        self.name = name
        self.creation_timestamp = creation_timestamp
        self.last_updated_timestamp = last_updated_timestamp
        self.description = description
        self.latest_versions: list[ModelVersion] = list(latest_versions or ())
        if isinstance(tags, Mapping):
            self._tags = dict(tags)
        else:
            self._tags = {tag.key: tag.value for tag in tags or ()}
        if isinstance(aliases, Mapping):
            self._aliases = {alias: str(version) for alias, version in aliases.items()}
        else:
            self._aliases = {a.alias: str(a.version) for a in aliases or ()}
        self.user_id = user_id

    @property
    def tags(self) -> dict[str, str]:
        """The model's tags as a dict of key to value."""
        return self._tags

    @property
    def aliases(self) -> dict[str, str]:
        """The model's aliases as a dict of alias to version."""
        return self._aliases

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegisteredModel):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<RegisteredModel: name={self.name!r}, "
            f"latest_versions={[v.version for v in self.latest_versions]!r}, "
            f"aliases={self._aliases!r}>"
        )

    def to_dictionary(self) -> dict[str, Any]:
        """The model as a plain dict (unset fields left out, versions as dicts)."""
        out: dict[str, Any] = {
            "name": self.name,
            "latest_versions": [v.to_dictionary() for v in self.latest_versions],
            "tags": dict(self._tags),
            "aliases": dict(self._aliases),
        }
        for attr in ("creation_timestamp", "last_updated_timestamp", "description", "user_id"):
            value = getattr(self, attr)
            if value is not None:
                out[attr] = value
        return out
