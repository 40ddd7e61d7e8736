"""Artifacts through the server: MLflow's proxied-artifact service and the UI's artifact calls.

=====================================================  =====================================
route                                                  what it does
=====================================================  =====================================
``PUT /api/2.0/mlflow-artifacts/artifacts/<p>``        store the body as ``<destination>/<p>``
``GET /api/2.0/mlflow-artifacts/artifacts/<p>``        the file, as a download
``DELETE /api/2.0/mlflow-artifacts/artifacts/<p>``     delete a file or folder
``GET /api/2.0/mlflow-artifacts/artifacts?path=<p>``   ``files[{path: <name>, is_dir,
                                                       file_size}]``
``GET /api/2.0/mlflow/artifacts/list?run_id=&path=``   a run's artifacts (``root_uri``,
                                                       ``files``)
``GET /get-artifact?run_id=&path=``                    a run's artifact file, as a download
``GET /model-versions/get-artifact?name=&version=&     a registered model version's file, as a
path=``                                                download
``GET /api/2.0/mlflow/logged-models/<id>/artifacts/    a logged model's file, as a download
files?artifact_file_path=``
=====================================================  =====================================

The ``mlflow-artifacts`` routes also live under ``/ajax-api/2.0``; ``artifacts/list`` under
both prefixes like every JSON call. ``mlflow-artifacts:/<p>`` URIs name ``<destination>/<p>``.

The destination is a local folder or an S3 prefix
(:mod:`trackline.server.destination`): uploads stream into it and appear whole or not at all,
downloads stream out of it as attachments with ``X-Content-Type-Options: nosniff`` and
``Content-Security-Policy: sandbox``. A destination that cannot be reached (a missing bucket,
an endpoint down) makes its requests answer 503 with a message, until it is back.

Safety: every path goes through :func:`~trackline.artifacts.paths.check_artifact_path` after
the server's one URL decoding (it decodes further itself); in a local folder it must then
resolve, symlinks followed, inside its root, for reading, writing and deleting alike. The
``mlflow-artifacts`` file routes take no query string. A run's artifact root is only served
when it is a ``mlflow-artifacts:`` URI or lies inside one of the server's artifact roots
(``s3://`` roots included). A server that does not serve artifacts
(``--no-serve-artifacts``) answers the ``mlflow-artifacts`` routes with 503.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from trackline.artifacts import get_artifact_repository
from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository
from trackline.entities import FileInfo
from trackline.exceptions import (
    TEMPORARILY_UNAVAILABLE,
    InvalidParameterValue,
    MlflowException,
    ResourceDoesNotExist,
)
from trackline.server.destination import (
    ArtifactDestination,
    content_type,
    destination_of,
    local_destination,
    local_file_response,
    open_destination,
)
from trackline.server.errors import error_response
from trackline.server.routes import (
    AJAX_PREFIX,
    API_PREFIX,
    Endpoint,
    ServerContext,
    build_routes,
    response_message,
)
from trackline.server.routes.experiments import check_artifact_location
from trackline.server.routes.model_versions import registry_of
from trackline.server.wire import Field, Message, Params, dumps, parse_message, query_to_raw

__all__ = [
    "ARTIFACTS_PREFIXES",
    "PROXIED_ARTIFACT_ROOT",
    "ArtifactService",
    "artifact_routes",
    "content_type",
    "local_destination",
    "open_destination",
]

#: The default artifact root of a server that proxies artifacts.
PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:/"
#: Where the proxied-artifact routes live.
ARTIFACTS_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")

_JSON = "application/json"


def _json_response(data: dict[str, Any]) -> Response:
    return Response(dumps(data), media_type=_JSON)


def _checked(path: str | None) -> str:
    """:func:`~trackline.artifacts.paths.check_artifact_path`, and no U+FFFD: the server
    decoded the URL before this check, replacing bytes that are not UTF-8 (``%c0%ae``, an
    overlong ``.``) with U+FFFD, so that character is the only trace of them left."""
    rel = check_artifact_path(path)
    if "\ufffd" in rel:
        raise InvalidParameterValue(
            f"Invalid artifact path {rel[:200]!r}: it contains bytes that are not UTF-8"
        )
    return rel


def _file_path(path: str) -> str:
    """A checked, non-empty path of a file to serve."""
    rel = _checked(path)
    if not rel:
        raise InvalidParameterValue("The artifact path is empty: name a file")
    return rel


def _file_json(info: FileInfo, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        out["file_size"] = info.file_size
    return out


@dataclass(frozen=True)
class ArtifactService:
    """What the artifact routes serve.

    ``destination`` is the store behind ``mlflow-artifacts:`` URIs (a local folder or an S3
    prefix); None means the server does not proxy artifacts (its ``mlflow-artifacts``
    routes answer 503). ``read_roots`` are the artifact roots (URIs) whose runs
    ``artifacts/list`` and ``get-artifact`` may read, besides ``mlflow-artifacts:``.
    """

    context: ServerContext
    destination: ArtifactDestination | None
    read_roots: tuple[str, ...]

    def proxied(self) -> ArtifactDestination:
        """The destination; TEMPORARILY_UNAVAILABLE (503) when not serving."""
        if self.destination is None:
            raise MlflowException(
                "This server does not serve artifacts (it was started with "
                "--no-serve-artifacts): the mlflow-artifacts routes are disabled.",
                error_code=TEMPORARILY_UNAVAILABLE,
            )
        return self.destination

    def repository(self, uri: str) -> ArtifactRepository:
        """The repository of a run's artifact root, if this server may read it."""
        parts = urlsplit(uri)
        if parts.scheme.lower() == "mlflow-artifacts":
            if parts.netloc or parts.query or parts.fragment:
                raise InvalidParameterValue(f"Not an artifact URI of this server: {uri!r}")
            return self.proxied().repository(_checked(parts.path.removeprefix("/")))
        for root in self.read_roots:
            try:
                location = check_artifact_location(uri, root)
            except InvalidParameterValue:
                continue
            return get_artifact_repository(location or root)
        raise InvalidParameterValue(
            f"The artifacts at {uri!r} are outside this server's artifact roots; it does not "
            "serve them."
        )

    def run_repository(self, run_id: str) -> tuple[str, ArtifactRepository]:
        """A run's artifact root URI and its repository."""
        uri = self.context.store.get_run(run_id).info.artifact_uri
        if not uri:
            raise ResourceDoesNotExist(f"Run '{run_id}' has no artifact location")
        return uri, self.repository(uri)

    def problems(self) -> list[str]:
        """What keeps the artifact stores from working right now (a missing bucket, an
        endpoint down...), one message each: the destination and the ``s3://`` roots.
        Blocking; for a warning at start-up (requests meet the same errors as 503s)."""
        checks: list[tuple[str, Callable[[], None]]] = []
        if self.destination is not None:
            checks.append((self.destination.uri, self.destination.check))
        for root in self.read_roots:
            if urlsplit(root).scheme.lower() == "s3":
                checks.append((root, _s3_check(root)))
        found = []
        for uri, check in dict(checks).items():
            try:
                check()
            except MlflowException as exc:
                found.append(f"{uri}: {exc.message}")
        return found


def _s3_check(root: str) -> Callable[[], None]:
    def check() -> None:
        repository = get_artifact_repository(root)
        destination = destination_of(repository)
        if destination is not None:
            destination.check()

    return check


_Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: _Handler) -> _Handler:
    """Every failure as the JSON error of :func:`~trackline.server.errors.error_response`."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening any more
        except Exception as exc:
            return error_response(exc)

    guarded.__name__ = guarded.__qualname__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


def _file_rel(request: Request) -> str:
    """The checked artifact path of a file route (a file, never the root; no query)."""
    if request.url.query:
        raise InvalidParameterValue("The mlflow-artifacts file routes take no query string")
    rel = _checked(request.path_params["path"])
    if not rel:
        raise InvalidParameterValue("The artifact path is empty: name a file")
    return rel


_LIST_REQUEST = Message("ListProxiedArtifacts", (Field("path", "string"),))
_RUN_FILE_REQUEST = Message(
    "GetRunArtifact",
    (
        Field("run_id", "string", required=True, aliases=("run_uuid",)),
        Field("path", "string", required=True, doc="The file, relative to the run's root."),
    ),
)
_VERSION_FILE_REQUEST = Message(
    "GetModelVersionArtifact",
    (
        Field("name", "string", required=True),
        Field("version", "string", required=True),
        Field("path", "string", required=True, doc="The file, relative to the version's root."),
    ),
)
_LOGGED_MODEL_FILE_REQUEST = Message(
    "GetLoggedModelArtifact",
    (Field("artifact_file_path", "string", required=True, doc="The file, in the model."),),
)
_RUN_LIST_REQUEST = Message(
    "ListArtifacts",
    (
        Field("run_id", "string", required=True, aliases=("run_uuid",), doc="ID of the run."),
        Field("path", "string", doc="A folder relative to the run's root (default: the root)."),
        Field("page_token", "string", doc="Ignored: listings are not paged."),
    ),
)
_FILE_INFO = Message(
    "FileInfo", (Field("path", "string"), Field("is_dir", "bool"), Field("file_size", "int64"))
)


def _query(request: Request, message: Message) -> Params:
    return parse_message(message, query_to_raw(message, request.query_params.multi_items()))


def _proxied_routes(service: ArtifactService) -> list[BaseRoute]:
    @_guarded
    async def artifact_file(request: Request) -> Response:
        """Download (GET), upload (PUT: the body is the file) or delete (DELETE) an artifact."""
        destination = service.proxied()
        rel = _file_rel(request)
        if request.method == "PUT":
            await destination.write(rel, request.stream())
            return _json_response({})
        if request.method == "DELETE":
            await run_in_threadpool(destination.delete, rel)
            return _json_response({})
        return await run_in_threadpool(destination.file_response, rel)

    @_guarded
    async def list_artifacts(request: Request) -> Response:
        """The direct children of a folder: names, kinds and sizes (``{}`` for a file)."""
        destination = service.proxied()
        rel = _checked(_query(request, _LIST_REQUEST).opt_string("path"))
        infos = await run_in_threadpool(destination.list, rel)
        files = [_file_json(info, info.path.rpartition("/")[2]) for info in infos]
        return _json_response({"files": files} if files else {})

    routes: list[BaseRoute] = []
    for prefix in ARTIFACTS_PREFIXES:
        routes += [
            Route(f"{prefix}/artifacts", list_artifacts, methods=["GET"]),
            Route(
                f"{prefix}/artifacts/{{path:path}}", artifact_file, methods=["GET", "PUT", "DELETE"]
            ),
        ]
    return routes


def _run_file(service: ArtifactService, run_id: str, rel: str) -> Response:
    """The response serving one file of a run (blocking: call in a worker thread)."""
    return _file_response(service.run_repository(run_id)[1], rel)


def _version_file(service: ArtifactService, name: str, version: str, rel: str) -> Response:
    """One file of a registered model version (its storage location, which must lie in
    this server's artifact roots like a run's)."""
    uri = registry_of(service.context).get_model_version_download_uri(name, version)
    return _file_response(service.repository(uri), rel)


def _logged_model_file(service: ArtifactService, model_id: str, rel: str) -> Response:
    """One file of a logged model (its artifact location, checked like a run's)."""
    location = service.context.store.get_logged_model(model_id).artifact_location
    if not location:
        raise ResourceDoesNotExist(f"Logged model '{model_id}' has no artifact location")
    return _file_response(service.repository(location), rel)


def _file_response(repo: ArtifactRepository, rel: str) -> Response:
    """The response serving one file of a repository (blocking)."""
    destination = destination_of(repo)
    if destination is not None:  # a local folder or S3: streamed from there
        return destination.file_response(rel)
    scratch = tempfile.mkdtemp(prefix="trackline-get-artifact-")
    try:
        local = Path(repo.download_artifacts(rel, scratch))
        if not local.is_file():
            raise ResourceDoesNotExist(f"No artifact file at '{rel}'")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    name = rel.rpartition("/")[2]
    return local_file_response(local, name, BackgroundTask(shutil.rmtree, scratch, True))


def _run_routes(service: ArtifactService) -> list[BaseRoute]:
    @_guarded
    async def get_artifact(request: Request) -> Response:
        """A file of a run's artifacts, as a download (the UI's link)."""
        params = _query(request, _RUN_FILE_REQUEST)
        rel = _file_path(params.string("path"))
        return await run_in_threadpool(_run_file, service, params.string("run_id"), rel)

    @_guarded
    async def get_model_version_artifact(request: Request) -> Response:
        """A file of a registered model version, as a download (MLflow's UI link)."""
        params = _query(request, _VERSION_FILE_REQUEST)
        rel = _file_path(params.string("path"))
        name, version = params.string("name"), params.string("version")
        return await run_in_threadpool(_version_file, service, name, version, rel)

    @_guarded
    async def get_logged_model_artifact(request: Request) -> Response:
        """A file of a logged model, as a download (MLflow's UI link)."""
        params = _query(request, _LOGGED_MODEL_FILE_REQUEST)
        rel = _file_path(params.string("artifact_file_path"))
        model_id: str = request.path_params["model_id"]
        return await run_in_threadpool(_logged_model_file, service, model_id, rel)

    def list_run_artifacts(ctx: ServerContext, req: Params) -> dict[str, Any]:
        uri, repo = service.run_repository(req.string("run_id"))
        rel = _checked(req.opt_string("path"))
        out: dict[str, Any] = {"root_uri": uri}
        files = [_file_json(info, info.path) for info in repo.list_artifacts(rel or None)]
        if files:
            out["files"] = files
        return out

    endpoint = Endpoint(
        "artifacts/list",
        ("GET",),
        _RUN_LIST_REQUEST,
        response_message(
            "ListArtifactsResponse",
            Field("root_uri", "string"),
            Field("files", "message", repeated=True, message=_FILE_INFO),
        ),
        list_run_artifacts,
        "The artifacts of a run in one folder, with paths relative to the run's root.",
    )
    logged_model_files = [
        Route(
            f"{prefix}/logged-models/{{model_id}}/artifacts/files",
            get_logged_model_artifact,
            methods=["GET"],
        )
        for prefix in (API_PREFIX, AJAX_PREFIX)
    ]
    return [
        *build_routes([endpoint], service.context),
        Route("/get-artifact", get_artifact, methods=["GET"]),
        Route("/model-versions/get-artifact", get_model_version_artifact, methods=["GET"]),
        *logged_model_files,
    ]


def artifact_routes(service: ArtifactService) -> list[BaseRoute]:
    """Every artifact route of the server."""
    return [*_proxied_routes(service), *_run_routes(service)]
