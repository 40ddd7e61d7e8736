"""The experiment page: the runs table, sorted, filtered and paged in SQL.

``/experiments/<id>`` takes ``filter`` (the search grammar, ``OR`` and parentheses
included), ``sort`` and ``dir`` (a column, see :mod:`trackline.ui.columns`), ``offset`` and
``limit`` (a page of at most 1,000 rows, 100 by default), ``view`` (``active``, ``deleted`` or
``all``) and ``col`` (the shown columns, repeated). A filter or sort the grammar rejects
shows its message, with the position of the mistake, above an empty table. With the *Model
size* column shown, the rows also carry ``model_size``, ``model_count`` and ``model_total``
(:mod:`trackline.ui.model_size`, read for the page's runs only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from trackline.entities import RunColumns, ViewType
from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.search import FilterSyntaxError
from trackline.ui import urls
from trackline.ui.columns import (
    ATTRIBUTES,
    GROUPS,
    Column,
    choose_columns,
    parse_sort,
    table_rows,
)
from trackline.ui.context import UiContext
from trackline.ui.model_size import MODEL_SIZE_COLUMN, add_model_sizes
from trackline.ui.queries import RunPage, experiment_keys, run_page, run_total
from trackline.ui.rendering import Page, Query

__all__ = ["VIEW_TYPES", "experiment_json", "experiment_page"]

#: The ``view`` parameter's values.
VIEW_TYPES = {
    "active": ViewType.ACTIVE_ONLY,
    "deleted": ViewType.DELETED_ONLY,
    "all": ViewType.ALL,
}
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
NOTE_TAG = "mlflow.note.content"


def experiment_json(experiment: Any) -> dict[str, Any]:
    """An experiment as the pages show it."""
    tags = dict(experiment.tags)
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "description": tags.get(NOTE_TAG, ""),
        "tags": {k: v for k, v in tags.items() if not k.startswith("mlflow.")},
    }


def _error(exc: MlflowException) -> dict[str, Any]:
    return {
        "message": exc.message,
        "position": exc.position if isinstance(exc, FilterSyntaxError) else None,
    }


def experiment_page(ctx: UiContext, query: Query) -> Page:
    """The runs table of one experiment."""
    store = ctx.store
    experiment = store.get_experiment(query.path["experiment_id"])
    experiment_id = experiment.experiment_id
    filter_string = query.get("filter")
    view = query.get("view", "active")
    if view not in VIEW_TYPES:
        raise InvalidParameterValue(f"Invalid view {view!r}: expected active, deleted or all")
    offset = query.integer("offset", 0, 0, 10**9)
    limit = query.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    error = None
    page = RunPage(columns=RunColumns(), total=0)
    try:
        sort = parse_sort(query.get("sort"), query.get("dir", "desc"))
        page = run_page(
            store,
            [experiment_id],
            filter_string or None,
            VIEW_TYPES[view],
            sort.order_by(),
            offset,
            limit,
            by_duration=sort.by_duration,
            with_total=query.twin,  # the page asks for it apart: counting scans every match
        )
    except InvalidParameterValue as exc:
        error = _error(exc)
        sort = parse_sort("", "")
    keys = experiment_keys(store, [experiment_id], page.columns)
    columns = choose_columns(query.multi.get("col"), keys)
    rows = table_rows(page, columns)
    if any(c.id == MODEL_SIZE_COLUMN for c in columns):
        add_model_sizes(ctx, page.columns, rows)
    chosen = columns if query.multi.get("col") else None
    state = _State(
        experiment_id, filter_string, view, limit, chosen, sort.column.id, sort.ascending
    )
    data = {
        "experiment": experiment_json(experiment),
        "filter": filter_string,
        "error": error,
        "view": view,
        "sort": {"column": sort.column.id, "dir": "asc" if sort.ascending else "desc"},
        "offset": offset,
        "limit": limit,
        "total": page.total,
        "count_url": None if error else _count_url(experiment_id, filter_string, view),
        "has_more": page.has_more,
        "columns": [c.as_json() for c in columns],
        "explicit_columns": chosen is not None,
        "links": state.links(offset, page.total, page.has_more, columns),
        "available": {
            "attributes": [{"key": k, "label": label} for k, (label, _) in ATTRIBUTES.items()],
            **{group: keys.get(group, []) for group in GROUPS[1:]},
        },
        "rows": rows,
    }
    return Page("runs.html", experiment.name, data)


def _count_url(experiment_id: str, filter_string: str, view: str) -> str:
    shown = view if view != "active" else None
    return urls.experiment_count(experiment_id, filter=filter_string, view=shown)


def experiment_count(ctx: UiContext, query: Query) -> dict[str, Any]:
    """How many runs of the experiment match ``filter`` (in ``view``)."""
    experiment = ctx.store.get_experiment(query.path["experiment_id"])
    view = query.get("view", "active")
    if view not in VIEW_TYPES:
        raise InvalidParameterValue(f"Invalid view {view!r}: expected active, deleted or all")
    total = run_total(
        ctx.store, [experiment.experiment_id], query.get("filter") or None, VIEW_TYPES[view]
    )
    return {"total": total}


@dataclass(frozen=True)
class _State:
    """The table's query state, to build the links that change one part of it."""

    experiment_id: str
    filter: str
    view: str
    limit: int
    columns: list[Column] | None  # None: the default columns
    sort: str
    ascending: bool

    def url(self, offset: int = 0) -> str:
        pairs: list[tuple[str, str]] = []
        if self.filter:
            pairs.append(("filter", self.filter))
        if self.sort != "attributes.start_time" or self.ascending:
            pairs += [("sort", self.sort), ("dir", "asc" if self.ascending else "desc")]
        if self.view != "active":
            pairs.append(("view", self.view))
        if self.limit != DEFAULT_LIMIT:
            pairs.append(("limit", str(self.limit)))
        if offset:
            pairs.append(("offset", str(offset)))
        if self.columns is not None:
            pairs += [("col", c.id) for c in self.columns] or [("col", "-")]
        base = urls.experiment(self.experiment_id)
        return f"{base}?{urlencode(pairs)}" if pairs else base

    def sorted_by(self, column: str) -> _State:
        """This state sorted on ``column`` (the direction flips if it already is)."""
        if column == self.sort:
            return replace(self, ascending=not self.ascending)
        return replace(self, sort=column, ascending=column != "attributes.start_time")

    def links(
        self, offset: int, total: int | None, has_more: bool, columns: list[Column]
    ) -> dict[str, Any]:
        """Where the table's header, paging and view links go."""
        sortable = ["attributes.run_name", *(c.id for c in columns if c.sortable)]
        return {
            "sort": {column: self.sorted_by(column).url() for column in sortable},
            "prev": self.url(max(0, offset - self.limit)) if offset > 0 else None,
            "next": self.url(offset + self.limit) if has_more else None,
            "last": self.url((total - 1) // self.limit * self.limit) if total else None,
        }
