"""The codec: MLflow's JSON conventions both ways, lenient on what servers send."""

from __future__ import annotations

import math

import pytest

from trackline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    RunStatus,
    ViewType,
)
from trackline.exceptions import InvalidParameterValue
from trackline.store.rest import codec


def test_doubles_both_ways() -> None:
    assert codec.double_json(0.25) == 0.25
    assert codec.double_json(3) == 3.0
    assert codec.double_json(math.nan) == "NaN"
    assert codec.double_json(math.inf) == "Infinity"
    assert codec.double_json(-math.inf) == "-Infinity"
    assert math.isnan(codec.double_from_json("NaN"))
    assert codec.double_from_json("Infinity") == math.inf
    assert codec.double_from_json("-Infinity") == -math.inf
    assert codec.double_from_json("-inf") == -math.inf
    assert codec.double_from_json("1.5") == 1.5
    assert codec.double_from_json(2) == 2.0
    for bad in (True, "many", None, [1]):
        with pytest.raises(InvalidParameterValue):
            codec.double_from_json(bad)


def test_int64_as_number_or_string() -> None:
    assert codec.int64_from_json(1795352488770) == 1795352488770
    assert codec.int64_from_json("1795352488770") == 1795352488770
    assert codec.int64_from_json("-3") == -3
    assert codec.int64_from_json(5.0) == 5
    assert codec.int64_from_json(None) is None
    for bad in ("1.5", 1.5, False, "x"):
        with pytest.raises(InvalidParameterValue):
            codec.int64_from_json(bad)


def test_enum_names() -> None:
    assert codec.status_name(RunStatus.FINISHED) == "FINISHED"
    assert codec.status_name("killed") == "KILLED"
    assert codec.status_name("3") == "FINISHED"
    assert codec.status_name("BOGUS") == "BOGUS"  # passed on: the server ignores it
    assert codec.view_type_name(ViewType.DELETED_ONLY) == "DELETED_ONLY"
    assert codec.view_type_name("all") == "ALL"
    with pytest.raises(ValueError, match="view type"):
        codec.view_type_name(9)


def test_encode_is_compact_utf8_and_refuses_raw_nan() -> None:
    assert codec.encode({"a": "é", "b": [1, 2]}) == '{"a":"é","b":[1,2]}'.encode()
    with pytest.raises(InvalidParameterValue, match="JSON"):
        codec.encode({"value": math.nan})


def test_metric_json() -> None:
    metric = Metric("loss", math.nan, 5, 2, dataset_name="d", dataset_digest="g", model_id="m-1")
    assert codec.metric_json(metric, "r") == {
        "key": "loss",
        "value": "NaN",
        "timestamp": 5,
        "step": 2,
        "dataset_name": "d",
        "dataset_digest": "g",
        "model_id": "m-1",
        "run_id": "r",
    }
    own = Metric("loss", 1.0, 5, run_id="mine")
    assert codec.metric_json(own, "r")["run_id"] == "mine"
    assert "run_id" not in codec.metric_json(Metric("loss", 1.0, 5))


def test_dataset_input_json_leaves_out_unset_fields() -> None:
    dataset = Dataset("iris", "abc", "code", "{}")
    assert codec.dataset_input_json(DatasetInput(dataset)) == {
        "dataset": {"name": "iris", "digest": "abc", "source_type": "code", "source": "{}"}
    }
    tagged = DatasetInput(Dataset("iris", "abc", "code", "{}", "s", "p"), [InputTag("k", "v")])
    assert codec.dataset_input_json(tagged) == {
        "dataset": {"name": "iris", "digest": "abc", "source_type": "code", "source": "{}",
                    "schema": "s", "profile": "p"},
        "tags": [{"key": "k", "value": "v"}],
    }  # fmt: skip


def test_experiment_from_json_with_strings_for_int64() -> None:
    experiment = codec.experiment_from_json(
        {
            "experiment_id": "1",
            "name": "exp",
            "artifact_location": "mlflow-artifacts:/1",
            "lifecycle_stage": "active",
            "creation_time": "1795352488770",
            "last_update_time": 1795352488771,
            "tags": [{"key": "a", "value": "1"}, {"key": "empty"}],
            "workspace": "default",  # 3.x field, unknown here: ignored
        }
    )
    assert experiment.creation_time == 1795352488770
    assert experiment.last_update_time == 1795352488771
    assert experiment.tags == {"a": "1", "empty": ""}


def test_run_from_json_reads_every_part() -> None:
    run = codec.run_from_json(
        {
            "info": {"run_uuid": "r1", "experiment_id": "1", "status": 3,
                     "start_time": "10", "lifecycle_stage": "active", "run_name": "n"},
            "data": {
                "metrics": [{"key": "m", "value": "NaN", "timestamp": "7", "step": "2"},
                            {"key": "k", "value": 1.7976931348623157e308, "timestamp": 1}],
                "params": [{"key": "p", "value": "1"}],
                "tags": [{"key": "t", "value": "x"}],
            },
            "inputs": {
                "dataset_inputs": [{"tags": [{"key": "mlflow.data.context", "value": "train"}],
                                    "dataset": {"name": "d", "digest": "g",
                                                "source_type": "code", "source": "{}"}}],
                "model_inputs": [{"model_id": "m-1"}],
            },
            "outputs": {"model_outputs": [{"model_id": "m-2", "step": "4"}]},
        }
    )  # fmt: skip
    info = run.info
    assert (info.run_id, info.status, info.start_time, info.end_time) == (
        "r1",
        "FINISHED",
        10,
        None,
    )
    assert math.isnan(run.data.metrics["m"])
    assert run.data.metrics["k"] == 1.7976931348623157e308
    assert run.data._metric_objs[0].step == 2
    assert run.data._metric_objs[1].step == 0
    assert (run.data.params, run.data.tags) == ({"p": "1"}, {"t": "x"})
    assert run.inputs.dataset_inputs == [
        DatasetInput(Dataset("d", "g", "code", "{}"), [InputTag("mlflow.data.context", "train")])
    ]
    assert run.inputs.model_inputs == [LoggedModelInput("m-1")]
    assert run.outputs.model_outputs == [LoggedModelOutput("m-2", 4)]


def test_run_from_json_with_empty_parts() -> None:
    run = codec.run_from_json({"info": {"run_id": "r"}, "inputs": {}, "outputs": {}})
    assert run.info.status == "RUNNING"
    assert (run.data.metrics, run.data.params, run.data.tags) == ({}, {}, {})
    assert run.inputs.dataset_inputs == []
    assert run.outputs.model_outputs == []
