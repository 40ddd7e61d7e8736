"""Schemas and signatures: MLflow's JSON, both ways, and inference from data."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from trackline.exceptions import InvalidParameterValue
from trackline.models import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
    infer_signature,
)
from trackline.models.signature import ModelSignature, infer_schema

# As MLflow 3.17.2 writes them (observed in MLmodel files it produced).
COLUMNS = (
    '[{"type": "double", "name": "a", "required": true}, '
    '{"type": "long", "name": "b", "required": true}]'
)
TENSOR = '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]'


def test_mlflow_json_round_trips() -> None:
    for text in (COLUMNS, TENSOR):
        assert Schema.from_json(text).to_json() == text
    nested = json.dumps([
        {"type": "array", "items": {"type": "string"}, "name": "tags", "required": True},
        {"type": "object", "properties": {"k": {"type": "long", "required": False}},
         "name": "obj", "required": True},
        {"type": "map", "values": {"type": "double"}, "name": "m", "required": False},
        {"type": "any", "name": "x", "required": True},
    ])  # fmt: skip
    schema = Schema.from_json(nested)
    assert schema.to_json() == nested
    assert schema.input_types() == [
        Array(DataType.string), Object([Property("k", "long", False)]), Map("double"), AnyType()
    ]  # fmt: skip
    params = '[{"name": "temperature", "default": 0.5, "shape": null, "type": "double"}]'
    assert ParamSchema.from_json(params).to_json() == params
    signature = ModelSignature.from_dict({"inputs": COLUMNS, "outputs": TENSOR, "params": None})
    assert signature.to_dict() == {"inputs": COLUMNS, "outputs": TENSOR, "params": None}


def test_schema_rules() -> None:
    with pytest.raises(InvalidParameterValue, match="mix named and unnamed"):
        Schema([ColSpec("double", "a"), ColSpec("double")])
    with pytest.raises(InvalidParameterValue, match="mix ColSpec and TensorSpec"):
        Schema([ColSpec("double", "a"), TensorSpec(np.dtype("float64"), (-1,), "t")])
    with pytest.raises(InvalidParameterValue, match="non-empty"):
        Schema([])
    with pytest.raises(InvalidParameterValue, match="Unsupported type 'decimal'"):
        ColSpec("decimal")
    with pytest.raises(InvalidParameterValue, match="without a size"):
        TensorSpec(np.dtype("<U5"), (-1,))
    with pytest.raises(InvalidParameterValue, match="needs inputs, outputs or params"):
        ModelSignature()


def test_inference_from_pandas() -> None:
    frame = pd.DataFrame({
        "f": [1.0, 2.0], "i": [1, 2], "i32": np.array([1, 2], dtype="int32"),
        "s": ["x", "y"], "b": [True, False], "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        "bytes": [b"a", b"b"], "lists": [[1, 2], [3]], "missing": [1.0, None],
    })  # fmt: skip
    schema = infer_schema(frame)
    assert [(c.name, c.type, c.required) for c in schema.inputs] == [
        ("f", DataType.double, True),
        ("i", DataType.long, True),
        ("i32", DataType.integer, True),
        ("s", DataType.string, True),
        ("b", DataType.boolean, True),
        ("t", DataType.datetime, True),
        ("bytes", DataType.binary, True),
        ("lists", Array(DataType.long), True),
        ("missing", DataType.double, False),
    ]
    series = infer_schema(pd.Series([1.5, 2.5], name="y"))
    assert series.to_dict() == [{"type": "double", "name": "y", "required": True}]


def test_inference_from_numpy_dicts_and_lists() -> None:
    assert infer_schema(np.zeros((5, 3))).to_json() == TENSOR
    assert infer_schema(np.array(["a", "bb"])).to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1]}}
    ]
    named = infer_schema({"x": np.zeros((2, 4), dtype="float32"), "y": np.ones(2, dtype="int64")})
    assert named.to_dict() == [
        {"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}},
        {"name": "y", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}},
    ]
    records = infer_schema([{"q": "hi", "n": 1}, {"q": "yo", "n": None}])
    assert [(c.name, c.type, c.required) for c in records.inputs] == [
        ("q", DataType.string, True), ("n", DataType.long, False)
    ]  # fmt: skip
    assert infer_schema(["a", "b"]).to_dict() == [{"type": "string", "required": True}]
    assert infer_schema({"q": "hi", "k": [1.0]}).input_types() == [
        DataType.string, Array(DataType.double)
    ]  # fmt: skip
    assert infer_schema(dt.datetime(2024, 1, 1)).input_types() == [DataType.datetime]
    with pytest.raises(InvalidParameterValue, match="several types"):
        infer_schema([1, "a"])
    with pytest.raises(InvalidParameterValue, match="Cannot infer a schema from a set"):
        infer_schema({1, 2})


def test_infer_signature_with_params() -> None:
    signature = infer_signature(
        pd.DataFrame({"a": [1.0]}), np.array([1.0]), {"k": 3, "names": ["a", "b"], "flag": True}
    )
    assert signature.inputs is not None
    assert signature.outputs is not None
    assert signature.params == ParamSchema([
        ParamSpec("k", "long", 3), ParamSpec("names", "string", ["a", "b"], (-1,)),
        ParamSpec("flag", "boolean", True),
    ])  # fmt: skip
    assert infer_signature(None, np.array([1])).inputs is None
