"""A parameter of a logged model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class LoggedModelParameter:
    """A key and its value, given when the model is created (usually its run's params)."""

    key: str
    value: str
