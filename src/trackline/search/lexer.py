"""Splitting a filter or order_by string into tokens, each with its character offset.

Tokens:

* ``WORD``: a bare identifier or keyword, ``[A-Za-z_]`` then word characters and ``. - / :``
  (so ``tags.mlflow.runName`` and ``metrics.val-loss`` are one word; a trailing ``.`` as in
  ``metrics.`` announces a quoted key right after it).
* ``STRING``: ``'...'`` or ``"..."``; a doubled quote or a backslash before the quote stands
  for the quote, ``\\\\`` for one backslash; any other backslash is kept as is (so LIKE
  escapes such as ``'a\\_b'`` reach the pattern untouched).
* ``BACKTICK``: ``\\`...\\``` (a doubled backtick stands for one).
* ``NUMBER``: an int or float with optional sign, fraction and exponent.
* ``OP``: ``= != < <= > >=``; ``LPAREN``, ``RPAREN``, ``COMMA``; and a final ``END``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from trackline.exceptions import InvalidParameterValue

__all__ = ["FilterSyntaxError", "Token", "TokenKind", "tokenize"]

TokenKind = Literal[
    "WORD", "STRING", "BACKTICK", "NUMBER", "OP", "LPAREN", "RPAREN", "COMMA", "END"
]

_WORD = re.compile(r"[^\W\d][\w.\-/:]*")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPACE = re.compile(r"\s+")
_OPS = ("!=", "<=", ">=", "=", "<", ">")
_PUNCT: dict[str, TokenKind] = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}


class FilterSyntaxError(InvalidParameterValue):
    """A filter or order_by string that breaks the grammar (INVALID_PARAMETER_VALUE)."""

    def __init__(self, what: str, text: str, message: str, position: int) -> None:
        super().__init__(f"Invalid {what} '{text}': {message} at position {position}")
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    """A token: its kind, its text as written, its decoded value and where it starts and ends."""

    kind: TokenKind
    text: str
    value: str | int | float
    start: int
    end: int

    def is_keyword(self, *words: str) -> bool:
        """Whether this is a bare word equal to one of ``words`` (case-insensitive)."""
        return self.kind == "WORD" and self.text.upper() in words

    def describe(self) -> str:
        """How error messages name this token."""
        return "the end" if self.kind == "END" else repr(self.text)


def _read_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    """Read the quoted string opening at ``start``; returns its value and the end offset."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == quote:
            if i + 1 < n and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if c == "\\" and quote != "`" and i + 1 < n and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    kind = "backtick" if quote == "`" else "quote"
    raise FilterSyntaxError(what, text, f"unterminated {kind} opened", start)


def tokenize(text: str, what: str = "filter") -> list[Token]:
    """The tokens of ``text``, ending with an ``END`` token at ``len(text)``.

    ``what`` names the string in error messages (``"filter"``, ``"order_by"``).
    Raises :class:`FilterSyntaxError` on a character that starts no token.
    """
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
            continue
        if c in "'\"`":
            value, end = _read_quoted(text, i, what)
            kind: TokenKind = "BACKTICK" if c == "`" else "STRING"
            tokens.append(Token(kind, text[i:end], value, i, end))
            i = end
            continue
        if c in _PUNCT:
            tokens.append(Token(_PUNCT[c], c, c, i, i + 1))
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            literal = number.group()
            digits = literal.lstrip("+-")
            if digits.isdigit():
                tokens.append(Token("NUMBER", literal, int(literal), i, number.end()))
            else:
                tokens.append(Token("NUMBER", literal, float(literal), i, number.end()))
            i = number.end()
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(Token("OP", op, op, i, i + len(op)))
            i += len(op)
            continue
        word = _WORD.match(text, i)
        if word:
            tokens.append(Token("WORD", word.group(), word.group(), i, word.end()))
            i = word.end()
            continue
        raise FilterSyntaxError(what, text, f"unexpected character {c!r}", i)
    tokens.append(Token("END", "", "", n, n))
    return tokens
