"""trackline's one search grammar: filters and order_by clauses, parsed into a small AST.

The language is MLflow's (``metrics.rmse < 0.5 AND params.model = 'rf'``) plus ``OR`` and
parentheses, with ``AND`` binding tighter than ``OR``::

    from trackline.search import parse_filter, parse_order_by, matches

    expr = parse_filter("(metrics.rmse < 1 OR tags.best = 'yes') AND status = 'FINISHED'", "runs")
    keys = parse_order_by(["metrics.rmse ASC"], "runs")

SQL stores compile the AST with ``trackline.store.sql.filters``; :func:`matches` and
:func:`sort_runs` evaluate it in memory with the same meaning.
"""

from trackline.search.ast import (
    COMPARATORS,
    And,
    Comparator,
    Comparison,
    Entity,
    Expr,
    Kind,
    Or,
    OrderKey,
    Value,
    to_filter_string,
)
from trackline.search.evaluate import matches, matches_experiment, sort_experiments, sort_runs
from trackline.search.lexer import FilterSyntaxError
from trackline.search.order_by import parse_order_by
from trackline.search.paging import decode_page_token, encode_page_token
from trackline.search.parser import parse_filter
from trackline.search.pattern import like_regex, sql_like_pattern

__all__ = [
    "COMPARATORS",
    "And",
    "Comparator",
    "Comparison",
    "Entity",
    "Expr",
    "FilterSyntaxError",
    "Kind",
    "Or",
    "OrderKey",
    "Value",
    "decode_page_token",
    "encode_page_token",
    "like_regex",
    "matches",
    "matches_experiment",
    "parse_filter",
    "parse_order_by",
    "sort_experiments",
    "sort_runs",
    "sql_like_pattern",
    "to_filter_string",
]
