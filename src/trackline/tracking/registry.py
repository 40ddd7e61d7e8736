"""The fluent model registry API: ``register_model``, ``search_registered_models``,
``search_model_versions`` and ``set_model_version_tag`` (``mlflow.<name>`` in MLflow).

:func:`register_model` takes what MLflow's takes:

* ``runs:/<run_id>/<path>``: the run's artifacts at ``<path>`` when they hold an ``MLmodel``
  (MLflow 2's layout, source ``<run artifact URI>/<path>``), else the logged model called
  ``<path>`` that the run produced (MLflow 3's layout, source ``models:/<model_id>``);
* ``models:/<model_id>`` (a logged model), or a registered version in any ``models:/`` form
  (``/<version>``, ``/<stage>``, ``/latest``, ``@<alias>``), registered again from that
  version's files (``models:/<name>/<version>``);
* any other artifact URI or local path, registered as it is (the registry checks it).

It creates the registered model when it is missing, registers the next version, and, for a
logged model, records the new version in the model's ``mlflow.modelVersions`` tag.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from trackline.entities import LoggedModelTag, ModelVersion, PagedList, RegisteredModel
from trackline.exceptions import (
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
    ResourceDoesNotExist,
)
from trackline.store.registry_store import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
)
from trackline.tracking.client import TracklineClient
from trackline.tracking.model_uri import (
    is_models_uri,
    logged_model_of_run,
    model_version_of_uri,
    parse_model_uri,
)
from trackline.tracking.registry_client import DEFAULT_AWAIT_MAX_SLEEP_SECONDS

__all__ = [
    "MODEL_VERSIONS_TAG",
    "register_model",
    "search_model_versions",
    "search_registered_models",
    "set_model_version_tag",
]

#: The logged-model tag listing the registered versions made from it (MLflow's).
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
_MLMODEL = "MLmodel"
_ALREADY_EXISTS = (RESOURCE_ALREADY_EXISTS, "ALREADY_EXISTS")

T = TypeVar("T")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _registration_source(
    client: TracklineClient, model_uri: str
) -> tuple[str, str | None, str | None]:
    """``(source, run_id, model_id)`` to register for ``model_uri``."""
    if model_uri[:5].lower() == "runs:":
        body = model_uri[5:].lstrip("/")
        run_id, _, path = body.partition("/")
        path = path.strip("/")
        if not run_id:
            raise MlflowException.invalid_parameter_value(
                f"Not a proper runs:/ URI: {model_uri!r}. Run URIs are runs:/<run_id>/<path>."
            )
        files = client.list_artifacts(run_id, path or None)
        if any(info.path.rpartition("/")[2] == _MLMODEL for info in files):
            root = client.get_run(run_id).info.artifact_uri or ""
            return (f"{root.rstrip('/')}/{path}" if path else root), run_id, None
        model = logged_model_of_run(client, run_id, path) if path else None
        if model is None:
            raise ResourceDoesNotExist(
                f"Unable to find a logged_model with artifact_path {path} under run {run_id}"
            )
        return f"models:/{model.model_id}", run_id, model.model_id
    if is_models_uri(model_uri):
        parts = parse_model_uri(model_uri)
        if parts.path:
            raise MlflowException.invalid_parameter_value(
                f"{model_uri!r} names a path inside a model; register the whole model."
            )
        if parts.model_id is not None:
            return model_uri, None, parts.model_id
        name, version = model_version_of_uri(parts, client)
        registered = client.get_model_version(name, version)
        return f"models:/{name}/{version}", None, registered.model_id
    if len(urlsplit(model_uri).scheme) <= 1:  # a local path (or a Windows drive letter)
        return str(Path(model_uri).expanduser().resolve()), None, None
    return model_uri, None, None


def _record_on_logged_model(client: TracklineClient, model_id: str, version: ModelVersion) -> None:
    store = client._sync()
    entry = [{"name": version.name, "version": int(version.version)}]
    try:
        existing = store.get_logged_model(model_id).tags.get(MODEL_VERSIONS_TAG)
        if existing:
            try:
                previous = json.loads(existing)
            except ValueError:
                previous = []
            if isinstance(previous, list):
                entry = previous + entry
        store.set_logged_model_tags(
            model_id, [LoggedModelTag(MODEL_VERSIONS_TAG, json.dumps(entry))]
        )
    except MlflowException as exc:
        if exc.error_code != RESOURCE_DOES_NOT_EXIST:
            raise


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    *,
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as the next version of the registered model
    ``name`` (created when missing) and return the new :class:`ModelVersion`.

    ``model_uri`` is ``runs:/<run_id>/<path>``, ``models:/<model_id>``, a registered version
    (``models:/<name>/<version|stage|latest>``, ``models:/<name>@<alias>``) or an artifact
    URI; ``tags`` are set on the new version.
    """
    client = TracklineClient()
    try:
        client.create_registered_model(name)
        _say(f"Successfully registered model '{name}'.")
    except MlflowException as exc:
        if exc.error_code not in _ALREADY_EXISTS:
            raise
        _say(f"Registered model '{name}' already exists. Creating a new version of this model...")
    source, run_id, model_id = _registration_source(client, str(model_uri))
    version = client.create_model_version(
        name,
        source,
        run_id=run_id,
        tags=tags,
        await_creation_for=await_registration_for,
        model_id=model_id,
    )
    _say(f"Created version '{version.version}' of model '{version.name}'.")
    if model_id:
        _record_on_logged_model(client, model_id, version)
    return version


def _all_pages(
    fetch: Callable[[int, str | None], PagedList[T]], page_size: int, max_results: int | None
) -> list[T]:
    out: list[T] = []
    token: str | None = None
    while max_results is None or len(out) < max_results:
        wanted = page_size if max_results is None else min(page_size, max_results - len(out))
        page = fetch(wanted, token)
        out.extend(page)
        token = page.token
        if not token:
            break
    return out


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """Every registered model matching ``filter_string`` (or the first ``max_results``),
    ordered by ``order_by`` (default ``name ASC``)."""
    client = TracklineClient()
    return _all_pages(
        lambda size, token: client.search_registered_models(filter_string, size, order_by, token),
        SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
        max_results,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Every model version matching ``filter_string`` (or the first ``max_results``)."""
    client = TracklineClient()
    return _all_pages(
        lambda size, token: client.search_model_versions(filter_string, size, order_by, token),
        SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        max_results,
    )


def set_model_version_tag(
    name: str,
    version: str | int | None = None,
    key: str | None = None,
    value: Any = None,
    stage: str | None = None,
) -> None:
    """Set a tag on a model version, named by ``version`` or (the newest in) ``stage``."""
    TracklineClient().set_model_version_tag(name, version, key, value, stage)
