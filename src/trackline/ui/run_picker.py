"""The chart page's run picker: the runs of an experiment whose name contains a text.

``/ui-api/experiments/<id>/runs?q=<text>&limit=<n>`` answers ``{"experiment_id", "runs":
[{"run_id", "name", "status", "start_time"}]}``: the experiment's active runs whose name
contains ``q`` in any case (or whose id is ``q``), newest first, at most ``limit`` (20 by
default, 200 at most); without ``q``, the newest runs. It is the runs table's page query
(:func:`~trackline.ui.queries.run_page`) with a ``run_name ILIKE`` filter, so on a SQL store
it runs in SQL and stops at ``limit`` matches.
"""

from __future__ import annotations

import re
from typing import Any

from trackline.entities import ViewType
from trackline.ui.context import UiContext
from trackline.ui.queries import run_page
from trackline.ui.registry_data import quoted
from trackline.ui.rendering import Query

__all__ = ["DEFAULT_CHOICES", "experiment_runs", "name_filter"]

DEFAULT_CHOICES = 20
MAX_CHOICES = 200
_RUN_ID = re.compile(r"[0-9a-f]{32}")


def name_filter(text: str) -> str | None:
    """The run filter matching ``text`` anywhere in the run name, in any case (its ``%``,
    ``_`` and backslashes literal), or as the run's id; None for no text."""
    if not text:
        return None
    fragment = "".join("\\" + c if c in "%_\\" else c for c in text)
    found = f"attributes.run_name ILIKE {quoted('%' + fragment + '%')}"
    if _RUN_ID.fullmatch(text.lower()):
        found += f" OR attributes.run_id = {quoted(text.lower())}"
    return found


def experiment_runs(ctx: UiContext, query: Query) -> dict[str, Any]:
    """The experiment's active runs named like ``q``, newest first (see the module)."""
    experiment = ctx.store.get_experiment(query.path["experiment_id"])
    limit = query.integer("limit", DEFAULT_CHOICES, 1, MAX_CHOICES)
    page = run_page(
        ctx.store,
        [experiment.experiment_id],
        name_filter(query.get("q")),
        ViewType.ACTIVE_ONLY,
        ["attributes.start_time DESC"],
        0,
        limit,
        with_total=False,
    )
    columns = page.columns
    runs = []
    for index, run_id in enumerate(columns.run_id[:limit]):
        name = page.names[index] if index < len(page.names) else None
        runs.append(
            {
                "run_id": run_id,
                "name": name or run_id,
                "status": columns.status[index],
                "start_time": columns.start_time[index],
            }
        )
    return {"experiment_id": experiment.experiment_id, "runs": runs}
