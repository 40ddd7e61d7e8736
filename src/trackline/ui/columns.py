"""The runs table's columns: which exist, which are shown, how each sorts, and the rows.

A column is named ``<group>.<key>``: ``attributes.duration``, ``metrics.rmse``,
``params.alpha``, ``tags.team`` (the key is everything after the first dot, so keys may hold
dots). The shown columns come from the repeated ``col`` query parameter (``col=-`` shows no
optional column); without it the attributes and the first ten metrics and params are shown.
Sorting is ``sort=<column>&dir=asc|desc``, turned into a search ``order_by`` clause (keys in
backticks), except ``attributes.duration`` which the runs query orders itself.
``attributes.model_size`` (:mod:`trackline.ui.model_size`) is read for the rows of the page
shown, not stored, so it does not sort.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trackline.exceptions import InvalidParameterValue
from trackline.ui.queries import RunPage

__all__ = [
    "ATTRIBUTES",
    "PARENT_TAG",
    "UNSORTABLE",
    "Column",
    "Sort",
    "choose_columns",
    "parse_sort",
    "table_rows",
]

PARENT_TAG = "mlflow.parentRunId"
SOURCE_TAG = "mlflow.source.name"
#: The default number of metric and of param columns shown.
DEFAULT_KEYED = 10
#: Attribute columns: label and order_by clause (None: ordered by the runs query itself).
ATTRIBUTES: dict[str, tuple[str, str | None]] = {
    "start_time": ("Created", "attributes.start_time"),
    "duration": ("Duration", None),
    "status": ("Status", "attributes.status"),
    "user_id": ("User", "attributes.user_id"),
    "source": ("Source", f"tags.`{SOURCE_TAG}`"),
    "end_time": ("Ended", "attributes.end_time"),
    "run_id": ("Run ID", "attributes.run_id"),
    "model_size": ("Model size", None),
}
#: Attribute columns computed for the page's rows only: they cannot order the runs.
UNSORTABLE = frozenset({"model_size"})
DEFAULT_ATTRIBUTES = ("start_time", "duration", "status", "user_id", "source")
GROUPS = ("attributes", "metrics", "params", "tags")
NAME_COLUMN = "attributes.run_name"


@dataclass(frozen=True)
class Column:
    """A column of the table."""

    group: str
    key: str

    @property
    def id(self) -> str:
        """``<group>.<key>``, as the URL names it."""
        return f"{self.group}.{self.key}"

    @property
    def label(self) -> str:
        """The header text."""
        if self.group == "attributes":
            return ATTRIBUTES.get(self.key, (self.key, None))[0]
        return self.key

    @property
    def sortable(self) -> bool:
        """Whether the table can be sorted on this column."""
        return not (self.group == "attributes" and self.key in UNSORTABLE)

    def order_clause(self, ascending: bool) -> str | None:
        """The search order_by clause sorting on this column (None for duration and the
        columns that do not sort)."""
        if self.group == "attributes":
            clause = "attributes.run_name" if self.key == "run_name" else ATTRIBUTES[self.key][1]
            if clause is None:
                return None
        else:
            clause = f"{self.group}.`{self.key.replace('`', '``')}`"
        return f"{clause} {'ASC' if ascending else 'DESC'}"

    def as_json(self) -> dict[str, Any]:
        """The column as the page data lists it."""
        return {
            "id": self.id,
            "group": self.group,
            "key": self.key,
            "label": self.label,
            "sortable": self.sortable,
        }

    @classmethod
    def parse(cls, text: str) -> Column:
        """The column named ``text``; INVALID_PARAMETER_VALUE for an unknown one."""
        group, dot, key = text.partition(".")
        valid_attribute = group != "attributes" or key in ATTRIBUTES or text == NAME_COLUMN
        if not dot or not key or group not in GROUPS or not valid_attribute:
            raise InvalidParameterValue(f"Unknown column {text!r}")
        return cls(group, key)


@dataclass(frozen=True)
class Sort:
    """The table's order: a column and a direction."""

    column: Column
    ascending: bool

    def order_by(self) -> list[str]:
        """The search order_by of this sort ([] for duration, ordered separately)."""
        clause = self.column.order_clause(self.ascending)
        return [clause] if clause else []

    @property
    def by_duration(self) -> bool | None:
        """For a sort on duration, whether ascending; else None."""
        if self.column.id == "attributes.duration":
            return self.ascending
        return None


DEFAULT_SORT = Sort(Column("attributes", "start_time"), ascending=False)


def parse_sort(column: str, direction: str) -> Sort:
    """The sort of ``sort=`` and ``dir=`` (the default: newest first);
    INVALID_PARAMETER_VALUE for a column that does not sort."""
    if not column:
        return DEFAULT_SORT
    parsed = Column.parse(column)
    if not parsed.sortable:
        raise InvalidParameterValue(
            f"The table cannot be sorted by {parsed.label}: it is read for the runs of the "
            "page shown, not stored with the runs"
        )
    return Sort(parsed, direction.lower() != "desc")


def choose_columns(requested: Sequence[str] | None, keys: Mapping[str, list[str]]) -> list[Column]:
    """The optional columns to show: those requested (unknown names are dropped), else the
    default attributes with the first metrics and params."""
    if requested:
        chosen: list[Column] = []
        for text in requested:
            for part in text.split("\n"):
                try:
                    column = Column.parse(part)
                except InvalidParameterValue:
                    continue
                if column not in chosen and column.id != NAME_COLUMN:
                    chosen.append(column)
        return chosen
    return [
        *(Column("attributes", key) for key in DEFAULT_ATTRIBUTES),
        *(Column("metrics", key) for key in keys.get("metrics", [])[:DEFAULT_KEYED]),
        *(Column("params", key) for key in keys.get("params", [])[:DEFAULT_KEYED]),
    ]


def _value(page: RunPage, column: Column, index: int) -> Any:
    group: Mapping[str, Sequence[Any]] = getattr(page.columns, column.group)
    values = group.get(column.key)
    if values is None:
        return None
    value = values[index]
    if column.group == "metrics" and value is not None:
        value = float(value)
        if math.isnan(value):
            return None
    return value


def _duration(start: int | None, end: int | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int(end) - int(start))


def _base_rows(page: RunPage, columns: Sequence[Column]) -> list[dict[str, Any]]:
    cols = page.columns
    parents = cols.tags.get(PARENT_TAG)
    names = cols.tags.get("mlflow.runName")
    source_tags = cols.tags.get(SOURCE_TAG)
    rows = []
    for i, run_id in enumerate(cols.run_id):
        start, end = cols.start_time[i], cols.end_time[i]
        name = page.names[i] if i < len(page.names) else None
        row: dict[str, Any] = {
            "run_id": run_id,
            "experiment_id": cols.experiment_id[i],
            "name": name or (names[i] if names is not None else None) or run_id[:8],
            "status": cols.status[i],
            "start_time": start,
            "end_time": end,
            "duration": _duration(start, end),
            "user_id": page.users[i] if i < len(page.users) else None,
            "source": (page.sources[i] if i < len(page.sources) else None)
            or (source_tags[i] if source_tags is not None else None),
            "lifecycle_stage": page.stages[i] if i < len(page.stages) else "active",
            "parent_id": parents[i] if parents is not None else None,
            "depth": 0,
            "children": 0,
            "values": {c.id: _value(page, c, i) for c in columns if c.group != "attributes"},
        }
        rows.append(row)
    return rows


def table_rows(page: RunPage, columns: Sequence[Column]) -> list[dict[str, Any]]:
    """The page's rows in table order: each run whose parent is on the same page comes right
    after it (``depth`` one more, the parent counting its ``children``); the others keep the
    search order."""
    rows = _base_rows(page, columns)
    by_id = {row["run_id"]: row for row in rows}
    children: dict[str, list[dict[str, Any]]] = {}
    roots = []
    for row in rows:
        parent = row["parent_id"]
        if parent in by_id and parent != row["run_id"]:
            children.setdefault(parent, []).append(row)
        else:
            roots.append(row)
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(row: dict[str, Any], depth: int) -> None:
        if row["run_id"] in seen:
            return
        seen.add(row["run_id"])
        row["depth"] = depth
        kids = children.get(row["run_id"], [])
        row["children"] = len(kids)
        ordered.append(row)
        for kid in kids:
            visit(kid, depth + 1)

    for row in roots:
        visit(row, 0)
    for row in rows:  # a cycle of parents (malformed tags): show them flat
        if row["run_id"] not in seen:
            visit(row, 0)
    return ordered
