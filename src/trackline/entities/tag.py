"""Tags: key/value labels on runs, experiments and inputs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class RunTag:
    """A tag on a run; setting it again replaces the value."""

    key: str
    value: str


@dataclass(slots=True, frozen=True)
class ExperimentTag:
    """A tag on an experiment."""

    key: str
    value: str


@dataclass(slots=True, frozen=True)
class InputTag:
    """A tag on a run input, e.g. ``mlflow.data.context``."""

    key: str
    value: str
