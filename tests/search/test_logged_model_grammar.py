"""The "logged_models" kind of the one search grammar: its attributes, aliases, entities
and order_by keys."""

from __future__ import annotations

import pytest

from trackline.exceptions import InvalidParameterValue
from trackline.search import Comparison, OrderKey, parse_filter, parse_order_by
from trackline.search.lexer import FilterSyntaxError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'model'", Comparison("attribute", "name", "=", "model")),
        ("attributes.source_run_id = 'r'", Comparison("attribute", "source_run_id", "=", "r")),
        ("status IN ('READY')", Comparison("attribute", "status", "IN", ("READY",))),
        ("creation_time > 5", Comparison("attribute", "creation_timestamp", ">", 5)),
        ("last_updated_time <= 5", Comparison("attribute", "last_updated_timestamp", "<=", 5)),
        ("metrics.acc >= 0.5", Comparison("metric", "acc", ">=", 0.5)),
        ("params.depth = '3'", Comparison("param", "depth", "=", "3")),
        ("tags.`mlflow.user` LIKE 'a%'", Comparison("tag", "mlflow.user", "LIKE", "a%")),
    ],
)
def test_filters(text: str, expected: Comparison) -> None:
    assert parse_filter(text, "logged_models") == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("run_id = 'x'", "unknown attribute 'run_id'"),
        ("datasets.name = 'x'", "unknown entity 'datasets'"),
        ("run.name = 'x'", "unknown entity 'run'"),
        ("status LIKE 'R%'", "comparator LIKE is not allowed"),
        ("metrics.acc = 'x'", "needs a numeric value"),
        ("creation_timestamp = 'x'", "needs a numeric value"),
    ],
)
def test_filter_errors(text: str, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError, match=fragment):
        parse_filter(text, "logged_models")


def test_order_by_defaults_and_tie_breaker() -> None:
    assert parse_order_by(None, "logged_models") == [
        OrderKey("attribute", "creation_timestamp", ascending=False),
        OrderKey("attribute", "model_id"),
    ]
    assert parse_order_by(["metrics.acc DESC", "name"], "logged_models") == [
        OrderKey("metric", "acc", ascending=False),
        OrderKey("attribute", "name"),
        OrderKey("attribute", "model_id"),
    ]
    assert parse_order_by(["model_id DESC"], "logged_models") == [
        OrderKey("attribute", "model_id", ascending=False)
    ]


@pytest.mark.parametrize("clause", ["params.p", "tags.t"])
def test_order_by_errors(clause: str) -> None:
    with pytest.raises(InvalidParameterValue, match="cannot order by this field"):
        parse_order_by([clause], "logged_models")
