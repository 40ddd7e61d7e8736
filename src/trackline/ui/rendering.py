"""Pages and their JSON twins: one view function serves both.

A view is a plain function ``view(ctx, query) -> Page`` that reads the stores (it runs in a
worker thread) and returns the page's data as JSON-ready values. :func:`page_routes` makes
two routes of it: the HTML page, which renders ``Page.template`` with that data (Jinja2,
autoescaping on), and its twin under ``/ui-api`` with the same path and query, which answers
the data itself. Errors become an error page or ``{"error_code", "message"}`` with the
status of their code.

Every HTML answer carries a Content-Security-Policy that allows scripts from this server
only (no inline script runs), so text that escaped escaping still could not execute.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from trackline.server.errors import error_response
from trackline.ui import urls
from trackline.ui.context import UiContext
from trackline.version import __version__

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "Page",
    "Query",
    "View",
    "json_response",
    "json_route",
    "page_routes",
    "render_html",
    "templates",
    "to_json",
]

#: Scripts and styles from this server only; Plotly needs inline styles and ``eval`` (its
#: WebGL traces compile shader code); images may be data: URLs (Plotly's downloads).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Query:
    """A request's path parameters and query string, as a view sees them."""

    path: Mapping[str, str]
    params: Mapping[str, str]
    multi: Mapping[str, list[str]] = field(default_factory=dict)
    base_url: str = ""
    #: Whether the JSON twin asks (a page may leave slow parts to its scripts).
    twin: bool = False

    @classmethod
    def of(cls, request: Request, twin: bool = False) -> Query:
        """The query of a Starlette request."""
        multi: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            multi.setdefault(key, []).append(value)
        base = str(request.base_url).rstrip("/")
        return cls(dict(request.path_params), dict(request.query_params), multi, base, twin)

    def get(self, name: str, default: str = "") -> str:
        """A query parameter, stripped, or ``default``."""
        return self.params.get(name, default).strip() or default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """An integer query parameter clamped to ``[low, high]`` (``default`` if absent or not
        a number)."""
        try:
            number = int(self.params.get(name, ""))
        except ValueError:
            return default
        return max(low, min(high, number))


@dataclass
class Page:
    """What a view returns: the template to render and the data (the JSON twin's body)."""

    template: str
    title: str
    data: dict[str, Any]
    status: int = 200


View = Callable[[UiContext, Query], Page]


def to_json(value: Any) -> Any:
    """``value`` with non-finite floats as None and tuples as lists (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_json(value.tolist())
    return value


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON answer of the UI (compact, no NaN)."""
    body = json.dumps(to_json(data), separators=(",", ":"), ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json")


def _static_version() -> str:
    """A short hash of the static files' names, sizes and times: their URLs change with
    them, so browsers may cache them for long."""
    digest = hashlib.sha1(__version__.encode())
    for path in sorted((_HERE / "static").rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:10]


def _format_time(ms: object) -> str:
    if not isinstance(ms, (int, float)) or isinstance(ms, bool):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def format_duration(ms: object) -> str:
    """A duration in milliseconds as ``850ms``, ``12.3s``, ``4m 05s`` or ``2h 03m``."""
    if not isinstance(ms, (int, float)) or isinstance(ms, bool) or ms < 0:
        return ""
    if ms < 1000:
        return f"{int(ms)}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def _format_number(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    return str(value)


def _format_size(size: object) -> str:
    if not isinstance(size, int):
        return ""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return str(size)  # pragma: no cover - the loop always returns


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    version = _static_version()
    env.globals.update(
        urls=urls,
        static=lambda name: urls.static(name, version),
        plotly_js=urls.PLOTLY_JS + f"?v={version}",
        version=__version__,
    )
    env.filters.update(
        ts=_format_time, duration=format_duration, num=_format_number, size=_format_size
    )
    return env


_templates: jinja2.Environment | None = None


def templates() -> jinja2.Environment:
    """The UI's Jinja2 environment (built once)."""
    global _templates
    if _templates is None:
        _templates = _environment()
    return _templates


def render_html(template: str, title: str, data: Mapping[str, Any], status: int = 200) -> Response:
    """A rendered page with the UI's security headers. The template gets ``data`` as it is
    and ``data_json``, the same as JSON safe to embed in HTML (for the page's scripts)."""
    data_json = Markup(htmlsafe_json_dumps(to_json(data)))
    body = templates().get_template(template).render(title=title, data=data, data_json=data_json)
    return Response(
        body,
        status_code=status,
        media_type="text/html",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


def _error_page(exc: BaseException) -> Response:
    """The error page of a failed view: status, code and message as the JSON error has them."""
    answer = error_response(exc)
    try:
        body = json.loads(bytes(answer.body))
    except ValueError:  # pragma: no cover - error_response always answers JSON
        body = {}
    data = {
        "status": answer.status_code,
        "code": body.get("error_code", "INTERNAL_ERROR"),
        "message": body.get("message", "The server failed to answer this page."),
    }
    return render_html("error.html", "Error", data, answer.status_code)


_Endpoint = Callable[[Request], Awaitable[Response]]


def page_routes(path: str, view: View, ctx: UiContext, summary: str) -> list[BaseRoute]:
    """The page at ``path`` and its JSON twin at ``/ui-api`` + ``path``."""

    async def html(request: Request) -> Response:
        try:
            page = await run_in_threadpool(view, ctx, Query.of(request))
            return render_html(page.template, page.title, page.data, page.status)
        except Exception as exc:
            return _error_page(exc)

    async def twin(request: Request) -> Response:
        try:
            page = await run_in_threadpool(view, ctx, Query.of(request, twin=True))
        except Exception as exc:
            return error_response(exc)
        return json_response(page.data, page.status)

    html.__doc__ = f"{summary} (HTML page)."
    twin.__doc__ = f"{summary} (JSON twin of the page)."
    return [
        Route(path, html, methods=["GET"]),
        Route(urls.API_PREFIX + path, twin, methods=["GET"]),
    ]


def json_route(
    path: str, read: Callable[[UiContext, Query], Mapping[str, Any]], ctx: UiContext, summary: str
) -> BaseRoute:
    """A JSON-only GET at ``/ui-api`` + ``path`` (data a page's script asks for apart)."""

    async def endpoint(request: Request) -> Response:
        try:
            data = await run_in_threadpool(read, ctx, Query.of(request, twin=True))
        except Exception as exc:
            return error_response(exc)
        return json_response(dict(data))

    endpoint.__doc__ = summary
    return Route(urls.API_PREFIX + path, endpoint, methods=["GET"])
