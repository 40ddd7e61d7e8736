"""What may be searched and ordered on: entities, attribute keys, comparators and value types.

The rules follow MLflow's (reference §6): runs filter on metrics, params, tags, attributes
and datasets; experiments on attributes and tags; logged models on attributes, metrics,
params and tags; registered models and model versions on attributes and tags. Each
searchable field has the comparators it accepts and the type its values must have.

Registered models and model versions also filter on ``creation_timestamp`` and
``last_updated_timestamp`` (MLflow only orders by them), and registered models order by
``creation_timestamp`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trackline.search.ast import Comparator, Entity, Kind

__all__ = [
    "DATASET_FIELDS",
    "KINDS",
    "FieldRule",
    "attribute_keys",
    "canonical_attribute",
    "entity_prefixes",
    "field_rule",
    "orderable",
    "resolve_entity",
]

ValueType = Literal["number", "string"]

_NUMERIC: frozenset[Comparator] = frozenset({"=", "!=", "<", "<=", ">", ">="})
_STRING: frozenset[Comparator] = frozenset({"=", "!=", "LIKE", "ILIKE"})
_STRING_IN: frozenset[Comparator] = _STRING | {"IN", "NOT IN"}
_KEYED: frozenset[Comparator] = _STRING | {"IS NULL", "IS NOT NULL"}


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The comparators a field accepts and the type of its values."""

    comparators: frozenset[Comparator]
    value_type: ValueType


_RUN_ENTITIES: dict[str, Entity] = {
    "metric": "metric",
    "metrics": "metric",
    "parameter": "param",
    "parameters": "param",
    "param": "param",
    "params": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
    "dataset": "dataset",
    "datasets": "dataset",
}
_EXPERIMENT_ENTITIES: dict[str, Entity] = {"attribute": "attribute", "tag": "tag", "tags": "tag"}
_LOGGED_MODEL_ENTITIES: dict[str, Entity] = {
    name: entity for name, entity in _RUN_ENTITIES.items() if entity != "dataset" and name != "run"
}

_RUN_ATTRIBUTES: dict[str, FieldRule] = {
    "run_id": FieldRule(_STRING_IN, "string"),
    "run_name": FieldRule(_STRING, "string"),
    "status": FieldRule(_STRING, "string"),
    "user_id": FieldRule(_STRING, "string"),
    "artifact_uri": FieldRule(_STRING, "string"),
    "start_time": FieldRule(_NUMERIC, "number"),
    "end_time": FieldRule(_NUMERIC, "number"),
}
_RUN_ATTRIBUTE_ALIASES = {
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
    "created": "start_time",
    "Created": "start_time",
}
_EXPERIMENT_ATTRIBUTES: dict[str, FieldRule] = {
    "name": FieldRule(_STRING, "string"),
    "experiment_id": FieldRule(frozenset({"=", "!=", "IN", "NOT IN"}), "string"),
    "creation_time": FieldRule(_NUMERIC, "number"),
    "last_update_time": FieldRule(_NUMERIC, "number"),
}
_LOGGED_MODEL_ATTRIBUTES: dict[str, FieldRule] = {
    "name": FieldRule(_STRING_IN, "string"),
    "model_id": FieldRule(_STRING_IN, "string"),
    "model_type": FieldRule(_STRING_IN, "string"),
    "status": FieldRule(frozenset({"=", "!=", "IN", "NOT IN"}), "string"),
    "source_run_id": FieldRule(_STRING_IN, "string"),
    "creation_timestamp": FieldRule(_NUMERIC, "number"),
    "last_updated_timestamp": FieldRule(_NUMERIC, "number"),
}
_LOGGED_MODEL_ATTRIBUTE_ALIASES = {
    "creation_time": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
}
_REGISTRY_ENTITIES: dict[str, Entity] = {
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "tag": "tag",
    "tags": "tag",
}
_REGISTERED_MODEL_ATTRIBUTES: dict[str, FieldRule] = {
    "name": FieldRule(_STRING_IN, "string"),
    "creation_timestamp": FieldRule(_NUMERIC, "number"),
    "last_updated_timestamp": FieldRule(_NUMERIC, "number"),
}
_MODEL_VERSION_ATTRIBUTES: dict[str, FieldRule] = {
    "name": FieldRule(_STRING_IN, "string"),
    "run_id": FieldRule(_STRING_IN, "string"),
    "source_path": FieldRule(_STRING, "string"),
    "version_number": FieldRule(_NUMERIC, "number"),
    "creation_timestamp": FieldRule(_NUMERIC, "number"),
    "last_updated_timestamp": FieldRule(_NUMERIC, "number"),
}
# MLflow's order_by of registered models says ``timestamp`` for the last update.
_REGISTRY_ATTRIBUTE_ALIASES = {
    "timestamp": "last_updated_timestamp",
    "creation_time": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
}
#: The fields of a dataset a run filter compares (``context`` is the input's context tag).
DATASET_FIELDS: tuple[str, ...] = ("name", "digest", "context")

_RUN_ORDERABLE = frozenset(
    {"artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id"}
)
_EXPERIMENT_ORDERABLE = frozenset(_EXPERIMENT_ATTRIBUTES)
_MODEL_VERSION_ORDERABLE = frozenset(
    {"name", "version_number", "creation_timestamp", "last_updated_timestamp"}
)

_ENTITIES: dict[Kind, dict[str, Entity]] = {
    "runs": _RUN_ENTITIES,
    "experiments": _EXPERIMENT_ENTITIES,
    "logged_models": _LOGGED_MODEL_ENTITIES,
    "registered_models": _REGISTRY_ENTITIES,
    "model_versions": _REGISTRY_ENTITIES,
}
_ATTRIBUTES: dict[Kind, dict[str, FieldRule]] = {
    "runs": _RUN_ATTRIBUTES,
    "experiments": _EXPERIMENT_ATTRIBUTES,
    "logged_models": _LOGGED_MODEL_ATTRIBUTES,
    "registered_models": _REGISTERED_MODEL_ATTRIBUTES,
    "model_versions": _MODEL_VERSION_ATTRIBUTES,
}
_ATTRIBUTE_ALIASES: dict[Kind, dict[str, str]] = {
    "runs": _RUN_ATTRIBUTE_ALIASES,
    "experiments": {},
    "logged_models": _LOGGED_MODEL_ATTRIBUTE_ALIASES,
    "registered_models": _REGISTRY_ATTRIBUTE_ALIASES,
    "model_versions": _REGISTRY_ATTRIBUTE_ALIASES,
}
#: Every kind of search.
KINDS: tuple[Kind, ...] = tuple(_ENTITIES)


def entity_prefixes(kind: Kind) -> list[str]:
    """The entity prefixes a ``kind`` of search accepts, for error messages."""
    return sorted(_ENTITIES[kind])


def resolve_entity(kind: Kind, prefix: str) -> Entity | None:
    """The entity an ``<entity>.`` prefix names (case-insensitive), None if unknown."""
    return _ENTITIES[kind].get(prefix.lower())


def attribute_keys(kind: Kind) -> list[str]:
    """The attribute keys a ``kind`` of search filters on, for error messages."""
    return list(_ATTRIBUTES[kind])


def canonical_attribute(kind: Kind, key: str) -> str | None:
    """The attribute ``key`` names after aliases (``created`` -> ``start_time``), None if none."""
    key = _ATTRIBUTE_ALIASES[kind].get(key, key)
    return key if key in _ATTRIBUTES[kind] else None


def field_rule(kind: Kind, entity: Entity, key: str) -> FieldRule | None:
    """The rule of a (canonical) field, None if the field is not searchable."""
    if entity == "attribute":
        return _ATTRIBUTES[kind].get(key)
    if entity == "metric":
        return FieldRule(_NUMERIC, "number")
    if entity in ("param", "tag"):
        return FieldRule(_KEYED, "string")
    if key in DATASET_FIELDS:
        return FieldRule(_STRING_IN, "string")
    return None


def orderable(kind: Kind, entity: Entity, key: str) -> bool:
    """Whether a (canonical) field may be an order_by key."""
    if kind == "experiments":
        return entity == "attribute" and key in _EXPERIMENT_ORDERABLE
    if kind == "logged_models":
        return (entity == "attribute" and key in _LOGGED_MODEL_ATTRIBUTES) or entity == "metric"
    if kind == "registered_models":
        return entity == "attribute" and key in _REGISTERED_MODEL_ATTRIBUTES
    if kind == "model_versions":
        return entity == "attribute" and key in _MODEL_VERSION_ORDERABLE
    if entity == "attribute":
        return key in _RUN_ORDERABLE
    return entity in ("metric", "param", "tag")
