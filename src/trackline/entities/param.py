"""A run parameter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Param:
    """A key and its value; logged once per run and never changed."""

    key: str
    value: str
