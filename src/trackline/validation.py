"""MLflow's validation rules for what clients log and create.

Every rule raises :class:`~trackline.exceptions.InvalidParameterValue` (INVALID_PARAMETER_VALUE,
HTTP 400) with a message in MLflow's shape. Stores call these functions; the client and the
server do not add rules of their own.

Values longer than their limit (param values, run tag values) are truncated instead of
rejected while the environment variable ``MLFLOW_TRUNCATE_LONG_VALUES`` is true (the
default), as MLflow's server does.
"""

from __future__ import annotations

import math
import numbers
import os
import posixpath
import re
from collections.abc import Sequence
from functools import lru_cache

from trackline.entities import DatasetInput, Metric, Param, RunTag
from trackline.exceptions import InvalidParameterValue

__all__ = [
    "MAX_DATASET_DIGEST_SIZE",
    "MAX_DATASET_NAME_SIZE",
    "MAX_DATASET_PROFILE_SIZE",
    "MAX_DATASET_SCHEMA_SIZE",
    "MAX_DATASET_SOURCE_SIZE",
    "MAX_ENTITIES_PER_BATCH",
    "MAX_ENTITY_KEY_LENGTH",
    "MAX_EXPERIMENT_NAME_LENGTH",
    "MAX_EXPERIMENT_TAG_VAL_LENGTH",
    "MAX_INPUT_TAG_KEY_SIZE",
    "MAX_INPUT_TAG_VALUE_SIZE",
    "MAX_METRICS_PER_BATCH",
    "MAX_MODEL_ALIAS_LENGTH",
    "MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "MAX_PARAM_VAL_LENGTH",
    "MAX_RUN_NAME_LENGTH",
    "MAX_TAG_VAL_LENGTH",
    "METRIC_VALUE_MAX",
    "sanitize_metric_value",
    "truncate_long_values",
    "validate_batch_limits",
    "validate_batch_log_data",
    "validate_dataset_inputs",
    "validate_experiment_artifact_location",
    "validate_experiment_id",
    "validate_experiment_name",
    "validate_experiment_tag",
    "validate_logged_model_name",
    "validate_max_results",
    "validate_metric",
    "validate_metric_name",
    "validate_model_alias_name",
    "validate_model_version",
    "validate_param",
    "validate_param_keys_unique",
    "validate_param_name",
    "validate_registered_model_name",
    "validate_registry_tag",
    "validate_run_id",
    "validate_run_name",
    "validate_tag",
    "validate_tag_name",
]

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_EXPERIMENT_NAME_LENGTH = 500
#: ``runs.name`` is VARCHAR(250).
MAX_RUN_NAME_LENGTH = 250
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 100000
MAX_MODEL_ALIAS_LENGTH = 255
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_SCHEMA_SIZE = 1048575
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
#: The largest finite double; infinite metric values are clamped to it (SQL has no inf).
METRIC_VALUE_MAX = 1.7976931348623157e308

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
_KEY_CHARACTERS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colons (:) and slashes (/)."
)


def _missing(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Missing value for required parameter '{name}'. "
        "See the API docs for more information about request parameters."
    )


def truncate_long_values() -> bool:
    """Whether over-long param and tag values are truncated (``MLFLOW_TRUNCATE_LONG_VALUES``)."""
    return os.environ.get("MLFLOW_TRUNCATE_LONG_VALUES", "true").strip().lower() in (
        "true",
        "1",
        "yes",
    )


def _check_length(what: str, value: str, limit: int, *, truncate: bool = False) -> str:
    if len(value) <= limit:
        return value
    if truncate and truncate_long_values():
        return value[:limit]
    raise InvalidParameterValue(
        f"'{what}' exceeds the maximum length of {limit} characters "
        f"(got {len(value)}): '{value[:250]}...'"
    )


# -- keys ----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a metric, param or tag, or None when it can."""
    if not _KEY_RE.match(key):
        return _KEY_CHARACTERS
    normal = posixpath.normpath(key)
    if normal != key or normal == "." or normal.startswith(("..", "/")):
        return (
            "Names are also used as file paths, so they must not resolve to a different "
            f"name when normalized; this one would resolve to '{normal}'."
        )
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        return f"Names are at most {MAX_ENTITY_KEY_LENGTH} characters long, got {len(key)}."
    return None


#: Keys already found valid: a training loop logs the same few keys thousands of times.
_VALID_KEYS: set[str] = set()
_VALID_KEYS_MAX = 4096


def _validate_key(kind: str, key: object) -> str:
    if type(key) is str and key in _VALID_KEYS:
        return key
    if key is None:
        raise _missing("key")
    if not isinstance(key, str):
        raise InvalidParameterValue(f"Invalid {kind} name: {key!r}. Names must be strings.")
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidParameterValue(f"Invalid {kind} name: '{key}'. {problem}")
    if type(key) is str:  # not a str subclass, whose equality could differ
        if len(_VALID_KEYS) >= _VALID_KEYS_MAX:
            _VALID_KEYS.clear()
        _VALID_KEYS.add(key)
    return key


def validate_metric_name(name: object) -> str:
    """Check a metric key: allowed characters, normalized path, at most 250 characters."""
    return _validate_key("metric", name)


def validate_param_name(name: object) -> str:
    """Check a param key (same rules as metric keys)."""
    return _validate_key("parameter", name)


def validate_tag_name(name: object) -> str:
    """Check a run or experiment tag key (same rules as metric keys)."""
    return _validate_key("tag", name)


# -- metrics, params, tags -----------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def validate_metric(metric: Metric) -> Metric:
    """Check a metric point and return it with a float value and int timestamp and step."""
    key = validate_metric_name(metric.key)
    value, timestamp, step = metric.value, metric.timestamp, metric.step
    if (
        type(value) is float
        and type(timestamp) is int
        and type(step) is int
        and 0 <= timestamp <= _INT64_MAX
        and _INT64_MIN <= step <= _INT64_MAX
    ):
        return metric  # the common case, checked in a few hundred nanoseconds
    if value is None:
        raise _missing("value")
    if not _is_number(value):
        raise InvalidParameterValue(
            f"Got invalid value {value!r} for metric '{key}' (timestamp={timestamp}). "
            "Please specify value as a valid double (64-bit floating point)"
        )
    if timestamp is None:
        raise _missing("timestamp")
    checked_timestamp = _as_int(timestamp)
    if checked_timestamp is None or not 0 <= checked_timestamp <= _INT64_MAX:
        raise InvalidParameterValue(
            f"Got invalid timestamp {timestamp!r} for metric '{key}' (value={value}). "
            "Timestamp must be a nonnegative long (64-bit integer) "
        )
    checked_step = _as_int(0 if step is None else step)
    if checked_step is None or not _INT64_MIN <= checked_step <= _INT64_MAX:
        raise InvalidParameterValue(
            f"Got invalid step {step!r} for metric '{key}' (value={value}). "
            "Step must be a valid long (64-bit integer)."
        )
    return Metric(
        key,
        float(value),
        checked_timestamp,
        checked_step,
        metric.dataset_name,
        metric.dataset_digest,
        metric.model_id,
        metric.run_id,
    )


def sanitize_metric_value(value: float) -> tuple[bool, float]:
    """``(is_nan, value)`` as SQL stores it: NaN as 0 with the flag, ±inf clamped."""
    if math.isnan(value):
        return True, 0.0
    if math.isinf(value):
        return False, METRIC_VALUE_MAX if value > 0 else -METRIC_VALUE_MAX
    return False, value


def validate_param(param: Param) -> Param:
    """Check a param; its value becomes a string, truncated to 6000 characters if longer."""
    key = validate_param_name(param.key)
    value = param.value
    text = "" if value is None else value if isinstance(value, str) else str(value)
    text = _check_length("Param value", text, MAX_PARAM_VAL_LENGTH, truncate=True)
    if text is value:
        return param
    return Param(key, text)


def validate_tag(tag: RunTag) -> RunTag:
    """Check a run tag; a value longer than 8000 characters is truncated."""
    key = validate_tag_name(tag.key)
    value = tag.value
    if value is None:
        return tag
    text = value if isinstance(value, str) else str(value)
    text = _check_length("Tag value", text, MAX_TAG_VAL_LENGTH, truncate=True)
    if text is value:
        return tag
    return RunTag(key, text)


def validate_experiment_tag(key: object, value: object) -> tuple[str, str]:
    """Check an experiment tag (value ≤ 20000 characters, never truncated)."""
    checked = validate_tag_name(key)
    if value is None:
        raise _missing("value")
    text = value if isinstance(value, str) else str(value)
    _check_length("Tag value", text, MAX_EXPERIMENT_TAG_VAL_LENGTH)
    return checked, text


def validate_param_keys_unique(params: Sequence[Param]) -> None:
    """Reject a batch that logs one param key twice."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for param in params:
        if param.key in seen and param.key not in duplicates:
            duplicates.append(param.key)
        seen.add(param.key)
    if duplicates:
        raise InvalidParameterValue(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the "
            "request contains only one param value per param key."
        )


def validate_batch_limits(n_metrics: int, n_params: int, n_tags: int) -> None:
    """At most 1000 metrics, 100 params, 100 tags and 1000 entities in one batch."""
    for kind, count, limit in (
        ("metrics", n_metrics, MAX_METRICS_PER_BATCH),
        ("params", n_params, MAX_PARAMS_TAGS_PER_BATCH),
        ("tags", n_tags, MAX_PARAMS_TAGS_PER_BATCH),
    ):
        if count > limit:
            raise InvalidParameterValue(
                f"A batch logging request can contain at most {limit} {kind}. Got {count} "
                f"{kind}. Please split up {kind} across multiple requests and try again."
            )
    total = n_metrics + n_params + n_tags
    if total > MAX_ENTITIES_PER_BATCH:
        raise InvalidParameterValue(
            "A batch logging request can contain at most "
            f"{MAX_ENTITIES_PER_BATCH} total metrics, params and tags. Got {n_metrics} "
            f"metrics, {n_params} params and {n_tags} tags (total {total}). Please split up "
            "the data across multiple requests and try again."
        )


def validate_batch_log_data(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """Check a whole batch (limits, every entity, unique param keys); return it normalized."""
    validate_batch_limits(len(metrics), len(params), len(tags))
    checked_params = [validate_param(p) for p in params]
    validate_param_keys_unique(checked_params)
    checked_metrics = [validate_metric(m) for m in metrics]
    checked_tags = [validate_tag(t) for t in tags]
    return checked_metrics, checked_params, checked_tags


# -- ids, names, locations -----------------------------------------------------------------


def validate_run_id(run_id: object) -> str:
    """A run id: letters, digits, ``_`` and ``-``, at most 256 characters."""
    if run_id is None or run_id == "":
        raise _missing("run_id")
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidParameterValue(f"Invalid run ID: '{run_id}'")
    return run_id


def validate_experiment_id(experiment_id: object) -> str:
    """An experiment id: letters, digits, ``_`` and ``-``, at most 64 characters."""
    if experiment_id is None or experiment_id == "":
        raise _missing("experiment_id")
    text = str(experiment_id)
    if isinstance(experiment_id, bool) or not _EXPERIMENT_ID_RE.match(text):
        raise InvalidParameterValue(f"Invalid experiment ID: '{experiment_id}'")
    return text


def validate_experiment_name(name: object) -> str:
    """A non-empty string of at most 500 characters."""
    if name is None or name == "":
        raise InvalidParameterValue("Invalid experiment name: ''. The name must not be empty.")
    if not isinstance(name, str):
        raise InvalidParameterValue(f"Invalid experiment name: {name!r}. Expects a string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Invalid experiment name: '{name[:50]}...'. The name is {len(name)} characters "
            f"long; the limit is {MAX_EXPERIMENT_NAME_LENGTH}."
        )
    return name


def validate_run_name(name: object) -> str:
    """A run name: a string of at most 250 characters."""
    if not isinstance(name, str):
        raise InvalidParameterValue(f"Invalid run name: {name!r}. Expects a string.")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Invalid run name: '{name[:50]}...'. The name is {len(name)} characters long; "
            f"the limit is {MAX_RUN_NAME_LENGTH}."
        )
    return name


def validate_experiment_artifact_location(location: str | None) -> None:
    """An experiment's artifact location must not be a ``runs:/`` URI."""
    if location is not None and location.lower().startswith("runs:"):
        raise InvalidParameterValue(
            f"Artifact location cannot be a runs:/ URI. Given: '{location}'"
        )


def validate_max_results(max_results: object, limit: int, *, name: str = "max_results") -> int:
    """A page size: an integer from 1 to ``limit``."""
    value = _as_int(max_results)
    if value is None or value < 1:
        raise InvalidParameterValue(
            f"Invalid value {max_results!r} for parameter '{name}' supplied. "
            "It must be a positive integer."
        )
    if value > limit:
        raise InvalidParameterValue(
            f"Invalid value for request parameter {name}. It must be at most {limit}, "
            f"but got value {value}"
        )
    return value


# -- datasets ------------------------------------------------------------------------------


def validate_dataset_inputs(dataset_inputs: Sequence[DatasetInput]) -> None:
    """Dataset name, digest, source, schema, profile and input tag sizes."""
    for dataset_input in dataset_inputs:
        dataset = dataset_input.dataset
        for what, value, limit in (
            ("name", dataset.name, MAX_DATASET_NAME_SIZE),
            ("digest", dataset.digest, MAX_DATASET_DIGEST_SIZE),
            ("source_type", dataset.source_type, 36),
            ("source", dataset.source, MAX_DATASET_SOURCE_SIZE),
        ):
            if value is None or value == "":
                raise _missing(f"dataset.{what}")
            _check_length(f"Dataset {what}", value, limit)
        if dataset.schema is not None:
            _check_length("Dataset schema", dataset.schema, MAX_DATASET_SCHEMA_SIZE)
        if dataset.profile is not None:
            _check_length("Dataset profile", dataset.profile, MAX_DATASET_PROFILE_SIZE)
        for tag in dataset_input.tags:
            if not tag.key:
                raise _missing("tags.key")
            if tag.value is None:
                raise _missing("tags.value")
            _check_length("Input tag key", tag.key, MAX_INPUT_TAG_KEY_SIZE)
            _check_length("Input tag value", tag.value, MAX_INPUT_TAG_VALUE_SIZE)


# -- model registry and logged models ------------------------------------------------------


def validate_registered_model_name(name: object) -> str:
    """A non-blank model name without ``/`` or ``:`` that normalizes to itself."""
    if not isinstance(name, str) or not name.strip():
        raise _missing("name")
    if "/" in name or ":" in name or posixpath.normpath(name) != name:
        raise InvalidParameterValue(
            f"Invalid name: '{name}'. Registered model names cannot contain '/' or ':' "
            "and must be stable under path normalization."
        )
    return name


def validate_model_alias_name(alias: object) -> str:
    """An alias: ``[\\w-]*``, at most 255 characters, not ``latest`` nor ``v<digits>``."""
    if not isinstance(alias, str) or not alias:
        raise _missing("alias")
    if not _ALIAS_RE.match(alias) or len(alias) > MAX_MODEL_ALIAS_LENGTH:
        raise InvalidParameterValue(
            f"Invalid alias name: '{alias}'. Aliases may only contain alphanumerics, "
            f"underscores and dashes, and are at most {MAX_MODEL_ALIAS_LENGTH} characters long."
        )
    if alias.lower() == "latest" or _VERSION_ALIAS_RE.match(alias):
        raise InvalidParameterValue(
            f"'{alias}' alias name (case insensitive) is reserved: 'latest' and "
            "'v<number>' name model versions."
        )
    return alias


def validate_registry_tag(key: object, value: object) -> tuple[str, str]:
    """A registered model or model version tag: key ≤ 250, value ≤ 100000, not None."""
    checked = validate_tag_name(key)
    if value is None:
        raise _missing("value")
    text = value if isinstance(value, str) else str(value)
    _check_length("Tag value", text, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
    return checked, text


def validate_model_version(version: object) -> int:
    """A model version number (an integer, possibly written as a string)."""
    number = _as_int(version)
    if number is None or not -(2**63) <= number < 2**63:
        raise InvalidParameterValue(f"Model version must be an integer, got '{version}'")
    return number


def validate_logged_model_name(name: object) -> str:
    """A logged model name: no ``/ : . % " '``."""
    if not isinstance(name, str) or not name:
        raise _missing("name")
    bad = [c for c in "/:.%\"'" if c in name]
    if bad:
        raise InvalidParameterValue(
            f"Invalid model name: '{name}'. Names cannot contain these characters: / : . % \" '"
        )
    return name
