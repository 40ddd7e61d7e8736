"""Helpers of the registry store tests: the registry's rows, and "fails and changes nothing"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from trackline.exceptions import MlflowException
from trackline.store.sql.registry import SqlRegistryStore
from trackline.store.sql.schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
    registry_events,
)

TABLES = (
    registered_models,
    registered_model_tags,
    model_versions,
    model_version_tags,
    registered_model_aliases,
    registry_events,
)


def state(store: SqlRegistryStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every registry table, sorted: what "nothing changed" compares."""
    with store.db.read() as conn:
        return {
            table.name: sorted((tuple(r) for r in conn.execute(sa.select(table))), key=repr)
            for table in TABLES
        }


def fails(code: str, call: Callable[[], object], store: SqlRegistryStore) -> MlflowException:
    """Run ``call``, expect an MlflowException with ``code``, and that no row changed."""
    before = state(store)
    with pytest.raises(MlflowException) as caught:
        call()
    assert caught.value.error_code == code, caught.value.message
    assert state(store) == before
    return caught.value
