"""Fluent state, tracking URI, system-tag cache and store cache are reset around each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import trackline
from trackline.store import uri as store_uri
from trackline.tracking import context, fluent

_ENV = (
    "TRACKLINE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "TRACKLINE_REGISTRY_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
    "MLFLOW_ENABLE_ASYNC_LOGGING",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_RUN_CONTEXT",
    "TRACKLINE_DEFAULT_ARTIFACT_ROOT",
)


@pytest.fixture(autouse=True)
def _clean_tracking_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    trackline.set_tracking_uri(None)
    trackline.set_registry_uri(None)
    fluent._reset()
    context.static_tags.cache_clear()
    yield
    try:
        trackline.flush()
    except Exception:
        pass  # a test that leaves a failed write behind has checked it already
    while trackline.active_run() is not None:
        try:
            trackline.end_run()
        except Exception:
            pass  # the run is popped either way
    fluent._reset()
    trackline.set_tracking_uri(None)
    trackline.set_registry_uri(None)
    context.static_tags.cache_clear()
    store_uri._reset_cache()
