"""Tags and aliases of registered models and their versions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class RegisteredModelTag:
    """A key/value label on a registered model; setting it again replaces the value."""

    key: str
    value: str


@dataclass(slots=True, frozen=True)
class ModelVersionTag:
    """A key/value label on one model version."""

    key: str
    value: str


@dataclass(slots=True, frozen=True)
class RegisteredModelAlias:
    """A named pointer (``champion``) to one version of a registered model."""

    alias: str
    version: str
