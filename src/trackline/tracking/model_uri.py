"""``models:/`` and ``runs:/`` URIs: from a model's name to the artifact URI of its files.

================================  ============================================================
URI                               resolves to
================================  ============================================================
``models:/<name>/<version>``      that version's download URI (its storage location or source)
``models:/<name>/<stage>``        the newest version in that stage (``Production``, any case)
``models:/<name>/latest``         the newest version in any stage (``latest``, any case)
``models:/<name>@<alias>``        the version the alias points to
``models:/<model_id>``            the logged model's artifact location
``runs:/<run_id>/<path>``         ``<run artifact URI>/<path>``; when nothing is there, the
                                  run's logged model named after the path's first segment
                                  (MLflow 3 keeps models outside the run's artifacts)
================================  ============================================================

A ``models:/`` URI may go on with a path inside the model (``models:/m/1/data/model.pkl``,
``models:/m@champion/MLmodel``), as MLflow's does. Anything else (no name, empty parts, a
host, a query) is an INVALID_PARAMETER_VALUE that says what the forms are.

:func:`resolve_model_uri` is what ``pyfunc.load_model`` and :func:`download_artifacts` use;
:func:`download_artifacts` is ``mlflow.artifacts.download_artifacts`` for every such URI.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from trackline.entities import LoggedModel
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist

if TYPE_CHECKING:
    from trackline.tracking.client import TracklineClient

__all__ = [
    "ModelUri",
    "download_artifacts",
    "is_models_uri",
    "logged_model_of_run",
    "model_version_of_uri",
    "parse_model_uri",
    "resolve_artifact_uri",
    "resolve_model_uri",
    "split_models_uri",
]

_LATEST = "latest"


def _improper(uri: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Not a proper models:/ URI: {uri!r} ({why}). Model URIs are models:/<name>/<version>, "
        "models:/<name>/<stage>, models:/<name>/latest, models:/<name>@<alias> or "
        "models:/<model_id>, optionally followed by a path inside the model."
    )


@dataclass(frozen=True)
class ModelUri:
    """The parts of a ``models:/`` URI: exactly one of ``model_id``, ``version``, ``stage``,
    ``alias`` or ``latest`` says which model (with ``name`` for all but ``model_id``), and
    ``path`` is the path inside the model ("" for the whole model)."""

    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None
    model_id: str | None = None
    latest: bool = False
    path: str = ""


def is_models_uri(uri: object) -> bool:
    """Whether ``uri`` is a ``models:`` URI (well-formed or not)."""
    return isinstance(uri, str) and uri[:7].lower() == "models:"


def split_models_uri(uri: str) -> tuple[str, str]:
    """``("models:/<name>/<suffix>", "<path>")`` or ``("models:/<name>@<alias>", "<path>")``:
    a ``models:/`` URI cut where the path inside the model begins ("" when there is none)."""
    if not is_models_uri(uri):
        raise _improper(uri, "the scheme is not models")
    body = uri[7:].rstrip("/")
    if not body.startswith("/") or body.startswith("//"):
        raise _improper(uri, "it must start with models:/ and name no host")
    parts = body[1:].split("/")
    cut = 1 if "@" in parts[0] else 2
    return "models:/" + "/".join(parts[:cut]), "/".join(parts[cut:])


def parse_model_uri(uri: str) -> ModelUri:
    """The parts of a ``models:/`` URI; INVALID_PARAMETER_VALUE for a malformed one."""
    if not isinstance(uri, str):
        raise InvalidParameterValue(f"A model URI must be a string, got {type(uri).__name__}")
    parsed = urlsplit(uri)
    if parsed.query or parsed.fragment or "\x00" in uri:
        raise _improper(uri, "it has a query, a fragment or a NUL")
    base, path = split_models_uri(uri)
    head = base[len("models:/") :]
    parts = head.split("/")
    if any(not p.strip() for p in parts) or any(not p.strip() for p in path.split("/") if path):
        raise _improper(uri, "a part of it is empty")
    if path and any(p in (".", "..") for p in path.split("/")):
        raise _improper(uri, "its path inside the model leaves the model")
    if len(parts) == 2:
        name, suffix = parts
        if "@" in name:
            raise _improper(uri, "it has both an alias and a version or stage")
        if suffix.isdigit():
            return ModelUri(name=name, version=str(int(suffix)), path=path)
        if suffix.lower() == _LATEST:
            return ModelUri(name=name, latest=True, path=path)
        return ModelUri(name=name, stage=suffix, path=path)
    first = parts[0]
    if "@" in first:
        name, _, alias = first.rpartition("@")
        if not name.strip() or not alias.strip():
            raise _improper(uri, "the name or the alias is empty")
        return ModelUri(name=name, alias=alias, path=path)
    return ModelUri(model_id=first, path=path)


def _client(client: TracklineClient | None) -> TracklineClient:
    if client is not None:
        return client
    from trackline.tracking.client import TracklineClient

    return TracklineClient()


def _join(root: str, path: str) -> str:
    return f"{root.rstrip('/')}/{path}" if path else root


def model_version_of_uri(
    uri: str | ModelUri, client: TracklineClient | None = None
) -> tuple[str, str]:
    """``(name, version)`` of the registered version a registry ``models:/`` URI names."""
    parts = parse_model_uri(uri) if isinstance(uri, str) else uri
    if parts.name is None:
        raise InvalidParameterValue(f"{uri!r} names a logged model, not a registered version")
    if parts.version is not None:
        return parts.name, parts.version
    client = _client(client)
    if parts.alias is not None:
        return parts.name, client.get_model_version_by_alias(parts.name, parts.alias).version
    stages = None if parts.latest else [parts.stage or ""]
    versions = client.get_latest_versions(parts.name, stages)
    if not versions:
        where = "" if parts.latest else f" in stage '{parts.stage}'"
        raise ResourceDoesNotExist(f"No versions of model with name '{parts.name}'{where} found")
    return parts.name, str(max(int(v.version) for v in versions))


def resolve_model_uri(uri: str, client: TracklineClient | None = None) -> str:
    """The artifact URI of the files a ``models:/`` URI names (with its path inside the model
    appended). ``client`` (default: a client of the current tracking and registry URIs)
    reads the registry and the logged models."""
    parts = parse_model_uri(uri)
    client = _client(client)
    if parts.model_id is not None:
        root = client._sync().get_logged_model(parts.model_id).artifact_location
    else:
        name, version = model_version_of_uri(parts, client)
        root = client.get_model_version_download_uri(name, version)
    return _join(root, parts.path)


def logged_model_of_run(client: TracklineClient, run_id: str, name: str) -> LoggedModel | None:
    """The logged model called ``name`` that run ``run_id`` produced (the one logged at the
    largest step when there are several), or None."""
    store = client._sync()
    run = store.get_run(run_id)
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    found: list[LoggedModel] = []
    token: str | None = None
    while True:
        page = store.search_logged_models(
            [run.info.experiment_id], filter_string=f"name = '{quoted}'", page_token=token
        )
        found += [m for m in page if m.source_run_id == run_id]
        token = page.token
        if not token:
            break
    if len(found) <= 1:
        return found[0] if found else None
    steps = {o.model_id: o.step for o in run.outputs.model_outputs}
    return max(found, key=lambda m: steps.get(m.model_id, -1))


def _parse_runs_uri(uri: str) -> tuple[str, str]:
    body = uri[len("runs:") :].lstrip("/")
    run_id, _, path = body.partition("/")
    if not run_id:
        raise InvalidParameterValue(
            f"Not a proper runs:/ URI: {uri!r}. Run URIs are runs:/<run_id>/<path>."
        )
    return run_id, path.strip("/")


def _resolve_runs_uri(uri: str, client: TracklineClient) -> str:
    run_id, path = _parse_runs_uri(uri)
    root = client.get_run(run_id).info.artifact_uri
    if not root:
        raise InvalidParameterValue(f"Run '{run_id}' has no artifact location")
    if not path:
        return root
    parent, _, leaf = path.rpartition("/")
    listing = client.list_artifacts(run_id, parent or None)
    if any(info.path.rpartition("/")[2] == leaf for info in listing):
        return _join(root, path)
    head, _, rest = path.partition("/")
    model = logged_model_of_run(client, run_id, head)
    if model is None:
        return _join(root, path)  # nothing there either way; the download says so
    return _join(model.artifact_location, rest)


def resolve_artifact_uri(uri: str, client: TracklineClient | None = None) -> str:
    """The artifact URI behind ``runs:/`` and ``models:/`` URIs; any other URI unchanged
    (plain local paths made absolute)."""
    lowered = uri[:7].lower()
    if lowered.startswith("models:"):
        return resolve_model_uri(uri, client)
    if lowered.startswith("runs:"):
        return _resolve_runs_uri(uri, _client(client))
    if len(urlsplit(uri).scheme) <= 1:  # a plain path (or a Windows drive letter)
        return str(Path(uri).expanduser().resolve())
    return uri


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
) -> str:
    """Download artifacts into ``dst_path`` (created if missing; default a new temporary
    folder) and return their local path, as ``mlflow.artifacts.download_artifacts`` does.

    Give either ``artifact_uri`` (``runs:/``, any ``models:/`` form, an artifact URI or a
    local path) or ``run_id`` with an optional ``artifact_path``. A whole model
    (``models:/m/1``) lands in ``dst_path`` itself; anything else under its own name.
    """
    from trackline.tracking.client import TracklineClient

    if (run_id is None) == (artifact_uri is None):
        raise InvalidParameterValue("Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidParameterValue(
            "`artifact_path` cannot be specified if `artifact_uri` is specified"
        )
    client = TracklineClient(tracking_uri, registry_uri)
    dst = None if dst_path is None else str(dst_path)
    if dst is not None:
        Path(dst).mkdir(parents=True, exist_ok=True)
    if run_id is not None:
        if artifact_path:
            artifact_uri = f"runs:/{run_id}/{artifact_path.strip('/')}"
        else:
            root = client.get_run(run_id).info.artifact_uri
            if not root:
                raise InvalidParameterValue(f"Run '{run_id}' has no artifact location")
            return client._artifact_repository(root).download_artifacts("", dst)
    assert artifact_uri is not None
    if is_models_uri(artifact_uri):
        base, path = split_models_uri(artifact_uri)
        root = resolve_model_uri(base, client)
        parse_model_uri(artifact_uri)  # reject a malformed path inside the model
        return client._artifact_repository(root).download_artifacts(path, dst)
    resolved = resolve_artifact_uri(artifact_uri, client)
    if artifact_uri[:5].lower() == "runs:":
        leaf = posixpath.basename(_parse_runs_uri(artifact_uri)[1])
        if leaf and posixpath.basename(urlsplit(resolved).path.rstrip("/")) != leaf:
            # a whole logged model behind runs:/<run>/<name>: it lands under <name>
            target = Path(dst if dst is not None else tempfile.mkdtemp(prefix="trackline-")) / leaf
            target.mkdir(parents=True, exist_ok=True)
            return client._artifact_repository(resolved).download_artifacts("", str(target))
    parsed = urlsplit(resolved)
    if len(parsed.scheme) <= 1:
        parent, name = os.path.split(resolved.rstrip(os.sep))
        return client._artifact_repository(parent).download_artifacts(name, dst)
    path = parsed.path.rstrip("/")
    parent_path, name = posixpath.dirname(path), posixpath.basename(path)
    parent = parsed._replace(path=parent_path).geturl()
    return client._artifact_repository(parent).download_artifacts(name, dst)
