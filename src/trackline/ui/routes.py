"""The UI's route table: every page with its JSON twin, every action, and the static files.

==========================================  ==================================================
page (its twin: ``/ui-api`` + the same path)  what it shows
==========================================  ==================================================
``/``                                       the experiments, with search
``/experiments/<id>``                       the runs table of an experiment
``/runs/<id>``                              a run: overview, params, metrics, tags, artifacts
``/runs/<id>/artifacts?path=``              the artifact browser and previews
``/runs/<id>/metrics/<key>``                metric histories, overlaid and downsampled
``/compare?runs=<id>,<id>``                 runs side by side, with their charts
``/models``                                 the registered models, with search
``/models/<name>``                          a model: versions, aliases, tags, audit trail
``/models/<name>/versions/<v>``             a version: stage, aliases, signature, audit trail
==========================================  ==================================================

Data the pages' scripts fetch apart (``GET``, JSON only): ``/ui-api/experiments/<id>/count``
(how many runs match a filter) and ``/ui-api/experiments/<id>/runs?q=`` (runs by name, for
the chart page's run picker).

Actions (``POST``, same-origin JSON, see :mod:`trackline.ui.actions`) live under
``/ui-api/experiments/...``, ``/ui-api/runs/...`` and ``/ui-api/models/...``. Static files:
``/static/ui/...`` (this package's CSS and JavaScript) and ``/static/vendor/plotly.min.js``
(from the installed ``plotly`` package).
"""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from trackline.exceptions import MissingDependency
from trackline.ui import urls
from trackline.ui.actions import action_route
from trackline.ui.artifact_view import artifacts_page
from trackline.ui.charts import metric_page
from trackline.ui.compare import compare_page
from trackline.ui.context import UiContext
from trackline.ui.experiments import (
    create_experiment,
    delete_experiment,
    experiments_page,
    rename_experiment,
    restore_experiment,
    set_experiment_description,
)
from trackline.ui.model_list import create_model, models_page
from trackline.ui.model_page import (
    delete_model,
    delete_model_alias,
    delete_model_tag,
    model_page,
    rename_model,
    set_model_alias,
    set_model_description,
    set_model_tag,
)
from trackline.ui.registration import register_model
from trackline.ui.rendering import json_route, page_routes
from trackline.ui.run_page import (
    delete_run_tag,
    delete_runs,
    rename_run,
    restore_runs,
    run_page,
    set_run_description,
    set_run_tag,
)
from trackline.ui.run_picker import experiment_runs
from trackline.ui.runs_table import experiment_count, experiment_page
from trackline.ui.version_page import (
    delete_version,
    delete_version_tag,
    set_version_description,
    set_version_tag,
    transition_stage,
    version_page,
)

__all__ = ["plotly_js_path", "routes"]

_STATIC = Path(__file__).parent / "static"
#: Plotly.js never changes under one URL version: browsers may keep it a year.
_IMMUTABLE = "public, max-age=31536000, immutable"


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` of the installed ``plotly`` package."""
    try:
        path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    except ModuleNotFoundError:
        raise MissingDependency("plotly", "server", "the web UI's charts") from None
    if not path.is_file():
        raise MissingDependency("plotly", "server", "the web UI's charts")
    return path


def _plotly_route() -> Route:
    path = plotly_js_path()
    compressed: list[bytes] = []  # gzipped once, on first request (4.8 MB -> 1.5 MB)

    def gzipped() -> bytes:
        if not compressed:
            compressed.append(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))
        return compressed[0]

    async def plotly_js(request: Request) -> Response:
        """Plotly.js, from the installed plotly package (gzipped when the client takes it)."""
        headers = {"Cache-Control": _IMMUTABLE, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            body = await run_in_threadpool(gzipped)
            headers["Content-Encoding"] = "gzip"
            return Response(body, media_type="text/javascript", headers=headers)
        return FileResponse(path, media_type="text/javascript", headers=headers)

    return Route(urls.PLOTLY_JS, plotly_js, methods=["GET"])


def routes(ctx: UiContext) -> list[BaseRoute]:
    """Every route of the UI."""
    pages = [
        ("/", experiments_page, "The experiments"),
        ("/experiments/{experiment_id}", experiment_page, "An experiment's runs table"),
        ("/runs/{run_id}", run_page, "A run's page"),
        ("/runs/{run_id}/artifacts", artifacts_page, "A run's artifact browser"),
        ("/runs/{run_id}/metrics/{key:path}", metric_page, "Metric histories, downsampled"),
        ("/compare", compare_page, "Runs compared"),
        ("/models", models_page, "The registered models"),
        ("/models/{name}", model_page, "A registered model's page"),
        ("/models/{name}/versions/{version}", version_page, "A model version's page"),
    ]
    model = "/models/{name}"
    version = model + "/versions/{version}"
    actions = [
        ("/experiments/create", create_experiment),
        ("/experiments/{experiment_id}/rename", rename_experiment),
        ("/experiments/{experiment_id}/delete", delete_experiment),
        ("/experiments/{experiment_id}/restore", restore_experiment),
        ("/experiments/{experiment_id}/description", set_experiment_description),
        ("/runs/delete", delete_runs),
        ("/runs/restore", restore_runs),
        ("/runs/{run_id}/tags/set", set_run_tag),
        ("/runs/{run_id}/tags/delete", delete_run_tag),
        ("/runs/{run_id}/description", set_run_description),
        ("/runs/{run_id}/rename", rename_run),
        ("/runs/{run_id}/register", register_model),
        ("/models/create", create_model),
        (model + "/description", set_model_description),
        (model + "/tags/set", set_model_tag),
        (model + "/tags/delete", delete_model_tag),
        (model + "/aliases/set", set_model_alias),
        (model + "/aliases/delete", delete_model_alias),
        (model + "/rename", rename_model),
        (model + "/delete", delete_model),
        (version + "/stage", transition_stage),
        (version + "/description", set_version_description),
        (version + "/tags/set", set_version_tag),
        (version + "/tags/delete", delete_version_tag),
        (version + "/delete", delete_version),
    ]
    table: list[BaseRoute] = [
        _plotly_route(),
        Mount(urls.STATIC_PREFIX, StaticFiles(directory=str(_STATIC)), name="ui-static"),
    ]
    # Actions first: "/runs/delete" must not be taken for the run page of a run "delete".
    for path, action in actions:
        table.append(action_route(path, action, ctx, (action.__doc__ or "").strip()))
    table.append(
        json_route(
            "/experiments/{experiment_id}/count",
            experiment_count,
            ctx,
            "How many runs of an experiment match a filter.",
        )
    )
    table.append(
        json_route(
            "/experiments/{experiment_id}/runs",
            experiment_runs,
            ctx,
            "An experiment's runs whose name contains a text, newest first.",
        )
    )
    for path, view, summary in pages:
        table += page_routes(path, view, ctx, summary)
    return table
