"""From a model URI to a local model folder.

==================================  =========================================================
URI                                 where the model is
==================================  =========================================================
a path, ``file://``                 that folder (used in place; copied when ``dst_path``)
``runs:/<run_id>/<path>``           ``<run artifact URI>/<path>`` if an MLmodel is there
                                    (MLflow 2 layout), else the artifacts of the run's
                                    logged model named ``<first segment of path>`` (MLflow 3
                                    layout, the rest of the path below it)
``models:/<model_id>[/<sub>]``      the logged model's artifact location
``models:/<name>/<version|stage|    the registered version's download location
latest>``, ``models:/<name>@<alias>``
any other artifact URI              that location (``mlflow-artifacts:``, ``http(s)``, ...)
==================================  =========================================================

Files are fetched through the tracking client of the current tracking URI, so artifacts
behind a tracking server go through its HTTP session.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from trackline.exceptions import InvalidParameterValue, MlflowException, ResourceDoesNotExist
from trackline.models.model import MLMODEL_FILE_NAME

if TYPE_CHECKING:
    from trackline.tracking.client import TracklineClient

__all__ = [
    "current_client",
    "download_model",
    "local_model_path",
    "resolve_model_location",
]


def current_client() -> TracklineClient:
    """A client of the current tracking and registry URIs (as MLflow's ``MlflowClient()``;
    stores are shared per URI, so this is cheap)."""
    from trackline.tracking.client import TracklineClient

    return TracklineClient()


def local_model_path(uri: str) -> Path | None:
    """The local path of a plain path or ``file:`` URI; None for any other URI."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidParameterValue(f"file: URIs must name a local path, got {uri!r}")
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or len(parsed.scheme) == 1:  # one letter: a Windows drive
        return Path(uri).expanduser()
    return None


def _run_model_location(client: TracklineClient, uri: str) -> str:
    from trackline.tracking.model_uri import logged_model_of_run

    rest = uri[len("runs:") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    path = path.strip("/")
    if not run_id or not path:
        raise InvalidParameterValue(
            f"Not a proper runs:/ URI: {uri!r}. Use runs:/<run_id>/<artifact path>"
        )
    root = (client.get_run(run_id).info.artifact_uri or "").rstrip("/")
    listing = client.list_artifacts(run_id, path) if root else []
    if any(info.path == f"{path}/{MLMODEL_FILE_NAME}" for info in listing):
        return f"{root}/{path}"  # MLflow 2 layout: the model under the run's artifacts
    name, _, below = path.partition("/")
    model = logged_model_of_run(client, run_id, name)
    if model is not None:  # MLflow 3 layout: the run's logged model of that name
        location = model.artifact_location.rstrip("/")
        return f"{location}/{below}" if below else location
    if listing:
        return f"{root}/{path}"  # something is there; the MLmodel check will say what
    raise ResourceDoesNotExist(
        f"No model at {uri!r}: run {run_id} has no artifacts under {path!r} and logged no "
        f"model named {name!r}"
    )


def resolve_model_location(model_uri: str, client: TracklineClient | None = None) -> str:
    """The artifact URI of the model named by a ``runs:/`` or ``models:/`` URI (any other
    URI is returned as it is)."""
    if model_uri.startswith("runs:"):
        return _run_model_location(client or current_client(), model_uri)
    if model_uri.startswith("models:"):
        from trackline.tracking.model_uri import resolve_model_uri

        return resolve_model_uri(model_uri, client or current_client())
    return model_uri


def download_model(
    model_uri: str, dst_path: str | None = None, client: TracklineClient | None = None
) -> Path:
    """A local folder with the model named by ``model_uri`` (see the module's table).

    Local models are used in place unless ``dst_path`` (an existing folder) is given; remote
    ones are downloaded into ``dst_path`` or a new temporary folder. Raises
    :class:`ResourceDoesNotExist` when the URI names nothing or no MLmodel is there.
    """
    local = local_model_path(model_uri)
    if local is not None:
        if not local.exists():
            raise ResourceDoesNotExist(f"No model at {model_uri!r}: the path does not exist")
        folder = local.resolve()
        if dst_path is not None:
            target = Path(dst_path) / folder.name
            if folder.is_dir():
                shutil.copytree(folder, target, dirs_exist_ok=True)
            else:
                shutil.copy2(folder, target)
            folder = target
    else:
        client = client or current_client()
        location = resolve_model_location(model_uri, client).rstrip("/")
        folder = _download(client, location, dst_path)
    if folder.is_dir() and not (folder / MLMODEL_FILE_NAME).is_file():
        raise ResourceDoesNotExist(
            f"No MLflow model at {model_uri!r}: there is no {MLMODEL_FILE_NAME} file there"
        )
    return folder


def _download(client: TracklineClient, location: str, dst_path: str | None) -> Path:
    from trackline.tracking.model_uri import download_artifacts

    destination = dst_path or _scratch_folder()
    try:
        return Path(
            download_artifacts(
                artifact_uri=location,
                dst_path=destination,
                tracking_uri=client.tracking_uri,
                registry_uri=client.registry_uri,
            )
        )
    except BaseException as exc:
        if dst_path is None:
            shutil.rmtree(destination, ignore_errors=True)
        if isinstance(exc, MlflowException) and exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise ResourceDoesNotExist(f"No model at {location!r}: {exc.message}") from None
        raise


#: The folders models were downloaded into without a ``dst_path``: removed at exit (a
#: loaded model may read its files until then, as a custom model's artifacts do).
_scratch: list[str] = []


def _scratch_folder() -> str:
    folder = tempfile.mkdtemp(prefix="trackline-model-")
    if not _scratch:
        atexit.register(_remove_scratch)
    _scratch.append(folder)
    return folder


def _remove_scratch() -> None:
    while _scratch:
        shutil.rmtree(_scratch.pop(), ignore_errors=True)
