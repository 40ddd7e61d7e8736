"""The registry's audit trail in SQL: one ``registry_events`` row per change.

A writer collects the events of its change in an :class:`EventLog` and writes them with
:meth:`EventLog.write` inside the same transaction as the change, so the trail never holds a
change that was rolled back nor misses one that was committed. Rows are never updated or
deleted: the trail outlives the models it describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select

from trackline.entities import RegistryEvent
from trackline.store.sql.filters import _string_test
from trackline.store.sql.schema import registry_events

__all__ = ["EventLog", "search_events"]

_e = registry_events.c


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class EventLog:
    """The events of one write, recorded in order by :meth:`add`."""

    now: int
    user_id: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        action: str,
        model_id: int,
        name: str,
        *,
        version: int | None = None,
        key: str | None = None,
        old: object = None,
        new: object = None,
    ) -> None:
        """Record one change: ``action`` on the model (and ``version``), ``key`` from
        ``old`` to ``new``."""
        self.rows.append(
            {
                "timestamp": self.now,
                "user_id": self.user_id,
                "action": action,
                "registered_model_id": model_id,
                "name": name,
                "version": version,
                "key": key,
                "old_value": _text(old),
                "new_value": _text(new),
            }
        )

    def write(self, conn: Connection) -> None:
        """Insert the recorded events, in order (each its own statement, so the ids follow
        the order on every dialect)."""
        for row in self.rows:
            conn.execute(insert(registry_events).values(**row))
        self.rows.clear()


def search_events(
    conn: Connection,
    *,
    model_id: int | None,
    name: str | None,
    version: int | None,
    offset: int,
    limit: int,
) -> list[RegistryEvent]:
    """Events oldest first: of the model ``model_id`` if given, else of the models called
    ``name`` at the time (if given), else all; of one ``version`` if given."""
    query = select(registry_events)
    if model_id is not None:
        query = query.where(_e.registered_model_id == model_id)
    elif name is not None:
        query = query.where(_string_test(_e.name, "=", name))
    if version is not None:
        query = query.where(_e.version == version)
    query = query.order_by(_e.event_id).limit(limit).offset(offset)
    return [
        RegistryEvent(
            event_id=int(row.event_id),
            timestamp=int(row.timestamp),
            user_id=row.user_id,
            action=row.action,
            name=row.name,
            version=None if row.version is None else str(row.version),
            key=row.key,
            old_value=row.old_value,
            new_value=row.new_value,
        )
        for row in conn.execute(query)
    ]
