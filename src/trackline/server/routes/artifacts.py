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
=====================================================  =====================================

The ``mlflow-artifacts`` routes also live under ``/ajax-api/2.0``; ``artifacts/list`` under
both prefixes like every JSON call. ``mlflow-artifacts:/<p>`` URIs name ``<destination>/<p>``.

Safety: every path goes through :func:`~trackline.artifacts.paths.check_artifact_path` after
the server's one URL decoding (it decodes further itself) and then must resolve, symlinks
followed, inside its root, for reading, writing and deleting alike. The ``mlflow-artifacts``
file routes take no query string. A run's artifact root is only served when it is a
``mlflow-artifacts:`` URI or lies inside one of the server's artifact roots. Uploads stream
into a temporary file beside their destination, are synced and renamed into place (a reader
never sees half a file); downloads stream from disk as attachments with
``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: sandbox``. A server that
does not serve artifacts (``--no-serve-artifacts``) answers the ``mlflow-artifacts`` routes
with 503.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from trackline.artifacts import get_artifact_repository
from trackline.artifacts.local import LocalArtifactRepository, local_path_of
from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository
from trackline.entities import FileInfo
from trackline.exceptions import (
    TEMPORARILY_UNAVAILABLE,
    InvalidParameterValue,
    MlflowException,
    ResourceDoesNotExist,
)
from trackline.server.errors import error_response
from trackline.server.routes import Endpoint, ServerContext, build_routes, response_message
from trackline.server.routes.experiments import check_artifact_location
from trackline.server.wire import Field, Message, Params, dumps, parse_message, query_to_raw

__all__ = [
    "ARTIFACTS_PREFIXES",
    "PROXIED_ARTIFACT_ROOT",
    "ArtifactService",
    "artifact_routes",
    "content_type",
    "local_destination",
]

#: The default artifact root of a server that proxies artifacts.
PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:/"
#: Where the proxied-artifact routes live.
ARTIFACTS_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")

_WRITE_CHUNK = 1024 * 1024
_JSON = "application/json"
#: File names (or extensions) served as text/plain: MLflow's text artifacts.
_TEXT = frozenset(
    ("txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon",
     "toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst",
     "mlmodel", "mlproject")
)  # fmt: skip


def content_type(name: str) -> str:
    """The ``Content-Type`` of a downloaded artifact, from its name: ``text/plain`` for text
    files (``MLmodel``, ``.yaml``, ``.json``...), else the guessed type, else
    ``application/octet-stream``."""
    extension = name.rpartition(".")[2] if "." in name else name
    if extension.lower() in _TEXT:
        return "text/plain"
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def local_destination(uri: str) -> Path:
    """The absolute local folder named by ``--artifacts-destination`` (a path or ``file:``
    URI). Other stores cannot be proxied yet."""
    scheme = urlsplit(uri).scheme.lower()
    if len(scheme) > 1 and scheme != "file":
        raise InvalidParameterValue(
            f"The artifacts destination must be a local folder (a path or file: URI); "
            f"{uri!r} is not supported yet."
        )
    return Path(os.path.realpath(local_path_of(uri)))


class _Folder:
    """A local root folder: paths below it, checked to resolve inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repository = LocalArtifactRepository(root.as_uri())

    def inside(self, rel: str) -> Path:
        """The real path of ``root/rel``; refused if it resolves (symlinks followed) outside."""
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(self.root / rel if rel else self.root)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise InvalidParameterValue(f"Artifact path {rel!r} resolves outside its root")
        return Path(real)

    def existing_file(self, rel: str) -> Path:
        """The real path of the file ``rel``; RESOURCE_DOES_NOT_EXIST when it is not one."""
        path = self.inside(rel)
        if not path.is_file():
            raise ResourceDoesNotExist(f"No artifact file at '{rel}'")
        return path

    def prepare_write(self, rel: str) -> Path:
        """Make the folders of the file ``rel`` and return where it goes (checked)."""
        target = self.root / rel
        self.inside(rel)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameterValue(
                f"Cannot write '{rel}': a part of its folder is a file"
            ) from None
        self.inside(rel)  # again: a component may have been replaced by a symlink meanwhile
        if target.is_dir():
            raise InvalidParameterValue(f"Cannot write '{rel}': it is a folder")
        return target


def _file_response(path: Path, name: str, background: BackgroundTask | None = None) -> Response:
    return FileResponse(
        path,
        media_type=content_type(name),
        filename=name,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
        background=background,
    )


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


def _file_json(info: FileInfo, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        out["file_size"] = info.file_size
    return out


@dataclass(frozen=True)
class ArtifactService:
    """What the artifact routes serve.

    ``destination`` is the local folder behind ``mlflow-artifacts:`` URIs; None means the
    server does not proxy artifacts (its ``mlflow-artifacts`` routes answer 503).
    ``read_roots`` are the artifact roots (URIs) whose runs ``artifacts/list`` and
    ``get-artifact`` may read, besides ``mlflow-artifacts:``.
    """

    context: ServerContext
    destination: Path | None
    read_roots: tuple[str, ...]
    _folder: _Folder | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        folder = _Folder(self.destination) if self.destination is not None else None
        object.__setattr__(self, "_folder", folder)

    def proxied(self) -> _Folder:
        """The destination folder; TEMPORARILY_UNAVAILABLE (503) when not serving."""
        if self._folder is None:
            raise MlflowException(
                "This server does not serve artifacts (it was started with "
                "--no-serve-artifacts): the mlflow-artifacts routes are disabled.",
                error_code=TEMPORARILY_UNAVAILABLE,
            )
        return self._folder

    def repository(self, uri: str) -> ArtifactRepository:
        """The repository of a run's artifact root, if this server may read it."""
        parts = urlsplit(uri)
        if parts.scheme.lower() == "mlflow-artifacts":
            if parts.netloc or parts.query or parts.fragment:
                raise InvalidParameterValue(f"Not an artifact URI of this server: {uri!r}")
            folder = self.proxied()
            rel = _checked(parts.path.removeprefix("/"))
            return LocalArtifactRepository(folder.inside(rel).as_uri())
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


async def _write_body(request: Request, target: Path) -> None:
    """Stream the request body into a temporary file beside ``target``, then rename it."""
    fd, tmp = await run_in_threadpool(
        tempfile.mkstemp, dir=target.parent, prefix=".tmp-", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as out:
            buffer = bytearray()
            async for chunk in request.stream():
                buffer += chunk
                if len(buffer) >= _WRITE_CHUNK:
                    await run_in_threadpool(out.write, buffer)
                    buffer = bytearray()
            await run_in_threadpool(_finish, out, buffer)
        await run_in_threadpool(os.replace, tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _finish(out: Any, tail: bytearray) -> None:
    out.write(tail)
    out.flush()
    os.fsync(out.fileno())


def _proxied_routes(service: ArtifactService) -> list[BaseRoute]:
    @_guarded
    async def artifact_file(request: Request) -> Response:
        """Download (GET), upload (PUT: the body is the file) or delete (DELETE) an artifact."""
        folder = service.proxied()
        rel = _file_rel(request)
        if request.method == "PUT":
            target = await run_in_threadpool(folder.prepare_write, rel)
            await _write_body(request, target)
            return _json_response({})
        if request.method == "DELETE":
            await run_in_threadpool(folder.repository.delete_artifacts, rel)
            return _json_response({})
        path = await run_in_threadpool(folder.existing_file, rel)
        return _file_response(path, rel.rpartition("/")[2])

    @_guarded
    async def list_artifacts(request: Request) -> Response:
        """The direct children of a folder: names, kinds and sizes (``{}`` for a file)."""
        folder = service.proxied()
        rel = _checked(_query(request, _LIST_REQUEST).opt_string("path"))
        infos = await run_in_threadpool(folder.repository.list_artifacts, rel or None)
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
    _, repo = service.run_repository(run_id)
    name = rel.rpartition("/")[2]
    if isinstance(repo, LocalArtifactRepository):
        return _file_response(_Folder(repo.root).existing_file(rel), name)
    scratch = tempfile.mkdtemp(prefix="trackline-get-artifact-")
    try:
        local = Path(repo.download_artifacts(rel, scratch))
        if not local.is_file():
            raise ResourceDoesNotExist(f"No artifact file at '{rel}'")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return _file_response(local, name, BackgroundTask(shutil.rmtree, scratch, True))


def _run_routes(service: ArtifactService) -> list[BaseRoute]:
    @_guarded
    async def get_artifact(request: Request) -> Response:
        """A file of a run's artifacts, as a download (the UI's link)."""
        params = _query(request, _RUN_FILE_REQUEST)
        rel = _checked(params.string("path"))
        if not rel:
            raise InvalidParameterValue("The artifact path is empty: name a file")
        return await run_in_threadpool(_run_file, service, params.string("run_id"), rel)

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
    return [
        *build_routes([endpoint], service.context),
        Route("/get-artifact", get_artifact, methods=["GET"]),
    ]


def artifact_routes(service: ArtifactService) -> list[BaseRoute]:
    """Every artifact route of the server."""
    return [*_proxied_routes(service), *_run_routes(service)]
