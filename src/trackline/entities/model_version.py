"""A version of a registered model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from trackline.entities.model_version_stage import STAGE_NONE
from trackline.entities.model_version_status import ModelVersionStatus
from trackline.entities.registered_model_tag import ModelVersionTag


class ModelVersion:
    """One registered version of a model, with MLflow's attribute names.

    ``version`` is a string of digits (MLflow's clients compare it as text); times are epoch
    milliseconds; ``tags`` reads as a dict; ``aliases`` lists the aliases pointing here.
    """

    __slots__ = (
        "_tags",
        "aliases",
        "creation_timestamp",
        "current_stage",
        "description",
        "last_updated_timestamp",
        "model_id",
        "name",
        "run_id",
        "run_link",
        "source",
        "status",
        "status_message",
        "user_id",
        "version",
    )

    def __init__(
        self,
        name: str,
        version: str | int,
        creation_timestamp: int,
        last_updated_timestamp: int | None = None,
        description: str | None = None,
        user_id: str | None = None,
        current_stage: str = STAGE_NONE,
        source: str | None = None,
        run_id: str | None = None,
        status: ModelVersionStatus | int | str = ModelVersionStatus.READY,
        status_message: str | None = None,
        tags: Iterable[ModelVersionTag] | Mapping[str, str] | None = None,
        run_link: str | None = None,
        aliases: Iterable[str] | None = None,
        model_id: str | None = None,
    ) -> None:
        self.name = name
        self.version = str(version)
        self.creation_timestamp = creation_timestamp
        self.last_updated_timestamp = last_updated_timestamp
        self.description = description
        self.user_id = user_id
        self.current_stage = current_stage
        self.source = source
        self.run_id = run_id
        self.status = ModelVersionStatus.from_value(status)
        self.status_message = status_message
        if isinstance(tags, Mapping):
            self._tags = dict(tags)
        else:
            self._tags = {tag.key: tag.value for tag in tags or ()}
        self.run_link = run_link
        self.aliases: list[str] = list(aliases or ())
        self.model_id = model_id

    @property
    def tags(self) -> dict[str, str]:
        """The version's tags as a dict of key to value."""
        return self._tags

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelVersion):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<ModelVersion: name={self.name!r}, version={self.version!r}, "
            f"current_stage={self.current_stage!r}, status={self.status.value!r}, "
            f"run_id={self.run_id!r}, aliases={self.aliases!r}>"
        )

    def to_dictionary(self) -> dict[str, Any]:
        """The version as a plain dict (unset fields left out)."""
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "creation_timestamp": self.creation_timestamp,
            "current_stage": self.current_stage,
            "status": self.status.value,
            "tags": dict(self._tags),
            "aliases": list(self.aliases),
        }
        for attr in (
            "last_updated_timestamp",
            "description",
            "user_id",
            "source",
            "run_id",
            "status_message",
            "run_link",
            "model_id",
        ):
            value = getattr(self, attr)
            if value is not None:
                out[attr] = value
        return out
