"""The wire conventions, unit by unit: request parsing and entity encoding."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from trackline.entities import (
    Dataset,
    DatasetInput,
    Experiment,
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
    RunTag,
)
from trackline.exceptions import InvalidParameterValue
from trackline.server import requests as rq
from trackline.server.wire import (
    Field,
    Message,
    Params,
    decode_json,
    double_json,
    dumps,
    experiment_json,
    metric_json,
    parse_message,
    query_to_raw,
    run_info_json,
    run_json,
)

SAMPLE = Message(
    "Sample",
    (
        Field("name", "string", required=True),
        Field("count", "int64"),
        Field("ratio", "double"),
        Field("flag", "bool"),
        Field("status", "enum", enum=rq.RUN_STATUSES),
        Field("labels", "string", repeated=True),
        Field("run_id", "string", aliases=("run_uuid",)),
        Field("max_results", "int64"),
        Field("tags", "message", repeated=True, message=rq.TAG),
    ),
)


def parse(**body: Any) -> Params:
    return parse_message(SAMPLE, {"name": "n", **body})


def test_only_given_fields_are_present() -> None:
    assert parse() == {"name": "n"}


@pytest.mark.parametrize(("raw", "expected"), [(5, 5), ("5", 5), ("-7", -7), (3.0, 3)])
def test_int64_accepts_numbers_and_strings(raw: object, expected: int) -> None:
    assert parse(count=raw)["count"] == expected


@pytest.mark.parametrize("raw", [True, 1.5, "1.5", "x", "", [1], {"a": 1}, 2**63, "-9" * 12])
def test_int64_rejects_anything_else(raw: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'count'"):
        parse(count=raw)


def test_int64_range_is_checked() -> None:
    assert parse(count=2**63 - 1)["count"] == 2**63 - 1
    assert parse(count=str(-(2**63)))["count"] == -(2**63)
    with pytest.raises(InvalidParameterValue, match="64-bit"):
        parse(count=str(2**63))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0.5, 0.5), (2, 2.0), ("1.25", 1.25), ("-1e3", -1000.0), ("Infinity", math.inf),
     ("-Infinity", -math.inf)],
)  # fmt: skip
def test_double_accepts_numbers_and_special_strings(raw: object, expected: float) -> None:
    assert parse(ratio=raw)["ratio"] == expected


def test_double_accepts_nan_string() -> None:
    assert math.isnan(parse(ratio="NaN")["ratio"])


@pytest.mark.parametrize("raw", [True, "abc", "", "nan ", [1.0], {"v": 1}, 10**400])
def test_double_rejects_anything_else(raw: object) -> None:
    with pytest.raises(InvalidParameterValue, match="'ratio'"):
        parse(ratio=raw)


def test_enum_takes_names_or_numbers_and_ignores_unknown_values() -> None:
    assert parse(status="FINISHED")["status"] == 3
    assert parse(status=4)["status"] == 4
    assert parse(status="5")["status"] == 5
    assert "status" not in parse(status="NOT_A_STATUS")
    assert "status" not in parse(status=99)
    with pytest.raises(InvalidParameterValue, match="'status'"):
        parse(status=[1])


def test_bool_accepts_json_and_query_spellings() -> None:
    assert parse(flag=True)["flag"] is True
    assert parse(flag="false")["flag"] is False
    with pytest.raises(InvalidParameterValue):
        parse(flag=1)


def test_strings_accept_integers_but_not_other_types() -> None:
    assert parse_message(SAMPLE, {"name": 12})["name"] == "12"
    for bad in (1.5, True, [], {}):
        with pytest.raises(InvalidParameterValue, match="'name'"):
            parse_message(SAMPLE, {"name": bad})


def test_required_field_missing_empty_or_null() -> None:
    for body in ({}, {"name": ""}, {"name": None}):
        with pytest.raises(InvalidParameterValue, match="Missing value for required parameter"):
            parse_message(SAMPLE, body)


def test_camel_case_names_are_accepted() -> None:
    assert parse(maxResults=10)["max_results"] == 10
    assert parse(runId="r")["run_id"] == "r"


def test_both_spellings_at_once_are_rejected() -> None:
    with pytest.raises(InvalidParameterValue, match="given twice"):
        parse(max_results=1, maxResults=2)


def test_run_uuid_is_an_alias_of_run_id() -> None:
    assert parse(run_uuid="r1")["run_id"] == "r1"
    assert parse(run_id="r1", run_uuid="r1")["run_id"] == "r1"
    assert parse(run_id="r1", run_uuid="other")["run_id"] == "r1"


def test_repeated_fields_need_arrays() -> None:
    assert parse(labels=["a", "b"])["labels"] == ["a", "b"]
    with pytest.raises(InvalidParameterValue, match="'labels'"):
        parse(labels="a")
    with pytest.raises(InvalidParameterValue, match=r"'labels\[1\]'"):
        parse(labels=["a", {}])


def test_nested_messages_are_checked_with_their_path() -> None:
    tags = parse(tags=[{"key": "k", "value": "v"}, {"key": "k2"}])["tags"]
    assert tags == [{"key": "k", "value": "v"}, {"key": "k2"}]
    assert isinstance(tags[0], Params)
    with pytest.raises(InvalidParameterValue, match=r"'tags\[1\]\.key'"):
        parse(tags=[{"key": "k"}, {"value": "v"}])
    with pytest.raises(InvalidParameterValue, match=r"'tags\[0\]'"):
        parse(tags=[["k", "v"]])


@pytest.mark.parametrize("body", [[], "x", 1, None])
def test_body_must_be_an_object(body: object) -> None:
    with pytest.raises(InvalidParameterValue, match="JSON object"):
        parse_message(SAMPLE, body)


def test_unknown_fields_are_ignored() -> None:
    assert parse(whatever=[1, 2]) == {"name": "n"}


def test_query_strings_repeat_keys_for_lists() -> None:
    items = [("name", "n"), ("labels", "a"), ("labels", "b"), ("count", "3"), ("count", "4")]
    raw = query_to_raw(SAMPLE, items)
    assert raw == {"name": "n", "labels": ["a", "b"], "count": "3"}
    assert parse_message(SAMPLE, raw)["count"] == 3


def test_decode_json() -> None:
    assert decode_json(b"") == {}
    assert decode_json(b"  ") == {}
    assert decode_json(b'{"a": 1}') == {"a": 1}
    assert decode_json(json.dumps('{"a": 1}').encode()) == {"a": 1}  # double-encoded
    for bad in (b"{", b"\xff\xfe\x00", b"[" * 100_000, b'"not json inside"'):
        with pytest.raises(InvalidParameterValue, match="Malformed JSON"):
            decode_json(bad)


# -- encoding ----------------------------------------------------------------------------


def test_double_json() -> None:
    assert double_json(1.5) == 1.5
    assert double_json(math.nan) == "NaN"
    assert double_json(math.inf) == "Infinity"
    assert double_json(-math.inf) == "-Infinity"


def test_dumps_is_compact_utf8_and_refuses_bare_nan() -> None:
    assert dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()
    with pytest.raises(ValueError, match="JSON compliant"):
        dumps({"v": math.nan})


def test_experiment_json_omits_unset_and_empty_fields() -> None:
    bare = Experiment("1", "e", "file:///a/1", "active")
    assert experiment_json(bare) == {
        "experiment_id": "1",
        "name": "e",
        "artifact_location": "file:///a/1",
        "lifecycle_stage": "active",
    }
    full = Experiment("1", "e", "x", "deleted", {"k": "v"}, creation_time=5, last_update_time=6)
    out = experiment_json(full)
    assert out["tags"] == [{"key": "k", "value": "v"}]
    assert (out["creation_time"], out["last_update_time"]) == (5, 6)


def test_run_info_json_has_both_ids_and_omits_unset_times() -> None:
    info = RunInfo(run_id="r", experiment_id="1", status="RUNNING", start_time=3)
    out = run_info_json(info)
    assert out["run_id"] == out["run_uuid"] == "r"
    assert out["start_time"] == 3
    assert "end_time" not in out
    assert "user_id" not in out
    assert isinstance(out["start_time"], int)


def test_metric_json_spells_non_finite_values_as_strings() -> None:
    assert metric_json(Metric("m", math.nan, 1, 2))["value"] == "NaN"
    assert metric_json(Metric("m", -math.inf, 1))["value"] == "-Infinity"
    out = metric_json(Metric("m", 1.0, 10, 0, model_id="m-1"))
    assert out == {"key": "m", "value": 1.0, "timestamp": 10, "step": 0, "model_id": "m-1"}


def test_run_json_full_shape() -> None:
    run = Run(
        RunInfo(run_id="r", experiment_id="1"),
        RunData(
            metrics=[Metric("loss", math.inf, 5, 1)],
            params=[Param("p", "1")],
            tags=[RunTag("t", "v")],
        ),
        RunInputs(
            dataset_inputs=[
                DatasetInput(
                    Dataset("d", "abc", "code", "{}"), [InputTag("mlflow.data.context", "t")]
                )
            ],
            model_inputs=[LoggedModelInput("m-1")],
        ),
        RunOutputs([LoggedModelOutput("m-2", 3)]),
    )
    out = run_json(run)
    assert out["data"] == {
        "metrics": [{"key": "loss", "value": "Infinity", "timestamp": 5, "step": 1}],
        "params": [{"key": "p", "value": "1"}],
        "tags": [{"key": "t", "value": "v"}],
    }
    assert out["inputs"] == {
        "dataset_inputs": [
            {
                "dataset": {"name": "d", "digest": "abc", "source_type": "code", "source": "{}"},
                "tags": [{"key": "mlflow.data.context", "value": "t"}],
            }
        ],
        "model_inputs": [{"model_id": "m-1"}],
    }
    assert out["outputs"] == {"model_outputs": [{"model_id": "m-2", "step": 3}]}
    json.loads(dumps(out))  # strict JSON


def test_empty_run_has_empty_data_inputs_and_outputs() -> None:
    out = run_json(Run(RunInfo(run_id="r", experiment_id="0")))
    assert out["data"] == out["inputs"] == out["outputs"] == {}
