"""Datasets and models a run used or produced (MLflow's run inputs and outputs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trackline.entities.tag import InputTag


@dataclass(slots=True, frozen=True)
class Dataset:
    """A dataset's identity (name and digest) and its source, schema and profile as JSON text."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None

    def to_dictionary(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self.source,
        }
        if self.schema is not None:
            out["schema"] = self.schema
        if self.profile is not None:
            out["profile"] = self.profile
        return out


@dataclass(slots=True, frozen=True)
class DatasetInput:
    """A dataset used by a run, with tags such as ``mlflow.data.context``."""

    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)

    def to_dictionary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dataset": self.dataset.to_dictionary()}
        if self.tags:
            out["tags"] = [{"key": t.key, "value": t.value} for t in self.tags]
        return out


@dataclass(slots=True, frozen=True)
class LoggedModelInput:
    """A logged model a run used."""

    model_id: str


@dataclass(slots=True, frozen=True)
class LoggedModelOutput:
    """A logged model a run produced, at a step."""

    model_id: str
    step: int = 0


@dataclass(slots=True)
class RunInputs:
    """Everything a run used."""

    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[LoggedModelInput] = field(default_factory=list)

    def to_dictionary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.dataset_inputs:
            out["dataset_inputs"] = [d.to_dictionary() for d in self.dataset_inputs]
        if self.model_inputs:
            out["model_inputs"] = [{"model_id": m.model_id} for m in self.model_inputs]
        return out


@dataclass(slots=True)
class RunOutputs:
    """Everything a run produced (logged models)."""

    model_outputs: list[LoggedModelOutput] = field(default_factory=list)

    def to_dictionary(self) -> dict[str, Any]:
        if not self.model_outputs:
            return {}
        return {
            "model_outputs": [{"model_id": m.model_id, "step": m.step} for m in self.model_outputs]
        }
