"""The registered models: ``/models``, with search, sorting and paging done by the registry's
SQL, and the action that creates a model.

``/models`` takes ``q`` (a name fragment, or a filter of the registry's grammar such as
``tags.team = 'fraud'`` or ``name LIKE 'fraud%'``), ``sort`` (``name``,
``last_updated_timestamp`` or ``creation_timestamp``) and ``dir`` (``asc`` or ``desc``),
``offset`` and ``limit`` (at most 1,000, 50 by default). Each model shows its newest version
in each stage, its aliases, tags and when it last changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trackline.entities import RegisteredModelTag
from trackline.exceptions import InvalidParameterValue
from trackline.search import FilterSyntaxError, encode_page_token
from trackline.store.registry_store import SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD
from trackline.ui import urls
from trackline.ui.actions import Body
from trackline.ui.context import UiContext
from trackline.ui.registry_data import filter_string, model_json, registry_of
from trackline.ui.rendering import Page, Query

__all__ = ["SORTS", "create_model", "models_page"]

#: The columns the list sorts on, with their labels.
SORTS = {
    "name": "Name",
    "last_updated_timestamp": "Last modified",
    "creation_timestamp": "Created",
}
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class _State:
    """The list's query state, to build the links that change one part of it."""

    q: str
    sort: str
    ascending: bool
    limit: int

    def url(self, offset: int = 0, **change: Any) -> str:
        q = change.get("q", self.q)
        sort = change.get("sort", self.sort)
        ascending = change.get("ascending", self.ascending)
        default_order = sort == "name" and ascending
        return urls.models(
            q=q or None,
            sort=None if default_order else sort,
            dir=None if default_order else ("asc" if ascending else "desc"),
            limit=self.limit if self.limit != DEFAULT_LIMIT else None,
            offset=offset or None,
        )

    def sorted_by(self, column: str) -> str:
        """The list sorted on ``column`` (the other way if it already is)."""
        if column == self.sort:
            return self.url(ascending=not self.ascending)
        return self.url(sort=column, ascending=column == "name")


def models_page(ctx: UiContext, query: Query) -> Page:
    """The registered models, a page at a time."""
    registry = registry_of(ctx)
    text = query.get("q")
    sort = query.get("sort", "name")
    if sort not in SORTS:
        raise InvalidParameterValue(f"Invalid sort {sort!r}: expected one of {', '.join(SORTS)}")
    direction = query.get("dir", "asc" if sort == "name" else "desc").lower()
    if direction not in ("asc", "desc"):
        raise InvalidParameterValue(f"Invalid dir {direction!r}: expected asc or desc")
    ascending = direction == "asc"
    offset = query.integer("offset", 0, 0, 10**9)
    limit = query.integer("limit", DEFAULT_LIMIT, 1, SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD)
    state = _State(text, sort, ascending, limit)
    error = None
    models: list[dict[str, Any]] = []
    has_more = False
    try:
        found = registry.search_registered_models(
            filter_string(text),
            limit,
            [f"{sort} {direction.upper()}"],
            encode_page_token(offset) if offset else None,
        )
        models = [model_json(m) for m in found]
        has_more = found.token is not None
    except InvalidParameterValue as exc:
        position = exc.position if isinstance(exc, FilterSyntaxError) else None
        error = {"message": exc.message, "position": position}
    data = {
        "q": text,
        "error": error,
        "sort": {"column": sort, "dir": direction},
        "offset": offset,
        "limit": limit,
        "models": models,
        "has_more": has_more,
        "links": {
            "sort": {column: state.sorted_by(column) for column in SORTS},
            "prev": state.url(max(0, offset - limit)) if offset > 0 else None,
            "next": state.url(offset + limit) if has_more else None,
        },
    }
    return Page("models.html", "Models", data)


def create_model(ctx: UiContext, body: Body) -> Mapping[str, Any]:
    """Create a registered model named ``name`` (with an optional ``description``)."""
    registry = registry_of(ctx)
    name = body.string("name").strip()
    description = body.optional("description")
    tags: list[RegisteredModelTag] = []
    model = registry.create_registered_model(name, tags, description, body.user)
    return {"name": model.name, "url": urls.model(model.name)}
