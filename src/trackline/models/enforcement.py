"""Schema enforcement: check (and safely convert) prediction inputs against a signature.

Column-based schemas turn the input into a pandas DataFrame (from a Series, a dict, a list,
a numpy array or a scalar) and then, column by column:

* a required column that is missing is an error naming it (extra columns are ignored);
* a value of the declared type passes; a safe conversion is made (int to long, float to
  double, (u)int up to 6 bytes to double, 0/1 longs to floats, any precision of
  ``datetime64`` to nanoseconds, object to string);
* anything else (float to int, double to float, text to numbers) is an error that names the
  column and both types, with a hint when missing values turned integers into floats.

Tensor-based schemas check the shape (``-1`` matches any size) and the dtype exactly, and
reshape DataFrame columns into the declared shape. The rules are MLflow's, so a model rejects
and accepts the same inputs under trackline and MLflow.
"""

from __future__ import annotations

import decimal
from typing import Any

import numpy as np

from trackline.exceptions import InvalidParameterValue, MlflowException
from trackline.models.schema import (
    AnyType,
    Array,
    ColumnType,
    DataType,
    Map,
    Object,
    ParamSchema,
    Schema,
    TensorSpec,
)
from trackline.models.signature import _is_sparse, clean_tensor_type

__all__ = ["enforce_params", "enforce_schema"]


def enforce_schema(data: Any, schema: Schema) -> Any:
    """``data`` checked against ``schema`` and converted where that is safe; raises
    :class:`MlflowException` saying what does not match."""
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    frame = _as_frame(data, schema)
    if schema.has_input_names():
        return _enforce_named_columns(frame, schema)
    return _enforce_unnamed_columns(frame, schema)


# -- columns -------------------------------------------------------------------------------
def _is_scalar(value: Any) -> bool:
    return bool(np.isscalar(value)) or value is None


def _as_frame(data: Any, schema: Schema) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return pd.DataFrame(data)
    if np.isscalar(data):
        return pd.DataFrame([data])
    if isinstance(data, dict):
        nested = any(isinstance(t, (Array, Object)) for t in schema.input_types())
        flat = all(
            _is_scalar(v) or (isinstance(v, list) and all(isinstance(i, str) for i in v))
            for v in data.values()
        )
        try:
            if nested or flat:
                return pd.DataFrame([data])
            return pd.DataFrame(
                {
                    k: v.tolist() if isinstance(v, np.ndarray) and v.ndim > 1 else v
                    for k, v in data.items()
                }
            )
        except ValueError as exc:
            raise MlflowException(
                "This model has a column-based signature, so it takes a DataFrame; the dict "
                f"given cannot be made into one: {exc}"
            ) from None
    if isinstance(data, (list, np.ndarray)):
        return pd.DataFrame(data)
    raise MlflowException(
        "This model has a column-based signature, so it takes a pandas DataFrame (or a "
        f"Series, dict, list or numpy array); got a {type(data).__name__}"
    )


def _check_columns(frame: Any, schema: Schema) -> None:
    required = schema.required_input_names()
    optional = set(schema.optional_input_names())
    present = list(frame.columns)
    missing = [c for c in required if c not in set(present)]
    if missing:
        extra = [c for c in present if c not in set(required) and c not in optional]
        message = f"Model is missing inputs {missing}."
        if extra:
            message += f" Note that there were extra inputs: {extra}."
        raise MlflowException(message)


def _enforce_named_columns(frame: Any, schema: Schema) -> Any:
    import pandas as pd

    _check_columns(frame, schema)
    out: dict[Any, Any] = {}
    for spec in schema.inputs:
        name = spec.name
        if name not in frame.columns:
            continue  # an optional column that was not given
        out[name] = _enforce_column(name, frame[name], spec.type, spec.required)
    return pd.DataFrame(out, index=frame.index)


def _enforce_unnamed_columns(frame: Any, schema: Schema) -> Any:
    import pandas as pd

    if len(frame.columns) < len(schema.inputs):
        raise MlflowException(
            f"Model inference is missing inputs: the signature declares {len(schema.inputs)} "
            f"inputs but the data has {len(frame.columns)} (the inputs are unnamed, so only "
            "their count can be checked)."
        )
    out: dict[Any, Any] = {}
    for spec, name in zip(schema.inputs, frame.columns, strict=False):
        out[name] = _enforce_column(name, frame[name], spec.type, True)
    return pd.DataFrame(out, index=frame.index)


def _enforce_column(name: Any, values: Any, kind: Any, required: bool) -> Any:
    import pandas as pd

    if isinstance(kind, DataType):
        return _enforce_datatype(name, values, kind)
    checked = [_check_value(v, kind, required, name) for v in values]
    return pd.Series(checked, index=values.index, name=name)


def _enforce_datatype(name: Any, values: Any, kind: DataType) -> Any:
    import pandas as pd

    if values.dtype == object and kind not in (DataType.binary, DataType.string):
        values = values.infer_objects()
    if kind in (DataType.string, DataType.binary) and (
        values.dtype == object or isinstance(values.dtype, pd.StringDtype)
    ):
        return values
    if values.dtype == kind.to_pandas() or values.dtype == kind.to_numpy():
        return values
    if kind is DataType.binary and values.dtype.kind == "S":
        return values  # bytes of any length
    if kind is DataType.datetime and (values.dtype.kind == "M" or values.dtype == object):
        try:
            return values.astype(np.dtype("datetime64[ns]"))
        except (TypeError, ValueError) as exc:
            raise MlflowException(
                f"Failed to convert column {name} from type {values.dtype} to datetime "
                f"(only timezone-naive datetimes are accepted): {exc}"
            ) from None
    if kind is DataType.boolean and values.dtype == object:
        return values  # converting would turn None into False
    decimals = values.dtype == object and len(values)
    if (
        kind is DataType.double
        and decimals
        and all(isinstance(v, decimal.Decimal) for v in values if v is not None)
    ):
        return pd.to_numeric(values, errors="raise")
    target = kind.to_numpy()
    have = values.dtype
    if have.kind == target.kind:
        upcast = have.itemsize <= target.itemsize
    elif have.kind == "u" and target.kind == "i":
        upcast = have.itemsize < target.itemsize
    elif have.kind in "iu" and target == np.float64:
        upcast = have.itemsize <= 6
    else:
        upcast = False
    if upcast:
        return values.astype(target)
    if have == np.int64 and target.kind == "f" and all(pd.isnull(v) or v in (0, 1) for v in values):
        return values.astype(target)
    hint = ""
    if (
        have == np.float64
        and target.kind in "iu"
        and values.hasnans
        and all(pd.isnull(v) or int(v) == v for v in values)
    ):
        hint = (
            " Hint: integer columns cannot hold missing values, so they arrive as floats; "
            "declare the column as double if it may have missing values."
        )
    raise MlflowException(
        f"Incompatible input types for column {name}. "
        f"Can not safely convert {have} to {target}.{hint}"
    )


def _check_value(value: Any, kind: ColumnType, required: bool, where: Any) -> Any:
    """A nested value (array, object, map or any) checked against its type."""
    if isinstance(kind, AnyType):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        if required:
            raise MlflowException(f"Column {where} requires a value, got {value!r}")
        return None
    if isinstance(kind, DataType):
        if isinstance(value, kind.to_python()) or (
            isinstance(value, np.generic) and value.dtype == kind.to_numpy()
        ):
            return value
        if kind in (DataType.double, DataType.float) and isinstance(value, (int, np.integer)):
            return float(value)
        if kind is DataType.long and isinstance(value, np.integer):
            return int(value)
        raise MlflowException(f"Column {where}: expected a {kind.name}, got {value!r}")
    if isinstance(kind, Array):
        if not isinstance(value, (list, np.ndarray)):
            raise MlflowException(f"Column {where}: expected a list, got {type(value).__name__}")
        return [_check_value(v, kind.dtype, True, where) for v in value]
    if isinstance(kind, Map):
        if not isinstance(value, dict) or any(not isinstance(k, str) for k in value):
            raise MlflowException(f"Column {where}: expected a dict with string keys")
        return {k: _check_value(v, kind.value_type, True, where) for k, v in value.items()}
    if not isinstance(value, dict):
        raise MlflowException(f"Column {where}: expected a dict, got {type(value).__name__}")
    props = {p.name: p for p in kind.properties}
    missing = [n for n, p in props.items() if p.required and n not in value]
    if missing:
        raise MlflowException(f"Column {where}: missing required properties {missing}")
    unknown = [k for k in value if k not in props]
    if unknown:
        raise MlflowException(f"Column {where}: unexpected properties {unknown}")
    return {k: _check_value(v, props[k].dtype, props[k].required, where) for k, v in value.items()}


# -- tensors -------------------------------------------------------------------------------
def _enforce_tensor(values: Any, spec: TensorSpec) -> Any:
    expected = spec.shape
    actual = values.shape
    dtype = values.dtype if isinstance(values, np.ndarray) else values.data.dtype
    if len(expected) == 1 and expected[0] == -1 and spec.type == np.dtype("O"):
        return values
    if len(expected) > 1 and -1 in expected[1:] and len(actual) == 1 and dtype == np.dtype("O"):
        return values  # ragged
    if len(expected) != len(actual) or any(
        e != -1 and e != a for e, a in zip(expected, actual, strict=True)
    ):
        raise MlflowException(f"Shape of input {actual} does not match expected shape {expected}.")
    if clean_tensor_type(dtype) != spec.type:
        raise MlflowException(f"dtype of input {dtype} does not match expected dtype {spec.type}")
    return values


def _column_tensor(name: str | None, column: Any, spec: TensorSpec) -> Any:
    where = f"input {name}" if name else "the unnamed input"
    if spec.shape[0] != -1 or -1 in spec.shape[1:]:
        raise MlflowException(
            "For DataFrame input, a tensor's first dimension must be variable and the others "
            f"fixed, but the signature's shape of {where} is {spec.shape}."
        )
    first = column.iloc[0]
    if np.isscalar(first):
        if spec.shape not in ((-1,), (-1, 1)):
            raise InvalidParameterValue(
                f"The column of {where} holds scalars, which needs a shape of (-1,) or (-1, 1); "
                f"the signature says {spec.shape}."
            )
        return _enforce_tensor(np.array(column, dtype=spec.type).reshape(spec.shape), spec)
    if isinstance(first, (list, np.ndarray)):
        try:
            stacked = np.vstack(column.tolist()).reshape(spec.shape)
            if isinstance(first, list):
                stacked = stacked.astype(spec.type)
        except ValueError:
            raise InvalidParameterValue(
                f"The values of {where} cannot be reshaped to {spec.shape} (are the lists of "
                "equal length?)."
            ) from None
        if len(stacked) != len(column):
            raise InvalidParameterValue(f"The values of {where} cannot be reshaped to {spec.shape}")
        return _enforce_tensor(stacked, spec)
    raise InvalidParameterValue(
        "A tensor signature takes DataFrame columns of scalars, lists or numpy arrays; "
        f"{where} holds {type(first).__name__} values."
    )


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if schema.has_input_names():
        names = [str(s.name) for s in specs]
        if isinstance(data, np.ndarray) and len(specs) == 1:
            data = {names[0]: data}
        if isinstance(data, dict):
            missing = [n for n in names if n not in data]
            if missing:
                raise MlflowException(f"Model is missing inputs {missing}.")
            out = {}
            for name, spec in zip(names, specs, strict=True):
                value = data[name]
                if isinstance(value, list):
                    value = np.asarray(value, dtype=spec.type)
                if not isinstance(value, np.ndarray):
                    raise InvalidParameterValue(
                        f"Input {name!r} must be a numpy array, got {type(value).__name__}"
                    )
                out[name] = _enforce_tensor(value, spec)
            return out
        if isinstance(data, pd.DataFrame):
            _check_columns(data, schema)
            return {n: _column_tensor(n, data[n], s) for n, s in zip(names, specs, strict=True)}
        raise InvalidParameterValue(
            "This model has named tensor inputs: give a dict of numpy arrays or a DataFrame "
            f"with one column per input, not a {type(data).__name__}."
        )
    spec = specs[0]
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise MlflowException("Input DataFrame is empty.")
        if len(data.columns) == 1:
            return _column_tensor(None, data[data.columns[0]], spec)
        if spec.shape != (-1, len(data.columns)):
            raise InvalidParameterValue(
                f"The DataFrame has {len(data.columns)} columns but the model takes a tensor "
                f"of shape {spec.shape}; the shape must be (-1, number of columns)."
            )
        return _enforce_tensor(data.to_numpy(), spec)
    if isinstance(data, list):
        try:
            data = np.asarray(data, dtype=spec.type)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterValue(
                f"The list cannot be read as a {spec.type} tensor: {exc}"
            ) from None
    if isinstance(data, np.ndarray) or _is_sparse(data):
        return _enforce_tensor(data, spec)
    raise InvalidParameterValue(
        "This model takes an unnamed tensor: give a numpy array, a list or a DataFrame, not a "
        f"{type(data).__name__}."
    )


# -- params --------------------------------------------------------------------------------
def enforce_params(
    params: dict[str, Any] | None, schema: ParamSchema | None
) -> dict[str, Any] | None:
    """The inference parameters with defaults filled in and values converted to the declared
    types; unknown parameters are dropped (MLflow warns and ignores them)."""
    if schema is None:
        if params:
            raise InvalidParameterValue(
                "This model was logged without a params schema, so it takes no params."
            )
        return params
    given = dict(params or {})
    out: dict[str, Any] = {}
    for spec in schema.params:
        if spec.name not in given:
            out[spec.name] = spec.default
            continue
        value = given[spec.name]
        kind = spec.dtype
        if value is None or not isinstance(kind, DataType):
            out[spec.name] = value
        elif spec.shape == (-1,):
            if not isinstance(value, (list, np.ndarray)) or np.asarray(value).ndim != 1:
                raise InvalidParameterValue(f"Parameter {spec.name!r} takes a 1-D list")
            out[spec.name] = [_param_value(spec.name, v, kind) for v in value]
        else:
            out[spec.name] = _param_value(spec.name, value, kind)
    return out


_WIDENING = {
    DataType.long: (DataType.integer,),
    DataType.float: (DataType.integer, DataType.long),
    DataType.double: (DataType.integer, DataType.long, DataType.float),
}


def _param_value(name: str, value: Any, kind: DataType) -> Any:
    if kind is DataType.datetime:
        try:
            return np.datetime64(value).item()
        except ValueError:
            raise InvalidParameterValue(
                f"Parameter {name!r}: {value!r} is not a date or datetime"
            ) from None
    from trackline.models.signature import _scalar_type

    try:
        have = _scalar_type(value)
    except InvalidParameterValue:
        raise InvalidParameterValue(f"Parameter {name!r}: {value!r} is not a scalar") from None
    if have is kind or have in _WIDENING.get(kind, ()):
        return kind.to_python()(value)
    raise InvalidParameterValue(
        f"Parameter {name!r}: cannot safely convert {type(value).__name__} to {kind.name}"
    )
