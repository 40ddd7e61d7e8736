"""MLflow's JSON wire conventions: request parsing against a field table, JSON in and out.

Requests are described by :class:`Message` tables (see :mod:`trackline.server.requests`), and
:func:`parse_message` turns a decoded JSON body (or a query string, :func:`query_to_raw`) into
a :class:`Params` dict holding only the fields that were given, converted to Python types:

* field names are snake_case; their camelCase spelling is accepted too, but not both at once;
* int64 fields take JSON numbers or decimal strings; doubles take numbers or the strings
  ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; enums take names or numbers (an unknown
  enum value is ignored, as MLflow's protobuf parser does);
* a required field that is absent or ``""`` is an error; anything of the wrong type is an
  error. Every error is :class:`~trackline.exceptions.InvalidParameterValue` (HTTP 400).

Responses go the other way: :func:`experiment_json`, :func:`run_json` and friends build
dicts with snake_case keys, int64 values as numbers, non-finite doubles as strings, and unset
or empty fields left out; :func:`dumps` encodes them.

JSON is read and written with ``orjson`` when it is installed (several times faster than
the standard library on a big search page or a log-batch of 1,000 points). What orjson does
not take -- NaN literals, lone surrogates, integers beyond 64 bits on output -- goes through
the standard library, so input and output are the same either way, except that orjson reads
an integer beyond 64 bits as a double: no field of the protocol holds one (an int64 field
refuses it as out of range either way).

This module holds the parser, the plain-metrics fast path (:func:`metric_points`) and the
JSON reading and writing; the message tables' classes (:class:`Field`, :class:`Message`,
:class:`Params`) are in :mod:`trackline.server.messages` and the entity encoders in
:mod:`trackline.server.entity_json`. Every name stays importable from here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from trackline.entities import Metric
from trackline.exceptions import InvalidParameterValue
from trackline.server.entity_json import (
    double_json,
    experiment_json,
    metric_json,
    run_info_json,
    run_json,
)
from trackline.server.messages import Field, Kind, Message, Params

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - the server extra installs it
    _orjson = None  # type: ignore[assignment]

__all__ = [
    "Field",
    "Kind",
    "Message",
    "Params",
    "decode_json",
    "double_json",
    "dumps",
    "experiment_json",
    "metric_json",
    "metric_points",
    "parse_message",
    "query_to_raw",
    "run_info_json",
    "run_json",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INT_TEXT = re.compile(r"[+-]?\d{1,20}")
_FLOAT_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_DOCS_HINT = " See the API docs for more information about request parameters."

# -- parsing -----------------------------------------------------------------------------


def _invalid(path: str, value: object, expected: str) -> InvalidParameterValue:
    shown = json.dumps(value, default=repr)
    if len(shown) > 200:
        shown = shown[:200] + "..."
    return InvalidParameterValue(
        f"Invalid value {shown} for parameter '{path}' supplied: expected {expected}, got "
        f"{_json_type(value)}.{_DOCS_HINT}"
    )


def _missing(path: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Missing value for required parameter '{path}'.{_DOCS_HINT}")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Unset:
    """Marks an enum value that is ignored (unknown name or number)."""


_UNSET = _Unset()


def _scalar(fld: Field, value: object, path: str) -> object:
    kind = fld.kind
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise _invalid(path, value, "a string")
    if kind == "int64":
        return _int64(value, path)
    if kind == "double":
        return _double(value, path)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise _invalid(path, value, "a boolean")
    if kind == "enum":
        return _enum(fld, value, path)
    if fld.message is None:  # pragma: no cover - a table error, not a request error
        raise TypeError(f"message field {fld.name} has no message type")
    return _parse_object(fld.message, value, path)


def _int64(value: object, path: str) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float):
        # |value| >= 2**63 is out of range (orjson reads integers beyond 64 bits as floats).
        if value.is_integer():
            number = int(value) if abs(value) < 2.0**63 else _INT64_MAX + 1
    elif isinstance(value, str):
        number = int(value) if _INT_TEXT.fullmatch(value) else None
    if number is None:
        raise _invalid(path, value, "an integer")
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise InvalidParameterValue(
            f"Invalid value {value} for parameter '{path}' supplied: it is out of the range of "
            f"a 64-bit integer.{_DOCS_HINT}"
        )
    return number


def _double(value: object, path: str) -> float:
    if isinstance(value, bool):
        raise _invalid(path, value, "a number")
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            raise _invalid(path, value, "a number in the range of a double") from None
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        if value in _SPECIAL_DOUBLES:
            return _SPECIAL_DOUBLES[value]
        if _FLOAT_TEXT.fullmatch(value):
            return float(value)
    raise _invalid(path, value, 'a number, "NaN", "Infinity" or "-Infinity"')


def _enum(fld: Field, value: object, path: str) -> object:
    names = fld.enum or {}
    if isinstance(value, str):
        if value in names:
            return names[value]
        if _INT_TEXT.fullmatch(value):
            value = int(value)
        else:
            return _UNSET
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value in names.values() else _UNSET
    raise _invalid(path, value, "the name or number of an enum value")


def _value(fld: Field, value: object, path: str) -> object:
    if not fld.repeated:
        return _scalar(fld, value, path)
    if not isinstance(value, list):
        raise _invalid(path, value, "an array")
    items = []
    for index, item in enumerate(value):
        converted = _scalar(fld, item, f"{path}[{index}]")
        if converted is not _UNSET:
            items.append(converted)
    return items


def _lookup(
    fld: Field, camel: str, aliases: tuple[str, ...], data: Mapping[str, Any], prefix: str
) -> tuple[bool, object]:
    value = data.get(fld.name)
    if camel != fld.name and camel in data:
        if fld.name in data:
            raise InvalidParameterValue(
                f"Parameter '{prefix}{fld.name}' was given twice, as '{fld.name}' and "
                f"'{camel}'; send one of them.{_DOCS_HINT}"
            )
        value = data[camel]
    if value is None:
        for alias in aliases:
            value = data.get(alias)
            if value is not None:
                break
    return value is not None, value


def _parse_object(message: Message, data: object, path: str) -> Params:
    if not isinstance(data, dict):
        raise _invalid(path or message.name, data, "an object")
    prefix = f"{path}." if path else ""
    out = Params()
    for fld, camel, aliases in message.spellings:
        found, raw = _lookup(fld, camel, aliases, data, prefix)
        value = _value(fld, raw, prefix + fld.name) if found else _UNSET
        if fld.required and (value is _UNSET or value == ""):
            raise _missing(prefix + fld.name)
        if value is not _UNSET:
            out[fld.name] = value
    return out


def parse_message(message: Message, data: object) -> Params:
    """Check and convert a decoded request against its message table.

    Unknown fields are ignored. Raises
    :class:`~trackline.exceptions.InvalidParameterValue` for a body that is not an object,
    a missing required field or a value of the wrong type.
    """
    if not isinstance(data, dict):
        raise InvalidParameterValue(
            f"The request body must be a JSON object, got {_json_type(data)}.{_DOCS_HINT}"
        )
    return _parse_object(message, data, "")


_METRIC_FIELDS = frozenset(
    ("key", "value", "timestamp", "step", "dataset_name", "dataset_digest", "model_id", "run_id")
)
_OPTIONAL_METRIC_STRINGS = ("dataset_name", "dataset_digest", "model_id")


def metric_points(items: object, run_id: str) -> list[Metric] | None:
    """The metric points of a decoded ``metrics`` array as entities, on the fast path.

    The result is what parsing the array against the ``Metric`` message and building each
    point from the parsed fields gives (absent step 0, empty strings None, the point's run
    ``run_id`` unless it names one), for arrays in the plain shape every client sends:
    snake_case fields, a non-empty string key, a number (or ``"NaN"``, ``"Infinity"``,
    ``"-Infinity"``) as value, integers as timestamp and step. Anything else -- camelCase
    fields, numbers in strings, a missing or mistyped field -- gives None: the caller then
    takes the general parser, which reads the other spellings and words the errors.
    """
    if not isinstance(items, list):
        return None
    fields = _METRIC_FIELDS
    low, high = _INT64_MIN, _INT64_MAX
    points: list[Metric] = []
    append = points.append
    for item in items:
        # The common shape, checked inline (this loop runs 1,000 times per log-batch).
        if type(item) is dict and item.keys() <= fields:
            key = item.get("key")
            value = item.get("value")
            timestamp = item.get("timestamp")
            step = item.get("step", 0)
            own_run = item.get("run_id")
            if (
                type(key) is str
                and key
                and type(value) is float
                and type(timestamp) is int
                and low <= timestamp <= high
                and type(step) is int
                and low <= step <= high
                and (own_run is None or type(own_run) is str)
                # nothing else: no dataset or model fields
                and len(item) == 3 + ("step" in item) + ("run_id" in item)
            ):
                append(Metric(key, value, timestamp, step, None, None, None, own_run or run_id))
                continue
        point = _plain_metric(item, run_id)
        if point is None:
            return None
        append(point)
    return points


def _plain_metric(item: object, run_id: str) -> Metric | None:
    if type(item) is not dict or not item.keys() <= _METRIC_FIELDS:
        return None
    key = item.get("key")
    timestamp = item.get("timestamp")
    step = item.get("step")
    if type(key) is not str or not key or not _is_int64(timestamp):
        return None
    if step is None:
        step = 0
    elif not _is_int64(step):
        return None
    value = _plain_double(item.get("value"))
    if value is None:
        return None
    texts: list[str | None] = []
    for name in _OPTIONAL_METRIC_STRINGS:
        text = item.get(name)
        if text is not None and type(text) is not str:
            return None
        texts.append(text or None)
    own_run = item.get("run_id")
    if own_run is not None and type(own_run) is not str:
        return None
    return Metric(key, value, timestamp, step, texts[0], texts[1], texts[2], own_run or run_id)


def _is_int64(value: object) -> TypeGuard[int]:
    return type(value) is int and _INT64_MIN <= value <= _INT64_MAX


def _plain_double(value: object) -> float | None:
    if isinstance(value, float):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, str):
        return _SPECIAL_DOUBLES.get(value)
    return None


def query_to_raw(message: Message, items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query-string pairs as a raw dict: repeated keys make a list for repeated fields;
    a scalar field takes the key's first value."""
    repeated = {
        spelling
        for f, camel, aliases in message.spellings
        if f.repeated
        for spelling in (f.name, camel, *aliases)
    }
    raw: dict[str, Any] = {}
    for key, value in items:
        if key in repeated:
            raw.setdefault(key, []).append(value)
        elif key not in raw:
            raw[key] = value
    return raw


def decode_json(body: bytes) -> object:
    """Decode a request body; an empty body is ``{}``. A body that decodes to a string holding
    JSON (older clients double-encode) is decoded once more."""
    if not body.strip():
        return {}
    try:
        data = _loads(body)
        if isinstance(data, str):
            data = _loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidParameterValue(
            f"Malformed JSON in the request body: {exc}.{_DOCS_HINT}"
        ) from None
    return data


def _loads(text: bytes | str) -> object:
    if _orjson is not None:
        try:
            return _orjson.loads(text)
        except ValueError:
            pass  # NaN literals, lone surrogates, ...: the standard library's reading and error
    return json.loads(text)


# -- encoding ----------------------------------------------------------------------------

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(payload: Mapping[str, Any]) -> bytes:
    """Encode a response payload as compact UTF-8 JSON (doubles must have been through
    :func:`double_json`: the wire has no bare NaN or infinities)."""
    if _orjson is not None:
        try:
            encoded = _orjson.dumps(payload)
        except TypeError:
            pass  # an integer beyond 64 bits, a non-string key: the standard library's way
        else:
            # orjson writes a bare NaN or infinity as null; the standard library refuses it
            # (ValueError), and decides whenever a null shows up (rare in these payloads).
            if b"null" not in encoded:
                return encoded
    return _encoder.encode(payload).encode()
