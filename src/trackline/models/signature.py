"""Model signatures: what a model takes and returns, inferred from data as MLflow does.

``infer_signature(model_input, model_output, params)`` reads pandas DataFrames and Series
(one :class:`~trackline.models.schema.ColSpec` per column), numpy arrays and dicts of them
(:class:`~trackline.models.schema.TensorSpec`, the first dimension variable), scipy sparse
matrices, lists of scalars, lists of dicts and dicts of scalars/lists (columns with nested
types). In the MLmodel file a signature is ``{inputs, outputs, params}``, each a JSON string.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from trackline.exceptions import InvalidParameterValue
from trackline.models.schema import (
    AnyType,
    Array,
    ColSpec,
    ColumnType,
    DataType,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

__all__ = ["ModelSignature", "infer_schema", "infer_signature"]

_logger = logging.getLogger(__name__)


class ModelSignature:
    """A model's input schema, output schema and inference-parameter schema (each optional)."""

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        for name, value, kind in (
            ("inputs", inputs, Schema),
            ("outputs", outputs, Schema),
            ("params", params, ParamSchema),
        ):
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"{name} must be a {kind.__name__} or None, got {value!r}")
        if inputs is None and outputs is None and params is None:
            raise InvalidParameterValue("A signature needs inputs, outputs or params")
        self.inputs = inputs
        self.outputs = outputs
        self.params = params

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and (
            (self.inputs, self.outputs, self.params) == (other.inputs, other.outputs, other.params)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"inputs: \n  {self.inputs!r}\noutputs: \n  {self.outputs!r}\n"
            f"params: \n  {self.params!r}\n"
        )

    def to_dict(self) -> dict[str, str | None]:
        """The MLmodel form: each schema as a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, signature_dict: Mapping[str, Any]) -> ModelSignature:
        """A signature from its MLmodel form."""
        inputs = signature_dict.get("inputs")
        outputs = signature_dict.get("outputs")
        params = signature_dict.get("params")
        return cls(
            Schema.from_json(inputs) if inputs else None,
            Schema.from_json(outputs) if outputs else None,
            ParamSchema.from_json(params) if params else None,
        )


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: dict[str, Any] | None = None
) -> ModelSignature:
    """The signature of a model that takes ``model_input``, returns ``model_output`` and accepts
    the inference parameters ``params`` (their values become the defaults).

    Data of an unsupported kind raises :class:`~trackline.exceptions.InvalidParameterValue`
    (MLflow falls back to ``Any`` with a warning; trackline says what it could not read).
    """
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output) if model_output is not None else None
    return ModelSignature(inputs, outputs, infer_param_schema(params) if params else None)


# -- inference -----------------------------------------------------------------------------
def _tensor_shape(data: Any) -> tuple[int, ...]:
    shape = list(data.shape)
    if shape:
        shape[0] = -1
    return tuple(shape)


def clean_tensor_type(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """A numpy dtype without the size of flexible types (``<U5`` becomes ``str``)."""
    if dtype.char == "U":
        return np.dtype("str")
    if dtype.char == "S":
        return np.dtype("bytes")
    return dtype


def _is_sparse(data: Any) -> bool:
    module = type(data).__module__
    return module.startswith("scipy.sparse") and hasattr(data, "tocsr")


def infer_schema(data: Any) -> Schema:
    """The schema of a data set (see the module's docstring for the kinds read)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        schema = Schema(
            [
                ColSpec(_pandas_column_type(data[col]), str(col), _required(data[col]))
                for col in data.columns
            ]
        )
    elif isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        schema = Schema([ColSpec(_pandas_column_type(data), name, _required(data))])
    elif isinstance(data, np.ndarray):
        schema = Schema([TensorSpec(clean_tensor_type(data.dtype), _tensor_shape(data))])
    elif _is_sparse(data):
        schema = Schema([TensorSpec(clean_tensor_type(data.data.dtype), _tensor_shape(data))])
    elif isinstance(data, dict):
        schema = _dict_schema(data)
    elif isinstance(data, list):
        if not data:
            return Schema([ColSpec(DataType.string)])
        if all(isinstance(item, dict) for item in data):
            schema = _records_schema(data)
        else:
            schema = Schema([ColSpec(_element_type(_value_type(data)))])
    else:
        try:
            schema = Schema([ColSpec(_scalar_type(data))])
        except InvalidParameterValue:
            raise InvalidParameterValue(
                "Cannot infer a schema from a "
                f"{type(data).__name__}: expected a pandas DataFrame or Series, a numpy array, "
                "a dict of numpy arrays, a scipy sparse matrix, a list, a dict or a scalar"
            ) from None
    if not schema.is_tensor_spec() and any(
        t in (DataType.integer, DataType.long) for t in schema.input_types()
    ):
        _logger.info(
            "The inferred schema has integer columns, which cannot hold missing values; "
            "declare them as doubles if inputs may have some."
        )
    return schema


def _dict_schema(data: dict[Any, Any]) -> Schema:
    if data and all(isinstance(v, np.ndarray) for v in data.values()):
        return Schema(
            [
                TensorSpec(clean_tensor_type(v.dtype), _tensor_shape(v), str(k))
                for k, v in data.items()
            ]
        )
    if any(not isinstance(k, str) for k in data):
        raise InvalidParameterValue("The keys of a dict input must all be strings")
    if not data:
        raise InvalidParameterValue("Cannot infer a schema from an empty dict")
    return Schema([ColSpec(_value_type(v), k, not _is_missing(v)) for k, v in data.items()])


def _records_schema(records: list[dict[Any, Any]]) -> Schema:
    columns: dict[str, list[Any]] = {}
    for record in records:
        for key, value in record.items():
            columns.setdefault(str(key), []).append(value)
    specs = []
    for name, values in columns.items():
        required = all(record.get(name) is not None for record in records)
        specs.append(ColSpec(_element_type(_value_type(values)), name, required))
    return Schema(specs)


def _element_type(array_type: ColumnType) -> ColumnType:
    return array_type.dtype if isinstance(array_type, Array) else array_type


def _is_missing(value: Any) -> bool:
    import pandas as pd

    if isinstance(value, float):
        return bool(np.isnan(value))
    return value is None or value is pd.NA or value is pd.NaT


def _required(values: Any) -> bool:
    return not any(_is_missing(v) for v in values)


_SCALARS: dict[type, DataType] = {
    bool: DataType.boolean,
    np.bool_: DataType.boolean,
    int: DataType.long,
    np.int64: DataType.long,
    np.int32: DataType.integer,
    float: DataType.double,
    np.float64: DataType.double,
    np.float32: DataType.float,
    str: DataType.string,
    np.str_: DataType.string,
    bytes: DataType.binary,
    np.bytes_: DataType.binary,
    bytearray: DataType.binary,
}


def _scalar_type(value: Any) -> DataType:
    found = _SCALARS.get(type(value))
    if found is not None:
        return found
    if isinstance(value, (dt.date, np.datetime64)):
        return DataType.datetime
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return DataType.datetime
    raise InvalidParameterValue(f"{value!r} is not of a supported data type")


def _value_type(value: Any) -> ColumnType:
    """The column type of a value: scalars, lists/arrays (Array), dicts (Object)."""
    if _is_missing(value) or (isinstance(value, (list, dict)) and not value):
        return AnyType()
    if isinstance(value, dict):
        return Object(
            [
                Property(str(k), t, not isinstance(t, AnyType))
                for k, t in ((k, _value_type(v)) for k, v in value.items())
            ]
        )
    if isinstance(value, (list, np.ndarray)):
        found: ColumnType | None = None
        for item in value:
            item_type = _value_type(item)
            found = item_type if found is None else _merge(found, item_type)
        return Array(found if found is not None else AnyType())
    return _scalar_type(value)


def _merge(left: ColumnType, right: ColumnType) -> ColumnType:
    """One type for the items of a list: equal types, ``Any`` (a missing value) giving way
    to the other, arrays of mergeable items, objects as the union of their properties (a
    property missing from one side, or missing a value, becomes optional)."""
    if left == right:
        return left
    if isinstance(left, AnyType):
        return right
    if isinstance(right, AnyType):
        return left
    if isinstance(left, Array) and isinstance(right, Array):
        return Array(_merge(left.dtype, right.dtype))
    if isinstance(left, Object) and isinstance(right, Object):
        mine = {p.name: p for p in left.properties}
        theirs = {p.name: p for p in right.properties}
        merged = []
        for name in dict.fromkeys([*mine, *theirs]):
            a, b = mine.get(name), theirs.get(name)
            if a is None or b is None:
                only = a or b
                assert only is not None
                merged.append(Property(name, only.dtype, False))
            else:
                merged.append(Property(name, _merge(a.dtype, b.dtype), a.required and b.required))
        return Object(merged)
    raise InvalidParameterValue(f"A list holds values of several types ({left!r} and {right!r})")


def _numpy_type(dtype: Any) -> DataType:
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind in "iu":
        if size < 4 or (kind == "i" and size == 4):
            return DataType.integer
        if size < 8 or (kind == "i" and size == 8):
            return DataType.long
    if kind == "f":
        return DataType.float if size <= 4 else DataType.double
    if kind == "U":
        return DataType.string
    if kind == "S":
        return DataType.binary
    if kind == "M":
        return DataType.datetime
    raise InvalidParameterValue(f"Unsupported column dtype {dtype!s}")


def _pandas_column_type(column: Any) -> ColumnType:
    import pandas as pd

    if isinstance(column.dtype, pd.StringDtype):
        return DataType.string
    if column.dtype.kind == "O":
        column = column.infer_objects()
    if column.dtype.kind == "O":
        if isinstance(column.dtype, pd.StringDtype):
            return DataType.string
        values = [v for v in column.tolist() if not _is_missing(v)]
        if not values:
            return AnyType()
        try:
            return _element_type(_value_type(values))
        except InvalidParameterValue:
            if pd.api.types.is_string_dtype(column):
                return DataType.string
            raise
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return DataType.datetime
    return _numpy_type(column.dtype)


def infer_param_schema(params: Mapping[str, Any]) -> ParamSchema:
    """The parameter schema of a dict of parameter values (the values become defaults)."""
    if not isinstance(params, Mapping):
        raise InvalidParameterValue(f"params must be a dict, got {type(params).__name__}")
    specs = []
    for name, value in params.items():
        if isinstance(value, (list, np.ndarray)):
            items = [_scalar_type(v) for v in value]
            if len(set(items)) > 1:
                raise InvalidParameterValue(f"Parameter {name!r} mixes types {items}")
            kind = items[0] if items else DataType.string
            specs.append(ParamSpec(name, kind, list(value), (-1,)))
        elif isinstance(value, dict):
            object_type = _value_type(value)
            assert isinstance(object_type, Object)
            specs.append(ParamSpec(name, object_type, value))
        else:
            specs.append(ParamSpec(name, _scalar_type(value), value))
    return ParamSchema(specs)
