"""A tag on a logged model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class LoggedModelTag:
    """A key/value label on a logged model; setting it again replaces the value."""

    key: str
    value: str
