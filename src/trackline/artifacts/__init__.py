"""Artifact stores: where runs and models keep their files, picked by URI scheme.

=============================  ===================================================
scheme                         repository
=============================  ===================================================
``file:``, none                :class:`~trackline.artifacts.local.LocalArtifactRepository`
``mlflow-artifacts:``,         :class:`~trackline.artifacts.http.HttpArtifactRepository`
``http:``, ``https:``          (a tracking server's proxied artifacts; open them
                               through ``TracklineClient``, which supplies the
                               tracking URI and the server's HTTP session)
``s3:``                        :class:`~trackline.artifacts.s3.S3ArtifactRepository`
                               (needs the ``s3`` extra: boto3)
=============================  ===================================================

More schemes plug in with
:func:`register_artifact_repository`, either a class or a ``"module:Class"`` string imported
on first use so that optional dependencies stay optional.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from urllib.parse import urlparse

from trackline.artifacts.paths import check_artifact_path
from trackline.artifacts.repository import ArtifactRepository
from trackline.exceptions import InvalidParameterValue

__all__ = [
    "ArtifactRepository",
    "check_artifact_path",
    "get_artifact_repository",
    "register_artifact_repository",
]

RepositoryFactory = Callable[[str], ArtifactRepository]

_REPOSITORIES: dict[str, str | RepositoryFactory] = {
    "": "trackline.artifacts.local:LocalArtifactRepository",
    "file": "trackline.artifacts.local:LocalArtifactRepository",
    "mlflow-artifacts": "trackline.artifacts.http:HttpArtifactRepository",
    "http": "trackline.artifacts.http:HttpArtifactRepository",
    "https": "trackline.artifacts.http:HttpArtifactRepository",
    "s3": "trackline.artifacts.s3:S3ArtifactRepository",
}


def register_artifact_repository(scheme: str, factory: str | RepositoryFactory) -> None:
    """Serve artifact URIs of ``scheme`` with ``factory(uri)`` (or a ``"module:Class"``)."""
    _REPOSITORIES[scheme.lower()] = factory


def get_artifact_repository(artifact_uri: str) -> ArtifactRepository:
    """The repository for an artifact root URI: ``file:///abs/dir``, a plain path, or a
    registered scheme. An unknown scheme is an INVALID_PARAMETER_VALUE naming the known ones."""
    scheme = urlparse(artifact_uri).scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter ("C:\\runs")
        scheme = ""
    factory = _REPOSITORIES.get(scheme)
    if factory is None:
        known = ", ".join(sorted(s for s in _REPOSITORIES if s))
        raise InvalidParameterValue(
            f"Could not find an artifact repository for the URI {artifact_uri!r}: the scheme "
            f"{scheme!r} is not supported. Supported schemes: {known} (and plain paths)."
        )
    if isinstance(factory, str):
        module_name, _, attribute = factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        _REPOSITORIES[scheme] = factory
    return factory(artifact_uri)
