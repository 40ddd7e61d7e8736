"""The route table: every JSON endpoint of the server as an :class:`Endpoint` record.

An endpoint names its path (relative to its prefixes), its HTTP methods, its request and
response messages and a plain function ``handler(context, params) -> dict`` that does the
work on the store. :func:`build_routes` turns the table into Starlette routes, one per prefix
(``/api/2.0/mlflow`` and ``/ajax-api/2.0/mlflow`` by default). The shared request machinery
lives here:

* POST and PATCH bodies must be ``Content-Type: application/json``; DELETE bodies are read
  when present; GET fields come from the query string (repeated keys for lists); fields in
  the path (``logged-models/{model_id}``) are added to the request and win over the body's;
* an endpoint may copy request headers into named fields (``headers``) and may serve several
  methods with one handler each (``method_handlers``);
* bodies are read up to the endpoint's size limit and no further;
* the handler runs in a worker thread (store calls block; ``quick`` ones on a SQLite store
  run on the event loop, see :class:`EndpointApp`), its result is encoded by
  :func:`~trackline.server.wire.dumps`, and every exception goes through
  :func:`~trackline.server.errors.error_response`;
* :class:`EndpointDispatch` routes the exact paths by a dictionary look-up before the
  Starlette router (which tries every pattern in turn).

Resource modules (``experiments``, ``runs``, ``metrics``, ``logged_models``, ``health``) each
export ``ENDPOINTS``; :func:`all_endpoints` collects them. Later slices (artifacts, the
registry) add their modules there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from trackline.exceptions import InvalidParameterValue
from trackline.server.errors import error_response
from trackline.server.wire import Message, Params, decode_json, dumps, parse_message, query_to_raw
from trackline.store.registry_store import RegistryStore
from trackline.store.tracking_store import TrackingStore

__all__ = [
    "AJAX_PREFIX",
    "API_PREFIX",
    "DEFAULT_MAX_BODY_BYTES",
    "TRACKLINE_PREFIXES",
    "Endpoint",
    "EndpointApp",
    "EndpointDispatch",
    "EndpointRoute",
    "Handler",
    "ServerContext",
    "all_endpoints",
    "build_routes",
    "response_message",
]

API_PREFIX = "/api/2.0/mlflow"
AJAX_PREFIX = "/ajax-api/2.0/mlflow"
#: Where trackline's own endpoints live (beside MLflow's).
TRACKLINE_PREFIXES = ("/api/2.0/trackline", "/ajax-api/2.0/trackline")
#: The largest JSON body any endpoint reads (dataset profiles may be up to 16 MB of text).
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ServerContext:
    """What handlers work with: the tracking store, the server's default artifact root
    (a URI; client-supplied artifact locations must lie inside it) and the model registry
    store (None for a server without one: its routes then answer NOT_IMPLEMENTED)."""

    store: TrackingStore
    artifact_root: str
    registry: RegistryStore | None = None


#: A handler answers with the payload to encode, or with JSON it encoded itself.
Handler = Callable[[ServerContext, Params], Mapping[str, Any] | bytes]

_BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})
_JSON_HEADERS = ((b"content-type", b"application/json"),)


@dataclass(frozen=True)
class Endpoint:
    """One JSON call of the protocol."""

    path: str
    methods: tuple[str, ...]
    request: Message
    response: Message
    handler: Handler
    summary: str
    prefixes: tuple[str, ...] = (API_PREFIX, AJAX_PREFIX)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Whether the handler may block (store or file access): it then runs in a thread.
    blocking: bool = True
    #: ``(header, field)`` pairs: a request header copied into a field of the parsed request
    #: (not part of ``request``, so a body cannot set it).
    headers: tuple[tuple[str, str], ...] = ()
    #: ``(method, handler)`` pairs for an endpoint that serves several methods on one path
    #: with different handlers (``handler`` serves the methods not listed).
    method_handlers: tuple[tuple[str, Handler], ...] = ()
    #: A short store call (one run's row and its few children, read or written): on a SQLite
    #: store it runs on the event loop instead of a worker thread (see :class:`EndpointApp`).
    quick: bool = False
    #: Parses the decoded request instead of :func:`~trackline.server.wire.parse_message`
    #: (same result; a faster path for a hot call's usual shape).
    parse: Callable[[Message, object], Params] | None = None

    def handler_for(self, method: str) -> Handler:
        """The handler of a request method."""
        for name, handler in self.method_handlers:
            if name == method:
                return handler
        return self.handler

    def full_paths(self) -> list[str]:
        """The endpoint's path under each of its prefixes."""
        return [f"{prefix}/{self.path}" for prefix in self.prefixes]


def response_message(name: str, *fields: Any) -> Message:
    """A response message from its fields (shorthand for the route modules)."""
    return Message(name, tuple(fields))


def _content_type_error(content_type: str | None) -> InvalidParameterValue | None:
    if content_type is None:
        return InvalidParameterValue("Bad Request. Content-Type header is missing.")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return InvalidParameterValue(
            "Bad Request. Content-Type must be one of ['application/json']."
        )
    return None


def _too_large(limit: int) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"The request body is too large: this call accepts at most {limit:,} bytes."
    )


async def _read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _runs_in_microseconds(store: object) -> bool:
    """Whether the store's calls are local and short: SQLite (a file on this machine) as
    opposed to a database server across the network."""
    return getattr(store, "dialect", None) == "sqlite"


class EndpointApp:
    """The ASGI application of one :class:`Endpoint` (plain ASGI: no Request or Response
    objects on the hot path).

    Where the handler runs: handlers call the store, which blocks, so by default they run in
    a worker thread and the event loop keeps serving other clients meanwhile. ``quick``
    endpoints on a SQLite store run on the event loop itself: their store call is one run's
    row and its few children, tens of microseconds of CPU that hold the GIL anyway, while
    the trip to a worker thread and back costs more than the call (two thread wake-ups,
    0.1-0.6 ms on a busy machine). Such a call never waits for a slow one: searches, metric
    histories, log-batch and artifact transfers stay in worker threads, and SQLite in WAL
    mode lets reads run beside them without locks. A quick write waits only for another
    write transaction, and writes are short and one at a time anyway (one writer lock per
    database file). A store on a database server keeps every call in worker threads: there
    each call waits on the network.
    """

    def __init__(self, endpoint: Endpoint, context: ServerContext) -> None:
        self.endpoint = endpoint
        self.context = context
        self.parse = endpoint.parse or parse_message
        self.inline = endpoint.quick and _runs_in_microseconds(context.store)
        self.__name__ = endpoint.path.replace("/", "_").replace("-", "_")
        self.__doc__ = endpoint.summary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await self._answer(scope, receive)
        except Exception as exc:
            await error_response(exc)(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive) -> bytes:
        endpoint = self.endpoint
        method: str = scope["method"]
        headers = _header_values(scope, endpoint)
        params = self.parse(endpoint.request, await self._raw(scope, receive, method, headers))
        for header, name in endpoint.headers:
            value = headers.get(header.lower())
            if value is not None:
                params[name] = value
        handler = endpoint.handler_for(method)
        if self.inline or not endpoint.blocking:
            result = handler(self.context, params)
        else:
            result = await run_in_threadpool(handler, self.context, params)
        return result if isinstance(result, bytes) else dumps(result)

    async def _raw(
        self, scope: Scope, receive: Receive, method: str, headers: Mapping[str, str]
    ) -> object:
        raw = await self._raw_fields(scope, receive, method, headers)
        path_params: Mapping[str, Any] = scope.get("path_params") or {}
        if path_params and isinstance(raw, dict):
            for name, value in path_params.items():
                head, *rest = name.split("_")
                raw.pop(head + "".join(part.title() for part in rest), None)  # its camelCase
                raw[name] = value
        return raw

    async def _raw_fields(
        self, scope: Scope, receive: Receive, method: str, headers: Mapping[str, str]
    ) -> object:
        endpoint = self.endpoint
        limit = endpoint.max_body_bytes
        if method in _BODY_METHODS:
            problem = _content_type_error(headers.get("content-type"))
            if problem is not None:
                raise problem
            return decode_json(await _read_body(receive, headers.get("content-length"), limit))
        if method == "DELETE":
            body = await _read_body(receive, headers.get("content-length"), limit)
            if body.strip():
                return decode_json(body)
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        return query_to_raw(endpoint.request, query)


def _header_values(scope: Scope, endpoint: Endpoint) -> dict[str, str]:
    """The request headers the endpoint reads (lower-case names; the first of repeats)."""
    wanted = _wanted_headers(endpoint)
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in wanted:
            key = name.decode("latin-1")
            if key not in found:
                found[key] = value.decode("latin-1")
    return found


_BASE_HEADERS = (b"content-type", b"content-length")
_wanted_cache: dict[tuple[tuple[str, str], ...], frozenset[bytes]] = {}


def _wanted_headers(endpoint: Endpoint) -> frozenset[bytes]:
    wanted = _wanted_cache.get(endpoint.headers)
    if wanted is None:
        extra = (header.lower().encode("latin-1") for header, _ in endpoint.headers)
        wanted = _wanted_cache[endpoint.headers] = frozenset((*_BASE_HEADERS, *extra))
    return wanted


class EndpointRoute(Route):
    """A Starlette route that remembers the :class:`Endpoint` it serves (for OpenAPI)."""

    def __init__(self, path: str, endpoint: Endpoint, context: ServerContext) -> None:
        super().__init__(path, EndpointApp(endpoint, context), methods=list(endpoint.methods))
        self.spec = endpoint


class EndpointDispatch:
    """ASGI middleware that sends a request for a JSON endpoint's exact path and method
    straight to its :class:`EndpointApp`, skipping the router's walk over some 150 path
    patterns. Everything else -- paths with parameters, HEAD, unknown paths, artifacts,
    ``/health`` -- goes on to the wrapped application unchanged."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.table: dict[str, dict[str, ASGIApp]] = {}
        for route in routes:
            if isinstance(route, EndpointRoute) and not route.param_convertors:
                methods = self.table.setdefault(route.path, {})
                for method in route.spec.methods:
                    methods.setdefault(method, route.endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root + "/"):
                path = path[len(root) :]
            target = self.table.get(path)
            app = target.get(scope["method"]) if target is not None else None
            if app is not None:
                await app(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_routes(endpoints: Iterable[Endpoint], context: ServerContext) -> list[Route]:
    """Starlette routes for every endpoint under each of its prefixes."""
    return [
        EndpointRoute(path, endpoint, context)
        for endpoint in endpoints
        for path in endpoint.full_paths()
    ]


def all_endpoints() -> list[Endpoint]:
    """Every JSON endpoint of this slice of the server."""
    from trackline.server.routes import (
        columns,
        experiments,
        health,
        logged_models,
        metrics,
        model_versions,
        registered_models,
        registry_events,
        runs,
    )

    modules = (
        experiments,
        runs,
        metrics,
        logged_models,
        registered_models,
        model_versions,
        registry_events,
        columns,
        health,
    )
    return [endpoint for module in modules for endpoint in module.ENDPOINTS]
