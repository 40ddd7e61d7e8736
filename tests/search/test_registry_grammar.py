"""The "registered_models" and "model_versions" kinds of the one search grammar: attributes,
tags, comparators, and order_by keys with their defaults and tie-breakers."""

from __future__ import annotations

import pytest

from trackline.exceptions import InvalidParameterValue
from trackline.search import And, Comparison, Kind, OrderKey, parse_filter, parse_order_by
from trackline.search.lexer import FilterSyntaxError


def attr(key: str, comparator: str, value: object) -> Comparison:
    return Comparison("attribute", key, comparator, value)  # type: ignore[arg-type]


RM, MV = "registered_models", "model_versions"


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (RM, "name = 'm'", attr("name", "=", "m")),
        (RM, "name IN ('a', 'b')", attr("name", "IN", ("a", "b"))),
        (RM, "attr.name ILIKE 'M%'", attr("name", "ILIKE", "M%")),
        (RM, "timestamp > 5", attr("last_updated_timestamp", ">", 5)),
        (RM, "tags.k != 'v'", Comparison("tag", "k", "!=", "v")),
        (
            RM,
            "tag.`mlflow.prompt.is_prompt` != 'true'",
            Comparison("tag", "mlflow.prompt.is_prompt", "!=", "true"),
        ),
        (MV, "name = 'm'", attr("name", "=", "m")),
        (MV, "run_id NOT IN ('r')", attr("run_id", "NOT IN", ("r",))),
        (MV, "source_path LIKE 's3://%'", attr("source_path", "LIKE", "s3://%")),
        (MV, "version_number >= 3", attr("version_number", ">=", 3)),
        (MV, "creation_timestamp < 9", attr("creation_timestamp", "<", 9)),
        (MV, "tags.`a.b` = 'c'", Comparison("tag", "a.b", "=", "c")),
    ],
)
def test_filters(kind: Kind, text: str, expected: Comparison) -> None:
    assert parse_filter(text, kind) == expected


def test_the_clients_prompt_clause_joins_a_filter() -> None:
    expr = parse_filter(
        "name LIKE 'm%' AND tag.`mlflow.prompt.is_prompt` != 'true'", "registered_models"
    )
    assert expr == And((Comparison("attribute", "name", "LIKE", "m%"),
                        Comparison("tag", "mlflow.prompt.is_prompt", "!=", "true")))  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "fragment"),
    [
        ("registered_models", "run_id = 'x'", "unknown attribute 'run_id'"),
        ("registered_models", "metrics.x > 1", "unknown entity 'metrics'"),
        ("registered_models", "params.x = '1'", "unknown entity 'params'"),
        ("registered_models", "name > 'a'", "comparator > is not allowed"),
        ("registered_models", "name = 1", "needs a quoted string"),
        ("model_versions", "current_stage = 'None'", "unknown attribute 'current_stage'"),
        ("model_versions", "source_path IN ('a')", "comparator IN is not allowed"),
        ("model_versions", "version_number = '1'", "needs a numeric value"),
        ("model_versions", "run_id < 'a'", "comparator < is not allowed"),
        ("model_versions", "datasets.name = 'x'", "unknown entity 'datasets'"),
    ],
)
def test_errors(kind: Kind, text: str, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError, match=fragment):
        parse_filter(text, kind)


def test_registered_model_order() -> None:
    assert parse_order_by(None, "registered_models") == [OrderKey("attribute", "name")]
    assert parse_order_by(["timestamp DESC"], "registered_models") == [
        OrderKey("attribute", "last_updated_timestamp", False),
        OrderKey("attribute", "name"),
    ]
    assert parse_order_by(["name DESC"], "registered_models") == [
        OrderKey("attribute", "name", False)
    ]
    assert parse_order_by(["creation_timestamp"], "registered_models")[0] == OrderKey(
        "attribute", "creation_timestamp"
    )


def test_model_version_order() -> None:
    assert parse_order_by([], "model_versions") == [
        OrderKey("attribute", "last_updated_timestamp", False),
        OrderKey("attribute", "name"),
        OrderKey("attribute", "version_number", False),
    ]
    assert parse_order_by(["version_number ASC"], "model_versions") == [
        OrderKey("attribute", "version_number"),
        OrderKey("attribute", "name"),
    ]
    assert parse_order_by(["name DESC", "creation_timestamp"], "model_versions") == [
        OrderKey("attribute", "name", False),
        OrderKey("attribute", "creation_timestamp"),
        OrderKey("attribute", "version_number", False),
    ]


@pytest.mark.parametrize(
    ("kind", "clauses"),
    [
        ("registered_models", ["tags.k"]),
        ("registered_models", ["timestamp", "last_updated_timestamp"]),
        ("registered_models", ["version_number"]),
        ("model_versions", ["run_id"]),
        ("model_versions", ["tags.k DESC"]),
        ("model_versions", ["name", "name"]),
    ],
)
def test_order_errors(kind: Kind, clauses: list[str]) -> None:
    with pytest.raises(InvalidParameterValue):
        parse_order_by(clauses, kind)
