"""From a tracking URI to the store that serves it.

=====================================  ===========================================================
URI                                    store
=====================================  ===========================================================
(none)                                 the folder ``./mlruns`` of the working directory
``file:///abs/dir`` or a plain path    a folder: SQLite database ``trackline.db`` + artifacts in it
``sqlite:///path.db``                  that SQLite file; artifacts in ``mlruns/`` beside it
``postgresql://…``, ``mysql://…``      that database; artifacts in ``./mlruns``
``http(s)://host:port``                a tracking server, over MLflow's REST protocol
=====================================  ===========================================================

``TRACKLINE_DEFAULT_ARTIFACT_ROOT`` overrides where new experiments keep their artifacts.
Stores are built once per URI and process. Other schemes can be added with
:func:`register_tracking_store`.

Registry URIs (:func:`get_registry_store`) take the same forms: a database URI, a folder or
none give the SQL registry on the tracking store's own database (one connection pool, one
SQLite writer), ``http(s)://`` the server's registry over REST. Other schemes can be added
with :func:`register_registry_store`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

from trackline.exceptions import InvalidParameterValue
from trackline.store.registry_store import RegistryStore
from trackline.store.tracking_store import TrackingStore

__all__ = [
    "DATABASE_FILENAME",
    "DEFAULT_FOLDER",
    "default_artifact_root",
    "get_registry_store",
    "get_tracking_store",
    "local_path",
    "path_to_uri",
    "register_registry_store",
    "register_tracking_store",
    "resolve_tracking_uri",
]

DEFAULT_FOLDER = "mlruns"
DATABASE_FILENAME = "trackline.db"

StoreBuilder = Callable[[str], TrackingStore]
RegistryStoreBuilder = Callable[[str], RegistryStore]

_builders: dict[str, StoreBuilder] = {}
_stores: dict[str, TrackingStore] = {}
_registry_builders: dict[str, RegistryStoreBuilder] = {}
_registry_stores: dict[str, RegistryStore] = {}
_lock = threading.RLock()


def path_to_uri(path: str | os.PathLike[str]) -> str:
    """The ``file://`` URI of a local path, made absolute."""
    return Path(path).expanduser().resolve().as_uri()


def local_path(uri: str) -> Path:
    """The local path of a ``file:`` URI or a plain path."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidParameterValue(f"file: URIs must name a local path, got {uri!r}")
        return Path(unquote(parsed.path))
    return Path(uri).expanduser()


def _is_plain_path(uri: str) -> bool:
    scheme = urlparse(uri).scheme
    # A one-letter scheme is a Windows drive ("C:\\runs").
    return scheme == "" or len(scheme) == 1


def resolve_tracking_uri(uri: str | None) -> str:
    """The canonical tracking URI: the default folder for None, plain paths as file URIs."""
    if not uri:
        return path_to_uri(DEFAULT_FOLDER)
    if _is_plain_path(uri):
        return path_to_uri(uri)
    return uri


def default_artifact_root(uri: str) -> str:
    """Where new experiments of the store at ``uri`` keep their artifacts, as a URI."""
    override = os.environ.get("TRACKLINE_DEFAULT_ARTIFACT_ROOT")
    if override:
        return resolve_tracking_uri(override)
    uri = resolve_tracking_uri(uri)
    scheme = urlparse(uri).scheme
    if scheme == "file":
        return path_to_uri(local_path(uri))
    if scheme.startswith("sqlite"):
        database = uri.split(":///", 1)[1] if ":///" in uri else ""
        if database and database != ":memory:":
            return path_to_uri(Path(unquote(database.split("?", 1)[0])).parent / DEFAULT_FOLDER)
    return path_to_uri(DEFAULT_FOLDER)


S = TypeVar("S")


def register_tracking_store(scheme: str, builder: StoreBuilder) -> None:
    """Serve tracking URIs of ``scheme`` with ``builder(uri)``."""
    _builders[scheme] = builder


def get_tracking_store(uri: str | None) -> TrackingStore:
    """The store for a tracking URI, built on first use and then shared in the process."""
    return _cached(_stores, resolve_tracking_uri(uri), _build)


def _cached(cache: dict[str, S], uri: str, build: Callable[[str], S]) -> S:
    """``cache[uri]``, built by ``build(uri)`` the first time (once, whatever the threads)."""
    found = cache.get(uri)
    if found is not None:
        return found
    with _lock:
        found = cache.get(uri)
        if found is None:
            found = cache[uri] = build(uri)
    return found


def _build(uri: str) -> TrackingStore:
    scheme = urlparse(uri).scheme
    backend = scheme.split("+", 1)[0]
    if scheme in _builders:
        return _builders[scheme](uri)
    if backend in _builders:
        return _builders[backend](uri)
    if backend == "file":
        return _sql_store(path_to_uri(local_path(uri) / DATABASE_FILENAME), uri)
    if backend in ("http", "https"):
        from trackline.store.rest import RestTrackingStore

        return RestTrackingStore(uri)
    if backend in ("sqlite", "postgresql", "postgres", "mysql", "mariadb"):
        return _sql_store(uri, uri)
    raise InvalidParameterValue(
        f"Unsupported tracking URI {uri!r}. Use a folder path, sqlite:///file.db, "
        "postgresql://..., or mysql://..."
    )


def _sql_store(database_uri: str, tracking_uri: str) -> TrackingStore:
    from trackline.store.sql.tracking import SqlTrackingStore

    if database_uri.startswith("file:"):
        database_uri = "sqlite:///" + str(local_path(database_uri))
    return SqlTrackingStore(database_uri, default_artifact_root(tracking_uri))


def register_registry_store(scheme: str, builder: RegistryStoreBuilder) -> None:
    """Serve registry URIs of ``scheme`` with ``builder(uri)``."""
    _registry_builders[scheme] = builder


def get_registry_store(uri: str | None) -> RegistryStore:
    """The registry store for a registry URI, built on first use and then shared in the
    process. SQL registries share the tracking store's database of the same URI."""
    return _cached(_registry_stores, resolve_tracking_uri(uri), _build_registry)


def _build_registry(uri: str) -> RegistryStore:
    scheme = urlparse(uri).scheme
    backend = scheme.split("+", 1)[0]
    if scheme in _registry_builders:
        return _registry_builders[scheme](uri)
    if backend in _registry_builders:
        return _registry_builders[backend](uri)
    if backend in ("http", "https"):
        from trackline.store.rest.registry import RestRegistryStore

        return RestRegistryStore(uri)
    if backend in ("file", "sqlite", "postgresql", "postgres", "mysql", "mariadb"):
        from trackline.store.sql.registry import SqlRegistryStore
        from trackline.store.sql.tracking import SqlTrackingStore

        tracking = get_tracking_store(uri)
        if isinstance(tracking, SqlTrackingStore):
            return SqlRegistryStore(
                tracking.db_uri, tracking.default_artifact_root, database=tracking.db
            )
    raise InvalidParameterValue(
        f"Unsupported registry URI {uri!r}. Use a folder path, sqlite:///file.db, "
        "postgresql://..., mysql://... or http(s)://host:port"
    )


def _reset_cache() -> None:
    """Close and forget every store (tests use it between cases)."""
    with _lock:
        for registry in _registry_stores.values():
            close = getattr(registry, "close", None)
            if callable(close):
                close()
        _registry_stores.clear()
        for store in _stores.values():
            store.close()
        _stores.clear()
