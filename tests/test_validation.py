"""MLflow's validation rules (trackline.validation)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from trackline import validation as v
from trackline.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from trackline.exceptions import InvalidParameterValue


@pytest.mark.parametrize(
    "key", ["a", "a/b", "a b", "a:b", "a.b-c_d", "ü", "x" * 250, "a/b.c", "..a"[1:]]
)
def test_valid_keys(key: str) -> None:
    assert v.validate_metric_name(key) == key
    assert v.validate_param_name(key) == key
    assert v.validate_tag_name(key) == key


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("a//b", "resolve to 'a/b'"),
        ("a/", "resolve to 'a'"),
        ("./a", "resolve to 'a'"),
        ("../x", "resolve to '../x'"),
        ("/abs", "resolve to '/abs'"),
        (".", "resolve to '.'"),
        ("", "resolve to '.'"),
        ("a*b", "may only contain"),
        ("tab\tkey", "may only contain"),
        ("x" * 251, "at most 250"),
    ],
)
def test_invalid_keys(key: str, fragment: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid metric name") as info:
        v.validate_metric_name(key)
    assert fragment in info.value.message
    with pytest.raises(InvalidParameterValue, match="Invalid parameter name"):
        v.validate_param_name(key)
    with pytest.raises(InvalidParameterValue, match="Invalid tag name"):
        v.validate_tag_name(key)


def test_missing_and_non_string_keys() -> None:
    with pytest.raises(InvalidParameterValue, match="Missing value for required parameter 'key'"):
        v.validate_metric_name(None)
    with pytest.raises(InvalidParameterValue, match="must be strings"):
        v.validate_metric_name(3)


def test_valid_metrics_are_normalized() -> None:
    plain = Metric("m", 1.5, 10, 2)
    assert v.validate_metric(plain) is plain
    converted = v.validate_metric(Metric("m", np.float32(2.5), np.int64(7), None))  # type: ignore[arg-type]
    assert (converted.value, converted.timestamp, converted.step) == (2.5, 7, 0)
    assert type(converted.value) is float
    assert type(converted.timestamp) is int
    assert v.validate_metric(Metric("m", 3, 8.0, "4")).step == 4  # type: ignore[arg-type]
    assert math.isnan(v.validate_metric(Metric("m", math.nan, 1, 0)).value)
    assert v.validate_metric(Metric("m", 1.0, 1, -5)).step == -5


@pytest.mark.parametrize(
    ("metric", "fragment"),
    [
        (Metric("m", "1.0", 1, 0), "invalid value '1.0'"),  # type: ignore[arg-type]
        (Metric("m", True, 1, 0), "invalid value True"),
        (Metric("m", None, 1, 0), "parameter 'value'"),  # type: ignore[arg-type]
        (Metric("m", 1.0, None, 0), "parameter 'timestamp'"),  # type: ignore[arg-type]
        (Metric("m", 1.0, -1, 0), "invalid timestamp -1"),
        (Metric("m", 1.0, 1.5, 0), "invalid timestamp 1.5"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 2**63, 0), "invalid timestamp"),
        (Metric("m", 1.0, 1, 1.5), "invalid step 1.5"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 1, "x"), "invalid step 'x'"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 1, 2**63), "invalid step"),
        (Metric("a//b", 1.0, 1, 0), "Invalid metric name"),
    ],
)
def test_invalid_metrics(metric: Metric, fragment: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        v.validate_metric(metric)
    assert fragment in info.value.message


def test_sanitize_metric_value() -> None:
    assert v.sanitize_metric_value(math.nan) == (True, 0.0)
    assert v.sanitize_metric_value(math.inf) == (False, v.METRIC_VALUE_MAX)
    assert v.sanitize_metric_value(-math.inf) == (False, -v.METRIC_VALUE_MAX)
    assert v.sanitize_metric_value(-2.5) == (False, -2.5)


def test_params_and_tags_are_truncated_unless_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    assert v.validate_param(Param("p", "x" * 6001)).value == "x" * 6000
    assert v.validate_tag(RunTag("t", "y" * 8001)).value == "y" * 8000
    kept = Param("p", "x" * 6000)
    assert v.validate_param(kept) is kept
    assert v.validate_param(Param("p", 0.1)).value == "0.1"  # type: ignore[arg-type]
    assert v.validate_param(Param("p", None)).value == ""  # type: ignore[arg-type]
    assert v.validate_tag(RunTag("t", None)).value is None  # type: ignore[arg-type]
    assert v.validate_tag(RunTag("t", 5)).value == "5"  # type: ignore[arg-type]
    for off in ("false", "0", "no"):
        monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", off)
        assert not v.truncate_long_values()
        with pytest.raises(InvalidParameterValue, match="'Param value' exceeds the maximum"):
            v.validate_param(Param("p", "x" * 6001))
        with pytest.raises(InvalidParameterValue, match="'Tag value' exceeds the maximum"):
            v.validate_tag(RunTag("t", "y" * 8001))
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "True")
    assert v.truncate_long_values()


def test_experiment_tags_are_never_truncated() -> None:
    assert v.validate_experiment_tag("k", "v" * 20000) == ("k", "v" * 20000)
    assert v.validate_experiment_tag("k", 3) == ("k", "3")
    with pytest.raises(InvalidParameterValue, match="20000"):
        v.validate_experiment_tag("k", "v" * 20001)
    with pytest.raises(InvalidParameterValue, match="'value'"):
        v.validate_experiment_tag("k", None)
    with pytest.raises(InvalidParameterValue, match="Invalid tag name"):
        v.validate_experiment_tag("a//b", "v")


def test_batch_rules() -> None:
    v.validate_batch_limits(1000, 0, 0)
    v.validate_batch_limits(800, 100, 100)
    for counts, fragment in (
        ((1001, 0, 0), "at most 1000 metrics. Got 1001 metrics"),
        ((0, 101, 0), "at most 100 params"),
        ((0, 0, 101), "at most 100 tags"),
        ((900, 100, 1), "at most 1000 total"),
    ):
        with pytest.raises(InvalidParameterValue, match=fragment):
            v.validate_batch_limits(*counts)
    with pytest.raises(InvalidParameterValue, match=r"Duplicate parameter keys .*\['a'\]"):
        v.validate_param_keys_unique([Param("a", "1"), Param("b", "1"), Param("a", "1")])
    metrics, params, tags = v.validate_batch_log_data(
        [Metric("m", 1, 1, 0)], [Param("p", "x" * 7000)], [RunTag("t", "v")]
    )
    assert (metrics[0].value, len(params[0].value), tags[0].value) == (1.0, 6000, "v")
    with pytest.raises(InvalidParameterValue, match="Duplicate"):
        v.validate_batch_log_data([], [Param("a", "1"), Param("a", "2")], [])


def test_ids_names_and_locations() -> None:
    assert v.validate_run_id("a" * 32) == "a" * 32
    for bad in ("", None, "../x", "-a", "a" * 257, 5):
        with pytest.raises(InvalidParameterValue):
            v.validate_run_id(bad)
    assert v.validate_experiment_id(12) == "12"
    for bad_id in ("", None, "a/b", True):
        with pytest.raises(InvalidParameterValue):
            v.validate_experiment_id(bad_id)
    assert v.validate_experiment_name("exp") == "exp"
    for bad_name in ("", None, 3, "x" * 501):
        with pytest.raises(InvalidParameterValue, match="Invalid experiment name"):
            v.validate_experiment_name(bad_name)
    assert v.validate_run_name("r" * 250) == "r" * 250
    for bad_run_name in (3, "r" * 251):
        with pytest.raises(InvalidParameterValue, match="Invalid run name"):
            v.validate_run_name(bad_run_name)
    v.validate_experiment_artifact_location(None)
    v.validate_experiment_artifact_location("s3://bucket/x")
    with pytest.raises(InvalidParameterValue, match="runs:/"):
        v.validate_experiment_artifact_location("RUNS:/abc")


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), ("7", 7), (50000, 50000), (np.int64(3), 3)]
)
def test_max_results(value: Any, expected: int) -> None:
    assert v.validate_max_results(value, 50000) == expected


@pytest.mark.parametrize("value", [0, -5, None, "x", 1.5, True])
def test_bad_max_results(value: Any) -> None:
    with pytest.raises(InvalidParameterValue, match="positive integer"):
        v.validate_max_results(value, 50000)


def test_max_results_limit() -> None:
    with pytest.raises(InvalidParameterValue, match="at most 50000, but got value 50001"):
        v.validate_max_results(50001, 50000)


def _input(**changes: Any) -> DatasetInput:
    fields: dict[str, Any] = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
    tags = changes.pop("tags", [])
    fields.update(changes)
    return DatasetInput(Dataset(**fields), tags)


def test_dataset_inputs() -> None:
    v.validate_dataset_inputs(
        [_input(schema="{}", profile="{}", tags=[InputTag("mlflow.data.context", "train")])]
    )
    bad = [
        (_input(name=""), "'dataset.name'"),
        (_input(name="n" * 501), "Dataset name"),
        (_input(digest="d" * 37), "Dataset digest"),
        (_input(source=None), "'dataset.source'"),
        (_input(schema="s" * (v.MAX_DATASET_SCHEMA_SIZE + 1)), "Dataset schema"),
        (_input(tags=[InputTag("", "v")]), "'tags.key'"),
        (_input(tags=[InputTag("k", None)]), "'tags.value'"),
        (_input(tags=[InputTag("k" * 256, "v")]), "Input tag key"),
        (_input(tags=[InputTag("k", "v" * 501)]), "Input tag value"),
    ]
    for dataset_input, fragment in bad:
        with pytest.raises(InvalidParameterValue) as info:
            v.validate_dataset_inputs([dataset_input])
        assert fragment in info.value.message


def test_registry_rules() -> None:
    assert v.validate_registered_model_name("my model") == "my model"
    for bad_model in ("", "  ", "a/b", "a:b", "a/../b", None):
        with pytest.raises(InvalidParameterValue):
            v.validate_registered_model_name(bad_model)
    assert v.validate_model_alias_name("champion-1") == "champion-1"
    for bad_alias in ("latest", "LATEST", "v1", "V22", "a b", "x" * 256, ""):
        with pytest.raises(InvalidParameterValue):
            v.validate_model_alias_name(bad_alias)
    assert v.validate_model_alias_name("v1a") == "v1a"
    assert v.validate_registry_tag("k", "v" * 100000) == ("k", "v" * 100000)
    with pytest.raises(InvalidParameterValue):
        v.validate_registry_tag("k", "v" * 100001)
    with pytest.raises(InvalidParameterValue, match="'value'"):
        v.validate_registry_tag("k", None)
    assert v.validate_model_version("3") == 3
    with pytest.raises(InvalidParameterValue, match="must be an integer, got 'x'"):
        v.validate_model_version("x")
    assert v.validate_logged_model_name("model_1-a") == "model_1-a"
    for bad_logged in ("a/b", "a.b", "a%b", "a'b", 'a"b', "a:b", ""):
        with pytest.raises(InvalidParameterValue):
            v.validate_logged_model_name(bad_logged)


def test_key_validation_is_cached_but_still_rejects_bad_keys() -> None:
    from trackline import validation

    assert validation.validate_metric_name("loss") == "loss"
    assert "loss" in validation._VALID_KEYS
    assert validation.validate_metric_name("loss") == "loss"  # served from the cache
    for bad in ("../x", "a//b", "bad key!"):
        with pytest.raises(InvalidParameterValue):
            validation.validate_metric_name(bad)
        assert bad not in validation._VALID_KEYS
