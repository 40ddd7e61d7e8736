"""The experiments list (the home page) and the actions on experiments.

``/`` takes ``q`` (a name fragment, or a filter in the search grammar such as
``tags.team = 'vision'``), ``view`` (``active``, ``deleted`` or ``all``) and ``page`` (the
token of the next page). Actions: create, rename, delete, restore and set the description
(the ``mlflow.note.content`` tag, as MLflow keeps it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trackline.entities import ExperimentTag
from trackline.exceptions import InvalidParameterValue
from trackline.search import FilterSyntaxError
from trackline.ui import urls
from trackline.ui.actions import Body
from trackline.ui.context import UiContext
from trackline.ui.queries import run_counts
from trackline.ui.rendering import Page, Query
from trackline.ui.runs_table import NOTE_TAG, VIEW_TYPES, experiment_json

__all__ = [
    "create_experiment",
    "delete_experiment",
    "experiments_page",
    "looks_like_filter",
    "rename_experiment",
    "restore_experiment",
    "set_experiment_description",
]

PAGE_SIZE = 100
_FILTER_LIKE = re.compile(r"[=<>!]|\b(like|ilike|in|is)\b", re.IGNORECASE)


def looks_like_filter(text: str) -> bool:
    """Whether a search box's text reads as a filter (a comparison) rather than a name."""
    return _FILTER_LIKE.search(text) is not None


def search_filter(text: str) -> str | None:
    """The experiments filter of the search box: ``text`` itself when it reads as a filter,
    else a case-insensitive match on the name."""
    if not text:
        return None
    if looks_like_filter(text):
        return text
    return "name ILIKE '%" + text.replace("'", "''") + "%'"


def experiments_page(ctx: UiContext, query: Query) -> Page:
    """Every experiment, newest first, with search."""
    text = query.get("q")
    view = query.get("view", "active")
    if view not in VIEW_TYPES:
        raise InvalidParameterValue(f"Invalid view {view!r}: expected active, deleted or all")
    token = query.get("page") or None
    error = None
    try:
        found = ctx.store.search_experiments(
            VIEW_TYPES[view], PAGE_SIZE, search_filter(text), None, token
        )
    except InvalidParameterValue as exc:
        position = exc.position if isinstance(exc, FilterSyntaxError) else None
        error = {"message": exc.message, "position": position}
        found = None
    experiments = [experiment_json(e) for e in found or ()]
    counts = run_counts(ctx.store, [e["experiment_id"] for e in experiments]) or {}
    for experiment in experiments:
        experiment["runs"] = counts.get(experiment["experiment_id"])
    next_url = None
    if found is not None and found.token:
        next_url = urls.experiments(
            q=text, view=view if view != "active" else None, page=found.token
        )
    data = {
        "experiments": experiments,
        "q": text,
        "view": view,
        "error": error,
        "next": next_url,
    }
    return Page("experiments.html", "Experiments", data)


def create_experiment(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Create an experiment named ``name``."""
    experiment_id = ctx.store.create_experiment(body.string("name").strip())
    return {"experiment_id": experiment_id, "url": urls.experiment(experiment_id)}


def rename_experiment(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Rename the experiment of the path to ``name``."""
    ctx.store.rename_experiment(body.path["experiment_id"], body.string("name").strip())
    return {}


def delete_experiment(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Delete the experiment of the path (and its runs); it can be restored."""
    ctx.store.delete_experiment(body.path["experiment_id"])
    return {}


def restore_experiment(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Restore a deleted experiment and the runs its deletion deleted."""
    ctx.store.restore_experiment(body.path["experiment_id"])
    return {}


def set_experiment_description(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Set the experiment's description (``text``; empty removes it)."""
    text = body.string("text", allow_empty=True)
    experiment_id = body.path["experiment_id"]
    if text.strip():
        ctx.store.set_experiment_tag(experiment_id, ExperimentTag(NOTE_TAG, text))
    elif NOTE_TAG in ctx.store.get_experiment(experiment_id).tags:
        ctx.store.delete_experiment_tag(experiment_id, NOTE_TAG)
    return {}
