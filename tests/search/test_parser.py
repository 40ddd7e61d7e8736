"""The filter parser: MLflow's examples, OR, parentheses, per-field rules, error positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackline.exceptions import INVALID_PARAMETER_VALUE, InvalidParameterValue
from trackline.search import (
    And,
    Comparison,
    Expr,
    FilterSyntaxError,
    Or,
    parse_filter,
    to_filter_string,
)


def C(entity: str, key: str, comparator: str, value: object = None) -> Comparison:
    return Comparison(entity, key, comparator, value)  # type: ignore[arg-type]


# -- what parses --------------------------------------------------------------------------

MLFLOW_EXAMPLES = [
    ("metrics.x > -1.5", C("metric", "x", ">", -1.5)),
    ("metrics.`my.metric` >= 2e3", C("metric", "my.metric", ">=", 2000.0)),
    ('params."a b" = "v"', C("param", "a b", "=", "v")),
    (
        "tags.`mlflow.runName` ILIKE '%foo%' and params.alpha != '0.1'",
        And((C("tag", "mlflow.runName", "ILIKE", "%foo%"), C("param", "alpha", "!=", "0.1"))),
    ),
    ("run_id NOT IN ('a')", C("attribute", "run_id", "NOT IN", ("a",))),
    ("attr.start_time > 1000", C("attribute", "start_time", ">", 1000)),
    ("`Run name` = 'x'", C("attribute", "run_name", "=", "x")),
    (
        "datasets.name = 'ds' AND dataset.context = 'train'",
        And((C("dataset", "name", "=", "ds"), C("dataset", "context", "=", "train"))),
    ),
]


@pytest.mark.parametrize(("text", "expected"), MLFLOW_EXAMPLES)
def test_mlflow_examples_parse(text: str, expected: Expr) -> None:
    assert parse_filter(text, "runs") == expected


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_blank_filter_is_none(text: str | None) -> None:
    assert parse_filter(text, "runs") is None


@pytest.mark.parametrize(
    ("prefix", "entity"),
    [
        ("metric", "metric"),
        ("metrics", "metric"),
        ("parameter", "param"),
        ("parameters", "param"),
        ("param", "param"),
        ("params", "param"),
        ("tag", "tag"),
        ("tags", "tag"),
        ("Tags", "tag"),
    ],
)
def test_entity_aliases(prefix: str, entity: str) -> None:
    comparator, value = (">", 1) if entity == "metric" else ("=", "1")
    literal = "1" if entity == "metric" else "'1'"
    expr = parse_filter(f"{prefix}.k {comparator} {literal}", "runs")
    assert expr == C(entity, "k", comparator, value)


@pytest.mark.parametrize("prefix", ["", "attribute.", "attributes.", "attr.", "run."])
def test_attribute_prefixes(prefix: str) -> None:
    assert parse_filter(f"{prefix}status = 'RUNNING'", "runs") == C(
        "attribute", "status", "=", "RUNNING"
    )


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("`run name`", "run_name"),
        ("`Run name`", "run_name"),
        ("`Run Name`", "run_name"),
        ("attributes.`Run Name`", "run_name"),
        ("run_name", "run_name"),
        ("created", "start_time"),
        ("Created", "start_time"),
    ],
)
def test_attribute_aliases(written: str, canonical: str) -> None:
    value, literal = ("x", "'x'") if canonical == "run_name" else (5, "5")
    assert parse_filter(f"{written} = {literal}", "runs") == C("attribute", canonical, "=", value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tags.`a.b c` = 'v'", "a.b c"),
        ("tags.\"a.b\" = 'v'", "a.b"),
        ("tags.'a.b' = 'v'", "a.b"),
        ("tags.mlflow.runName = 'v'", "mlflow.runName"),
        ("tags.val-loss/x:y = 'v'", "val-loss/x:y"),
        ("tags.`a``b` = 'v'", "a`b"),
    ],
)
def test_keys_quoted_or_dotted(text: str, key: str) -> None:
    assert parse_filter(text, "runs") == C("tag", key, "=", "v")


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1", 1),
        ("-3", -3),
        ("+3", 3),
        ("2.5", 2.5),
        ("-0.5", -0.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("-2.5e+2", -250.0),
    ],
)
def test_numbers(literal: str, value: float) -> None:
    expr = parse_filter(f"metrics.m = {literal}", "runs")
    assert isinstance(expr, Comparison)
    assert expr.value == value
    assert type(expr.value) is type(value)


def test_huge_integer_becomes_float() -> None:
    expr = parse_filter("start_time < 99999999999999999999", "runs")
    assert expr == C("attribute", "start_time", "<", 1e20)
    assert isinstance(expr, Comparison)
    assert isinstance(expr.value, float)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'it''s'", "it's"),
        ("'it\\'s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ("'a\\\\b'", "a\\b"),
        ("'a\\_b'", "a\\_b"),
        ("'C:\\data'", "C:\\data"),
        ("''", ""),
        ("'a OR b AND (c)'", "a OR b AND (c)"),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    assert parse_filter(f"params.p = {literal}", "runs") == C("param", "p", "=", value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.p IS NULL", C("param", "p", "IS NULL")),
        ("params.p is not null", C("param", "p", "IS NOT NULL")),
        ("tags.t Is Not Null", C("tag", "t", "IS NOT NULL")),
        ("params.p like 'a%'", C("param", "p", "LIKE", "a%")),
        ("params.p iLike 'a%'", C("param", "p", "ILIKE", "a%")),
        ("run_id in ('a', \"b\",)", C("attribute", "run_id", "IN", ("a", "b"))),
        ("run_id not  in('a')", C("attribute", "run_id", "NOT IN", ("a",))),
        ("datasets.digest IN ('d1','d2')", C("dataset", "digest", "IN", ("d1", "d2"))),
        ("metrics.m<=1", C("metric", "m", "<=", 1)),
        ("metrics.m>=-1", C("metric", "m", ">=", -1)),
        ("metrics.m!=0", C("metric", "m", "!=", 0)),
        ("end_time < 5", C("attribute", "end_time", "<", 5)),
        ("user_id = 'u'", C("attribute", "user_id", "=", "u")),
        ("artifact_uri LIKE 's3://%'", C("attribute", "artifact_uri", "LIKE", "s3://%")),
    ],
)
def test_comparators(text: str, expected: Expr) -> None:
    assert parse_filter(text, "runs") == expected


# -- OR, parentheses, precedence ----------------------------------------------------------

A = C("metric", "a", ">", 1)
B = C("metric", "b", ">", 1)
D = C("metric", "d", ">", 1)
E = C("metric", "e", ">", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.a > 1 OR metrics.b > 1", Or((A, B))),
        ("metrics.a > 1 or metrics.b > 1 AND metrics.d > 1", Or((A, And((B, D))))),
        ("metrics.a > 1 AND metrics.b > 1 OR metrics.d > 1", Or((And((A, B)), D))),
        ("(metrics.a > 1 OR metrics.b > 1) AND metrics.d > 1", And((Or((A, B)), D))),
        ("metrics.a > 1 AND (metrics.b > 1 OR metrics.d > 1)", And((A, Or((B, D))))),
        ("((metrics.a > 1))", A),
        ("metrics.a > 1 AND (metrics.b > 1 AND metrics.d > 1)", And((A, B, D))),
        ("(metrics.a > 1 OR metrics.b > 1) OR metrics.d > 1", Or((A, B, D))),
        (
            "(metrics.a > 1 OR metrics.b > 1) AND (metrics.d > 1 OR metrics.e > 1)",
            And((Or((A, B)), Or((D, E)))),
        ),
        (
            "metrics.a > 1 AND metrics.b > 1 OR metrics.d > 1 AND metrics.e > 1",
            Or((And((A, B)), And((D, E)))),
        ),
    ],
)
def test_or_parentheses_and_precedence(text: str, expected: Expr) -> None:
    assert parse_filter(text, "runs") == expected


# -- errors: positions and messages -------------------------------------------------------


def _error(text: str | None, kind: str = "runs") -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text, kind)  # type: ignore[arg-type]
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    assert isinstance(info.value, InvalidParameterValue)
    return info.value


def test_brief_example_message() -> None:
    err = _error("metrics.x >")
    assert err.message.startswith("Invalid filter 'metrics.x >': expected a value")
    assert err.message.endswith("at position 11")
    assert err.position == 11


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("metrics.x", 9, "expected a comparator"),
        ("metrics.x ~ 1", 10, "unexpected character '~'"),
        ("metrics.x = 1 metrics.y = 2", 14, "expected AND, OR or the end of the filter"),
        ("metrics.x = 1 AND", 17, "expected an identifier"),
        ("metrics.x = 1 OR OR metrics.y = 1", 17, "expected an identifier"),
        ("(metrics.x = 1", 14, "expected ')'"),
        ("metrics.x = 1)", 13, "expected AND, OR or the end"),
        ("()", 1, "expected an identifier"),
        ("params.p = 'abc", 11, "unterminated quote"),
        ("tags.`abc = 'x'", 5, "unterminated backtick"),
        ("run_id IN 'a'", 10, "expected a parenthesized list"),
        ("run_id IN ()", 11, "expected a quoted string"),
        ("run_id IN ('a' 'b')", 15, "expected ',' or ')'"),
        ("run_id IN ('a', 1)", 16, "expected a quoted string"),
        ("params.p IS 'x'", 12, "expected NULL"),
        ("run_id NOT LIKE 'x'", 11, "expected IN after NOT"),
        ("status = RUNNING", 9, "expected a value"),
        ("foo.bar = 1", 0, "unknown entity 'foo'"),
        ("metrics. = 1", 8, "expected a key right after 'metrics.'"),
        ("metrics. `x` = 1", 8, "expected a key right after 'metrics.'"),
        ("nope = 'x'", 0, "unknown attribute 'nope'"),
        ("experiment_id = '1'", 0, "experiment_id is not a filter field"),
        ("datasets.schema = 'x'", 0, "unknown dataset field 'schema'"),
        ("metrics.x = '1'", 12, "needs a numeric value"),
        ("params.p = 1", 11, "needs a quoted string value"),
        ("start_time = '1'", 13, "needs a numeric value"),
        ("params.p > '1'", 9, "comparator > is not allowed on params.p"),
        ("metrics.m LIKE '1'", 10, "comparator LIKE is not allowed on metrics.m"),
        ("metrics.m IS NULL", 10, "comparator IS NULL is not allowed"),
        ("status IN ('a')", 7, "comparator IN is not allowed on attribute status"),
        ("run_name IS NULL", 9, "comparator IS NULL is not allowed"),
        ("start_time LIKE '1'", 11, "comparator LIKE is not allowed"),
        ("tags.t IN ('a')", 7, "comparator IN is not allowed on tags.t"),
        ("metrics.a > 1 AND metrics.b > 1 OR params.c > 'x'", 44, "comparator >"),
        ("metrics.x = 1 AND 1 = 1", 18, "expected an identifier"),
        ("metrics.x = 1; DROP TABLE runs", 13, "unexpected character ';'"),
        ("AND = 1", 0, "expected an identifier"),
    ],
)
def test_errors_name_position_and_expectation(text: str, position: int, fragment: str) -> None:
    err = _error(text)
    assert err.position == position
    assert fragment in err.message
    assert err.message.startswith(f"Invalid filter '{text}': ")
    assert err.message.endswith(f"at position {position}")


def test_allowed_comparators_are_listed() -> None:
    err = _error("params.p > '1'")
    assert "(allowed: =, !=, LIKE, ILIKE, IS NULL, IS NOT NULL)" in err.message


# -- experiments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'a'", C("attribute", "name", "=", "a")),
        ("attribute.name LIKE 'a%'", C("attribute", "name", "LIKE", "a%")),
        ("name ILIKE '%A'", C("attribute", "name", "ILIKE", "%A")),
        ("experiment_id = '3'", C("attribute", "experiment_id", "=", "3")),
        ("experiment_id NOT IN ('3', '4')", C("attribute", "experiment_id", "NOT IN", ("3", "4"))),
        ("creation_time >= 10", C("attribute", "creation_time", ">=", 10)),
        ("last_update_time < 10", C("attribute", "last_update_time", "<", 10)),
        ("tags.k IS NULL", C("tag", "k", "IS NULL")),
        (
            "tag.k = 'v' OR name = 'x'",
            Or((C("tag", "k", "=", "v"), C("attribute", "name", "=", "x"))),
        ),
    ],
)
def test_experiment_filters(text: str, expected: Expr) -> None:
    assert parse_filter(text, "experiments") == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("attributes.name = 'a'", "unknown entity 'attributes'"),
        ("metrics.m > 1", "unknown entity 'metrics'"),
        ("status = 'a'", "unknown attribute 'status'"),
        ("experiment_id = 3", "needs a quoted string value"),
        ("experiment_id LIKE '3'", "comparator LIKE is not allowed"),
        ("name IN ('a')", "comparator IN is not allowed"),
        ("creation_time = 'x'", "needs a numeric value"),
        ("name IS NULL", "comparator IS NULL is not allowed"),
    ],
)
def test_experiment_filter_errors(text: str, fragment: str) -> None:
    assert fragment in _error(text, "experiments").message


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown search kind"):
        parse_filter("name = 'a'", "models")  # type: ignore[arg-type]


# -- round trip ----------------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8"), max_size=6)
_KEY = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)
_NUMBER = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _comparisons() -> st.SearchStrategy[Comparison]:
    metric = st.builds(
        Comparison,
        st.just("metric"),
        _KEY,
        st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
        _NUMBER,
    )
    keyed = st.builds(
        Comparison,
        st.sampled_from(["param", "tag"]),
        _KEY,
        st.sampled_from(["=", "!=", "LIKE", "ILIKE"]),
        _TEXT,
    )
    null = st.builds(
        Comparison,
        st.sampled_from(["param", "tag"]),
        _KEY,
        st.sampled_from(["IS NULL", "IS NOT NULL"]),
        st.none(),
    )
    listed = st.builds(
        Comparison,
        st.just("attribute"),
        st.just("run_id"),
        st.sampled_from(["IN", "NOT IN"]),
        st.lists(_TEXT, min_size=1, max_size=3).map(tuple),
    )
    dataset = st.builds(
        Comparison,
        st.just("dataset"),
        st.sampled_from(["name", "digest", "context"]),
        st.sampled_from(["=", "!=", "LIKE", "ILIKE"]),
        _TEXT,
    )
    return st.one_of(metric, keyed, null, listed, dataset)


def _normalize(expr: Expr) -> Expr:
    if isinstance(expr, Comparison):
        return expr
    node = type(expr)
    flat: list[Expr] = []
    for term in (_normalize(t) for t in expr.terms):
        flat.extend(term.terms if isinstance(term, node) else (term,))
    return node(tuple(flat))


_EXPRS = st.recursive(
    _comparisons(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: And(tuple(ts))),
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: Or(tuple(ts))),
    ),
    max_leaves=6,
)


@settings(max_examples=150)
@given(_EXPRS)
def test_to_filter_string_round_trips(expr: Expr) -> None:
    expected = _normalize(expr)
    assert parse_filter(to_filter_string(expr), "runs") == expected
