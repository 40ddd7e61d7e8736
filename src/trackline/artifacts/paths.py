"""The one check every artifact path goes through before it touches a store.

:func:`check_artifact_path` decodes a path repeatedly (``%252e`` -> ``%2e`` -> ``.``) and
rejects it if *any* decoding stage could escape the artifact root or be read differently by
another layer (a URL parser, Windows, an object store mirrored to disk). It returns the
normalized form of the path as given, never a decoded copy: what is checked is what is used.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from trackline.exceptions import InvalidParameterValue

__all__ = ["MAX_ARTIFACT_PATH_LENGTH", "check_artifact_path"]

#: Longest artifact path accepted, in characters.
MAX_ARTIFACT_PATH_LENGTH = 2048
_MAX_SEGMENT_BYTES = 255
_MAX_DECODE_ROUNDS = 10

# Characters that split or end a URL path, or that another layer treats as a separator.
_FORBIDDEN_CHARS = frozenset(";?#\\\u2215\u2044\uff0f\uff3c\ufe68")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENCODED_DOT = re.compile(r"%2e|%u002e|%uff0e", re.IGNORECASE)
_PERCENT_U = re.compile(r"%u[0-9a-f]{4}", re.IGNORECASE)
_WINDOWS_DRIVE = re.compile(r"^[^/]:")  # what ntpath.splitdrive takes for a drive
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:/")


def check_artifact_path(path: str | None) -> str:
    """Check a path relative to an artifact root and return it normalized.

    ``None``, ``""`` and ``"."`` mean the root and give ``""``. Single-dot segments and a
    trailing slash are dropped. Raises :class:`~trackline.exceptions.InvalidParameterValue`
    for ``..`` segments, absolute paths (``/x``, ``C:/x``, ``file:/x``), backslashes, ``//``,
    ``;``, ``?``, ``#``, control characters (NUL...), percent-encoded dots and invalid UTF-8
    escapes at any decoding depth, and paths longer than ``MAX_ARTIFACT_PATH_LENGTH``.
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidParameterValue(f"Artifact path must be a string, got {type(path).__name__}")
    if len(path) > MAX_ARTIFACT_PATH_LENGTH:
        raise InvalidParameterValue(
            f"Artifact path is longer than {MAX_ARTIFACT_PATH_LENGTH} characters"
        )
    stage = path
    for depth in range(_MAX_DECODE_ROUNDS + 1):
        _check_stage(path, stage, decoded=depth > 0)
        try:
            decoded = unquote(stage, errors="strict")
        except UnicodeDecodeError:
            raise _invalid(path, "it contains an invalid percent-encoded byte sequence") from None
        if decoded == stage:
            break
        stage = decoded
    else:
        raise _invalid(path, "it is percent-encoded too many times")
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if segments and _WINDOWS_DRIVE.match(segments[0]):  # "./c:x" normalizes to a drive
        raise _invalid(path, "it is absolute")
    for segment in segments:
        if len(segment.encode("utf-8")) > _MAX_SEGMENT_BYTES:
            raise _invalid(path, f"a segment is longer than {_MAX_SEGMENT_BYTES} bytes")
    return "/".join(segments)


def _check_stage(original: str, stage: str, *, decoded: bool) -> None:
    if _CONTROL.search(stage):
        raise _invalid(original, "it contains a control character")
    bad = _FORBIDDEN_CHARS.intersection(stage)
    if bad:
        raise _invalid(original, f"it contains {''.join(sorted(bad))!r}")
    if _ENCODED_DOT.search(stage) or _PERCENT_U.search(stage):
        raise _invalid(original, "it contains an encoded dot or %u escape")
    if stage.startswith(("/", "~")) or _WINDOWS_DRIVE.match(stage) or _SCHEME.match(stage):
        raise _invalid(original, "it is absolute")
    if "//" in stage:
        raise _invalid(original, "it contains '//'")
    for segment in stage.split("/"):
        folded = unicodedata.normalize("NFKC", segment)
        lookalike = folded in (".", "..") and segment != "."
        if segment == ".." or lookalike or (decoded and segment == "."):
            raise _invalid(original, "it contains a '..' or encoded '.' segment")


def _invalid(path: str, why: str) -> InvalidParameterValue:
    shown = path if len(path) <= 200 else path[:200] + "..."
    return InvalidParameterValue(f"Invalid artifact path {shown!r}: {why}")
