"""The codec's one-loop batch functions give what the per-item ones give, and its JSON
(orjson when installed) reads and writes what the standard library does."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from trackline.entities import Metric
from trackline.exceptions import InvalidParameterValue
from trackline.store.rest import codec

POINTS = [
    Metric("a", 0.5, 1, 2),
    Metric("b", math.nan, 1, 0),
    Metric("c", math.inf, 3, 4, run_id="other"),
    Metric("d", -math.inf, 3, 4, dataset_name="ds", dataset_digest="x1"),
    Metric("e", 7, 3, 4, model_id="m-1"),  # type: ignore[arg-type]  # an int slips through
    Metric("f", 1e300, 2**62, -(2**62)),
]


@pytest.mark.parametrize("run_id", [None, "r" * 32])
def test_metrics_json_is_metric_json_of_each(run_id: str | None) -> None:
    assert codec.metrics_json(POINTS, run_id) == [codec.metric_json(m, run_id) for m in POINTS]


ITEMS: list[Any] = [
    {"key": "a", "value": 0.5, "timestamp": 1, "step": 2},
    {"key": "a", "value": 0.5, "timestamp": 1, "step": 2, "run_id": "r"},
    {"key": "a", "value": 0.5, "timestamp": 1, "step": 2, "run_id": ""},
    {"key": "a", "value": 0.5, "timestamp": 1, "step": 2, "run_id": None},
    {"key": "a", "value": 0.5, "timestamp": 1, "step": 2, "dataset_name": "d"},
    {"key": "a", "value": 0.5, "timestamp": 1, "run_id": "r", "model_id": "m"},
    {"key": "a", "value": 0.5, "timestamp": 1, "run_id": "r"},
    {"key": "a", "value": 0.5, "timestamp": 1},
    {"key": "a", "value": "NaN", "timestamp": 1, "step": 2},
    {"key": "a", "value": 1, "timestamp": "5", "step": 2},
    {"key": "a", "value": 0.5, "timestamp": 1.0, "step": 2},
    {"key": 3, "value": 0.5, "timestamp": 1, "step": 2},
    {"value": 0.5, "timestamp": 1, "step": 2, "extra": 1},
    {"key": "a", "value": 0.5, "timestamp": 1, "step": 2, "extra": 1},
    "not an object",
    None,
]


def _fields(m: Metric) -> tuple[Any, ...]:
    value = "nan" if math.isnan(m.value) else m.value
    return (m.key, value, m.timestamp, m.step, m.dataset_name, m.dataset_digest, m.model_id,
            m.run_id)  # fmt: skip


def test_metrics_from_json_is_metric_from_json_of_each() -> None:
    expected = [codec.metric_from_json(item) for item in ITEMS if isinstance(item, dict)]
    assert [_fields(m) for m in codec.metrics_from_json(ITEMS)] == [_fields(m) for m in expected]
    assert codec.metrics_from_json({"not": "a list"}) == []
    bad = {"key": "a", "value": 0.5, "timestamp": 1, "step": True}
    with pytest.raises(InvalidParameterValue, match="integer"):
        codec.metrics_from_json([bad])


@pytest.mark.parametrize(
    "payload", [{"a": [1, "é", 0.1, 1e-05]}, {"big": 2**70}, {"text": "null"}, {}]
)
def test_encode_writes_what_the_standard_library_writes(payload: dict[str, Any]) -> None:
    assert json.loads(codec.encode(payload)) == payload


def test_encode_refuses_a_stray_nan() -> None:
    with pytest.raises(InvalidParameterValue, match="cannot be encoded"):
        codec.encode({"value": math.nan})
    with pytest.raises(InvalidParameterValue, match="cannot be encoded"):
        codec.encode({"value": math.inf, "other": None})


@pytest.mark.parametrize(
    "content", [b'{"a": [1, 2.5, "x"], "b": null}', b'{"v": NaN}', b'{"s": "\\ud800"}']
)
def test_decode_reads_what_the_standard_library_reads(content: bytes) -> None:
    assert json.dumps(codec.decode(content)) == json.dumps(json.loads(content))


def test_decode_refuses_what_is_not_json() -> None:
    with pytest.raises(ValueError):
        codec.decode(b"<html>")
