"""LIKE patterns: one meaning on every backend and in the in-memory evaluator.

``%`` matches any run of characters, ``_`` any one character, and a backslash makes the
character after it literal (``'50\\%'`` matches ``50%``); a backslash at the very end is a
literal backslash. SQLite has no default escape character while PostgreSQL and MySQL use the
backslash, so :func:`sql_like_pattern` rewrites a pattern into a canonical form whose meaning
is the same everywhere once compared with ``ESCAPE '\\'``.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["like_regex", "sql_like_pattern"]

_ANY = object()
_ONE = object()


def _parts(pattern: str) -> list[str | object]:
    """The pattern as literal characters and the two wildcards."""
    out: list[str | object] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(pattern[i + 1])
            i += 2
            continue
        out.append(_ANY if c == "%" else _ONE if c == "_" else c)
        i += 1
    return out


def sql_like_pattern(pattern: str) -> tuple[str, bool]:
    """The canonical SQL form of ``pattern`` and whether it needs ``ESCAPE '\\'``."""
    out: list[str] = []
    escaped = False
    for part in _parts(pattern):
        if part is _ANY:
            out.append("%")
        elif part is _ONE:
            out.append("_")
        else:
            assert isinstance(part, str)
            if part in "%_\\":
                out.append("\\")
                escaped = True
            out.append(part)
    return "".join(out), escaped


@lru_cache(maxsize=256)
def like_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A regex that fully matches what ``pattern`` LIKE-matches (ILIKE when ``ignore_case``).

    ILIKE compares lower-cased text with the lower-cased pattern, as SQL does.
    """
    if ignore_case:
        pattern = pattern.lower()
    regex = []
    for part in _parts(pattern):
        if part is _ANY:
            regex.append(".*")
        elif part is _ONE:
            regex.append(".")
        else:
            assert isinstance(part, str)
            regex.append(re.escape(part))
    return re.compile("".join(regex), re.DOTALL)
