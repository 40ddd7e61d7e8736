"""The fast paths of the wire give exactly what the general ones give.

``metric_points`` and ``parse_log_batch`` read log-batch metrics straight into entities;
``decode_json`` and ``dumps`` use orjson when installed. Each is checked here against the
general parser (or the standard library) on plain and unusual inputs alike.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from trackline.entities import Metric
from trackline.exceptions import InvalidParameterValue
from trackline.server import requests as rq
from trackline.server.routes.runs import _metric, parse_log_batch
from trackline.server.wire import decode_json, dumps, metric_points, parse_message

RUN = "r" * 32

# Each a metrics array a client might send: plain ones take the fast path, the others must
# be left to the general parser (metric_points gives None) or give the same entities.
ARRAYS: list[Any] = [
    [],
    [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 2}],
    [{"key": "loss", "value": 0.5, "timestamp": 1}],
    [{"key": "loss", "value": 0.5, "timestamp": 1, "step": None}],
    [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 3, "run_id": RUN}],
    [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 3, "run_id": "other"}],
    [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 3, "run_id": ""}],
    [{"key": "loss", "value": 0.5, "timestamp": 1, "run_id": None}],
    [{"key": "a", "value": 1, "timestamp": 1}, {"key": "b", "value": -7, "timestamp": 2}],
    [{"key": "a", "value": 2**80, "timestamp": 1}],
    [{"key": "a", "value": 10**400, "timestamp": 1}],
    [{"key": "a", "value": v, "timestamp": 1} for v in ("NaN", "Infinity", "-Infinity")],
    [{"key": "a", "value": "1.5", "timestamp": 1}],
    [{"key": "a", "value": "nan", "timestamp": 1}],
    [{"key": "a", "value": True, "timestamp": 1}],
    [{"key": "a", "value": None, "timestamp": 1}],
    [{"key": "a", "value": 1.0, "timestamp": "12"}],
    [{"key": "a", "value": 1.0, "timestamp": 12.0}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "step": "4"}],
    [{"key": "a", "value": 1.0, "timestamp": 2**63}],
    [{"key": "a", "value": 1.0, "timestamp": -(2**63), "step": 2**63 - 1}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "step": -(2**63) - 1}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "step": False}],
    [{"key": "", "value": 1.0, "timestamp": 1}],
    [{"key": 5, "value": 1.0, "timestamp": 1}],
    [{"value": 1.0, "timestamp": 1}],
    [{"key": "a", "value": 1.0}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "dataset_name": "d", "dataset_digest": "x"}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "dataset_name": "", "model_id": "m-1"}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "model_id": 3}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "datasetName": "d"}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "runId": "x"}],
    [{"key": "a", "value": 1.0, "timestamp": 1, "unknown": 1}],
    [{"key": "a", "value": 1.0, "timestamp": 1}, "not an object"],
    [{"key": "a", "value": 1.0, "timestamp": 1}, None],
    [[1, 2]],
]


def _general(items: object, run_id: str = RUN) -> list[Metric]:
    """The entities the general parser and the handler make of a metrics array."""
    params = parse_message(rq.LOG_BATCH, {"run_id": run_id, "metrics": items})
    return [_metric(m, run_id) for m in params.messages("metrics")]


def _same(a: list[Metric], b: list[Metric]) -> bool:
    """Equal, NaN included."""
    return len(a) == len(b) and all(
        (x.key, x.timestamp, x.step, x.dataset_name, x.dataset_digest, x.model_id, x.run_id)
        == (y.key, y.timestamp, y.step, y.dataset_name, y.dataset_digest, y.model_id, y.run_id)
        and (x.value == y.value or (math.isnan(x.value) and math.isnan(y.value)))
        for x, y in zip(a, b, strict=True)
    )


def _outcome(parse: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(*args)
    except InvalidParameterValue as exc:
        return "error", exc.message


@pytest.mark.parametrize("items", ARRAYS)
def test_metric_points_match_the_general_parser(items: Any) -> None:
    fast = metric_points(items, RUN)
    kind, general = _outcome(_general, items)
    if fast is None:
        return  # left to the general parser
    assert kind == "ok", general
    assert _same(fast, general)


@pytest.mark.parametrize("items", ARRAYS)
def test_parse_log_batch_matches_the_general_parser(items: Any) -> None:
    body = {"run_id": RUN, "metrics": items, "params": [{"key": "p", "value": "1"}]}
    fast_kind, fast = _outcome(parse_log_batch, rq.LOG_BATCH, body)
    kind, general = _outcome(parse_message, rq.LOG_BATCH, body)
    assert fast_kind == kind
    if kind == "error":
        assert fast == general
        return
    assert fast["run_id"] == general["run_id"]
    assert fast.messages("params") == general.messages("params")
    as_entities = [m if isinstance(m, Metric) else _metric(m, RUN) for m in fast.get("metrics", [])]
    assert _same(as_entities, [_metric(m, RUN) for m in general.messages("metrics")])


@pytest.mark.parametrize(
    "body",
    [
        {"metrics": [{"key": "a", "value": 1.0, "timestamp": 1}]},  # no run id
        {"run_id": RUN, "metrics": [{"key": "a", "value": 1.0, "timestamp": 1}], "params": 1},
        {"run_id": RUN, "metrics": [{"key": "a", "value": "x", "timestamp": 1}], "tags": [3]},
        {"run_id": RUN, "metrics": {"key": "a"}},
        [1],
    ],
)
def test_parse_log_batch_words_errors_as_the_general_parser(body: Any) -> None:
    fast = _outcome(parse_log_batch, rq.LOG_BATCH, body)
    assert fast[0] == "error"
    assert fast == _outcome(parse_message, rq.LOG_BATCH, body)


def test_parse_log_batch_reads_the_run_uuid_alias() -> None:
    body = {"run_uuid": RUN, "metrics": [{"key": "a", "value": 1.0, "timestamp": 1}]}
    assert parse_log_batch(rq.LOG_BATCH, body)["metrics"] == [Metric("a", 1.0, 1, run_id=RUN)]


def test_plain_points_become_entities_with_the_run_id() -> None:
    items = [
        {"key": "a", "value": 0.25, "timestamp": 5, "step": 1, "run_id": RUN},
        {"key": "b", "value": "NaN", "timestamp": 6},
    ]
    points = metric_points(items, RUN)
    assert points is not None
    assert points[0] == Metric("a", 0.25, 5, 1, run_id=RUN)
    assert points[1].key == "b"
    assert math.isnan(points[1].value)
    assert points[1].run_id == RUN


# -- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "b": [1.5, "x"], "c": {"d": null}}',
        b'{"v": NaN, "w": Infinity, "x": -Infinity}',  # the standard library's literals
        b'{"a": "\\ud800"}',  # a lone surrogate
        b'{"edges": [9223372036854775807, -9223372036854775808, 18446744073709551615]}',
        b'"{\\"run_id\\": \\"x\\"}"',  # encoded twice
        '{"name": "é"}'.encode(),
    ],
)
def test_decode_json_reads_what_the_standard_library_reads(body: bytes) -> None:
    expected = json.loads(body)
    if isinstance(expected, str):
        expected = json.loads(expected)
    got = decode_json(body)
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("body", [b"{", b"[" * 5000, b"\xff\xfe", b'{"a": }'])
def test_decode_json_refuses_what_is_not_json(body: bytes) -> None:
    with pytest.raises(InvalidParameterValue, match="Malformed JSON"):
        decode_json(body)


def test_an_int64_field_refuses_integers_beyond_64_bits() -> None:
    message = rq.GET_METRIC_HISTORY
    for number in ("9223372036854775808", "-9223372036854775809", "1180591620717411303424"):
        raw = decode_json(f'{{"run_id": "r", "metric_key": "m", "max_results": {number}}}'.encode())
        with pytest.raises(InvalidParameterValue, match="out of the range"):
            parse_message(message, raw)


@pytest.mark.parametrize(
    "payload",
    [
        {"a": [1, "é", 1.5, 1e-05, 1e22, -0.0, True, False]},
        {"nested": {"null": "null", "list": [{}]}},
        {"big": 2**70},
        {"empty": {}},
    ],
)
def test_dumps_writes_what_the_standard_library_writes(payload: dict[str, Any]) -> None:
    assert json.loads(dumps(payload)) == payload
    assert dumps(payload).decode() == dumps(payload).decode("utf-8")


def test_dumps_refuses_a_stray_nan_even_beside_a_null() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        dumps({"v": math.inf})
    with pytest.raises(ValueError, match="JSON compliant"):
        dumps({"v": math.nan, "w": None})
