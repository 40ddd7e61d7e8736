"""The filter parser: MLflow's filter language plus ``OR`` and parentheses.

Grammar (keywords are case-insensitive; ``AND`` binds tighter than ``OR``)::

    filter      := disjunction END
    disjunction := conjunction ("OR" conjunction)*
    conjunction := primary ("AND" primary)*
    primary     := "(" disjunction ")" | comparison
    comparison  := identifier ( OP scalar | ["NOT"] "IN" list | ("LIKE" | "ILIKE") scalar
                              | "IS" ["NOT"] "NULL" )
    identifier  := WORD | quoted | WORD-ending-in-"." quoted      (entity.key or a bare key)
    list        := "(" scalar ("," scalar)* [","] ")"

Every error is an :class:`~trackline.exceptions.InvalidParameterValue` naming the character
offset where the parser stopped and what it expected there.
"""

from __future__ import annotations

from trackline.search import fields
from trackline.search.ast import COMPARATORS, And, Comparator, Comparison, Entity, Expr, Kind, Or
from trackline.search.lexer import FilterSyntaxError, Token, TokenKind, tokenize

__all__ = ["Parser", "parse_filter"]

_INT64 = 2**63
_KEYWORDS = ("AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE")
_ENTITY_NAMES = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
    "dataset": "datasets",
}


class Parser:
    """A cursor over the tokens of one filter or order_by string."""

    def __init__(self, text: str, kind: Kind, what: str = "filter") -> None:
        self.text = text
        self.kind: Kind = kind
        self.what = what
        self.tokens = tokenize(text, what)
        self.index = 0

    # -- cursor ---------------------------------------------------------------------------

    @property
    def current(self) -> Token:
        """The token under the cursor."""
        return self.tokens[self.index]

    def at(self, kind: TokenKind) -> bool:
        """Whether the current token is of ``kind``."""
        return self.tokens[self.index].kind == kind

    def advance(self) -> Token:
        """Move past the current token (never past END) and return it."""
        token = self.tokens[self.index]
        if token.kind != "END":
            self.index += 1
        return token

    def error(self, message: str, position: int | None = None) -> FilterSyntaxError:
        """An error at ``position`` (default: the current token)."""
        where = self.current.start if position is None else position
        return FilterSyntaxError(self.what, self.text, message, where)

    def expected(self, what: str) -> FilterSyntaxError:
        """An error saying ``what`` was expected at the current token (and what was found)."""
        token = self.current
        found = "" if token.kind == "END" else f", found {token.describe()}"
        return self.error(f"expected {what}{found}")

    # -- filter ---------------------------------------------------------------------------

    def parse(self) -> Expr:
        """The whole string as one filter expression."""
        expr = self.disjunction()
        if not self.at("END"):
            raise self.expected("AND, OR or the end of the filter")
        return expr

    def disjunction(self) -> Expr:
        """Conjunctions joined by OR."""
        terms = [self.conjunction()]
        while self.current.is_keyword("OR"):
            self.advance()
            terms.append(self.conjunction())
        return _combine(Or, terms)

    def conjunction(self) -> Expr:
        """Primaries joined by AND."""
        terms = [self.primary()]
        while self.current.is_keyword("AND"):
            self.advance()
            terms.append(self.primary())
        return _combine(And, terms)

    def primary(self) -> Expr:
        """A parenthesized disjunction or a comparison."""
        if self.at("LPAREN"):
            self.advance()
            expr = self.disjunction()
            if not self.at("RPAREN"):
                raise self.expected("')' or a conjunction (AND, OR)")
            self.advance()
            return expr
        return self.comparison()

    def comparison(self) -> Comparison:
        """``identifier comparator value``, checked against the field's rules."""
        start = self.current.start
        entity, key = self.identifier()
        comparator, comparator_at = self.comparator()
        value_at = self.current.start
        value: str | int | float | tuple[str, ...] | None = None
        if comparator in ("IN", "NOT IN"):
            value = self.string_list()
        elif comparator not in ("IS NULL", "IS NOT NULL"):
            value = self.scalar()
        return self.checked(entity, key, comparator, value, start, comparator_at, value_at)

    # -- pieces ---------------------------------------------------------------------------

    def identifier(self) -> tuple[Entity, str]:
        """``<entity>.<key>`` or a bare attribute key, with aliases resolved."""
        token = self.current
        if token.kind in ("STRING", "BACKTICK"):
            self.advance()
            return self.attribute(str(token.value), token.start)
        if token.kind != "WORD" or token.text.upper() in _KEYWORDS:
            raise self.expected("an identifier such as metrics.<key>, params.<key> or an attribute")
        self.advance()
        word = token.text
        prefix, dot, key = word.partition(".")
        if not dot:
            return self.attribute(word, token.start)
        entity = fields.resolve_entity(self.kind, prefix)
        if entity is None:
            valid = ", ".join(fields.entity_prefixes(self.kind))
            raise self.error(
                f"unknown entity {prefix!r} (valid entities: {valid}; quote keys that "
                "contain a dot or a space)",
                token.start,
            )
        if not key:
            quoted = self.current
            if quoted.kind not in ("STRING", "BACKTICK") or quoted.start != token.end:
                raise self.error(f"expected a key right after '{word}'", token.end)
            self.advance()
            key = str(quoted.value)
        if entity == "attribute":
            return self.attribute(key, token.start)
        if not key:
            raise self.error(f"empty {_ENTITY_NAMES[entity]} key", token.start)
        return entity, key

    def attribute(self, key: str, position: int) -> tuple[Entity, str]:
        """A bare attribute key, resolved through its aliases."""
        canonical = fields.canonical_attribute(self.kind, key)
        if canonical is None:
            if self.kind == "runs" and key == "experiment_id":
                raise self.error(
                    "experiment_id is not a filter field; pass the experiment ids to the "
                    "search itself",
                    position,
                )
            valid = ", ".join(fields.attribute_keys(self.kind))
            raise self.error(
                f"unknown attribute {key!r} (valid attributes: {valid}; other keys need "
                "a prefix such as metrics., params. or tags.)",
                position,
            )
        return "attribute", canonical

    def comparator(self) -> tuple[Comparator, int]:
        """A comparator and its offset; ``NOT IN``, ``IS [NOT] NULL`` span several words."""
        token = self.current
        at = token.start
        if token.kind == "OP":
            self.advance()
            return _as_comparator(str(token.value)), at
        if token.is_keyword("LIKE", "ILIKE", "IN"):
            self.advance()
            return _as_comparator(token.text.upper()), at
        if token.is_keyword("NOT"):
            self.advance()
            if not self.current.is_keyword("IN"):
                raise self.expected("IN after NOT")
            self.advance()
            return "NOT IN", at
        if token.is_keyword("IS"):
            self.advance()
            negated = self.current.is_keyword("NOT")
            if negated:
                self.advance()
            if not self.current.is_keyword("NULL"):
                raise self.expected("NULL")
            self.advance()
            return ("IS NOT NULL" if negated else "IS NULL"), at
        raise self.expected("a comparator (" + ", ".join(COMPARATORS) + ")")

    def scalar(self) -> str | int | float:
        """A quoted string or a number."""
        token = self.current
        if token.kind in ("STRING", "NUMBER"):
            self.advance()
            return token.value
        raise self.expected("a value")

    def string_list(self) -> tuple[str, ...]:
        """``('a', 'b', ...)``: a non-empty list of quoted strings."""
        if not self.at("LPAREN"):
            raise self.expected("a parenthesized list of quoted strings, such as ('a', 'b')")
        self.advance()
        values: list[str] = []
        while True:
            token = self.current
            if token.kind == "RPAREN" and values:
                break
            if token.kind != "STRING":
                raise self.expected("a quoted string")
            values.append(str(token.value))
            self.advance()
            if self.at("COMMA"):
                self.advance()
                continue
            if not self.at("RPAREN"):
                raise self.expected("',' or ')'")
        self.advance()
        return tuple(values)

    # -- rules ----------------------------------------------------------------------------

    def checked(
        self,
        entity: Entity,
        key: str,
        comparator: Comparator,
        value: str | int | float | tuple[str, ...] | None,
        start: int,
        comparator_at: int,
        value_at: int,
    ) -> Comparison:
        """The comparison, after checking the comparator and value type the field allows."""
        rule = fields.field_rule(self.kind, entity, key)
        name = f"{_ENTITY_NAMES[entity]}.{key}" if entity != "attribute" else f"attribute {key}"
        if rule is None:
            valid = ", ".join(fields.DATASET_FIELDS)
            raise self.error(
                f"unknown dataset field {key!r} (valid fields: {valid})",
                start,
            )
        if comparator not in rule.comparators:
            allowed = ", ".join(c for c in COMPARATORS if c in rule.comparators)
            raise self.error(
                f"comparator {comparator} is not allowed on {name} (allowed: {allowed})",
                comparator_at,
            )
        if isinstance(value, tuple) or value is None:
            return Comparison(entity, key, comparator, value)
        if rule.value_type == "number":
            if isinstance(value, str):
                raise self.error(f"{name} needs a numeric value, not a string", value_at)
            if isinstance(value, int) and not -_INT64 <= value < _INT64:
                value = float(value)
        elif not isinstance(value, str):
            raise self.error(f"{name} needs a quoted string value, not a number", value_at)
        return Comparison(entity, key, comparator, value)


def _as_comparator(text: str) -> Comparator:
    for comparator in COMPARATORS:
        if comparator == text:
            return comparator
    raise AssertionError(text)  # pragma: no cover - the lexer only makes known operators


def _combine(node: type[And] | type[Or], terms: list[Expr]) -> Expr:
    if len(terms) == 1:
        return terms[0]
    flat: list[Expr] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, node) else (term,))
    return node(tuple(flat))


def parse_filter(filter_string: str | None, kind: Kind) -> Expr | None:
    """Parse a search filter; None for a missing or blank filter.

    Raises :class:`~trackline.exceptions.InvalidParameterValue` when the filter is malformed,
    names an unknown field, or uses a comparator or value type the field does not accept.
    """
    if filter_string is None or not filter_string.strip():
        return None
    if kind not in fields.KINDS:
        raise ValueError(f"unknown search kind {kind!r}")
    return Parser(filter_string, kind).parse()
