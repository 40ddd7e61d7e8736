"""Random run names: ``<adjective>-<noun>-<0..999>``, at most 20 characters."""

from __future__ import annotations

import re

import pytest

from trackline import names


def test_names_have_the_documented_shape() -> None:
    seen = {names.generate_run_name() for _ in range(500)}
    for name in seen:
        adjective, noun, number = name.split("-")
        assert adjective in names.ADJECTIVES
        assert noun in names.NOUNS
        assert re.fullmatch(r"0|[1-9]\d{0,2}", number)
        assert len(name) <= names.MAX_RUN_NAME_LENGTH
    assert len(seen) > 450  # random, not a fixed sequence


def test_word_lists() -> None:
    for words in (names.ADJECTIVES, names.NOUNS):
        assert 95 <= len(words) <= 120
        assert len(set(words)) == len(words)
        assert all(re.fullmatch(r"[a-z]{2,7}", w) for w in words)


def test_too_long_names_are_truncated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "ADJECTIVES", ("extraordinarily",))
    monkeypatch.setattr(names, "NOUNS", ("hippopotamus",))
    name = names.generate_run_name()
    assert len(name) == names.MAX_RUN_NAME_LENGTH
    assert name == "extraordinarily-hipp"
