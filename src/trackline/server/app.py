"""The tracking server as an ASGI application: :func:`create_app`.

The app serves MLflow's REST protocol for tracking (``/api/2.0/mlflow/...`` and
``/ajax-api/2.0/mlflow/...``), artifacts (:mod:`trackline.server.routes.artifacts`),
``/health``, ``/version``, ``/api/3.0/mlflow/server-info`` and ``/openapi.json``. It owns one
:class:`~trackline.store.tracking_store.TrackingStore`; its lifespan flushes the store on
shutdown and closes it when the app opened it.

Run it with ``trackline server`` or any ASGI server::

    uvicorn --factory trackline.server.app:create_app_from_env
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from trackline.exceptions import InvalidParameterValue, MissingDependency, MlflowException

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute, Route
except ImportError:  # pragma: no cover - exercised by the CLI's missing-extra test
    raise MissingDependency("starlette", "server", "the tracking server") from None

from trackline.server.errors import handle_http_exception
from trackline.server.openapi import openapi_document
from trackline.server.routes import (
    EndpointDispatch,
    ServerContext,
    all_endpoints,
    build_routes,
)
from trackline.server.routes.artifacts import (
    PROXIED_ARTIFACT_ROOT,
    ArtifactService,
    artifact_routes,
    open_destination,
)
from trackline.server.routes.health import ROUTES as HEALTH_ROUTES
from trackline.server.security import SecurityMiddleware, SecurityPolicy
from trackline.server.wire import dumps
from trackline.store.registry_store import RegistryStore
from trackline.store.tracking_store import TrackingStore
from trackline.store.uri import (
    DATABASE_FILENAME,
    default_artifact_root,
    get_tracking_store,
    local_path,
    resolve_tracking_uri,
)
from trackline.ui import ui_routes

__all__ = [
    "ENV_ARTIFACTS_DESTINATION",
    "ENV_ARTIFACT_ROOT",
    "ENV_BACKEND_STORE_URI",
    "ENV_SERVE_ARTIFACTS",
    "create_app",
    "create_app_from_env",
]

#: Environment variables through which ``trackline server`` configures its worker processes.
ENV_BACKEND_STORE_URI = "TRACKLINE_SERVER_BACKEND_STORE_URI"
ENV_ARTIFACT_ROOT = "TRACKLINE_SERVER_DEFAULT_ARTIFACT_ROOT"
ENV_ARTIFACTS_DESTINATION = "TRACKLINE_SERVER_ARTIFACTS_DESTINATION"
ENV_SERVE_ARTIFACTS = "TRACKLINE_SERVER_SERVE_ARTIFACTS"

_SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
_logger = logging.getLogger("trackline.server")


def _open_store(backend_store_uri: str, artifact_root: str) -> tuple[TrackingStore, bool]:
    """The store for ``backend_store_uri`` with ``artifact_root`` as its default root, and
    whether the app owns it (opened it itself and must close it)."""
    uri = resolve_tracking_uri(backend_store_uri)
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "file" or scheme in _SQL_SCHEMES:
        from trackline.store.sql.tracking import SqlTrackingStore

        database = uri
        if scheme == "file":
            database = f"sqlite:///{local_path(uri) / DATABASE_FILENAME}"
        return SqlTrackingStore(database, artifact_root), True
    if scheme in ("http", "https"):
        raise InvalidParameterValue(
            f"A tracking server keeps runs in a database or a folder, not at {uri!r}."
        )
    # Other schemes come from stores registered with trackline.store.uri; share those.
    return get_tracking_store(uri), False


def _artifact_root_uri(backend_store_uri: str, artifact_root: str | None) -> str:
    if artifact_root:
        return resolve_tracking_uri(artifact_root)
    return default_artifact_root(backend_store_uri)


def _read_roots(root: str, backend_store_uri: str, owned: bool) -> tuple[str, ...]:
    """The roots whose run artifacts the server reads: its own and, for a store it opened,
    the store's local default (runs logged there directly before the server ran)."""
    if not owned:
        return (root,)
    return tuple(dict.fromkeys((root, default_artifact_root(backend_store_uri))))


def _open_registry(store: TrackingStore, roots: Sequence[str]) -> RegistryStore | None:
    """The registry store on the tracking store's database (sharing its connections), with
    ``roots`` as the artifact stores a version's source may lie in; None for a store that
    is not SQL."""
    from trackline.store.sql.registry import SqlRegistryStore
    from trackline.store.sql.tracking import SqlTrackingStore

    if not isinstance(store, SqlTrackingStore):
        return None
    return SqlRegistryStore(store.db_uri, artifact_roots=roots, database=store.db)


async def _openapi(request: Request) -> Response:
    """This document: the OpenAPI description of every route."""
    document = openapi_document(request.app.routes)
    return Response(dumps(document), media_type="application/json")


def create_app(
    backend_store_uri: str,
    default_artifact_root: str | None = None,
    *,
    store: TrackingStore | None = None,
    registry: RegistryStore | None = None,
    serve_artifacts: bool = True,
    artifacts_destination: str | None = None,
    allowed_hosts: Sequence[str] | None = None,
    cors_allowed_origins: Sequence[str] | None = None,
    warm_up: bool = False,
) -> Starlette:
    """The tracking server's ASGI application.

    ``backend_store_uri`` is a tracking URI (a folder, ``sqlite:///…``, ``postgresql://…``,
    ``mysql://…``); ``default_artifact_root`` is where new experiments keep their artifacts
    (by default the store's own default, e.g. ``mlruns/`` beside a SQLite file). Pass
    ``store`` to serve an existing store instead of opening one; the app then flushes it on
    shutdown but leaves closing it to the caller. The model registry lives in the same
    database (its store shares the tracking store's connections); pass ``registry`` to serve
    another registry store (closing it is then the caller's).

    With ``serve_artifacts`` and an ``artifacts_destination`` (a local folder or
    ``s3://bucket/prefix``) the server
    proxies artifacts: ``mlflow-artifacts:/<p>`` names ``<destination>/<p>`` and, unless a
    ``default_artifact_root`` is given, new experiments get ``mlflow-artifacts:/<id>``
    (``trackline server`` passes ``./mlartifacts``, as ``mlflow server`` does). Otherwise
    the ``mlflow-artifacts`` routes answer 503.

    Host and cross-origin checks are on (:mod:`trackline.server.security`):
    ``allowed_hosts`` and ``cors_allowed_origins`` extend the defaults (None: from the
    environment); ``["*"]`` turns a check off.

    With ``warm_up`` (``trackline server`` sets it) the app readies the store's hot paths in
    a background thread as it starts (compiled statements, one read of each kind), so that
    no client's first call pays for them; ``/health`` answers meanwhile.
    """
    destination = None
    if serve_artifacts and artifacts_destination is not None:
        destination = open_destination(artifacts_destination)
        if default_artifact_root is None and store is None:
            default_artifact_root = PROXIED_ARTIFACT_ROOT
    if default_artifact_root is None and store is not None:
        store_root = getattr(store, "default_artifact_root", None)
        default_artifact_root = store_root if isinstance(store_root, str) else None
    root = _artifact_root_uri(backend_store_uri, default_artifact_root)
    owned = False
    if store is None:
        store, owned = _open_store(backend_store_uri, root)
    read_roots = _read_roots(root, backend_store_uri, owned)
    owns_registry = registry is None
    if registry is None:
        registry = _open_registry(store, read_roots)
    context = ServerContext(store=store, artifact_root=root, registry=registry)
    artifacts = ArtifactService(context, destination, read_roots)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm_up:
            threading.Thread(
                target=_warm_up, args=(context.store,), name="trackline-warm-up", daemon=True
            ).start()
        try:
            yield
        finally:
            await run_in_threadpool(
                _shutdown, context.store, owned, context.registry if owns_registry else None
            )

    routes: list[BaseRoute] = [
        *build_routes(all_endpoints(), context),
        *artifact_routes(artifacts),
        *HEALTH_ROUTES,
        Route("/openapi.json", _openapi, methods=["GET"]),
        *ui_routes(artifacts),  # the web UI (trackline.ui): pages at /, JSON twins at /ui-api
    ]
    policy = SecurityPolicy.build(allowed_hosts, cors_allowed_origins)
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: handle_http_exception},
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityMiddleware, policy=policy),
            Middleware(EndpointDispatch, routes=routes),
        ],
    )
    app.state.context = context
    app.state.artifacts = artifacts
    return app


def _shutdown(store: TrackingStore, owned: bool, registry: RegistryStore | None) -> None:
    try:
        store.flush()
    finally:
        close = getattr(registry, "close", None)
        if callable(close):
            close()
        if owned:
            store.close()


def _warm_up(store: TrackingStore) -> None:
    """Ready the hot paths before the first client needs them, beside the serving: compile
    every prepared statement for the store's dialect and take each read path once (reads
    of nothing: no write, no lock)."""
    dialect = getattr(store, "dialect", None)
    try:
        if isinstance(dialect, str):
            from trackline.store.sql.prepared import compile_all

            compile_all(dialect)
        missing = "0" * 32
        reads: list[Callable[[], object]] = [
            lambda: store.get_metric_history(missing, "m"),
            lambda: store.search_runs(["0"], max_results=1),
            lambda: store.get_run(missing),
        ]
        for read in reads:
            with contextlib.suppress(MlflowException):
                read()
    except Exception as exc:  # an optimisation only: the first calls do it themselves
        _logger.debug("warming up the store failed: %s", exc)


def create_app_from_env() -> Starlette:
    """:func:`create_app` configured by ``TRACKLINE_SERVER_BACKEND_STORE_URI``,
    ``TRACKLINE_SERVER_DEFAULT_ARTIFACT_ROOT``, ``TRACKLINE_SERVER_ARTIFACTS_DESTINATION`` and
    ``TRACKLINE_SERVER_SERVE_ARTIFACTS`` (``false`` turns serving off) (how ``trackline
    server`` configures its worker processes; usable with ``uvicorn --factory``)."""
    kwargs: dict[str, Any] = {}
    root = os.environ.get(ENV_ARTIFACT_ROOT)
    if root:
        kwargs["default_artifact_root"] = root
    destination = os.environ.get(ENV_ARTIFACTS_DESTINATION)
    if destination:
        kwargs["artifacts_destination"] = destination
    serve = os.environ.get(ENV_SERVE_ARTIFACTS, "").strip().lower()
    kwargs["serve_artifacts"] = serve not in ("0", "false", "no", "off")
    return create_app(os.environ.get(ENV_BACKEND_STORE_URI, ""), warm_up=True, **kwargs)
