"""trackline's one error tree.

Every error trackline raises on purpose is an :class:`MlflowException` (``TracklineError`` is
the same class) carrying one of MLflow's error codes. The code decides the HTTP status the
server answers with (``ERROR_CODE_TO_HTTP_STATUS``, the only such table), and the REST client
raises the same class back from ``{"error_code", "message"}``::

    MlflowException (= TracklineError)
     ├── InvalidParameterValue   (also ValueError)   INVALID_PARAMETER_VALUE   400
     ├── ResourceAlreadyExists   (also ValueError)   RESOURCE_ALREADY_EXISTS   400
     ├── ResourceDoesNotExist    (also LookupError)  RESOURCE_DOES_NOT_EXIST   404
     ├── InvalidState                                INVALID_STATE             500
     ├── MissingDependency       (also ImportError)  NOT_IMPLEMENTED           501
     ├── TemporarilyUnavailable                      TEMPORARILY_UNAVAILABLE   503
     └── RestException                               whatever the server said

``MlflowException(message, error_code=...)`` builds the matching subclass, so code written
for MLflow (``raise MlflowException("...", error_code=RESOURCE_DOES_NOT_EXIST)``) and code
catching the Python built-ins (``except LookupError``) both work.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ABORTED",
    "BAD_REQUEST",
    "ENDPOINT_NOT_FOUND",
    "ERROR_CODE_TO_HTTP_STATUS",
    "INTERNAL_ERROR",
    "INVALID_PARAMETER_VALUE",
    "INVALID_STATE",
    "NOT_IMPLEMENTED",
    "PERMISSION_DENIED",
    "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_DOES_NOT_EXIST",
    "TEMPORARILY_UNAVAILABLE",
    "UNAUTHENTICATED",
    "InvalidParameterValue",
    "InvalidState",
    "MissingDependency",
    "MlflowException",
    "ResourceAlreadyExists",
    "ResourceDoesNotExist",
    "RestException",
    "TemporarilyUnavailable",
    "TracklineError",
]

INTERNAL_ERROR = "INTERNAL_ERROR"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
INVALID_STATE = "INVALID_STATE"
BAD_REQUEST = "BAD_REQUEST"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
ABORTED = "ABORTED"

#: MLflow's error codes and the HTTP status a server answers each with. The only such table.
ERROR_CODE_TO_HTTP_STATUS: dict[str, int] = {
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "DRY_RUN_FAILED": 500,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "TEMPORARILY_UNAVAILABLE": 503,
    "NOT_IMPLEMENTED": 501,
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "MALFORMED_REQUEST": 400,
    "INVALID_STATE_TRANSITION": 400,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "FEATURE_DISABLED": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "CANCELLED": 499,
    "DEADLINE_EXCEEDED": 504,
}

_SUBCLASS_BY_CODE: dict[str, type[MlflowException]] = {}


class MlflowException(Exception):
    """The root of trackline's errors: a message and one of MLflow's error codes."""

    default_error_code: str = INTERNAL_ERROR

    def __new__(cls, *args: Any, **kwargs: Any) -> MlflowException:
        # MlflowException("...", error_code=X) gives the subclass registered for X.
        error_code = kwargs.get("error_code", args[1] if len(args) > 1 else None)
        if cls is MlflowException and error_code in _SUBCLASS_BY_CODE:
            cls = _SUBCLASS_BY_CODE[error_code]
        return super().__new__(cls)

    def __init__(self, message: object = "", error_code: str | None = None, **kwargs: Any):
        self.message = str(message)
        self.error_code = _normalize_code(error_code or self.default_error_code)
        self.json_kwargs = kwargs
        super().__init__(self.message)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("default_error_code")
        # Only subclasses constructible as (message, error_code) can stand in for the root.
        if code and code not in _SUBCLASS_BY_CODE and cls.__init__ is MlflowException.__init__:
            _SUBCLASS_BY_CODE[code] = cls

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.error_code))

    def get_http_status_code(self) -> int:
        """The HTTP status a server answers this error with."""
        return ERROR_CODE_TO_HTTP_STATUS.get(self.error_code, 500)

    def to_dict(self) -> dict[str, Any]:
        """The error body of MLflow's REST protocol."""
        return {"error_code": self.error_code, "message": self.message, **self.json_kwargs}

    def serialize_as_json(self) -> str:
        import json  # only servers serialize errors; keep it off the import path

        return json.dumps(self.to_dict())

    @classmethod
    def invalid_parameter_value(cls, message: str, **kwargs: Any) -> MlflowException:
        return InvalidParameterValue(message, **kwargs)


TracklineError = MlflowException


class InvalidParameterValue(MlflowException, ValueError):
    """A request or argument that is malformed or breaks a rule."""

    default_error_code = INVALID_PARAMETER_VALUE


class ResourceAlreadyExists(MlflowException, ValueError):
    """Creating something whose name or key is taken."""

    default_error_code = RESOURCE_ALREADY_EXISTS


class ResourceDoesNotExist(MlflowException, LookupError):
    """An id, name or path that names nothing."""

    default_error_code = RESOURCE_DOES_NOT_EXIST


class InvalidState(MlflowException):
    """An operation that the current state of the resource forbids."""

    default_error_code = INVALID_STATE


class MissingDependency(MlflowException, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    default_error_code = NOT_IMPLEMENTED

    def __init__(self, package: str, extra: str, feature: str = "") -> None:
        what = f" for {feature}" if feature else ""
        super().__init__(
            f"{package} is needed{what} but is not installed: pip install 'trackline[{extra}]'"
        )
        self.name = package


class TemporarilyUnavailable(MlflowException):
    """A backing service (database, object store) cannot be reached right now."""

    default_error_code = TEMPORARILY_UNAVAILABLE


class RestException(MlflowException):
    """An error answered by a tracking server, carrying the server's code and message."""

    def __init__(self, json_body: dict[str, Any] | str = "", error_code: str | None = None):
        if isinstance(json_body, dict):
            code = str(json_body.get("error_code") or INTERNAL_ERROR)
            message = f"{code}: {json_body.get('message', '')}"
        else:
            code, message = error_code or INTERNAL_ERROR, json_body
        super().__init__(message, error_code=code)
        self.json = json_body if isinstance(json_body, dict) else {}


def _normalize_code(code: object) -> str:
    # MLflow callers sometimes pass the protobuf enum number; trackline only uses names.
    return str(code)


def _rebuild(cls: type[MlflowException], message: str, error_code: str) -> MlflowException:
    if cls.__init__ is not MlflowException.__init__:
        cls = MlflowException
    return cls(message, error_code=error_code)
