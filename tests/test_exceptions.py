"""The error tree: codes, HTTP statuses, subclass selection, pickling."""

from __future__ import annotations

import json
import pickle

import pytest

from trackline.exceptions import (
    ERROR_CODE_TO_HTTP_STATUS,
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    InvalidParameterValue,
    MissingDependency,
    MlflowException,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    RestException,
    TracklineError,
)


@pytest.mark.parametrize(
    ("code", "cls", "builtin", "status"),
    [
        (INVALID_PARAMETER_VALUE, InvalidParameterValue, ValueError, 400),
        (RESOURCE_ALREADY_EXISTS, ResourceAlreadyExists, ValueError, 400),
        (RESOURCE_DOES_NOT_EXIST, ResourceDoesNotExist, LookupError, 404),
    ],
)
def test_code_picks_subclass_and_status(
    code: str, cls: type[MlflowException], builtin: type[Exception], status: int
) -> None:
    exc = MlflowException("nope", error_code=code)
    assert type(exc) is cls
    assert isinstance(exc, builtin)
    assert exc.error_code == code
    assert exc.get_http_status_code() == status
    assert json.loads(exc.serialize_as_json()) == {"error_code": code, "message": "nope"}


def test_default_code_is_internal_error() -> None:
    exc = MlflowException("boom")
    assert type(exc) is MlflowException
    assert exc.error_code == "INTERNAL_ERROR"
    assert exc.get_http_status_code() == 500
    assert TracklineError is MlflowException


def test_every_code_has_a_status() -> None:
    assert all(400 <= status < 600 for status in ERROR_CODE_TO_HTTP_STATUS.values())
    assert ERROR_CODE_TO_HTTP_STATUS[RESOURCE_ALREADY_EXISTS] == 400  # MLflow's choice, kept


def test_errors_survive_pickling() -> None:
    for exc in (
        InvalidParameterValue("bad"),
        MlflowException("gone", error_code=RESOURCE_DOES_NOT_EXIST),
        MissingDependency("psycopg", "postgres"),
    ):
        copy = pickle.loads(pickle.dumps(exc))
        assert copy.error_code == exc.error_code
        assert copy.message == exc.message


def test_missing_dependency_names_the_extra() -> None:
    exc = MissingDependency("psycopg", "postgres", "PostgreSQL stores")
    assert "pip install 'trackline[postgres]'" in str(exc)
    assert isinstance(exc, ImportError)


def test_rest_exception_carries_the_servers_code() -> None:
    exc = RestException({"error_code": RESOURCE_DOES_NOT_EXIST, "message": "Run x not found"})
    assert exc.error_code == RESOURCE_DOES_NOT_EXIST
    assert "Run x not found" in exc.message
