"""Artifacts kept behind a tracking server: ``mlflow-artifacts:`` URIs and the server's
``http(s)://host/api/2.0/mlflow-artifacts/artifacts/...`` URLs (MLflow's proxied artifacts).

``mlflow-artifacts:/<path>`` is resolved against the tracking URI: with the tracking URI
``http://host:5000``, ``mlflow-artifacts:/1/<run>/artifacts`` is served at
``http://host:5000/api/2.0/mlflow-artifacts/artifacts/1/<run>/artifacts``;
``mlflow-artifacts://other:5000/<path>`` names its server itself (with the tracking URI's
scheme). Files go up with one streamed ``PUT`` each and come down with a streamed ``GET``;
folders are listed with ``GET .../artifacts?path=`` and downloaded recursively. Every path a
server lists is checked (:func:`~trackline.artifacts.paths.check_artifact_path`, a single
name) before it is used, so a hostile listing cannot make a download write outside its folder.

This layer may not import the tracking client or the stores, so the two things it needs from
them come in as arguments, from the caller that knows them (the tracking client):

* ``tracking_uri``: the tracking server of ``mlflow-artifacts:`` URIs. When it is not given,
  ``TRACKLINE_TRACKING_URI`` or ``MLFLOW_TRACKING_URI``;
* ``connect``: a function from a server's base URL to a :class:`ServerConnection`. The
  tracking client passes the HTTP session of its REST store, so that authentication, TLS
  settings, retries and the keep-alive pool are those of the tracking calls.
"""

from __future__ import annotations

import json
import mimetypes
import os
import posixpath
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository
from trackline.entities import FileInfo
from trackline.exceptions import InvalidParameterValue, MlflowException

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ARTIFACTS_API_PATH",
    "PROGRESS_THRESHOLD_BYTES",
    "Connector",
    "HttpArtifactRepository",
    "ServerConnection",
    "is_server_artifact_uri",
    "resolve_artifact_uri",
]

#: Where a tracking server serves proxied artifacts, relative to its base URL.
ARTIFACTS_API_PATH = "api/2.0/mlflow-artifacts/artifacts"
#: Transfers of files larger than this show a progress bar on stderr.
PROGRESS_THRESHOLD_BYTES = 100 * 1024 * 1024

_CHUNK = 1024 * 1024
_SCHEMES = ("mlflow-artifacts", "http", "https")
_ENV_TRACKING_URIS = ("TRACKLINE_TRACKING_URI", "MLFLOW_TRACKING_URI")


class ServerConnection(Protocol):
    """What the repository needs of an HTTP session to a server (the REST store's
    :class:`~trackline.store.rest.http.HttpSession` is one)."""

    def stream(
        self,
        method: str,
        path: str,
        *,
        content: Callable[[], Iterable[bytes]] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AbstractContextManager[httpx.Response]:
        """Send ``method path`` (relative to the server's base URL) with the body
        ``content()`` and yield the unread answer; raise for an answer other than 2xx."""
        ...


#: Makes the connection to the server at a base URL (``http://host:5000``).
Connector = Callable[[str], ServerConnection]


def is_server_artifact_uri(uri: str) -> bool:
    """Whether ``uri`` names artifacts behind a tracking server (``mlflow-artifacts:``,
    ``http:``, ``https:``), which :class:`HttpArtifactRepository` serves."""
    return urlsplit(uri).scheme.lower() in _SCHEMES


def _env_tracking_uri() -> str | None:
    for name in _ENV_TRACKING_URIS:
        value = os.environ.get(name)
        if value:
            return value
    return None


def resolve_artifact_uri(artifact_uri: str, tracking_uri: str | None = None) -> tuple[str, str]:
    """``(base URL of the server, root path under ARTIFACTS_API_PATH)`` of an artifact URI.

    ``mlflow-artifacts:/1/r/artifacts`` with the tracking URI ``http://h:5000`` gives
    ``("http://h:5000", "1/r/artifacts")``; ``http://h/prefix/api/2.0/mlflow-artifacts/
    artifacts/x`` gives ``("http://h/prefix", "x")``. The root path is checked like any
    artifact path. Raises :class:`~trackline.exceptions.InvalidParameterValue` for a URI of
    another kind, or an ``mlflow-artifacts:`` URI without an ``http(s)`` tracking URI.
    """
    parts = urlsplit(artifact_uri)
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise InvalidParameterValue(
            f"Artifact URI {artifact_uri!r} must not carry a query or a fragment"
        )
    if scheme == "mlflow-artifacts":
        tracking = tracking_uri or _env_tracking_uri()
        tracked = urlsplit(tracking or "")
        if tracked.scheme.lower() not in ("http", "https") or not tracked.netloc:
            raise InvalidParameterValue(
                f"The artifact URI {artifact_uri!r} is served by a tracking server, but the "
                f"tracking URI is {tracking or 'not set'}: set it to the server's "
                "http(s)://host:port (set_tracking_uri or MLFLOW_TRACKING_URI)."
            )
        if parts.netloc:
            base = urlunsplit((tracked.scheme, parts.netloc, "", "", ""))
        else:
            base = urlunsplit((tracked.scheme, tracked.netloc, tracked.path, "", ""))
        return base.rstrip("/"), check_artifact_path(parts.path.removeprefix("/"))
    if scheme in ("http", "https"):
        marker = "/" + ARTIFACTS_API_PATH
        at = parts.path.find(marker)
        rest = parts.path[at + len(marker) :] if at >= 0 else ""
        if at < 0 or (rest and not rest.startswith("/")):
            raise InvalidParameterValue(
                f"The artifact URL {artifact_uri!r} is not a tracking server's artifact "
                f"URL (.../{ARTIFACTS_API_PATH}/...)"
            )
        base = urlunsplit((parts.scheme, parts.netloc, parts.path[:at], "", ""))
        return base.rstrip("/"), check_artifact_path(unquote(rest.removeprefix("/")))
    raise InvalidParameterValue(f"Not an artifact URI of a tracking server: {artifact_uri!r}")


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _content_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


class HttpArtifactRepository(ArtifactRepository):
    """Artifacts under one root behind a tracking server (MLflow's proxied-artifact protocol).

    ``tracking_uri`` resolves ``mlflow-artifacts:`` URIs (default: the environment);
    ``connect`` opens the connection to the server (see the module's documentation); it is
    called once, on first use.
    """

    def __init__(
        self,
        artifact_uri: str,
        *,
        tracking_uri: str | None = None,
        connect: Connector | None = None,
    ) -> None:
        super().__init__(artifact_uri)
        self.base_url, self.root = resolve_artifact_uri(artifact_uri, tracking_uri)
        self._connect = connect
        self._connection: ServerConnection | None = None

    def _server(self) -> ServerConnection:
        if self._connection is None:
            if self._connect is None:
                raise MlflowException(
                    f"No connection to the tracking server for {self.artifact_uri!r}: open "
                    "server-side artifacts through a TracklineClient (MlflowClient), which "
                    "supplies the tracking server's session."
                )
            self._connection = self._connect(self.base_url)
        return self._connection

    def _file_path(self, rel: str) -> str:
        full = _join(self.root, rel)
        if not full:
            raise InvalidParameterValue("An artifact file needs a path below the server's root")
        return f"{ARTIFACTS_API_PATH}/{quote(full, safe='/')}"

    # -- writing ---------------------------------------------------------------------------
    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a local file into the folder ``artifact_path`` (the root when None)."""
        source = Path(local_file)
        if not source.is_file():
            raise InvalidParameterValue(f"Not a file, cannot log it as an artifact: {local_file}")
        folder = check_artifact_path(artifact_path)
        self._upload(source, check_artifact_path(_join(folder, source.name)))

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload every file of a local folder (recursively) into the folder
        ``artifact_path``, one request per file."""
        source = Path(local_dir)
        if not source.is_dir():
            raise InvalidParameterValue(f"Not a directory, cannot log its artifacts: {local_dir}")
        folder = check_artifact_path(artifact_path)
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            sub = Path(dirpath).relative_to(source).as_posix()
            base = _join(folder, "" if sub == "." else sub)
            for name in sorted(filenames):
                self._upload(Path(dirpath) / name, check_artifact_path(_join(base, name)))

    def _upload(self, source: Path, rel: str) -> None:
        size = source.stat().st_size
        bar = _Progress(f"Uploading {rel}", size)

        def chunks() -> Iterator[bytes]:
            bar.restart()
            with open(source, "rb") as f:
                while chunk := f.read(_CHUNK):
                    bar.advance(len(chunk))
                    yield chunk

        headers = {"Content-Type": _content_type(source.name), "Content-Length": str(size)}
        with (
            bar,
            self._server().stream(
                "PUT", self._file_path(rel), content=chunks, headers=headers
            ) as response,
        ):
            response.read()

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a folder (the whole root when None) on the server."""
        rel = check_artifact_path(artifact_path)
        with self._server().stream("DELETE", self._file_path(rel)) as response:
            response.read()

    # -- reading ---------------------------------------------------------------------------
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of folder ``path`` with sizes for files; [] for a file or
        nothing. As MLflow's client does, a listing made of one file named like ``path``
        itself means that ``path`` is that file."""
        rel = check_artifact_path(path)
        full = _join(self.root, rel)
        with self._server().stream(
            "GET", ARTIFACTS_API_PATH, params={"path": full} if full else None
        ) as response:
            data = _json_object(response.read(), self.base_url)
        files = data.get("files", [])
        if not isinstance(files, list):
            raise _malformed(self.base_url, "'files' is not a list")
        infos = [_file_info(entry, rel, self.base_url) for entry in files]
        if (
            rel
            and len(infos) == 1
            and not infos[0].is_dir
            and infos[0].path == _join(rel, posixpath.basename(rel))
        ):
            return []
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        rel = check_artifact_path(remote_file_path)
        target = Path(local_path)
        try:
            with self._server().stream("GET", self._file_path(rel)) as response:
                length = response.headers.get("content-length", "")
                total = int(length) if length.isdigit() else 0
                with _Progress(f"Downloading {rel}", total) as bar, open(target, "wb") as out:
                    for chunk in response.iter_bytes(_CHUNK):
                        out.write(chunk)
                        bar.advance(len(chunk))
        except BaseException:
            target.unlink(missing_ok=True)
            raise


def _json_object(content: bytes, server: str) -> dict[str, Any]:
    if not content.strip():
        return {}
    try:
        data = json.loads(content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _malformed(server, "the answer is not a JSON object")
    return data


def _file_info(entry: object, rel: str, server: str) -> FileInfo:
    """A listed entry as a FileInfo under ``rel``; its name must be one safe path segment."""
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise _malformed(server, f"a listed entry has no path: {entry!r}")
    name = entry["path"]
    if not name or "/" in name or check_artifact_path(name) != name:
        raise InvalidParameterValue(
            f"The artifact server {server} listed the name {name!r}, which is not a single "
            "file or folder name; refusing it."
        )
    is_dir = bool(entry.get("is_dir", False))
    size = entry.get("file_size")
    file_size = None if is_dir or size is None else int(size)
    return FileInfo(_join(rel, name), is_dir, file_size)


def _malformed(server: str, why: str) -> MlflowException:
    return MlflowException(f"The artifact server {server} sent a malformed listing: {why}")


class _Progress:
    """A progress bar on stderr for one transfer larger than PROGRESS_THRESHOLD_BYTES:
    ``rich``'s when it is installed, else a plain line (redrawn in a terminal)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.enabled = total > PROGRESS_THRESHOLD_BYTES
        self.done = 0
        self._stream = stream or sys.stderr
        self._shown = -1
        self._rich: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            try:
                from rich.progress import Progress  # type: ignore[import-not-found,unused-ignore]
            except ImportError:
                self._draw()
            else:
                self._rich = Progress(transient=False)
                self._rich.start()
                self._task = self._rich.add_task(self.label, total=self.total)
        return self

    def restart(self) -> None:
        """Start over (a retried transfer); nothing to do before the first byte."""
        if self.done:
            self.done = 0
            self._shown = -1

    def advance(self, count: int) -> None:
        """Count ``count`` more bytes."""
        if not self.enabled:
            return
        self.done += count
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done)
        else:
            self._draw()

    def _draw(self) -> None:
        percent = min(100, self.done * 100 // max(self.total, 1))
        interactive = self._stream.isatty()
        quiet = not interactive and self._shown >= 0 and percent < min(self._shown + 25, 100)
        if percent == self._shown or quiet:
            return  # a log file gets a line every 25%, a terminal every 1%
        self._shown = percent
        mb = 1024 * 1024
        line = f"{self.label}: {percent:3d}% ({self.done / mb:.1f}/{self.total / mb:.1f} MB)"
        self._stream.write(f"\r{line}" if interactive else f"{line}\n")
        self._stream.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self.enabled and self._stream.isatty():
            self._stream.write("\n")
            self._stream.flush()
