"""The process-wide tracking and registry URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackline.tracking import uri


def test_default_is_the_mlruns_folder_of_the_working_directory(tmp_path: Path) -> None:
    assert not uri.is_tracking_uri_set()
    assert uri.get_tracking_uri() == (tmp_path / "mlruns").resolve().as_uri()


def test_environment_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    assert uri.is_tracking_uri_set()
    assert uri.get_tracking_uri() == "sqlite:///mlflow.db"
    monkeypatch.setenv("TRACKLINE_TRACKING_URI", "sqlite:///trackline.db")
    assert uri.get_tracking_uri() == "sqlite:///trackline.db"
    uri.set_tracking_uri("postgresql://h/db")
    assert uri.get_tracking_uri() == "postgresql://h/db"
    uri.set_tracking_uri(None)
    assert uri.get_tracking_uri() == "sqlite:///trackline.db"


def test_paths_become_file_uris(tmp_path: Path) -> None:
    uri.set_tracking_uri(tmp_path / "store")
    assert uri.get_tracking_uri() == (tmp_path / "store").as_uri()
    uri.set_tracking_uri("relative-folder")
    assert uri.get_tracking_uri() == (tmp_path / "relative-folder").resolve().as_uri()


def test_registry_uri_defaults_to_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    uri.set_tracking_uri("sqlite:///t.db")
    assert uri.get_registry_uri() == "sqlite:///t.db"
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "sqlite:///env.db")
    assert uri.get_registry_uri() == "sqlite:///env.db"
    uri.set_registry_uri("sqlite:///r.db")
    assert uri.get_registry_uri() == "sqlite:///r.db"
