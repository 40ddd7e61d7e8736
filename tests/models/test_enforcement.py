"""Schema enforcement: MLflow's rules for what a model with a signature accepts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.models import ParamSchema, ParamSpec, Schema
from trackline.models.enforcement import enforce_params, enforce_schema

COLUMNS = Schema.from_json(
    '[{"type": "double", "name": "a", "required": true},'
    ' {"type": "long", "name": "b", "required": true},'
    ' {"type": "string", "name": "s", "required": false}]'
)
TENSOR = Schema.from_json(
    '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]'
)


@pytest.mark.parametrize(
    "data",
    [
        pd.DataFrame({"a": [1.0], "b": [1]}),
        pd.DataFrame({"b": [1], "a": [1], "extra": ["ignored"]}),  # int -> double, any order
        pd.DataFrame({"a": np.float32([1.0]), "b": np.int32([1])}),  # widened
        pd.DataFrame({"a": [1.0], "b": np.uint16([1]), "s": ["x"]}),
        {"a": 1.0, "b": 2},  # one row
        {"a": [1.0, 2.0], "b": [1, 2]},  # columns
        pd.Series({"a": 1.0, "b": 2}).to_frame().T.astype({"a": float, "b": int}),
    ],
)
def test_columns_accepted_and_converted(data: Any) -> None:
    out = enforce_schema(data, COLUMNS)
    assert str(out["a"].dtype) == "float64"
    assert str(out["b"].dtype) == "int64"
    assert "extra" not in out


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pd.DataFrame({"a": [1.0]}), r"Model is missing inputs \['b'\]\.$"),
        (pd.DataFrame({"x": [1.0]}), r"missing inputs \['a', 'b'\]\. .*extra inputs: \['x'\]"),
        (pd.DataFrame({"a": [1.0], "b": [1.5]}), "column b. Can not safely convert float64"),
        (pd.DataFrame({"a": ["x"], "b": [1]}), "column a. Can not safely convert"),
        (pd.DataFrame({"a": [1.0], "b": np.uint64([1])}), "convert uint64 to int64"),
        (pd.DataFrame({"a": [1.0], "b": [1], "s": [3]}), "column s"),
        (pd.DataFrame({"a": [1.0, 2.0], "b": [1, np.nan]}), "Hint: integer columns"),
        (object(), "takes a pandas DataFrame"),
    ],
)
def test_columns_refused_with_the_reason(data: Any, message: str) -> None:
    with pytest.raises(MlflowException, match=message):
        enforce_schema(data, COLUMNS)


def test_unnamed_columns_count() -> None:
    schema = Schema.from_json('[{"type": "double", "required": true}] ')
    assert list(enforce_schema([1.0, 2.0], schema)[0]) == [1.0, 2.0]
    with pytest.raises(MlflowException, match="declares 2 inputs but the data has 1"):
        enforce_schema(pd.DataFrame({"x": [1.0]}), Schema(schema.inputs * 2))


def test_tensors() -> None:
    ok = np.zeros((3, 2))
    assert enforce_schema(ok, TENSOR) is ok
    assert enforce_schema(pd.DataFrame(ok), TENSOR).shape == (3, 2)
    assert enforce_schema([[1.0, 2.0]], TENSOR).dtype == np.float64
    with pytest.raises(MlflowException, match=r"Shape of input \(3, 3\) does not match"):
        enforce_schema(np.zeros((3, 3)), TENSOR)
    with pytest.raises(MlflowException, match="dtype of input int64 does not match"):
        enforce_schema(np.zeros((3, 2), dtype="int64"), TENSOR)
    with pytest.raises(InvalidParameterValue, match="3 columns"):
        enforce_schema(pd.DataFrame(np.zeros((1, 3))), TENSOR)
    named = Schema.from_json(
        '[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]'
    )
    assert enforce_schema({"x": np.zeros(2, dtype="float32")}, named)["x"].shape == (2,)
    with pytest.raises(MlflowException, match=r"missing inputs \['x'\]"):
        enforce_schema({"y": np.zeros(2, dtype="float32")}, named)


def test_nested_columns() -> None:
    schema = Schema.from_json(
        '[{"type": "array", "items": {"type": "string"}, "name": "tags", "required": true},'
        ' {"type": "object", "properties": {"k": {"type": "long", "required": true}},'
        ' "name": "o", "required": true}]'
    )
    out = enforce_schema({"tags": ["a", "b"], "o": {"k": 1}}, schema)
    assert out["tags"][0] == ["a", "b"]
    with pytest.raises(MlflowException, match=r"missing required properties \['k'\]"):
        enforce_schema({"tags": ["a"], "o": {}}, schema)
    with pytest.raises(MlflowException, match="expected a string"):
        enforce_schema({"tags": [1], "o": {"k": 1}}, schema)


def test_params() -> None:
    schema = ParamSchema([ParamSpec("k", "long", 3), ParamSpec("t", "double", 0.5)])
    assert enforce_params(None, schema) == {"k": 3, "t": 0.5}
    assert enforce_params({"t": 1}, schema) == {"k": 3, "t": 1.0}
    with pytest.raises(InvalidParameterValue, match="cannot safely convert float to long"):
        enforce_params({"k": 1.5}, schema)
    with pytest.raises(InvalidParameterValue, match="without a params schema"):
        enforce_params({"k": 1}, None)
