"""Database errors that escaped the store's own translation: a lost or refused connection and
a pool with no connection free are 503 TEMPORARILY_UNAVAILABLE (clients retry), without the
driver's text; a faulty statement stays a 500 (tests/deploy has the real outages)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from trackline.server.errors import error_response


class _Lost(Exception):
    """A driver error carrying a SQLSTATE, as psycopg's do."""

    sqlstate = "57P01"


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("SELECT", {}, Exception("x"), connection_invalidated=True),
        OperationalError("SELECT", {}, _Lost("terminating connection due to administrator")),
        OperationalError("SELECT", {}, Exception(2013, "Lost connection to server during query")),
        OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly")),
        InterfaceError("SELECT", {}, Exception(0, "")),
        PoolTimeout("QueuePool limit of size 5 overflow 5 reached"),
    ],
)
def test_an_unreachable_database_is_503(exc: Exception) -> None:
    response = error_response(exc)
    body = json.loads(bytes(response.body))
    assert response.status_code == 503
    assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "retry later" in body["message"]
    assert "QueuePool" not in body["message"]


def test_a_faulty_statement_is_still_a_500() -> None:
    response = error_response(ProgrammingError("SELECT", {}, Exception("syntax error")))
    assert response.status_code == 500
