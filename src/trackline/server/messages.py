"""The message tables of MLflow's wire protocol: :class:`Field`, :class:`Message` and the
:class:`Params` a parsed request becomes.

The tables themselves are in :mod:`trackline.server.requests`; the parser that checks a
request against them is :func:`trackline.server.wire.parse_message`, and the OpenAPI document
(:mod:`trackline.server.openapi`) is generated from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Field", "Kind", "Message", "Params"]

Kind = Literal["string", "int64", "double", "bool", "enum", "message"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Field:
    """One field of a request or response message.

    ``aliases`` are older names read when the field itself is absent (``run_uuid`` for
    ``run_id``). ``enum`` maps the names of an enum field to their numbers.
    """

    name: str
    kind: Kind
    required: bool = False
    repeated: bool = False
    message: Message | None = None
    enum: Mapping[str, int] | None = None
    aliases: tuple[str, ...] = ()
    doc: str = ""

    @property
    def camel_name(self) -> str:
        """The field's camelCase JSON name (the same as ``name`` for one-word names)."""
        return _camel(self.name)

    @property
    def alias_spellings(self) -> tuple[str, ...]:
        """The aliases in snake_case and camelCase."""
        return tuple(dict.fromkeys(s for a in self.aliases for s in (a, _camel(a))))


@dataclass(frozen=True)
class Message:
    """A named list of fields: the shape of a request, a response or a nested object."""

    name: str
    fields: tuple[Field, ...] = ()
    doc: str = ""
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    #: Each field with its camelCase name and alias spellings, computed once.
    spellings: tuple[tuple[Field, str, tuple[str, ...]], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        spellings = tuple((f, f.camel_name, f.alias_spellings) for f in self.fields)
        object.__setattr__(self, "spellings", spellings)


class Params(dict[str, Any]):
    """The fields of a parsed request: only those that were given, already converted."""

    def string(self, name: str, default: str = "") -> str:
        """A string field, or ``default`` when absent."""
        value = self.get(name)
        return value if isinstance(value, str) else default

    def opt_string(self, name: str) -> str | None:
        """A string field, or None when absent."""
        value = self.get(name)
        return value if isinstance(value, str) else None

    def opt_int(self, name: str) -> int | None:
        """An int64 or enum field, or None when absent."""
        value = self.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def double(self, name: str) -> float:
        """A double field (the parser guarantees presence for required ones)."""
        value = self.get(name)
        return float(value) if isinstance(value, (int, float)) else 0.0

    def strings(self, name: str) -> list[str]:
        """A repeated string field (empty when absent)."""
        value = self.get(name)
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    def messages(self, name: str) -> list[Params]:
        """A repeated message field (empty when absent)."""
        value = self.get(name)
        return [v for v in value if isinstance(v, Params)] if isinstance(value, list) else []

    def message(self, name: str) -> Params:
        """A nested message field (empty when absent)."""
        value = self.get(name)
        return value if isinstance(value, Params) else Params()
