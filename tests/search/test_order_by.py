"""order_by parsing: identifiers, directions, tie-breakers, duplicates and errors."""

from __future__ import annotations

import pytest

from trackline.exceptions import InvalidParameterValue
from trackline.search import FilterSyntaxError, OrderKey, parse_order_by

START_DESC = OrderKey("attribute", "start_time", ascending=False)
RUN_ID = OrderKey("attribute", "run_id")


def test_runs_default_is_start_time_desc_then_run_id() -> None:
    assert parse_order_by(None, "runs") == [START_DESC, RUN_ID]
    assert parse_order_by([], "runs") == [START_DESC, RUN_ID]


@pytest.mark.parametrize(
    ("clause", "key"),
    [
        ("metrics.rmse", OrderKey("metric", "rmse")),
        ("metrics.rmse ASC", OrderKey("metric", "rmse")),
        ("metric.rmse desc", OrderKey("metric", "rmse", ascending=False)),
        ("params.`a b` DESC", OrderKey("param", "a b", ascending=False)),
        ("tags.mlflow.runName Asc", OrderKey("tag", "mlflow.runName")),
        ("status", OrderKey("attribute", "status")),
        ("attributes.user_id DESC", OrderKey("attribute", "user_id", ascending=False)),
        ("`Run name`", OrderKey("attribute", "run_name")),
        ("artifact_uri", OrderKey("attribute", "artifact_uri")),
        ("end_time", OrderKey("attribute", "end_time")),
    ],
)
def test_runs_clauses(clause: str, key: OrderKey) -> None:
    assert parse_order_by([clause], "runs") == [key, START_DESC, RUN_ID]


@pytest.mark.parametrize("clause", ["start_time", "attr.start_time ASC", "created", "Created"])
def test_start_time_given_is_not_appended(clause: str) -> None:
    keys = parse_order_by([clause], "runs")
    assert keys == [OrderKey("attribute", "start_time"), RUN_ID]


def test_run_id_given_is_not_appended() -> None:
    assert parse_order_by(["run_id DESC"], "runs") == [
        OrderKey("attribute", "run_id", ascending=False),
        START_DESC,
    ]


def test_several_keys_keep_their_order() -> None:
    keys = parse_order_by(["metrics.a DESC", "params.b", "tags.c DESC"], "runs")
    assert keys == [
        OrderKey("metric", "a", ascending=False),
        OrderKey("param", "b"),
        OrderKey("tag", "c", ascending=False),
        START_DESC,
        RUN_ID,
    ]


@pytest.mark.parametrize(
    "clauses",
    [
        ["metrics.a", "metrics.a DESC"],
        ["metrics.a", "metric.a"],
        ["start_time", "created DESC"],
        ["`Run name`", "run_name"],
    ],
)
def test_duplicates_are_rejected(clauses: list[str]) -> None:
    with pytest.raises(InvalidParameterValue, match="ordered on twice"):
        parse_order_by(clauses, "runs")


@pytest.mark.parametrize(
    ("clause", "position", "fragment"),
    [
        ("", 0, "expected an identifier"),
        ("metrics.a DESC ASC", 15, "expected ASC, DESC or the end"),
        ("metrics.a upward", 10, "expected ASC, DESC or the end"),
        ("metrics.a, metrics.b", 9, "expected ASC, DESC or the end of the clause, found ','"),
        ("datasets.name", 0, "cannot order by this field"),
        ("experiment_id", 0, "experiment_id is not a filter field"),
        ("lifecycle_stage", 0, "unknown attribute"),
        ("foo.bar", 0, "unknown entity 'foo'"),
    ],
)
def test_runs_errors(clause: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_order_by([clause], "runs")
    assert info.value.position == position
    assert fragment in info.value.message
    assert info.value.message.startswith(f"Invalid order_by '{clause}': ")


def test_a_bare_string_is_rejected() -> None:
    with pytest.raises(InvalidParameterValue, match="list of strings"):
        parse_order_by("metrics.a", "runs")


def test_a_non_string_clause_is_rejected() -> None:
    with pytest.raises(InvalidParameterValue, match="not a string"):
        parse_order_by([3], "runs")  # type: ignore[list-item]


def test_experiments_default_and_tie_breaker() -> None:
    assert parse_order_by(None, "experiments") == [
        OrderKey("attribute", "creation_time", ascending=False),
        OrderKey("attribute", "experiment_id"),
    ]
    assert parse_order_by(["name DESC"], "experiments") == [
        OrderKey("attribute", "name", ascending=False),
        OrderKey("attribute", "experiment_id"),
    ]
    assert parse_order_by(["experiment_id DESC", "attribute.last_update_time"], "experiments") == [
        OrderKey("attribute", "experiment_id", ascending=False),
        OrderKey("attribute", "last_update_time"),
    ]


@pytest.mark.parametrize("clause", ["tags.a", "status", "metrics.m", "attributes.name"])
def test_experiments_errors(clause: str) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_order_by([clause], "experiments")


def test_order_key_str_parses_back() -> None:
    key = OrderKey("param", "a`b c", ascending=False)
    assert parse_order_by([str(key)], "runs")[0] == key
