"""The ``result_type`` of a Spark UDF: which Spark types it may be, and turning a model's
predictions into a column of that type.

A result type is a primitive (``int``, ``long``, ``float``, ``double``, ``string``,
``boolean``) or an ``array<...>`` of one, given as a pyspark ``DataType`` or a DDL string.
The predictions (a Series, DataFrame, numpy array, list, dict or scalar) are seen as a table
of columns; a primitive takes the leftmost column that fits it, an array takes every column
that fits, one array per row. Strings fit every column (each value is ``str()``-ed); integer
types take integer columns (``int`` only those whose values fit 32 bits); ``float`` and
``double`` take any numeric column; ``boolean`` takes boolean columns.

This module never imports pyspark at import time: the Spark type is built only by
:meth:`ResultType.to_spark`, on the driver, where pyspark is in use anyway.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from trackline.exceptions import InvalidParameterValue

if TYPE_CHECKING:
    import pandas as pd

    from trackline.models.schema import Schema

__all__ = ["ResultType", "parse_result_type", "result_type_of_signature"]

ELEMENTS = ("int", "long", "float", "double", "string", "boolean")

#: Spelling (DDL names, pyspark's simpleString names, MLflow's "bool") to element.
_NAMES = {
    "int": "int",
    "integer": "int",
    "long": "long",
    "bigint": "long",
    "float": "float",
    "real": "float",
    "double": "double",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
}

_NUMPY = {
    "int": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "boolean": "bool",
}

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

_SUPPORTED = (
    "int, long, float, double, string, boolean, or array<...> of one of them "
    "(a pyspark DataType or a DDL string such as 'double' or 'array<string>')"
)


class ResultType:
    """A supported UDF result type: one element type, alone or as an array."""

    __slots__ = ("array", "element")

    def __init__(self, element: str, array: bool = False) -> None:
        self.element = element
        self.array = array

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResultType) and (self.element, self.array) == (
            other.element,
            other.array,
        )

    def __hash__(self) -> int:
        return hash((self.element, self.array))

    def __repr__(self) -> str:
        return f"ResultType({self.ddl!r})"

    @property
    def ddl(self) -> str:
        """The type as a DDL string (``double``, ``array<bigint>``, ...)."""
        name = {"long": "bigint"}.get(self.element, self.element)
        return f"array<{name}>" if self.array else name

    def to_spark(self) -> Any:
        """The pyspark ``DataType`` of this result type."""
        from pyspark.sql import types

        classes = {
            "int": types.IntegerType,
            "long": types.LongType,
            "float": types.FloatType,
            "double": types.DoubleType,
            "string": types.StringType,
            "boolean": types.BooleanType,
        }
        element = classes[self.element]()
        return types.ArrayType(element) if self.array else element

    def convert(self, output: Any, rows: int) -> Any:
        """The model's ``output`` for ``rows`` input rows as a column (a pandas Series) of
        this type."""
        import pandas as pd

        frame = _as_frame(output)
        if len(frame) != rows:
            raise InvalidParameterValue(
                f"The model returned {len(frame)} predictions for {rows} input rows"
            )
        if self.array and frame.shape[1] == 1 and _holds_sequences(frame.iloc[:, 0]):
            return pd.Series([self._sequence(value) for value in frame.iloc[:, 0]], dtype=object)
        fitting = [name for name in frame.columns if self._fits(frame[name])]
        if not fitting:
            kinds = ", ".join(f"{name!s}: {frame[name].dtype}" for name in frame.columns)
            raise InvalidParameterValue(
                f"The model's output has no column that converts to {self.ddl} (its columns: "
                f"{kinds or 'none'}); pass result_type='string' (or 'array<string>') to get "
                "every value as text, or the type the model returns"
            )
        columns = [self._cast(frame[name]) for name in fitting]
        if not self.array:
            return columns[0].reset_index(drop=True)
        table = pd.concat([c.reset_index(drop=True) for c in columns], axis=1)
        return pd.Series([list(row) for row in table.itertuples(index=False)], dtype=object)

    def _fits(self, column: pd.Series) -> bool:
        from pandas.api import types

        dtype = column.dtype
        if self.element == "string":
            return True
        if self.element == "boolean":
            return bool(types.is_bool_dtype(dtype))
        numeric = types.is_integer_dtype(dtype) or types.is_float_dtype(dtype)
        if self.element in ("float", "double"):
            return bool(numeric) and not types.is_bool_dtype(dtype)
        if not types.is_integer_dtype(dtype):
            return False
        low, high = _INT32 if self.element == "int" else _INT64
        if column.empty:
            return True
        return bool(low <= int(column.min()) and int(column.max()) <= high)

    def _cast(self, column: pd.Series) -> Any:
        if self.element == "string":
            return column.map(str).astype(object)
        import numpy as np

        return column.astype(np.dtype(_NUMPY[self.element]))

    def _sequence(self, value: Any) -> list[Any] | None:
        """One row's array (a list or array the model returned for the row)."""
        import numpy as np

        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if self.element == "string":
            return [str(v) for v in value]
        try:
            values = np.asarray(value).astype(_NUMPY[self.element], casting="same_kind")
        except (TypeError, ValueError) as exc:
            raise InvalidParameterValue(
                f"A prediction {value!r} does not convert to {self.ddl}: {exc}"
            ) from None
        return [v.item() for v in values.ravel()]


def _holds_sequences(column: pd.Series) -> bool:
    import numpy as np

    if column.dtype != object:
        return False
    first = next((v for v in column if v is not None), None)
    return isinstance(first, (list, tuple, np.ndarray))


def _as_frame(output: Any) -> Any:
    """Predictions as a table: a Series is one column, a 2-D array one column per index, a
    dict one column per key, a list of lists one column per position."""
    import numpy as np
    import pandas as pd

    if isinstance(output, pd.DataFrame):
        return output
    if isinstance(output, pd.Series):
        return output.to_frame()
    if isinstance(output, dict):
        return pd.DataFrame({key: list(np.atleast_1d(value)) for key, value in output.items()})
    if np.isscalar(output):
        return pd.DataFrame({0: [output]})
    if isinstance(output, np.ndarray) and output.ndim == 1:
        return pd.DataFrame({0: output})
    if isinstance(output, np.ndarray) and output.ndim == 2:
        return pd.DataFrame(output)
    if isinstance(output, np.ndarray):
        return pd.DataFrame({0: list(output)})
    try:
        return pd.DataFrame(output)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(
            f"The model's output ({type(output).__name__}) is not a table of predictions: {exc}"
        ) from None


def parse_result_type(value: Any) -> ResultType:
    """A :class:`ResultType` from a pyspark ``DataType`` or a DDL string; an unsupported
    type is an :class:`~trackline.exceptions.InvalidParameterValue` listing the supported."""
    if isinstance(value, str):
        text = value
    elif callable(getattr(value, "simpleString", None)):
        text = str(value.simpleString())
    else:
        raise InvalidParameterValue(
            f"result_type must be a pyspark DataType or a DDL string, got {value!r}"
        )
    words = text.strip().lower()
    match = re.fullmatch(r"array\s*<\s*(\w+)\s*>", words)
    element = _NAMES.get(match.group(1) if match else words)
    if element is None:
        raise InvalidParameterValue(
            f"Unsupported result_type {text!r} for spark_udf: use {_SUPPORTED}"
        )
    return ResultType(element, array=match is not None)


def result_type_of_signature(outputs: Schema | None) -> ResultType | None:
    """The result type a model's output schema implies when it is a single column or tensor
    of a supported type (None otherwise: the caller falls back to ``double``)."""
    from trackline.models.schema import Array, ColSpec, DataType, TensorSpec

    if outputs is None or len(outputs.inputs) != 1:
        return None
    spec = outputs.inputs[0]
    by_type = {
        DataType.integer: "int",
        DataType.long: "long",
        DataType.float: "float",
        DataType.double: "double",
        DataType.string: "string",
        DataType.boolean: "boolean",
    }
    if isinstance(spec, ColSpec):
        if isinstance(spec.type, Array) and isinstance(spec.type.dtype, DataType):
            element = by_type.get(spec.type.dtype)
            return ResultType(element, array=True) if element else None
        element = by_type.get(spec.type) if isinstance(spec.type, DataType) else None
        return ResultType(element) if element else None
    if isinstance(spec, TensorSpec) and len(spec.shape) in (1, 2):
        kind, size = spec.type.kind, spec.type.itemsize
        if kind in "iu":
            element = "int" if size <= 4 and kind == "i" else "long"
        elif kind == "f":
            element = "float" if size <= 4 else "double"
        elif kind == "b":
            element = "boolean"
        elif kind in "UO":
            element = "string"
        else:
            return None
        return ResultType(element, array=len(spec.shape) == 2)
    return None
