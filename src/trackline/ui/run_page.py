"""The run page and the actions on runs.

``/runs/<id>`` shows the overview (status, times, duration, user, source and git commit,
parent and children), the description, params, latest metrics (each linking to its chart),
tags, the top of the artifact tree and the models the run logged (each with a **Register
model** button, see :mod:`trackline.ui.registration`). Actions: set and delete a tag, set
the description (the ``mlflow.note.content`` tag), rename, and delete or restore runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trackline.entities import RunTag, ViewType
from trackline.exceptions import InvalidParameterValue
from trackline.ui import urls
from trackline.ui.actions import Body
from trackline.ui.artifact_view import folder_listing
from trackline.ui.columns import PARENT_TAG
from trackline.ui.context import UiContext
from trackline.ui.registration import logged_models_of_run
from trackline.ui.rendering import Page, Query
from trackline.ui.runs_table import NOTE_TAG
from trackline.ui.summary import run_summary

__all__ = [
    "delete_run_tag",
    "delete_runs",
    "rename_run",
    "restore_runs",
    "run_page",
    "set_run_description",
    "set_run_tag",
]

#: At most this many child runs are listed.
MAX_CHILDREN = 100
_SYSTEM_PREFIX = "mlflow."


def _related(ctx: UiContext, run_id: str, experiment_id: str, parent_id: str | None) -> Any:
    parent = None
    if parent_id:
        try:
            found = ctx.store.get_run(parent_id)
            parent = {"run_id": parent_id, "name": found.info.run_name or parent_id}
        except InvalidParameterValue:
            parent = {"run_id": parent_id, "name": parent_id}
        except LookupError:
            parent = {"run_id": parent_id, "name": f"{parent_id} (not found)"}
    quoted = run_id.replace("'", "''")
    children = ctx.store.search_runs(
        [experiment_id],
        f"tags.`{PARENT_TAG}` = '{quoted}'",
        ViewType.ALL,
        MAX_CHILDREN,
    )
    return parent, [
        {"run_id": c.info.run_id, "name": c.info.run_name or c.info.run_id,
         "status": c.info.status}
        for c in children
    ]  # fmt: skip


def run_page(ctx: UiContext, query: Query) -> Page:
    """Everything about one run."""
    run_id = query.path["run_id"]
    run = ctx.store.get_run(run_id)
    summary = run_summary(ctx, run)
    tags = run.data.tags
    parent, children = _related(ctx, run_id, summary["experiment_id"], tags.get(PARENT_TAG))
    metrics = sorted(run.data.to_dictionary().get("metrics", []), key=lambda m: m["key"])
    for metric in metrics:
        metric["url"] = urls.metric(run_id, metric["key"])
    datasets = [
        {
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "context": next((t.value for t in d.tags if t.key == "mlflow.data.context"), ""),
        }
        for d in run.inputs.dataset_inputs
    ]
    data = {
        "run": summary,
        "parent": parent,
        "children": children,
        "description": tags.get(NOTE_TAG, ""),
        "params": [{"key": k, "value": v} for k, v in sorted(run.data.params.items())],
        "metrics": metrics,
        "tags": [
            {"key": k, "value": v}
            for k, v in sorted(tags.items())
            if not k.startswith(_SYSTEM_PREFIX)
        ],
        "system_tags": [
            {"key": k, "value": v} for k, v in sorted(tags.items()) if k.startswith(_SYSTEM_PREFIX)
        ],
        "datasets": datasets,
        "artifacts": folder_listing(ctx, run_id, ""),
        "logged_models": logged_models_of_run(ctx, run_id),
    }
    return Page("run.html", str(summary["name"]), data)


def set_run_tag(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Set tag ``key`` to ``value`` on the run of the path."""
    key = body.string("key").strip()
    ctx.store.set_tag(body.path["run_id"], RunTag(key, body.string("value", allow_empty=True)))
    return {}


def delete_run_tag(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Delete tag ``key`` of the run of the path."""
    ctx.store.delete_tag(body.path["run_id"], body.string("key"))
    return {}


def set_run_description(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Set the run's description (``text``; empty removes it)."""
    run_id = body.path["run_id"]
    text = body.string("text", allow_empty=True)
    if text.strip():
        ctx.store.set_tag(run_id, RunTag(NOTE_TAG, text))
    elif NOTE_TAG in ctx.store.get_run(run_id).data.tags:
        ctx.store.delete_tag(run_id, NOTE_TAG)
    return {}


def rename_run(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Rename the run of the path to ``name``."""
    ctx.store.update_run_info(body.path["run_id"], None, None, body.string("name").strip())
    return {}


def delete_runs(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Delete the runs ``run_ids`` (they can be restored)."""
    run_ids = body.strings("run_ids")
    for run_id in run_ids:
        ctx.store.delete_run(run_id)
    return {"deleted": len(run_ids)}


def restore_runs(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Restore the deleted runs ``run_ids``."""
    run_ids = body.strings("run_ids")
    for run_id in run_ids:
        ctx.store.restore_run(run_id)
    return {"restored": len(run_ids)}
