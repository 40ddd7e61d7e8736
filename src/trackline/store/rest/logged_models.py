"""Logged models in MLflow's REST JSON, both ways (the client side of ``logged-models/*``).

A model travels as ``{"info": {...}, "data": {"params", "metrics"}}``; its status is the
protocol's enum name (``LOGGED_MODEL_READY``) or number, and its times are
``creation_timestamp_ms`` and ``last_updated_timestamp_ms``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trackline.entities import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from trackline.exceptions import InvalidParameterValue
from trackline.store.rest import codec

__all__ = ["create_body", "logged_model_from_json", "search_body", "status_from_json"]


def status_from_json(value: object) -> LoggedModelStatus:
    """A status from its protocol name or number (UNSPECIFIED when absent)."""
    if value is None or value == "":
        return LoggedModelStatus.UNSPECIFIED
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return LoggedModelStatus.from_value(value)
        except ValueError:
            pass
    raise InvalidParameterValue(
        f"The server sent {value!r} where a logged model status was expected."
    )


def _mapping(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    return value if isinstance(value, Mapping) else {}


def _items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = data.get(name)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _pairs(data: Mapping[str, Any], name: str) -> dict[str, str]:
    return {str(item.get("key", "")): str(item.get("value", "")) for item in _items(data, name)}


def _opt(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None or value == "" else str(value)


def logged_model_from_json(data: Mapping[str, Any]) -> LoggedModel:
    """A :class:`LoggedModel` from its JSON."""
    info, model_data = _mapping(data, "info"), _mapping(data, "data")
    return LoggedModel(
        experiment_id=str(info.get("experiment_id", "")),
        model_id=str(info.get("model_id", "")),
        name=str(info.get("name", "")),
        artifact_location=str(info.get("artifact_uri", "")),
        creation_timestamp=codec.int64_from_json(info.get("creation_timestamp_ms")) or 0,
        last_updated_timestamp=codec.int64_from_json(info.get("last_updated_timestamp_ms")) or 0,
        model_type=_opt(info, "model_type"),
        source_run_id=_opt(info, "source_run_id"),
        status=status_from_json(info.get("status")),
        status_message=_opt(info, "status_message"),
        tags=_pairs(info, "tags"),
        params=_pairs(model_data, "params"),
        metrics=[codec.metric_from_json(m) for m in _items(model_data, "metrics")],
    )


def create_body(
    experiment_id: str,
    name: str | None,
    source_run_id: str | None,
    tags: Sequence[LoggedModelTag] | None,
    params: Sequence[LoggedModelParameter] | None,
    model_type: str | None,
) -> dict[str, Any]:
    """The body of ``POST logged-models``, as MLflow's client sends it."""
    body: dict[str, Any] = {"experiment_id": str(experiment_id)}
    if name:
        body["name"] = name
    if model_type:
        body["model_type"] = model_type
    if source_run_id:
        body["source_run_id"] = source_run_id
    if params:
        body["params"] = [{"key": p.key, "value": p.value} for p in params]
    if tags:
        body["tags"] = [{"key": t.key, "value": t.value} for t in tags]
    return body


def search_body(
    experiment_ids: Sequence[str],
    filter_string: str | None,
    datasets: Sequence[Mapping[str, Any]] | None,
    max_results: int | None,
    order_by: Sequence[Mapping[str, Any]] | None,
    page_token: str | None,
) -> dict[str, Any]:
    """The body of ``POST logged-models/search``; unset fields are left out."""
    body: dict[str, Any] = {"experiment_ids": [str(e) for e in experiment_ids]}
    if filter_string:
        body["filter"] = filter_string
    if datasets:
        body["datasets"] = [
            {k: d[k] for k in ("dataset_name", "dataset_digest") if d.get(k) is not None}
            for d in datasets
        ]
    if max_results is not None:
        body["max_results"] = max_results
    if order_by:
        body["order_by"] = [
            {k: o[k] for k in ("field_name", "ascending", "dataset_name", "dataset_digest")
             if o.get(k) is not None}
            for o in order_by
        ]  # fmt: skip
    if page_token:
        body["page_token"] = page_token
    return body
