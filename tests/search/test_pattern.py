"""LIKE patterns: wildcards, backslash escapes, the canonical SQL form."""

from __future__ import annotations

import pytest

from trackline.search import like_regex, sql_like_pattern


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("a%", "abc", True),
        ("a%", "Abc", False),
        ("%c", "abc", True),
        ("%", "", True),
        ("a_c", "abc", True),
        ("a_c", "ac", False),
        ("a_c", "abbc", False),
        ("a\\_c", "a_c", True),
        ("a\\_c", "abc", False),
        ("50\\%", "50%", True),
        ("50\\%", "500", False),
        ("a\\\\b", "a\\b", True),
        ("a\\", "a\\", True),
        ("a\\b", "ab", True),
        ("a.c", "abc", False),
        ("(a)+", "(a)+", True),
        ("%\n%", "x\ny", True),
    ],
)
def test_like(pattern: str, text: str, expected: bool) -> None:
    assert bool(like_regex(pattern).fullmatch(text)) is expected


def test_ilike_lowers_pattern_and_text() -> None:
    regex = like_regex("AB%", True)
    assert regex.fullmatch("abc")
    assert not regex.fullmatch("xab")


@pytest.mark.parametrize(
    ("pattern", "canonical", "escaped"),
    [
        ("a%b_", "a%b_", False),
        ("a\\_b", "a\\_b", True),
        ("50\\%", "50\\%", True),
        ("a\\b", "ab", False),
        ("a\\", "a\\\\", True),
        ("a\\\\", "a\\\\", True),
        ("", "", False),
    ],
)
def test_sql_form(pattern: str, canonical: str, escaped: bool) -> None:
    assert sql_like_pattern(pattern) == (canonical, escaped)
