"""Parsing order_by clauses: ``["metrics.rmse ASC", "params.lr DESC", "start_time"]``.

Each clause is ``<identifier> [ASC|DESC]`` (case-insensitive, ASC by default) with the same
identifiers as filters. The result always ends with the tie-breakers that make the order
total, so that every backend and the in-memory evaluator agree and pages never overlap:

* runs: ``start_time DESC`` unless a clause already orders by start_time, then ``run_id ASC``
  unless a clause already orders by run_id;
* experiments: ``creation_time DESC, experiment_id ASC`` when no clause is given, otherwise
  ``experiment_id ASC`` unless a clause orders by it;
* logged models: ``creation_timestamp DESC, model_id ASC`` when no clause is given,
  otherwise ``model_id ASC`` unless a clause orders by it;
* registered models: ``name ASC`` unless a clause orders by name;
* model versions: ``last_updated_timestamp DESC`` when no clause is given, then ``name ASC``
  and ``version_number DESC`` unless a clause orders by them.
"""

from __future__ import annotations

from collections.abc import Sequence

from trackline.exceptions import InvalidParameterValue
from trackline.search import fields
from trackline.search.ast import Kind, OrderKey
from trackline.search.parser import Parser

__all__ = ["parse_order_by", "parse_order_clause"]


def parse_order_clause(clause: str, kind: Kind) -> OrderKey:
    """Parse one ``<identifier> [ASC|DESC]`` clause (without tie-breakers)."""
    parser = Parser(clause, kind, what="order_by")
    if parser.at("END"):
        raise parser.error("expected an identifier such as metrics.<key> or start_time")
    start = parser.current.start
    entity, key = parser.identifier()
    ascending = True
    if parser.current.is_keyword("ASC", "DESC"):
        ascending = parser.advance().text.upper() == "ASC"
    if not parser.at("END"):
        raise parser.expected("ASC, DESC or the end of the clause")
    if not fields.orderable(kind, entity, key):
        if kind == "runs":
            valid = "metrics.<key>, params.<key>, tags.<key>, artifact_uri, end_time, run_id, "
            valid += "run_name, start_time, created, status, user_id"
        elif kind == "logged_models":
            valid = "metrics.<key>, name, model_id, model_type, status, source_run_id, "
            valid += "creation_timestamp, last_updated_timestamp"
        elif kind == "registered_models":
            valid = "name, creation_timestamp, last_updated_timestamp (timestamp)"
        elif kind == "model_versions":
            valid = "name, version_number, creation_timestamp, last_updated_timestamp"
        else:
            valid = "name, experiment_id, creation_time, last_update_time"
        raise parser.error(f"cannot order by this field (valid: {valid})", start)
    return OrderKey(entity, key, ascending)


def parse_order_by(order_by: Sequence[str] | None, kind: Kind) -> list[OrderKey]:
    """Parse an order_by list and append the tie-breakers (see the module docstring).

    Raises :class:`~trackline.exceptions.InvalidParameterValue` on a malformed clause, a
    field that cannot be ordered on, or a field given twice.
    """
    if isinstance(order_by, str):
        raise InvalidParameterValue(
            f"order_by must be a list of strings, not the string {order_by!r}"
        )
    keys: list[OrderKey] = []
    seen: set[tuple[str, str]] = set()
    for clause in order_by or ():
        if not isinstance(clause, str):
            raise InvalidParameterValue(f"Invalid order_by clause {clause!r}: not a string")
        key = parse_order_clause(clause, kind)
        if (key.entity, key.key) in seen:
            raise InvalidParameterValue(
                f"Invalid order_by {list(order_by or ())!r}: the field of '{clause}' is "
                "ordered on twice"
            )
        seen.add((key.entity, key.key))
        keys.append(key)
    if kind == "runs":
        if ("attribute", "start_time") not in seen:
            keys.append(OrderKey("attribute", "start_time", ascending=False))
        if ("attribute", "run_id") not in seen:
            keys.append(OrderKey("attribute", "run_id"))
    elif kind in ("registered_models", "model_versions"):
        if kind == "model_versions" and not keys:
            keys.append(OrderKey("attribute", "last_updated_timestamp", ascending=False))
        if ("attribute", "name") not in seen:
            keys.append(OrderKey("attribute", "name"))
        if kind == "model_versions" and ("attribute", "version_number") not in seen:
            keys.append(OrderKey("attribute", "version_number", ascending=False))
    else:
        created, key_id = _TIE_BREAKERS[kind]
        if not keys:
            keys.append(OrderKey("attribute", created, ascending=False))
        if ("attribute", key_id) not in seen:
            keys.append(OrderKey("attribute", key_id))
    return keys


#: (creation time, id) of the kinds ordered by creation time by default.
_TIE_BREAKERS: dict[Kind, tuple[str, str]] = {
    "experiments": ("creation_time", "experiment_id"),
    "logged_models": ("creation_timestamp", "model_id"),
}
