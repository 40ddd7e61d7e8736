"""Where a model version's files may come from: the check of ``source`` (issue #4, item 7).

A model version's ``source`` is a location string sent by a client that a server may later
read (to serve the version's files) or hand to other clients. MLflow was broken through it
again and again (CVE-2023-1177, -1176, -2356, -2780, -6974, -6977, 2024-1558...): local
files outside any artifact store, cloud metadata endpoints, traversal hidden behind
percent-encoding. :func:`check_model_source` accepts a source only when it names the
artifacts of the run or logged model it is registered from, or lies inside an artifact store
the server knows:

* every source: no control character (NUL...), backslash, ``?``, ``#`` or ``;``, and no
  ``.`` or ``..`` segment (look-alikes included) at *any* depth of percent-decoding;
* ``runs:/<run_id>/<path>``: ``run_id`` must be given and be that run;
* ``models:/<model_id>``: ``model_id`` must be given and be that logged model;
* ``models:/<name>/<version|stage|latest>``, ``models:/<name>@<alias>``: another registered
  version (the store resolves it);
* a local path or ``file:`` URI: inside the run's (``run_id``) or logged model's
  (``model_id``) artifact directory, symlinks resolved; with neither, inside a configured
  artifact root or an experiment's artifact location;
* ``http(s)://`` URIs: inside a configured artifact root only (never a metadata endpoint);
* any other scheme (``mlflow-artifacts:``, ``s3://``, ``gs://``...): under the run's or
  model's artifact URI, a configured root or an experiment's artifact location.

Experiments' locations count because a server lets clients choose them only inside its
configured roots; http(s) sources need an explicitly configured root all the same.

The functions are pure (no database); the store looks up the run's and model's artifact
locations and the roots, then calls :func:`check_model_source` on the exact string it stores.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from trackline.exceptions import InvalidParameterValue

__all__ = [
    "MAX_SOURCE_LENGTH",
    "ModelsUri",
    "ParsedSource",
    "SourceKind",
    "check_model_source",
    "parse_models_uri",
    "parse_source",
]

#: Longest source accepted, in characters.
MAX_SOURCE_LENGTH = 4096
_MAX_DECODE_ROUNDS = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORBIDDEN = frozenset("\\?#;")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")

#: What a source names: a run's artifacts (``runs:/``), a logged model (``models:/<id>``),
#: another registered version (``models:/<name>/...``), a local path, or another URI.
SourceKind = Literal["runs", "logged_model", "registered_model", "local", "uri"]


@dataclass(frozen=True, slots=True)
class ModelsUri:
    """A parsed ``models:/`` URI: a logged model id, or a registered model's name with one
    of a version (digits), a stage, ``latest`` or an alias."""

    model_id: str | None = None
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False


@dataclass(frozen=True, slots=True)
class ParsedSource:
    """A source that passed the checks every source must pass, and what it names."""

    source: str
    kind: SourceKind
    scheme: str = ""
    run_id: str | None = None
    models: ModelsUri | None = None


def _invalid(source: str, why: str) -> InvalidParameterValue:
    shown = source if len(source) <= 200 else source[:200] + "..."
    return InvalidParameterValue(f"Invalid model version source '{shown}': {why}")


def _stages(source: str) -> list[str]:
    """The source and each of its percent-decodings until nothing changes."""
    stages = [source]
    stage = source
    for _ in range(_MAX_DECODE_ROUNDS):
        try:
            decoded = unquote(stage, errors="strict")
        except UnicodeDecodeError:
            raise _invalid(source, "it contains an invalid percent-encoded byte sequence") from None
        if decoded == stage:
            return stages
        stages.append(decoded)
        stage = decoded
    raise _invalid(source, "it is percent-encoded too many times")


def _check_stage(source: str, stage: str) -> None:
    if _CONTROL.search(stage):
        raise _invalid(source, "it contains a NUL or another control character")
    bad = _FORBIDDEN.intersection(stage)
    if bad:
        raise _invalid(
            source,
            f"it contains {''.join(sorted(bad))!r} (no backslashes, queries, fragments or "
            "path parameters)",
        )
    for segment in stage.split("/"):
        if segment in (".", "..") or unicodedata.normalize("NFKC", segment) in (".", ".."):
            raise _invalid(source, "it contains a '.' or '..' path segment")


def parse_models_uri(uri: str) -> ModelsUri:
    """Parse ``models:/<model_id>``, ``models:/<name>/<version|stage|latest>`` or
    ``models:/<name>@<alias>``; INVALID_PARAMETER_VALUE for anything else."""
    error = InvalidParameterValue(
        f"Not a proper models:/ URI: '{uri}'. Models URIs must be of the form "
        "'models:/<name>/<version|stage|latest>', 'models:/<name>@<alias>' or "
        "'models:/<model_id>'."
    )
    parts_of = urlsplit(uri, allow_fragments=False)
    if parts_of.scheme.lower() != "models" or parts_of.netloc or parts_of.query:
        raise error
    path = parts_of.path
    if not path.startswith("/") or len(path) <= 1:
        raise error
    parts = path.lstrip("/").split("/")
    if len(parts) > 2 or not parts[0].strip():
        raise error
    if len(parts) == 2:
        name, suffix = parts
        if not suffix.strip() or "@" in suffix:
            raise error
        if suffix.isdigit():
            return ModelsUri(name=name, version=suffix)
        if suffix.lower() == "latest":
            return ModelsUri(name=name, latest=True)
        return ModelsUri(name=name, stage=suffix)
    if "@" in parts[0]:
        name, _, alias = parts[0].rpartition("@")
        if not name.strip() or not alias.strip():
            raise error
        return ModelsUri(name=name, alias=alias)
    return ModelsUri(model_id=parts[0])


def parse_source(source: object) -> ParsedSource:
    """Check what every source must satisfy and say what it names (see the module docstring).

    Raises INVALID_PARAMETER_VALUE for a missing, over-long or unsafe source.
    """
    if not isinstance(source, str) or not source.strip():
        raise InvalidParameterValue(
            "Missing value for required parameter 'source'. "
            "See the API docs for more information about request parameters."
        )
    if len(source) > MAX_SOURCE_LENGTH:
        raise _invalid(source, f"it is longer than {MAX_SOURCE_LENGTH} characters")
    for stage in _stages(source):
        _check_stage(source, stage)
    match = _SCHEME.match(source)
    scheme = match.group(1).lower() if match else ""
    if len(scheme) == 1:
        raise _invalid(source, "Windows drive paths are not model sources on this server")
    if scheme == "runs":
        parts = urlsplit(source)
        run_id = parts.path.lstrip("/").split("/", 1)[0]
        if parts.netloc or not parts.path.startswith("/") or not run_id:
            raise _invalid(source, "a runs:/ source is 'runs:/<run_id>/<artifact path>'")
        return ParsedSource(source, "runs", scheme, run_id=run_id)
    if scheme == "models":
        try:
            models = parse_models_uri(source)
        except InvalidParameterValue as exc:
            raise _invalid(source, exc.message) from None
        kind: SourceKind = "logged_model" if models.model_id else "registered_model"
        return ParsedSource(source, kind, scheme, models=models)
    if scheme in ("", "file"):
        return ParsedSource(source, "local", scheme)
    if not urlsplit(source).path.startswith("/") and not urlsplit(source).netloc:
        raise _invalid(source, f"a {scheme}: source needs an absolute path")
    return ParsedSource(source, "uri", scheme)


# -- containment ---------------------------------------------------------------------------


def _local_path(uri: str) -> str | None:
    """The absolute local path a local path or ``file:`` URI names; None for other URIs."""
    match = _SCHEME.match(uri)
    scheme = match.group(1).lower() if match else ""
    if scheme == "file":
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            return None
        return unquote(parts.path)
    if scheme:
        return None
    if uri.startswith(("//", "~")):
        return None
    return os.path.abspath(uri)


def _inside_directory(path: str, directory: str) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(directory)
    return real == root or real.startswith(root.rstrip("/") + "/")


def _uri_parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    parts = urlsplit(uri)
    segments = []
    for segment in parts.path.split("/"):
        while (decoded := unquote(segment)) != segment:
            segment = decoded
        if segment:
            segments.append(segment)
    return parts.scheme.lower(), parts.netloc.lower(), tuple(segments)


def _inside_uri(source: str, root: str) -> bool:
    if not root:
        return False
    scheme, netloc, path = _uri_parts(source)
    root_scheme, root_netloc, root_path = _uri_parts(root)
    return (scheme, netloc) == (root_scheme, root_netloc) and path[: len(root_path)] == root_path


def _inside_local(path: str, roots: Sequence[str | None]) -> bool:
    for root in roots:
        directory = None if root is None else _local_path(root)
        if directory is not None and _inside_directory(path, directory):
            return True
    return False


def check_model_source(
    source: str,
    *,
    run_id: str | None = None,
    run_artifact_uri: str | None = None,
    model_id: str | None = None,
    model_artifact_uri: str | None = None,
    artifact_roots: Sequence[str] = (),
    experiment_roots: Sequence[str] = (),
) -> ParsedSource:
    """Accept ``source`` for a version registered from ``run_id`` / ``model_id``, or raise
    INVALID_PARAMETER_VALUE naming the rule it breaks (see the module docstring).

    ``run_artifact_uri`` and ``model_artifact_uri`` are the artifact locations of that run
    and logged model (None when not given or not found); ``artifact_roots`` are the
    artifact roots the server is configured with; ``experiment_roots`` the experiments'
    artifact locations (not trusted for http(s) URIs). A
    ``models:/<name>/...`` source passes here: the store resolves it.
    """
    parsed = parse_source(source)
    if parsed.kind == "runs":
        if not run_id or parsed.run_id != run_id:
            raise _invalid(
                source, "the run_id parameter must be given and name the run of a runs:/ source"
            )
        return parsed
    if parsed.kind == "logged_model":
        assert parsed.models is not None
        if not model_id or parsed.models.model_id != model_id:
            raise _invalid(
                source,
                "the model_id parameter must be given and name the logged model of a "
                "models:/<model_id> source",
            )
        return parsed
    if parsed.kind == "registered_model":
        return parsed
    owners = [uri for uri in (run_artifact_uri, model_artifact_uri) if uri]
    if parsed.kind == "local":
        path = _local_path(source)
        if path is None:
            raise _invalid(source, "a file: source must name an absolute path on this host")
        if run_id or model_id:
            if _inside_local(path, owners):
                return parsed
            raise _invalid(
                source,
                "a local source must lie inside the artifact directory of the run (run_id) "
                "or logged model (model_id) it is registered from",
            )
        if _inside_local(path, [*artifact_roots, *experiment_roots]):
            return parsed
        raise _invalid(
            source,
            "a local source needs the run_id or model_id whose artifacts it names, or must "
            "lie inside a configured artifact root or an experiment's artifact location",
        )
    if parsed.scheme in ("http", "https"):
        if any(_inside_uri(source, root) for root in artifact_roots):
            return parsed
        raise _invalid(source, "an http(s) source must lie inside a configured artifact root")
    if any(_inside_uri(source, root) for root in [*owners, *artifact_roots, *experiment_roots]):
        return parsed
    raise _invalid(
        source,
        f"a {parsed.scheme}: source must lie under the artifact location of the run (run_id) "
        "or logged model (model_id) it is registered from, an experiment's artifact location "
        "or a configured artifact root",
    )
