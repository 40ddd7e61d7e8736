"""How the registry's entities look in the pages' data, and what the registry pages share.

The registry pages read the server's registry store (:attr:`UiContext.registry`); a server
without one answers NOT_IMPLEMENTED (501), as its REST routes do. Versions show their stage,
aliases, times, author, source and status; a version registered from a run links to it.
"""

from __future__ import annotations

from typing import Any

from trackline.entities import ALL_STAGES, ModelVersion, RegisteredModel
from trackline.exceptions import NOT_IMPLEMENTED, MlflowException
from trackline.store.registry_store import RegistryStore
from trackline.ui import urls
from trackline.ui.context import UiContext
from trackline.ui.experiments import looks_like_filter

__all__ = [
    "STAGES",
    "aliases_json",
    "filter_string",
    "model_json",
    "quoted",
    "registry_of",
    "tags_json",
    "version_json",
]

#: The stages a version can be in, in MLflow's order.
STAGES: tuple[str, ...] = ALL_STAGES


def registry_of(ctx: UiContext) -> RegistryStore:
    """The server's registry store; NOT_IMPLEMENTED when it has none."""
    registry = ctx.registry
    if registry is None:
        raise MlflowException("This server has no model registry.", error_code=NOT_IMPLEMENTED)
    return registry


def quoted(text: str) -> str:
    """``text`` as a quoted string of the search grammar (``'it''s'``; backslashes doubled,
    so the string means exactly ``text``)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _like_fragment(text: str) -> str:
    """``text`` inside a LIKE pattern, its wildcards and backslashes made literal."""
    return "".join("\\" + c if c in "%_\\" else c for c in text)


def filter_string(text: str) -> str | None:
    """The registered-models filter of the search box: ``text`` itself when it reads as a
    filter (``tags.team = 'vision'``, ``name LIKE 'fraud%'``), else a case-insensitive match
    anywhere in the name."""
    if not text:
        return None
    if looks_like_filter(text):
        return text
    return f"name ILIKE {quoted('%' + _like_fragment(text) + '%')}"


def tags_json(tags: dict[str, str]) -> list[dict[str, str]]:
    """Tags as sorted ``{key, value}`` rows."""
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def aliases_json(name: str, aliases: dict[str, str]) -> list[dict[str, str]]:
    """A model's aliases as ``{alias, version, url}`` rows, sorted by alias."""
    return [
        {"alias": alias, "version": version, "url": urls.model_version(name, version)}
        for alias, version in sorted(aliases.items())
    ]


def _latest(model: RegisteredModel) -> list[dict[str, Any]]:
    by_stage = {v.current_stage: v for v in model.latest_versions}
    return [
        {
            "stage": stage,
            "version": by_stage[stage].version,
            "url": urls.model_version(model.name, by_stage[stage].version),
        }
        for stage in STAGES
        if stage in by_stage
    ]


def model_json(model: RegisteredModel) -> dict[str, Any]:
    """A registered model as the pages show it."""
    return {
        "name": model.name,
        "url": urls.model(model.name),
        "description": model.description or "",
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
        "user_id": model.user_id,
        "tags": tags_json(model.tags),
        "aliases": aliases_json(model.name, model.aliases),
        "latest": _latest(model),
    }


def version_json(version: ModelVersion) -> dict[str, Any]:
    """A model version as the pages show it."""
    return {
        "name": version.name,
        "version": version.version,
        "url": urls.model_version(version.name, version.version),
        "stage": version.current_stage,
        "aliases": sorted(version.aliases),
        "description": version.description or "",
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "user_id": version.user_id,
        "source": version.source,
        "run_id": version.run_id,
        "run_url": urls.run(version.run_id) if version.run_id else None,
        "run_link": version.run_link,
        "model_id": version.model_id,
        "status": version.status.value,
        "status_message": version.status_message,
        "tags": tags_json(version.tags),
    }
