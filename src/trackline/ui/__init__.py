"""trackline's web UI: server-rendered pages over the tracking store, each with a JSON twin.

The server mounts it with :func:`ui_routes`; ``trackline ui`` and ``trackline server`` serve
it at ``/``. Pages are Jinja2 templates (autoescaping on) with small hand-written ES modules
for what must happen in the browser (selecting runs, the column picker, charts); charts are
drawn by Plotly.js served from the installed ``plotly`` package. Tables sort, filter and page
in SQL; long metric histories are downsampled on the server. See ``docs/ui.md``.

The UI needs ``jinja2`` and ``plotly`` (the ``server`` extra); without them the server
still serves its API, and ``/`` says what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trackline.exceptions import MissingDependency

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from trackline.server.routes.artifacts import ArtifactService

__all__ = ["ui_routes"]


def _missing_routes(message: str) -> list[BaseRoute]:
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def ui_unavailable(request: Request) -> Response:
        """The web UI is not installed: what to install."""
        return PlainTextResponse(message, status_code=503)

    return [Route("/", ui_unavailable, methods=["GET"])]


def ui_routes(artifacts: ArtifactService) -> list[BaseRoute]:
    """The UI's routes for a server with this artifact service (which holds its stores).

    Without ``jinja2`` or ``plotly`` installed, a single route at ``/`` explains what to
    install."""
    try:
        import jinja2  # noqa: F401

        from trackline.ui.routes import plotly_js_path

        plotly_js_path()
    except MissingDependency as exc:
        return _missing_routes(exc.message)
    except ImportError as exc:
        missing = exc.name or "jinja2"
        return _missing_routes(MissingDependency(missing, "server", "the web UI").message)
    from trackline.ui.context import UiContext
    from trackline.ui.routes import routes

    return routes(UiContext(artifacts))
