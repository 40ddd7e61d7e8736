"""MLflow's REST JSON and trackline's entities, both ways (the client side of the protocol).

Requests are built as MLflow's client builds them: snake_case field names, enums by name
(``"FINISHED"``, ``"ACTIVE_ONLY"``), NaN and infinities as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``, unset fields left out. Responses are read leniently, as
MLflow's client reads them: int64 fields may be numbers or decimal strings, doubles numbers
or those strings, enums names or numbers, and unknown fields are ignored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from trackline.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    ViewType,
)
from trackline.exceptions import InvalidParameterValue

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - a platform without its wheels
    _orjson = None  # type: ignore[assignment]

__all__ = [
    "dataset_input_json",
    "decode",
    "double_from_json",
    "double_json",
    "encode",
    "experiment_from_json",
    "int64_from_json",
    "key_values",
    "metric_from_json",
    "metric_json",
    "metrics_from_json",
    "metrics_json",
    "run_from_json",
    "run_info_from_json",
    "status_name",
    "view_type_name",
]

_SPECIAL_TO_JSON = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_SPECIAL_FROM_JSON = {
    "NaN": math.nan,
    "nan": math.nan,
    "Infinity": math.inf,
    "inf": math.inf,
    "-Infinity": -math.inf,
    "-inf": -math.inf,
}

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(payload: Mapping[str, Any]) -> bytes:
    """A request body as compact UTF-8 JSON. Non-finite floats must have been turned into
    strings already (:func:`double_json`); one left over is a programming error.

    orjson writes it when installed (a log-batch of 1,000 points in a tenth of the time);
    the standard library writes what orjson does not take (integers beyond 64 bits) and
    judges any ``null`` (orjson's spelling of a stray NaN, which is refused).
    """
    if _orjson is not None:
        try:
            encoded = _orjson.dumps(payload)
        except TypeError:
            pass
        else:
            if b"null" not in encoded:
                return encoded
    try:
        return _encoder.encode(payload).encode()
    except ValueError as exc:
        raise InvalidParameterValue(f"The request cannot be encoded as JSON: {exc}") from None


def decode(content: bytes) -> object:
    """A JSON answer (orjson when installed; the standard library for what it refuses,
    such as NaN literals). Raises ValueError for text that is not JSON."""
    if _orjson is not None:
        try:
            return _orjson.loads(content)
        except ValueError:
            pass
    return json.loads(content)


# -- scalars -------------------------------------------------------------------------------


def double_json(value: float) -> float | str:
    """A double as the protocol spells it: NaN and infinities become strings."""
    value = float(value)
    if math.isfinite(value):
        return value
    return _SPECIAL_TO_JSON[repr(value)]


def double_from_json(value: object) -> float:
    """A double from a number or one of the strings ``"NaN"``, ``"Infinity"``,
    ``"-Infinity"`` (or a number written as a string)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        special = _SPECIAL_FROM_JSON.get(value)
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidParameterValue(f"The server sent {value!r} where a number was expected.")


def int64_from_json(value: object) -> int | None:
    """An int64 sent as a number or a decimal string; None when absent."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise InvalidParameterValue(f"The server sent {value!r} where an integer was expected.")


def status_name(status: int | str) -> str:
    """A run status as the protocol names it (``RunStatus.FINISHED`` -> ``"FINISHED"``).
    Unknown names are passed on unchanged: the server ignores them, as MLflow's does."""
    if isinstance(status, str):
        if status.isdigit():
            return status_name(int(status))
        return status.upper()
    return RunStatus.to_string(status)


def view_type_name(view_type: int | str) -> str:
    """A view type as the protocol names it (``ViewType.ALL`` -> ``"ALL"``)."""
    if isinstance(view_type, str):
        return ViewType.to_string(ViewType.from_string(view_type))
    return ViewType.to_string(view_type)


def _status_from_json(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return RunStatus.to_string(value)
    if isinstance(value, str) and value:
        return value
    return "RUNNING"


# -- requests ------------------------------------------------------------------------------


def key_values(items: Iterable[RunTag | ExperimentTag | InputTag | Param]) -> list[dict[str, str]]:
    """Tags or params as ``[{"key", "value"}]``."""
    return [{"key": item.key, "value": item.value} for item in items]


def metric_json(metric: Metric, run_id: str | None = None) -> dict[str, Any]:
    """A metric point as ``log-batch`` sends it (with ``run_id``, as MLflow's client does)."""
    out: dict[str, Any] = {
        "key": metric.key,
        "value": double_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if metric.dataset_name is not None:
        out["dataset_name"] = metric.dataset_name
    if metric.dataset_digest is not None:
        out["dataset_digest"] = metric.dataset_digest
    if metric.model_id is not None:
        out["model_id"] = metric.model_id
    rid = metric.run_id or run_id
    if rid is not None:
        out["run_id"] = rid
    return out


def metrics_json(metrics: Iterable[Metric], run_id: str | None = None) -> list[dict[str, Any]]:
    """Metric points as ``log-batch`` sends them: :func:`metric_json` of each, in one loop
    (1,000 points per call on the logging path)."""
    out: list[dict[str, Any]] = []
    append = out.append
    isfinite = math.isfinite
    for m in metrics:
        value: float | str = m.value
        if type(value) is not float or not isfinite(value):
            value = double_json(m.value)
        item: dict[str, Any] = {
            "key": m.key,
            "value": value,
            "timestamp": m.timestamp,
            "step": m.step,
        }
        if m.dataset_name is not None or m.dataset_digest is not None or m.model_id is not None:
            if m.dataset_name is not None:
                item["dataset_name"] = m.dataset_name
            if m.dataset_digest is not None:
                item["dataset_digest"] = m.dataset_digest
            if m.model_id is not None:
                item["model_id"] = m.model_id
        rid = m.run_id or run_id
        if rid is not None:
            item["run_id"] = rid
        append(item)
    return out


def dataset_input_json(dataset_input: DatasetInput) -> dict[str, Any]:
    """A dataset input as ``runs/log-inputs`` sends it."""
    ds = dataset_input.dataset
    dataset: dict[str, Any] = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
    }
    if ds.schema is not None:
        dataset["schema"] = ds.schema
    if ds.profile is not None:
        dataset["profile"] = ds.profile
    out: dict[str, Any] = {"dataset": dataset}
    if dataset_input.tags:
        out["tags"] = key_values(dataset_input.tags)
    return out


# -- responses -----------------------------------------------------------------------------


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value)


def _opt_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value is None else str(value)


def _items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = data.get(name)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _pairs(data: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    return [(_str(item, "key"), _str(item, "value")) for item in _items(data, name)]


def experiment_from_json(data: Mapping[str, Any]) -> Experiment:
    """An :class:`Experiment` from its JSON."""
    return Experiment(
        experiment_id=_str(data, "experiment_id"),
        name=_str(data, "name"),
        artifact_location=_str(data, "artifact_location"),
        lifecycle_stage=_str(data, "lifecycle_stage") or "active",
        tags=[ExperimentTag(k, v) for k, v in _pairs(data, "tags")],
        creation_time=int64_from_json(data.get("creation_time")),
        last_update_time=int64_from_json(data.get("last_update_time")),
    )


def metric_from_json(data: Mapping[str, Any]) -> Metric:
    """A :class:`Metric` from its JSON."""
    return Metric(
        key=_str(data, "key"),
        value=double_from_json(data.get("value", 0.0)),
        timestamp=int64_from_json(data.get("timestamp")) or 0,
        step=int64_from_json(data.get("step")) or 0,
        dataset_name=_opt_str(data, "dataset_name"),
        dataset_digest=_opt_str(data, "dataset_digest"),
        model_id=_opt_str(data, "model_id"),
        run_id=_opt_str(data, "run_id"),
    )


def metrics_from_json(items: object) -> list[Metric]:
    """:func:`metric_from_json` of each object of a ``metrics`` array (others skipped), with
    the usual shape -- string key, number value, integer timestamp and step, perhaps a run
    id, nothing else -- read in one loop (100,000 points of a long history)."""
    if not isinstance(items, list):
        return []
    out: list[Metric] = []
    append = out.append
    for item in items:
        if type(item) is dict:
            size = len(item)
            key = item.get("key")
            value = item.get("value")
            timestamp = item.get("timestamp")
            step = item.get("step")
            run_id = item.get("run_id") if size == 5 else None
            # all four present (and a string run id for a fifth field): nothing else is there
            if (
                (size == 4 or type(run_id) is str)
                and type(key) is str
                and type(value) is float
                and type(timestamp) is int
                and type(step) is int
            ):
                append(Metric(key, value, timestamp, step, None, None, None, run_id))
                continue
        if isinstance(item, Mapping):
            append(metric_from_json(item))
    return out


def run_info_from_json(data: Mapping[str, Any]) -> RunInfo:
    """A :class:`RunInfo` from its JSON (``run_id``, or the older ``run_uuid``)."""
    run_id = _opt_str(data, "run_id") or _str(data, "run_uuid")
    return RunInfo(
        run_id=run_id,
        experiment_id=_str(data, "experiment_id"),
        user_id=_opt_str(data, "user_id"),
        status=_status_from_json(data.get("status")),
        start_time=int64_from_json(data.get("start_time")),
        end_time=int64_from_json(data.get("end_time")),
        lifecycle_stage=_str(data, "lifecycle_stage") or "active",
        artifact_uri=_opt_str(data, "artifact_uri"),
        run_name=_opt_str(data, "run_name"),
    )


def _dataset_input_from_json(data: Mapping[str, Any]) -> DatasetInput:
    ds = data.get("dataset")
    ds = ds if isinstance(ds, Mapping) else {}
    dataset = Dataset(
        name=_str(ds, "name"),
        digest=_str(ds, "digest"),
        source_type=_str(ds, "source_type"),
        source=_str(ds, "source"),
        schema=_opt_str(ds, "schema"),
        profile=_opt_str(ds, "profile"),
    )
    return DatasetInput(dataset=dataset, tags=[InputTag(k, v) for k, v in _pairs(data, "tags")])


def run_from_json(data: Mapping[str, Any]) -> Run:
    """A :class:`Run` from its JSON: info, data, inputs and outputs."""
    info = data.get("info")
    run_data = data.get("data")
    inputs = data.get("inputs")
    outputs = data.get("outputs")
    run_data = run_data if isinstance(run_data, Mapping) else {}
    inputs = inputs if isinstance(inputs, Mapping) else {}
    outputs = outputs if isinstance(outputs, Mapping) else {}
    return Run(
        run_info_from_json(info if isinstance(info, Mapping) else {}),
        RunData(
            metrics=[metric_from_json(m) for m in _items(run_data, "metrics")],
            params=[Param(k, v) for k, v in _pairs(run_data, "params")],
            tags=[RunTag(k, v) for k, v in _pairs(run_data, "tags")],
        ),
        RunInputs(
            dataset_inputs=[_dataset_input_from_json(d) for d in _items(inputs, "dataset_inputs")],
            model_inputs=[
                LoggedModelInput(_str(m, "model_id")) for m in _items(inputs, "model_inputs")
            ],
        ),
        RunOutputs(
            model_outputs=[
                LoggedModelOutput(_str(m, "model_id"), int64_from_json(m.get("step")) or 0)
                for m in _items(outputs, "model_outputs")
            ]
        ),
    )
