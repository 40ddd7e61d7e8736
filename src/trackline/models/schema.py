"""Schemas: the column and tensor specifications of a model signature, in MLflow's JSON.

A :class:`Schema` is a list of :class:`ColSpec` (named or unnamed columns of a
:class:`DataType`, or of a nested :class:`Array`, :class:`Object`, :class:`Map` or
:class:`AnyType`) or of :class:`TensorSpec` (numpy dtype and shape, ``-1`` for a variable
dimension), never both. Serialized, each spec is a JSON object exactly as MLflow writes it
(``{"type": "double", "name": "a", "required": true}``,
``{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}``), so signatures
round-trip between trackline and MLflow. :class:`ParamSchema` describes inference parameters.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import Any, Union

import numpy as np

from trackline.exceptions import InvalidParameterValue, MlflowException

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
]


class DataType(Enum):
    """The scalar column types of MLflow signatures (names and numbers as MLflow's)."""

    boolean = 1
    integer = 2
    long = 3
    float = 4
    double = 5
    string = 6
    binary = 7
    datetime = 8

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self) -> np.dtype[Any]:
        """The numpy dtype of this type."""
        return np.dtype(_NUMPY[self])

    def to_pandas(self) -> np.dtype[Any]:
        """The dtype of a pandas column of this type (object for strings and bytes)."""
        if self in (DataType.string, DataType.binary):
            return np.dtype("O")
        return self.to_numpy()

    def to_python(self) -> type:
        """The Python type of a value of this type."""
        return _PYTHON[self]


_NUMPY = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "str",
    DataType.binary: "bytes",
    DataType.datetime: "datetime64[ns]",
}
_PYTHON: dict[DataType, type] = {
    DataType.boolean: bool,
    DataType.integer: int,
    DataType.long: int,
    DataType.float: float,
    DataType.double: float,
    DataType.string: str,
    DataType.binary: bytes,
    DataType.datetime: dt.datetime,
}

ColumnType = Union[DataType, "Array", "Object", "Map", "AnyType"]


def _type_dict(dtype: ColumnType) -> dict[str, Any]:
    return {"type": dtype.name} if isinstance(dtype, DataType) else dtype.to_dict()


def _as_type(value: ColumnType | str) -> ColumnType:
    if isinstance(value, (DataType, Array, Object, Map, AnyType)):
        return value
    if isinstance(value, str):
        try:
            return DataType[value]
        except KeyError:
            pass
    raise InvalidParameterValue(
        f"Unsupported type {value!r}; expected a DataType, Array, Object, Map, AnyType or one "
        f"of {[t.name for t in DataType]}"
    )


def type_from_dict(spec: dict[str, Any]) -> ColumnType:
    """A column type from its JSON form (``{"type": "double"}``, ``{"type": "array", ...}``)."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise InvalidParameterValue(f"A type needs a 'type' key, got {spec!r}")
    kind = spec["type"]
    if kind == "array":
        return Array(type_from_dict(spec["items"]))
    if kind == "object":
        properties = spec.get("properties")
        if not isinstance(properties, dict):
            raise InvalidParameterValue(f"An object type needs 'properties', got {spec!r}")
        return Object(
            [
                Property(name, type_from_dict(p), bool(p.get("required", True)))
                for name, p in properties.items()
            ]
        )
    if kind == "map":
        return Map(type_from_dict(spec["values"]))
    if kind == "any":
        return AnyType()
    return _as_type(kind)


class Array:
    """A list of values of one type."""

    def __init__(self, dtype: ColumnType | str) -> None:
        self.dtype = _as_type(dtype)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self.dtype == other.dtype

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form."""
        return {"type": "array", "items": _type_dict(self.dtype)}


class Property:
    """A named, typed member of an :class:`Object`."""

    def __init__(self, name: str, dtype: ColumnType | str, required: bool = True) -> None:
        self.name = name
        self.dtype = _as_type(dtype)
        self.required = required

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Property) and (self.name, self.dtype, self.required) == (
            other.name,
            other.dtype,
            other.required,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r} ({'required' if self.required else 'optional'})"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{name: {"type": ..., "required": ...}}``."""
        return {self.name: {**_type_dict(self.dtype), "required": self.required}}


class Object:
    """A dict with named, typed properties."""

    def __init__(self, properties: list[Property]) -> None:
        self.properties = sorted(properties, key=lambda p: p.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.properties)) + "}"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form."""
        merged: dict[str, Any] = {}
        for prop in self.properties:
            merged.update(prop.to_dict())
        return {"type": "object", "properties": merged}


class Map:
    """A dict from strings to values of one type."""

    def __init__(self, value_type: ColumnType | str) -> None:
        self.value_type = _as_type(value_type)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form."""
        return {"type": "map", "values": _type_dict(self.value_type)}


class AnyType:
    """Any value (no checks)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Any"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form."""
        return {"type": "any"}


class ColSpec:
    """A column: its type, optional name, and whether it is required."""

    def __init__(
        self, type: ColumnType | str, name: str | None = None, required: bool = True
    ) -> None:
        self.type = _as_type(type)
        self.name = name
        self.required = required

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and (self.name, self.type, self.required) == (
            other.name,
            other.type,
            other.required,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        required = "required" if self.required else "optional"
        if self.name is None:
            return f"{self.type!r} ({required})"
        return f"{self.name!r}: {self.type!r} ({required})"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form."""
        out = _type_dict(self.type)
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ColSpec:
        """A column spec from MLflow's JSON form."""
        if "type" not in kwargs:
            raise InvalidParameterValue("Missing key 'type' in a column spec")
        name = kwargs.pop("name", None)
        required = kwargs.pop("required", True)
        return cls(type_from_dict(kwargs), name, True if required is None else bool(required))


class TensorSpec:
    """A tensor: numpy dtype, shape (``-1`` marks a variable dimension), optional name."""

    def __init__(
        self, type: np.dtype[Any], shape: tuple[int, ...] | list[int], name: str | None = None
    ) -> None:
        if not isinstance(type, np.dtype):
            raise TypeError(f"Expected a numpy dtype, got {type!r}")
        if type.char in ("U", "S") and not type.name.isalpha():
            raise InvalidParameterValue(
                "Tensor specs take flexible dtypes without a size: use "
                f"np.dtype({type.name.rstrip('0123456789')!r})"
            )
        self.type = type
        self.shape = tuple(int(d) for d in shape)
        self.name = name

    @property
    def required(self) -> bool:
        """Tensors are always required."""
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.name, self.type, self.shape) == (
            other.name,
            other.type,
            other.shape,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        tensor = f"Tensor({self.type.name!r}, {self.shape!r})"
        return tensor if self.name is None else f"{self.name!r}: {tensor}"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form."""
        out: dict[str, Any] = {} if self.name is None else {"name": self.name}
        out["type"] = "tensor"
        out["tensor-spec"] = {"dtype": self.type.name, "shape": list(self.shape)}
        return out

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> TensorSpec:
        """A tensor spec from MLflow's JSON form."""
        spec = kwargs.get("tensor-spec")
        if kwargs.get("type") != "tensor" or not isinstance(spec, dict):
            raise InvalidParameterValue(f"Not a tensor spec: {kwargs!r}")
        if "dtype" not in spec or "shape" not in spec:
            raise InvalidParameterValue("A tensor spec needs 'dtype' and 'shape'")
        return cls(np.dtype(spec["dtype"]), tuple(spec["shape"]), kwargs.get("name"))


Spec = ColSpec | TensorSpec


class Schema:
    """The inputs (or outputs) of a model: all column specs or all tensor specs, all named or
    all unnamed."""

    def __init__(self, inputs: list[ColSpec] | list[TensorSpec] | list[Spec]) -> None:
        if not isinstance(inputs, list) or not inputs:
            raise InvalidParameterValue("A schema needs a non-empty list of specs")
        named = [x.name is not None for x in inputs]
        if any(named) and not all(named):
            raise InvalidParameterValue(
                "A schema cannot mix named and unnamed inputs; got names "
                f"{[x.name for x in inputs]}"
            )
        tensors = [isinstance(x, TensorSpec) for x in inputs]
        if any(tensors) and not all(tensors):
            raise InvalidParameterValue("A schema cannot mix ColSpec and TensorSpec")
        if all(tensors) and len(inputs) > 1 and not all(named):
            raise InvalidParameterValue("A schema of several tensors needs their names")
        if not any(named) and not all(x.required for x in inputs):
            raise InvalidParameterValue("Unnamed inputs cannot be optional")
        self.inputs: list[Spec] = list(inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Any:
        return iter(self.inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.inputs)

    def is_tensor_spec(self) -> bool:
        """Whether the schema is made of tensor specs."""
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        """Whether the specs are named."""
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        """The names of the specs, or their positions when unnamed."""
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        """The names (or positions) of the required specs."""
        return [n for n, x in zip(self.input_names(), self.inputs, strict=True) if x.required]

    def optional_input_names(self) -> list[str | int]:
        """The names (or positions) of the optional specs."""
        return [n for n, x in zip(self.input_names(), self.inputs, strict=True) if not x.required]

    def input_types(self) -> list[Any]:
        """The type of each spec."""
        return [x.type for x in self.inputs]

    def input_dict(self) -> dict[str, Spec]:
        """Specs by name (named schemas only)."""
        if not self.has_input_names():
            raise MlflowException("This schema has no input names")
        return {str(x.name): x for x in self.inputs}

    def numpy_types(self) -> list[np.dtype[Any]]:
        """The numpy dtype of each spec."""
        out = []
        for x in self.inputs:
            if isinstance(x, TensorSpec):
                out.append(x.type)
            elif isinstance(x.type, DataType):
                out.append(x.type.to_numpy())
            else:
                raise MlflowException("Nested column types have no numpy dtype")
        return out

    def to_dict(self) -> list[dict[str, Any]]:
        """The specs in MLflow's JSON form."""
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
        """The schema as MLflow's JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> Schema:
        """A schema from MLflow's JSON string."""
        try:
            items = json.loads(json_str)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterValue(f"A schema must be a JSON list: {exc}") from None
        if not isinstance(items, list):
            raise InvalidParameterValue("A schema must be a JSON list")
        specs: list[Spec] = [
            TensorSpec.from_json_dict(**x)
            if isinstance(x, dict) and x.get("type") == "tensor"
            else ColSpec.from_json_dict(**x)
            for x in items
        ]
        return cls(specs)


class ParamSpec:
    """An inference parameter: name, type, default value and shape (None or ``(-1,)``)."""

    def __init__(
        self,
        name: str,
        dtype: DataType | Object | str,
        default: Any,
        shape: tuple[int, ...] | None = None,
    ) -> None:
        self.name = str(name)
        kind = _as_type(dtype)
        if not isinstance(kind, (DataType, Object)) or kind is DataType.binary:
            raise InvalidParameterValue(f"Unsupported parameter type {dtype!r}")
        self.dtype: DataType | Object = kind
        self.shape = tuple(shape) if shape is not None else None
        if self.shape not in (None, (-1,)):
            raise InvalidParameterValue(f"A parameter's shape is None or (-1,), got {shape}")
        self.default = default

    @property
    def type(self) -> DataType | Object:
        """The parameter's type."""
        return self.dtype

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and (
            (self.name, self.dtype, self.default, self.shape)
            == (other.name, other.dtype, other.default, other.shape)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shape = f" (shape: {self.shape})" if self.shape is not None else ""
        return f"{self.name!r}: {self.dtype!r} (default: {self.default}){shape}"

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form."""
        default = self.default
        if isinstance(default, (dt.date, dt.datetime)):
            default = default.isoformat()
        elif self.shape is not None and isinstance(default, list):
            default = [v.isoformat() if isinstance(v, dt.date) else v for v in default]
        out: dict[str, Any] = {"name": self.name, "default": default, "shape": self.shape}
        out.update(_type_dict(self.dtype))
        return out

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ParamSpec:
        """A parameter spec from MLflow's JSON form (``type`` or the older ``dtype`` key)."""
        if "name" not in kwargs or "default" not in kwargs:
            raise InvalidParameterValue("A parameter spec needs 'name', 'type' and 'default'")
        if "type" in kwargs:
            kind = type_from_dict({k: v for k, v in kwargs.items() if k in ("type", "properties")})
        elif "dtype" in kwargs:
            kind = _as_type(kwargs["dtype"])
        else:
            raise InvalidParameterValue("A parameter spec needs 'name', 'type' and 'default'")
        if not isinstance(kind, (DataType, Object)):
            raise InvalidParameterValue(f"Unsupported parameter type {kind!r}")
        shape = kwargs.get("shape")
        return cls(kwargs["name"], kind, kwargs["default"], tuple(shape) if shape else None)


class ParamSchema:
    """The inference parameters a model accepts."""

    def __init__(self, params: list[ParamSpec]) -> None:
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise InvalidParameterValue(f"Duplicate parameter names in {names}")
        self.params = list(params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        """The specs in MLflow's JSON form."""
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        """The schema as MLflow's JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> ParamSchema:
        """A parameter schema from MLflow's JSON string."""
        items = json.loads(json_str)
        if not isinstance(items, list):
            raise InvalidParameterValue("A parameter schema must be a JSON list")
        return cls([ParamSpec.from_json_dict(**x) for x in items])
