"""The server's one exception handler: every failure becomes ``{"error_code", "message"}``.

* :class:`~trackline.exceptions.MlflowException` answers with its own code and the HTTP
  status the code maps to (``exc.get_http_status_code()``).
* Database errors a store let through are mapped so that a client mistake never reads as a
  server fault: integrity violations are 400 BAD_REQUEST (as MLflow's SQL store answers),
  bad data or a query too large for the database 400 INVALID_PARAMETER_VALUE, a locked or
  busy database, one that cannot be reached (a lost or refused connection) and a pool with no
  connection free 503 TEMPORARILY_UNAVAILABLE (clients retry it). The store itself already
  turns an unreachable database into TEMPORARILY_UNAVAILABLE with the database's own words;
  these are the errors that escaped it, answered without the driver's text.
* Starlette's 404 and 405 (unknown path, wrong method) are ENDPOINT_NOT_FOUND, the code on
  which MLflow's client falls back to an endpoint's other method.
* Anything else is a bug: 500 INTERNAL_ERROR with a generic message, the traceback logged
  on the server and never sent.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from trackline.exceptions import (
    BAD_REQUEST,
    ENDPOINT_NOT_FOUND,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    TEMPORARILY_UNAVAILABLE,
    MlflowException,
)
from trackline.store.sql.engine import is_connection_error

__all__ = ["error_response", "handle_http_exception"]

_logger = logging.getLogger("trackline.server")

_GENERIC = "An internal error occurred on the server; it has been logged."
_UNREACHABLE = "The backend database cannot be reached; retry later."
_POOL_EXHAUSTED = "Every connection to the backend database is busy; retry later."


def _json_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps({"error_code": code, "message": message}, ensure_ascii=False)
    return Response(body.encode(), status_code=status, headers=headers,
                    media_type="application/json")  # fmt: skip


def error_response(exc: BaseException) -> Response:
    """The JSON error response for any exception raised while serving a request."""
    if isinstance(exc, MlflowException):
        status = exc.get_http_status_code()
        if status >= 500:
            _logger.error("%s: %s", exc.error_code, exc.message)
        body = json.dumps(exc.to_dict(), ensure_ascii=False, default=str)
        return Response(body.encode(), status_code=status, media_type="application/json")
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if isinstance(exc, sa_exc.IntegrityError):
        _logger.info("integrity error answered as BAD_REQUEST: %s", exc.orig)
        return _json_error(400, BAD_REQUEST, "The request conflicts with existing data.")
    if isinstance(exc, sa_exc.DataError):
        _logger.info("data error answered as INVALID_PARAMETER_VALUE: %s", exc.orig)
        return _json_error(400, INVALID_PARAMETER_VALUE, "A value in the request is invalid.")
    if isinstance(exc, sa_exc.DBAPIError) and is_connection_error(exc):
        _logger.warning("backend database unreachable: %s", exc.orig)
        return _json_error(503, TEMPORARILY_UNAVAILABLE, _UNREACHABLE)
    if isinstance(exc, sa_exc.TimeoutError):
        _logger.warning("no database connection free: %s", exc)
        return _json_error(503, TEMPORARILY_UNAVAILABLE, _POOL_EXHAUSTED)
    if isinstance(exc, sa_exc.OperationalError):
        return _operational_error(exc)
    _logger.error("unhandled error while serving a request", exc_info=exc)
    return _json_error(500, INTERNAL_ERROR, _GENERIC)


_TRANSIENT = ("locked", "busy", "deadlock", "lock wait timeout", "timeout", "too many connections")
_TOO_BIG = ("too many sql variables", "too many terms", "expression tree is too large")


def _operational_error(exc: sa_exc.OperationalError) -> Response:
    text = str(exc.orig).lower()
    if any(s in text for s in _TOO_BIG):
        _logger.info("request too large for the database: %s", exc.orig)
        return _json_error(400, INVALID_PARAMETER_VALUE, "The request is too large to run.")
    if any(s in text for s in _TRANSIENT):
        _logger.warning("database busy: %s", exc.orig)
        return _json_error(
            503, TEMPORARILY_UNAVAILABLE, "The backend database is busy; retry later."
        )
    _logger.error("database error while serving a request", exc_info=exc)
    return _json_error(500, INTERNAL_ERROR, _GENERIC)


def _http_error(exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return _json_error(404, ENDPOINT_NOT_FOUND, "No API endpoint at this path.")
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return _json_error(
            405,
            ENDPOINT_NOT_FOUND,
            f"Method not allowed on this path; it accepts {allowed or 'other methods'}.",
            headers=dict(exc.headers or {}),
        )
    code = BAD_REQUEST if 400 <= exc.status_code < 500 else INTERNAL_ERROR
    return _json_error(exc.status_code, code, exc.detail, headers=dict(exc.headers or {}))


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: routing errors (404, 405) and any other exception that
    reaches the application's exception middleware."""
    return error_response(exc)
