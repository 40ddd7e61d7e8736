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
* the handler runs in a worker thread (store calls block), its result is encoded by
  :func:`~trackline.server.wire.dumps`, and every exception goes through
  :func:`~trackline.server.errors.error_response`.

Resource modules (``experiments``, ``runs``, ``metrics``, ``logged_models``, ``health``) each
export ``ENDPOINTS``; :func:`all_endpoints` collects them. Later slices (artifacts, the
registry) add their modules there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trackline.exceptions import InvalidParameterValue
from trackline.server.errors import error_response
from trackline.server.wire import Message, Params, decode_json, dumps, parse_message, query_to_raw
from trackline.store.registry_store import RegistryStore
from trackline.store.tracking_store import TrackingStore

__all__ = [
    "AJAX_PREFIX",
    "API_PREFIX",
    "DEFAULT_MAX_BODY_BYTES",
    "Endpoint",
    "EndpointRoute",
    "Handler",
    "ServerContext",
    "all_endpoints",
    "build_routes",
    "response_message",
]

API_PREFIX = "/api/2.0/mlflow"
AJAX_PREFIX = "/ajax-api/2.0/mlflow"
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


Handler = Callable[[ServerContext, Params], Mapping[str, Any]]

_BODY_METHODS = frozenset({"POST", "PATCH", "PUT"})
_JSON_HEADERS = {"content-type": "application/json"}


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


def _content_type_error(request: Request) -> InvalidParameterValue | None:
    content_type = request.headers.get("content-type")
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


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _raw_request(request: Request, endpoint: Endpoint) -> object:
    raw = await _raw_fields(request, endpoint)
    if request.path_params and isinstance(raw, dict):
        for name, value in request.path_params.items():
            head, *rest = name.split("_")
            raw.pop(head + "".join(part.title() for part in rest), None)  # its camelCase
            raw[name] = value
    return raw


async def _raw_fields(request: Request, endpoint: Endpoint) -> object:
    method = request.method
    if method in _BODY_METHODS:
        problem = _content_type_error(request)
        if problem is not None:
            raise problem
        return decode_json(await _read_body(request, endpoint.max_body_bytes))
    if method == "DELETE":
        body = await _read_body(request, endpoint.max_body_bytes)
        if body.strip():
            return decode_json(body)
    return query_to_raw(endpoint.request, request.query_params.multi_items())


def _asgi_endpoint(endpoint: Endpoint, context: ServerContext) -> Callable[..., Any]:
    async def handle(request: Request) -> Response:
        try:
            params = parse_message(endpoint.request, await _raw_request(request, endpoint))
            for header, name in endpoint.headers:
                value = request.headers.get(header)
                if value is not None:
                    params[name] = value
            handler = endpoint.handler_for(request.method)
            if endpoint.blocking:
                result = await run_in_threadpool(handler, context, params)
            else:
                result = handler(context, params)
            return Response(dumps(result), headers=_JSON_HEADERS)
        except Exception as exc:
            return error_response(exc)

    handle.__name__ = handle.__qualname__ = endpoint.path.replace("/", "_").replace("-", "_")
    handle.__doc__ = endpoint.summary
    return handle


class EndpointRoute(Route):
    """A Starlette route that remembers the :class:`Endpoint` it serves (for OpenAPI)."""

    def __init__(self, path: str, endpoint: Endpoint, context: ServerContext) -> None:
        super().__init__(path, _asgi_endpoint(endpoint, context), methods=list(endpoint.methods))
        self.spec = endpoint


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
        health,
    )
    return [endpoint for module in modules for endpoint in module.ENDPOINTS]
