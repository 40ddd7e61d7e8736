"""What every UI view works with: the server's stores and its artifact service."""

from __future__ import annotations

from dataclasses import dataclass

from trackline.server.routes.artifacts import ArtifactService
from trackline.store.registry_store import RegistryStore
from trackline.store.tracking_store import TrackingStore

__all__ = ["UiContext"]


@dataclass(frozen=True)
class UiContext:
    """The server's tracking store, its registry store (None without one) and the artifact
    service that decides which run artifacts the server may read."""

    artifacts: ArtifactService

    @property
    def store(self) -> TrackingStore:
        """The tracking store."""
        return self.artifacts.context.store

    @property
    def registry(self) -> RegistryStore | None:
        """The model registry store, if the server has one."""
        return self.artifacts.context.registry
