"""Registering a run's model from the UI: the **Register model** button of MLmodel
directories in the artifact browser and of the run's logged models.

``POST /ui-api/runs/<run>/register`` takes ``name`` (the registered model), ``new`` (create
it: RESOURCE_ALREADY_EXISTS if it exists; else it must exist) and either ``path`` (a folder
of the run's artifacts) or ``model_id`` (a logged model of the run). The source is chosen
the way ``register_model("runs:/<run>/<path>")`` chooses it:

* a folder of the run's artifacts holding an ``MLmodel`` file (MLflow 2's layout): the
  folder's URI under the run's artifact root, registered with the run's id;
* otherwise the logged model called ``<path>`` that the run produced (MLflow 3's layout),
  or the logged model ``model_id``: ``models:/<model_id>``, registered with the run's and
  the model's ids, and recorded in the logged model's ``mlflow.modelVersions`` tag.

The registry checks the source again (:mod:`trackline.store.model_source`). The answer names
the new version and its page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trackline.entities import LoggedModel, LoggedModelTag, ModelVersion
from trackline.exceptions import InvalidParameterValue, MlflowException, ResourceDoesNotExist
from trackline.ui import urls
from trackline.ui.actions import Body
from trackline.ui.artifact_view import checked_path
from trackline.ui.context import UiContext
from trackline.ui.mlmodel import MLMODEL_FILE
from trackline.ui.registry_data import quoted, registry_of

__all__ = ["MODEL_VERSIONS_TAG", "logged_models_of_run", "register_model"]

#: The logged-model tag listing the registered versions made from it (MLflow's).
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
#: At most this many logged models of a run are listed on its page.
MAX_LOGGED_MODELS = 100


def _logged_models(ctx: UiContext, run_id: str, name: str | None) -> list[LoggedModel]:
    """The logged models that run ``run_id`` produced (called ``name`` if given)."""
    experiment_id = ctx.store.get_run(run_id).info.experiment_id
    wanted = f"source_run_id = {quoted(run_id)}"
    if name is not None:
        wanted += f" AND name = {quoted(name)}"
    found: list[LoggedModel] = []
    token: str | None = None
    while len(found) < MAX_LOGGED_MODELS:
        page = ctx.store.search_logged_models(
            [experiment_id], wanted, max_results=MAX_LOGGED_MODELS, page_token=token
        )
        found += [m for m in page if m.source_run_id == run_id]
        token = page.token
        if not token:
            break
    return found


def logged_models_of_run(ctx: UiContext, run_id: str) -> list[dict[str, Any]]:
    """The logged models a run produced, as its page lists them (newest first)."""
    try:
        found = _logged_models(ctx, run_id, None)
    except MlflowException:
        return []
    found.sort(key=lambda m: (m.creation_timestamp or 0, m.model_id), reverse=True)
    return [
        {
            "model_id": m.model_id,
            "name": m.name,
            "status": str(getattr(m.status, "value", m.status)),
            "model_type": m.model_type,
            "creation_timestamp": m.creation_timestamp,
            "uri": f"models:/{m.model_id}",
            "registered": _registered(m),
        }
        for m in found
    ]


def _registered(model: LoggedModel) -> list[dict[str, Any]]:
    try:
        entries = json.loads(model.tags.get(MODEL_VERSIONS_TAG) or "[]")
    except ValueError:
        return []
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            version = str(entry.get("version", ""))
            out.append({"name": entry["name"], "version": version,
                        "url": urls.model_version(entry["name"], version)})  # fmt: skip
    return out


def _source(ctx: UiContext, run_id: str, body: Body) -> tuple[str, str | None]:
    """``(source, model_id)`` to register for the request."""
    model_id = body.optional("model_id")
    if model_id is not None:
        model = ctx.store.get_logged_model(model_id)
        if model.source_run_id != run_id:
            raise InvalidParameterValue(
                f"Logged model '{model_id}' is not a model of run '{run_id}'"
            )
        return f"models:/{model.model_id}", model.model_id
    path = checked_path(body.string("path", allow_empty=True)).strip("/")
    root, repo = ctx.artifacts.run_repository(run_id)
    files = repo.list_artifacts(path or None)
    if any(not f.is_dir and f.path.rpartition("/")[2] == MLMODEL_FILE for f in files):
        return (f"{root.rstrip('/')}/{path}" if path else root), None
    logged = _logged_models(ctx, run_id, path) if path else []
    if not logged:
        raise ResourceDoesNotExist(
            f"No model at '{path}' in run '{run_id}': the folder holds no MLmodel file and the "
            "run logged no model of that name"
        )
    newest = max(logged, key=lambda m: (m.creation_timestamp or 0, m.model_id))
    return f"models:/{newest.model_id}", newest.model_id


def _record(ctx: UiContext, model_id: str, version: ModelVersion) -> None:
    """Add the version to the logged model's ``mlflow.modelVersions`` tag."""
    entry: list[Any] = [{"name": version.name, "version": int(version.version)}]
    try:
        existing = ctx.store.get_logged_model(model_id).tags.get(MODEL_VERSIONS_TAG)
        try:
            previous = json.loads(existing) if existing else []
        except ValueError:
            previous = []
        if isinstance(previous, list):
            entry = previous + entry
        ctx.store.set_logged_model_tags(
            model_id, [LoggedModelTag(MODEL_VERSIONS_TAG, json.dumps(entry))]
        )
    except MlflowException:
        pass  # the version is registered; the tag is a courtesy


def register_model(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Register the run's model at ``path`` (or the logged model ``model_id``) as the next
    version of the registered model ``name`` (created first when ``new``)."""
    registry = registry_of(ctx)
    run_id = body.path["run_id"]
    name = body.string("name").strip()
    new = body.flag("new")
    source, model_id = _source(ctx, run_id, body)
    if new:
        registry.create_registered_model(name, None, None, body.user)
    try:
        version = registry.create_model_version(
            name, source, run_id=run_id, model_id=model_id, user_id=body.user
        )
    except MlflowException:
        if new:  # leave nothing behind: the model was made for this version
            registry.delete_registered_model(name, body.user)
        raise
    if model_id is not None:
        _record(ctx, model_id, version)
    return {
        "name": version.name,
        "version": version.version,
        "version_url": urls.model_version(version.name, version.version),
        "model_url": urls.model(version.name),
        "created_model": new,
    }
