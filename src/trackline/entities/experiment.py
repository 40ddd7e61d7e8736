"""An experiment: a named group of runs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trackline.entities.tag import ExperimentTag


class Experiment:
    """An experiment with its id (a string), name, artifact location and tags."""

    __slots__ = (
        "_tags",
        "artifact_location",
        "creation_time",
        "experiment_id",
        "last_update_time",
        "lifecycle_stage",
        "name",
    )

    def __init__(
        self,
        experiment_id: str,
        name: str,
        artifact_location: str,
        lifecycle_stage: str,
        tags: Iterable[ExperimentTag] | dict[str, str] | None = None,
        creation_time: int | None = None,
        last_update_time: int | None = None,
    ) -> None:
        self.experiment_id = str(experiment_id)
        self.name = name
        self.artifact_location = artifact_location
        self.lifecycle_stage = lifecycle_stage
        self.creation_time = creation_time
        self.last_update_time = last_update_time
        if isinstance(tags, dict):
            self._tags = dict(tags)
        else:
            self._tags = {tag.key: tag.value for tag in tags or ()}

    @property
    def tags(self) -> dict[str, str]:
        """The experiment's tags as a dict of key to value."""
        return self._tags

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Experiment):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<Experiment: experiment_id={self.experiment_id!r}, name={self.name!r}, "
            f"artifact_location={self.artifact_location!r}, "
            f"lifecycle_stage={self.lifecycle_stage!r}, tags={self._tags!r}>"
        )

    def to_dictionary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_location": self.artifact_location,
            "lifecycle_stage": self.lifecycle_stage,
        }
        if self.creation_time is not None:
            out["creation_time"] = self.creation_time
        if self.last_update_time is not None:
            out["last_update_time"] = self.last_update_time
        if self._tags:
            out["tags"] = [{"key": k, "value": v} for k, v in self._tags.items()]
        return out
