"""The JSON of trackline's two columnar endpoints, both sides (server and REST client).

MLflow's protocol carries runs and metric points as one JSON object per run or point; a
client building a DataFrame of 10,000 runs, or reading a 100,000-point history, spends most
of its time making and unmaking those objects. trackline's server also answers the same
questions column by column (``POST /api/2.0/trackline/runs/search-columns`` and ``GET
/api/2.0/trackline/metrics/get-history-columns``) and trackline's client asks them first:

* a string column is a JSON list (``null`` where a run has no value);
* a number column is the base64 of its little-endian values (int64 for times and steps,
  float64 for metric values), so NaN and infinities travel exactly and decode in one step.

Runs::

    {"run_id": [...], "experiment_id": [...], "status": [...], "artifact_uri": [...],
     "start_time": [...], "end_time": [...],
     "metrics": {"<key>": "<float64>", ...}, "params": {"<key>": [...], ...},
     "tags": {"<key>": [...], ...}, "next_page_token": "..."}

Times are epoch milliseconds (``null`` when unset: a running run has no end time);
``metrics`` hold NaN where a run has no value. Keys keep their order. A metric's history::

    {"key": "...", "timestamp": "<int64>", "step": "<int64>", "value": "<float64>",
     "next_page_token": "..."}
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from trackline.entities import MetricHistory, RunColumns
from trackline.exceptions import MlflowException

__all__ = [
    "HISTORY_COLUMNS_PATH",
    "SEARCH_COLUMNS_PATH",
    "history_from_json",
    "history_json",
    "run_columns_from_json",
    "run_columns_json",
]

#: The endpoints' paths below ``/api/2.0/trackline``.
SEARCH_COLUMNS_PATH = "runs/search-columns"
HISTORY_COLUMNS_PATH = "metrics/get-history-columns"

_F64 = "<f8"


def _pack(values: Any, dtype: str) -> str:
    import numpy as np

    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def _decoded(text: object, size: int | None) -> bytes:
    """The bytes of a number column of ``size`` values (8 bytes each), checked."""
    if not isinstance(text, str):
        raise _malformed("a number column is not a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise _malformed("a number column is not valid base64") from None
    if len(raw) % 8 or (size is not None and len(raw) != 8 * size):
        raise _malformed("a number column has the wrong length")
    return raw


def _unpack(text: object, dtype: str, size: int | None = None) -> Any:
    import numpy as np

    return np.frombuffer(_decoded(text, size), dtype=dtype).astype(dtype[1:], copy=True)


def _malformed(what: str) -> MlflowException:
    return MlflowException(f"The tracking server's columnar answer is malformed: {what}.")


def _strings(values: Sequence[Any]) -> list[Any]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def run_columns_json(columns: RunColumns) -> dict[str, Any]:
    """The answer of ``runs/search-columns`` for one page."""
    out: dict[str, Any] = {}
    if len(columns):
        out = {
            "run_id": list(columns.run_id),
            "experiment_id": list(columns.experiment_id),
            "status": list(columns.status),
            "artifact_uri": list(columns.artifact_uri),
            "start_time": list(columns.start_time),
            "end_time": list(columns.end_time),
            "metrics": {key: _pack(v, _F64) for key, v in columns.metrics.items()},
            "params": {key: _strings(v) for key, v in columns.params.items()},
            "tags": {key: _strings(v) for key, v in columns.tags.items()},
        }
    if columns.token:
        out["next_page_token"] = columns.token
    return out


def run_columns_from_json(data: Mapping[str, Any]) -> RunColumns:
    """The :class:`RunColumns` of a ``runs/search-columns`` answer."""
    out = RunColumns(token=data.get("next_page_token") or None)
    run_ids = data.get("run_id")
    if not run_ids:
        return out
    size = len(run_ids)
    out.run_id = list(run_ids)
    for name in ("experiment_id", "status", "artifact_uri", "start_time", "end_time"):
        setattr(out, name, _column(data.get(name), size, name))
    out.metrics = {k: _unpack(v, _F64, size) for k, v in _group(data, "metrics").items()}
    out.params = {k: _column(v, size, k) for k, v in _group(data, "params").items()}
    out.tags = {k: _column(v, size, k) for k, v in _group(data, "tags").items()}
    return out


def _group(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    group = data.get(name) or {}
    if not isinstance(group, dict):
        raise _malformed(f"{name} is not an object")
    return group


def _column(values: object, size: int, name: str) -> list[Any]:
    if not isinstance(values, list) or len(values) != size:
        raise _malformed(f"column {name!r} does not have one value per run")
    return values


def _pack_array(values: array[Any]) -> str:
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _unpack_array(text: object, typecode: str, size: int | None = None) -> array[Any]:
    out = array(typecode, _decoded(text, size))
    if sys.byteorder == "big":
        out.byteswap()
    return out


def history_json(history: MetricHistory) -> dict[str, Any]:
    """The answer of ``metrics/get-history-columns`` for one page."""
    out: dict[str, Any] = {
        "key": history.key,
        "timestamp": _pack_array(history.timestamp),
        "step": _pack_array(history.step),
        "value": _pack_array(history.value),
    }
    if history.token:
        out["next_page_token"] = history.token
    return out


def history_from_json(key: str, data: Mapping[str, Any]) -> MetricHistory:
    """The :class:`MetricHistory` of a ``metrics/get-history-columns`` answer (no numpy:
    a short history must not cost its import)."""
    value: array[float] = _unpack_array(data.get("value", ""), "d")
    size = len(value)
    return MetricHistory(
        key,
        _unpack_array(data.get("timestamp", ""), "q", size),
        _unpack_array(data.get("step", ""), "q", size),
        value,
        data.get("next_page_token") or None,
    )
