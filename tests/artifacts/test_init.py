"""get_artifact_repository: the scheme table."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackline.artifacts import (
    ArtifactRepository,
    get_artifact_repository,
    register_artifact_repository,
)
from trackline.artifacts.local import LocalArtifactRepository
from trackline.exceptions import INVALID_PARAMETER_VALUE, MlflowException


def test_file_uris_and_plain_paths_are_local(tmp_path: Path) -> None:
    for uri in (tmp_path.as_uri(), str(tmp_path), "relative/dir"):
        repo = get_artifact_repository(uri)
        assert isinstance(repo, LocalArtifactRepository)
        assert repo.artifact_uri == uri
    assert get_artifact_repository(tmp_path.as_uri()).root == tmp_path  # type: ignore[attr-defined]


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(MlflowException) as info:
        get_artifact_repository("gopher://host/x")
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    assert "'gopher'" in info.value.message
    assert "file" in info.value.message


def test_registered_schemes_by_class_and_by_import_string(tmp_path: Path) -> None:
    class Custom(LocalArtifactRepository):
        pass

    register_artifact_repository("custom-test", Custom)
    register_artifact_repository("lazy-test", "trackline.artifacts.local:LocalArtifactRepository")
    try:
        assert type(get_artifact_repository("custom-test:///x")) is Custom
        lazy = get_artifact_repository("LAZY-TEST:///x")
        assert isinstance(lazy, ArtifactRepository)
        assert type(lazy) is LocalArtifactRepository
    finally:
        from trackline import artifacts

        artifacts._REPOSITORIES.pop("custom-test")
        artifacts._REPOSITORIES.pop("lazy-test")
