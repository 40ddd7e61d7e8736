"""A model version's page and the actions on a version.

``/models/<name>/versions/<v>`` shows the version's stage (with the transition form and its
"archive the other versions in that stage" option, for Staging and Production), aliases,
description, tags, the run it came from, its signature (read from the ``MLmodel`` file at
its download URI through the server's artifact service, which reads only the artifact
stores it is configured with), the code that loads it (``models:/<name>/<v>`` and
``models:/<name>@<alias>``) and its audit trail. Actions: transition the stage, set the
description, set and delete tags, delete the version (aliases are set on the model's
routes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trackline.artifacts.repository import ArtifactRepository
from trackline.entities import ModelVersionTag
from trackline.entities.model_version_stage import STAGES_THAT_ARCHIVE
from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.store.registry_store import RegistryStore
from trackline.ui import urls
from trackline.ui.actions import Body
from trackline.ui.artifact_view import read_artifact
from trackline.ui.audit import audit_trail
from trackline.ui.context import UiContext
from trackline.ui.mlmodel import MLMODEL_FILE, describe_model, snippets
from trackline.ui.registry_data import STAGES, aliases_json, registry_of, version_json
from trackline.ui.rendering import Page, Query

__all__ = [
    "delete_version",
    "delete_version_tag",
    "set_version_description",
    "set_version_tag",
    "transition_stage",
    "version_page",
]

MAX_MLMODEL_BYTES = 1024 * 1024


def _files(ctx: UiContext, uri: str) -> tuple[ArtifactRepository, str]:
    """The repository holding a version's files and the folder of them inside it."""
    if uri[:5].lower() == "runs:":
        run_id, _, path = uri[5:].lstrip("/").partition("/")
        _, repo = ctx.artifacts.run_repository(run_id)
        return repo, path.strip("/")
    if uri[:7].lower() == "models:":
        raise InvalidParameterValue(f"The version's files are at {uri!r}, not an artifact URI")
    return ctx.artifacts.repository(uri), ""


def _signature(
    ctx: UiContext, registry: RegistryStore, name: str, version: str
) -> tuple[dict[str, Any], str | None]:
    """The version's ``MLmodel`` as the artifact browser describes it (an ``error`` when it
    cannot be read), and its download URI."""
    uri = None
    try:
        uri = registry.get_model_version_download_uri(name, version)
        repo, folder = _files(ctx, uri)
        path = f"{folder}/{MLMODEL_FILE}" if folder else MLMODEL_FILE
        data, _ = read_artifact(repo, path, MAX_MLMODEL_BYTES)
    except MlflowException as exc:
        return {"error": f"The model's MLmodel file could not be read: {exc.message}"}, uri
    except OSError as exc:
        return {"error": f"The model's MLmodel file could not be read: {exc}"}, uri
    return describe_model(data.decode("utf-8", errors="replace"), None), uri


def _load_snippets(
    model: dict[str, Any], name: str, version: str, aliases: list[str], base_url: str
) -> dict[str, Any]:
    uri = f"models:/{name}/{version}"
    return {
        "uri": uri,
        "alias_uris": [f"models:/{name}@{alias}" for alias in aliases],
        "snippets": [] if model.get("error") else snippets(model, uri, base_url),
    }


def _source_run(ctx: UiContext, run_id: str) -> dict[str, Any]:
    """The run a version came from, with a link (none when it is gone)."""
    try:
        info = ctx.store.get_run(run_id).info
    except MlflowException:
        return {"run_id": run_id, "name": run_id, "url": None, "experiment_id": None}
    name = info.run_name or info.run_id
    return {"run_id": run_id, "name": name, "url": urls.run(run_id),
            "experiment_id": info.experiment_id}  # fmt: skip


def version_page(ctx: UiContext, query: Query) -> Page:
    """Everything about one model version."""
    registry = registry_of(ctx)
    name = query.path["name"]
    found = registry.get_model_version(name, query.path["version"])
    model = registry.get_registered_model(found.name)
    version = version_json(found)
    run = _source_run(ctx, found.run_id) if found.run_id else None
    signature, download_uri = _signature(ctx, registry, found.name, found.version)
    current = found.current_stage
    data = {
        "model": {
            "name": model.name,
            "url": urls.model(model.name),
            "aliases": aliases_json(model.name, model.aliases),
        },
        "version": version,
        "run": run,
        "download_uri": download_uri,
        "signature": signature,
        "load": _load_snippets(
            signature, found.name, found.version, version["aliases"], query.base_url
        ),
        "stages": [s for s in STAGES if s != current],
        "archiving_stages": list(STAGES_THAT_ARCHIVE),
        "audit": audit_trail(registry, found.name, found.version),
    }
    return Page("model_version.html", f"{found.name} v{found.version}", data)


def _version(body: Body) -> tuple[str, str]:
    return body.path["name"], body.path["version"]


def transition_stage(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Move the version to ``stage``; with ``archive_existing`` (Staging and Production
    only) the model's other versions in that stage move to Archived."""
    name, version = _version(body)
    moved = registry_of(ctx).transition_model_version_stage(
        name, version, body.string("stage"), body.flag("archive_existing"), body.user
    )
    return {"stage": moved.current_stage}


def set_version_description(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Set the version's description (``text``; empty clears it)."""
    name, version = _version(body)
    text = body.string("text", allow_empty=True)
    registry_of(ctx).update_model_version(name, version, text, body.user)
    return {}


def set_version_tag(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Set tag ``key`` to ``value`` on the version."""
    name, version = _version(body)
    tag = ModelVersionTag(body.string("key").strip(), body.string("value", allow_empty=True))
    registry_of(ctx).set_model_version_tag(name, version, tag, body.user)
    return {}


def delete_version_tag(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Delete the version's tag ``key``."""
    name, version = _version(body)
    registry_of(ctx).delete_model_version_tag(name, version, body.string("key"), body.user)
    return {}


def delete_version(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Delete the version (its number stays taken); ``confirm`` must repeat the number."""
    name, version = _version(body)
    if body.string("confirm") != version:
        raise InvalidParameterValue("To delete the version, 'confirm' must repeat its number")
    registry_of(ctx).delete_model_version(name, version, body.user)
    return {"url": urls.model(name)}
