"""The process-wide tracking and registry URIs.

The tracking URI is, in order: what :func:`set_tracking_uri` set, the environment variable
``TRACKLINE_TRACKING_URI``, then ``MLFLOW_TRACKING_URI``, then the default folder ``./mlruns``
(which :func:`trackline.store.uri.resolve_tracking_uri` turns into a ``file:`` URI).
"""

from __future__ import annotations

import os

__all__ = [
    "get_registry_uri",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "set_registry_uri",
    "set_tracking_uri",
]

_ENV_TRACKING_URIS = ("TRACKLINE_TRACKING_URI", "MLFLOW_TRACKING_URI")
_ENV_REGISTRY_URIS = ("TRACKLINE_REGISTRY_URI", "MLFLOW_REGISTRY_URI")

_tracking_uri: str | None = None
_registry_uri: str | None = None


def _as_uri(uri: str | os.PathLike[str]) -> str:
    # A path object (pathlib.Path...) means a folder; MLflow accepts it the same way.
    if isinstance(uri, os.PathLike):
        from pathlib import Path

        return Path(uri).expanduser().resolve().as_uri()
    return os.fspath(uri)


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Set the tracking URI of this process: a folder path or ``file:`` URI, ``sqlite:///x.db``,
    ``postgresql://...``, ``mysql://...`` or ``http(s)://`` server. None goes back to the
    environment or the default."""
    global _tracking_uri
    _tracking_uri = None if uri is None else _as_uri(uri)


def _configured_tracking_uri() -> str | None:
    """The tracking URI set in code or in the environment, unresolved; None for the default."""
    if _tracking_uri:
        return _tracking_uri
    for name in _ENV_TRACKING_URIS:
        value = os.environ.get(name)
        if value:
            return value
    return None


def is_tracking_uri_set() -> bool:
    """Whether a tracking URI was set in code or in the environment."""
    return _configured_tracking_uri() is not None


def get_tracking_uri() -> str:
    """The current tracking URI, resolved (the default is ``file:///<cwd>/mlruns``)."""
    from trackline.store.uri import resolve_tracking_uri

    return resolve_tracking_uri(_configured_tracking_uri())


def set_registry_uri(uri: str | os.PathLike[str] | None) -> None:
    """Set the model registry URI of this process (by default the tracking URI)."""
    global _registry_uri
    _registry_uri = None if uri is None else _as_uri(uri)


def _configured_registry_uri() -> str | None:
    """The registry URI set in code or in the environment; None when it follows tracking."""
    if _registry_uri:
        return _registry_uri
    for name in _ENV_REGISTRY_URIS:
        value = os.environ.get(name)
        if value:
            return value
    return None


def get_registry_uri() -> str:
    """The registry URI: set in code, in the environment, or else the tracking URI."""
    return _configured_registry_uri() or get_tracking_uri()
