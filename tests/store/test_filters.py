"""Search SQL: the statements of ``store.sql.filters`` against real SQLite, PostgreSQL, MariaDB.

Hand-written cases pin the semantics that differ between backends (case, trailing spaces,
LIKE escapes, NULL placement); property tests generate runs, experiments, filters (AND, OR,
parentheses, every comparator) and order_by clauses and check that the database returns
exactly what the reference evaluator (``trackline.search.evaluate``) returns, in order.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trackline.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
    ViewType,
)
from trackline.exceptions import InvalidParameterValue
from trackline.search import (
    And,
    Comparison,
    Expr,
    Or,
    matches,
    matches_experiment,
    parse_filter,
    parse_order_by,
    sort_experiments,
    sort_runs,
    to_filter_string,
)
from trackline.store.sql import run_order, schema
from trackline.store.sql.engine import Database
from trackline.store.sql.filters import experiments_query, runs_query
from trackline.validation import METRIC_VALUE_MAX

# -- the database ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """An empty database with trackline's tables, on each backend in turn."""
    db = Database(request.getfixturevalue(f"{request.param}_uri"), create=False)
    schema.metadata.create_all(db.engine)
    try:
        yield db
    finally:
        db.close()


@dataclass
class RunSpec:
    run_id: str
    experiment_id: int = 1
    lifecycle_stage: str = "active"
    status: str = "FINISHED"
    user_id: str | None = "u"
    start_time: int = 0
    end_time: int | None = None
    artifact_uri: str | None = None
    name: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # (dataset name, digest, context tag or None)
    datasets: list[tuple[str, str, str | None]] = field(default_factory=list)

    def entity(self) -> Run:
        tags = dict(self.tags)
        if self.name is not None:
            tags.setdefault("mlflow.runName", self.name)
        info = RunInfo(
            run_id=self.run_id,
            experiment_id=str(self.experiment_id),
            user_id=self.user_id,
            status=self.status,
            start_time=self.start_time,
            end_time=self.end_time,
            lifecycle_stage=self.lifecycle_stage,
            artifact_uri=self.artifact_uri,
            run_name=self.name,
        )
        data = RunData(
            metrics=[Metric(k, v, 0, 0) for k, v in self.metrics.items()],
            params=[Param(k, v) for k, v in self.params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        inputs = RunInputs(
            dataset_inputs=[
                DatasetInput(
                    Dataset(n, d, "code", "{}"),
                    [InputTag("mlflow.data.context", c)] if c is not None else [],
                )
                for n, d, c in self.datasets
            ]
        )
        return Run(info, data, inputs)


TABLES_CHILD_FIRST = [
    schema.input_tags,
    schema.inputs,
    schema.datasets,
    schema.latest_metrics,
    schema.metrics,
    schema.params,
    schema.tags,
    schema.runs,
    schema.experiment_tags,
    schema.experiments,
]


def load(
    db: Database, specs: Sequence[RunSpec], experiments: Sequence[Experiment] | None = None
) -> list[Run]:
    """Replace the database's content with ``experiments`` (default: ids 1 and 2) and runs."""
    if experiments is None:
        experiments = [Experiment(str(i), f"e{i}", "/a", "active") for i in (1, 2)]
    with db.write() as conn:
        for table in TABLES_CHILD_FIRST:
            conn.execute(table.delete())
        conn.execute(
            schema.experiments.insert(),
            [
                {
                    "experiment_id": int(e.experiment_id),
                    "name": e.name,
                    "lifecycle_stage": e.lifecycle_stage,
                    "creation_time": e.creation_time,
                    "last_update_time": e.last_update_time,
                }
                for e in experiments
            ],
        )
        tag_rows = [
            {"experiment_id": int(e.experiment_id), "key": k, "value": v}
            for e in experiments
            for k, v in e.tags.items()
        ]
        if tag_rows:
            conn.execute(schema.experiment_tags.insert(), tag_rows)
        dataset_ids: dict[tuple[int, str, str], str] = {}
        for spec in specs:
            _insert_run(conn, spec, dataset_ids)
    return [spec.entity() for spec in specs]


def _insert_run(
    conn: sa.Connection, spec: RunSpec, dataset_ids: dict[tuple[int, str, str], str]
) -> None:
    conn.execute(
        schema.runs.insert(),
        {
            "run_uuid": spec.run_id,
            "name": spec.name,
            "user_id": spec.user_id,
            "status": spec.status,
            "start_time": spec.start_time,
            "end_time": spec.end_time,
            "lifecycle_stage": spec.lifecycle_stage,
            "artifact_uri": spec.artifact_uri,
            "experiment_id": spec.experiment_id,
        },
    )
    tags = dict(spec.tags)
    if spec.name is not None:
        tags.setdefault("mlflow.runName", spec.name)
    rows: list[tuple[sa.Table, list[dict[str, Any]]]] = [
        (
            schema.latest_metrics,
            [
                {
                    "run_uuid": spec.run_id,
                    "key": k,
                    "value": 0.0 if math.isnan(v) else v,
                    "is_nan": math.isnan(v),
                    "timestamp": 0,
                    "step": 0,
                    "experiment_id": spec.experiment_id,
                }
                for k, v in spec.metrics.items()
            ],
        ),
        (schema.params, [{"run_uuid": spec.run_id, "key": k, "value": v}
                         for k, v in spec.params.items()]),
        (schema.tags, [{"run_uuid": spec.run_id, "key": k, "value": v} for k, v in tags.items()]),
    ]  # fmt: skip
    for table, values in rows:
        if values:
            conn.execute(table.insert(), values)
    for name, digest, context in spec.datasets:
        identity = (spec.experiment_id, name, digest)
        if identity not in dataset_ids:
            dataset_ids[identity] = uuid.uuid4().hex
            conn.execute(
                schema.datasets.insert(),
                {
                    "dataset_uuid": dataset_ids[identity],
                    "experiment_id": spec.experiment_id,
                    "name": name,
                    "digest": digest,
                    "dataset_source_type": "code",
                    "dataset_source": "{}",
                },
            )
        input_uuid = uuid.uuid4().hex
        conn.execute(
            schema.inputs.insert(),
            {
                "input_uuid": input_uuid,
                "source_type": "DATASET",
                "source_id": dataset_ids[identity],
                "destination_type": "RUN",
                "destination_id": spec.run_id,
            },
        )
        if context is not None:
            conn.execute(
                schema.input_tags.insert(),
                {"input_uuid": input_uuid, "name": "mlflow.data.context", "value": context},
            )


def search(
    db: Database,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    experiment_ids: Sequence[int] = (1,),
    view_type: int = ViewType.ACTIVE_ONLY,
    offset: int = 0,
    limit: int = 1000,
) -> list[str]:
    query = runs_query(experiment_ids, filter_string, view_type, order_by, offset, limit)
    with db.read() as conn:
        return [row[0] for row in conn.execute(query)]


def expected(
    runs: Sequence[Run],
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    experiment_ids: Sequence[int] = (1,),
    view_type: int = ViewType.ACTIVE_ONLY,
    offset: int = 0,
    limit: int = 1000,
) -> list[str]:
    """What the reference evaluator says ``search`` must return."""
    expr = parse_filter(filter_string, "runs")
    stages = LifecycleStage.view_type_to_stages(view_type)
    wanted = {str(i) for i in experiment_ids}
    chosen = [
        r
        for r in runs
        if r.info.experiment_id in wanted and r.info.lifecycle_stage in stages and matches(expr, r)
    ]
    ordered = sort_runs(chosen, parse_order_by(order_by, "runs"))
    return [r.info.run_id for r in ordered[offset : offset + limit]]


# -- hand-written cases --------------------------------------------------------------------


def _id(n: int) -> str:
    return f"{n:032x}"


CASE_RUNS = [
    RunSpec(_id(1), name="alpha", params={"p": "a"}, tags={"t": "Hello"}, start_time=1,
            metrics={"m": 1.0}, user_id="Bob", artifact_uri="s3://b/1"),
    RunSpec(_id(2), name="Alpha", params={"p": "A"}, tags={"t": "hello"}, start_time=2,
            metrics={"m": math.nan}, user_id="bob"),
    RunSpec(_id(3), name="alpha ", params={"p": "a "}, tags={"t": "h_llo"}, start_time=3,
            metrics={"m": 0.0}, user_id=None, end_time=10),
    RunSpec(_id(4), params={"p": "50%"}, tags={"t": "a\\b"}, start_time=4, status="RUNNING",
            datasets=[("train", "d1", "training"), ("eval", "d2", None)]),
    RunSpec(_id(5), lifecycle_stage="deleted", params={"p": "a"}, start_time=5),
    RunSpec(_id(6), experiment_id=2, params={"p": "a"}, start_time=6),
]  # fmt: skip


FILTER_CASES: list[tuple[str, list[int]]] = [
    ("params.p = 'a'", [1]),
    ("params.p = 'A'", [2]),
    ("params.p = 'a '", [3]),
    ("params.p != 'a'", [4, 3, 2]),
    ("params.p LIKE 'a%'", [3, 1]),
    ("params.p ILIKE 'a%'", [3, 2, 1]),
    ("params.p LIKE 'a'", [1]),
    ("params.p LIKE '50\\%'", [4]),
    ("params.p LIKE '5_\\%'", [4]),
    ("params.p LIKE '5_\\_'", []),
    ("tags.t LIKE 'h\\_llo'", [3]),
    ("tags.t LIKE 'h_llo'", [3, 2]),
    ("tags.t = 'a\\\\b'", [4]),
    ("tags.t LIKE 'a\\\\b'", []),
    ("tags.t LIKE 'a\\\\\\\\b'", [4]),
    ("tags.t ILIKE 'HELLO'", [2, 1]),
    ("datasets.name IN ('EVAL')", []),
    ("run_name = 'alpha'", [1]),
    ("run_name LIKE 'alpha%'", [3, 1]),
    ("user_id = 'bob'", [2]),
    ("user_id != 'bob'", [4, 1]),
    ("run_id IN ('00000000000000000000000000000001', '00000000000000000000000000000003')", [3, 1]),
    ("run_id NOT IN ('00000000000000000000000000000001')", [4, 3, 2]),
    ("run_id = '0000000000000000000000000000000A'", []),
    ("metrics.m = 0", [3]),
    ("metrics.m != 0", [2, 1]),
    ("metrics.m >= 0", [3, 1]),
    ("end_time != 1", [3]),
    ("status = 'running'", []),
    ("datasets.name = 'eval'", [4]),
    ("datasets.context = 'training' AND datasets.name = 'eval'", [4]),
    ("datasets.context IN ('Training')", []),
    ("params.p = 'A' OR tags.t = 'Hello' OR params.missing IS NOT NULL", [2, 1]),
    ("(params.p = 'A' OR tags.t = 'Hello') AND metrics.m > 0", [1]),
]


def test_semantics_are_the_same_on_every_backend(database: Database) -> None:
    # One database per backend for all cases: creating one costs more than the queries.
    runs = load(database, CASE_RUNS)
    for filter_string, ids in FILTER_CASES:
        want = [_id(i) for i in ids]
        assert expected(runs, filter_string) == want, filter_string
        assert search(database, filter_string) == want, filter_string


ORDER_CASES: list[tuple[list[str], list[int]]] = [
    (["metrics.m ASC"], [3, 1, 2, 4]),
    (["metrics.m DESC"], [1, 3, 2, 4]),
    (["params.p"], [4, 2, 1, 3]),
    (["params.p DESC"], [3, 1, 2, 4]),
    (["user_id"], [1, 2, 4, 3]),
    (["user_id DESC"], [4, 2, 1, 3]),
    (["run_name DESC"], [3, 1, 2, 4]),
    (["end_time DESC"], [3, 4, 2, 1]),
    (["start_time"], [1, 2, 3, 4]),
    (["status", "run_id DESC"], [3, 2, 1, 4]),
]


def test_order_by_on_every_backend(database: Database) -> None:
    runs = load(database, CASE_RUNS)
    for order_by, ids in ORDER_CASES:
        want = [_id(i) for i in ids]
        assert expected(runs, order_by=order_by) == want, order_by
        assert search(database, order_by=order_by) == want, order_by


def test_view_types_and_experiments(database: Database) -> None:
    load(database, CASE_RUNS)
    assert search(database, view_type=ViewType.DELETED_ONLY) == [_id(5)]
    assert search(database, view_type=ViewType.ALL) == [_id(i) for i in (5, 4, 3, 2, 1)]
    assert search(database, experiment_ids=[2]) == [_id(6)]
    assert search(database, experiment_ids=[1, 2]) == [_id(i) for i in (6, 4, 3, 2, 1)]
    assert search(database, experiment_ids=[]) == []


def test_paging_slices_the_order(database: Database) -> None:
    load(database, CASE_RUNS)
    pages = [search(database, offset=o, limit=2) for o in (0, 2, 4)]
    assert pages == [[_id(4), _id(3)], [_id(2), _id(1)], []]


def test_run_name_filters_on_the_tag_and_orders_on_the_column(database: Database) -> None:
    specs = [
        RunSpec(_id(1), name="zeta", tags={"mlflow.runName": "first"}, start_time=1),
        RunSpec(_id(2), name="beta", tags={"mlflow.runName": "second"}, start_time=2),
        RunSpec(_id(3), name="alpha", start_time=3, tags={}),
    ]
    load(database, specs)
    with database.write() as conn:  # a run whose name column has no tag
        conn.execute(schema.tags.delete().where(schema.tags.c.run_uuid == _id(3)))
    assert search(database, "run_name = 'first'") == [_id(1)]
    assert search(database, "run_name = 'zeta'") == []
    assert search(database, "run_name != 'x'") == [_id(2), _id(1)]
    assert search(database, order_by=["run_name"]) == [_id(3), _id(2), _id(1)]


def test_metric_filter_and_order_join(database: Database) -> None:
    specs = [
        RunSpec(_id(i), start_time=i % 3, metrics={"rmse": float(i % 5), "r2": 1.0})
        for i in range(1, 21)
    ] + [RunSpec(_id(21), metrics={"rmse": math.nan}), RunSpec(_id(22), metrics={})]
    runs = load(database, specs)
    for filter_string, order_by in [
        ("metrics.rmse < 3", ["metrics.rmse ASC"]),
        ("metrics.rmse < 3 AND metrics.rmse >= 1", ["metrics.rmse DESC"]),
        ("metrics.rmse >= 1 AND metrics.r2 = 1", ["metrics.r2", "metrics.rmse DESC"]),
        ("metrics.rmse != 3", ["metrics.rmse"]),
        ("metrics.rmse < 3 OR metrics.r2 > 5", ["metrics.rmse"]),
    ]:
        for offset, limit in ((0, 100), (3, 4)):
            got = search(database, filter_string, order_by, offset=offset, limit=limit)
            assert got == expected(runs, filter_string, order_by, offset=offset, limit=limit)
    assert search(database, "metrics.rmse < 3", ["metrics.rmse ASC"], limit=3) == [
        _id(5),
        _id(20),
        _id(10),
    ]


def test_statement_is_a_join_when_the_order_metric_is_filtered() -> None:
    sql = str(runs_query([1], "metrics.rmse < 7", 1, ["metrics.rmse ASC"], 0, 100))
    assert "JOIN latest_metrics" in sql
    assert "LEFT OUTER" not in sql
    assert "EXISTS" not in sql


def test_statement_uses_exists_under_or() -> None:
    # A metric under OR is not required: the page is read in parts (the edge value, the
    # runs up to it, the runs without a value), each testing the filter with EXISTS.
    sql = str(runs_query([1], "metrics.rmse < 7 OR params.a = 'b'", 1, ["metrics.rmse"], 0, 1))
    assert "AS bound JOIN latest_metrics AS lead_value" in sql
    assert "LEFT OUTER JOIN latest_metrics AS lead_other" in sql
    assert "UNION ALL" in sql
    assert sql.count("EXISTS") == 6


def test_deep_pages_sort_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_order, "SPLIT_ROWS", 10)
    sql = str(runs_query([1], "metrics.rmse < 7 OR params.a = 'b'", 1, ["metrics.rmse"], 10, 1))
    assert "UNION" not in sql
    assert "LEFT OUTER JOIN latest_metrics" in sql
    assert sql.count("EXISTS") == 2


SPLIT_RUNS = [
    RunSpec(_id(i), start_time=i % 4, metrics={"m": float(i % 5), "r": float(i % 2)},
            params={"p": "ab"[i % 2]})
    for i in range(1, 19)
] + [
    # Infinities, as the store keeps them (clamped to the largest doubles).
    RunSpec(_id(19), start_time=9, metrics={"m": METRIC_VALUE_MAX}, params={"p": "a"}),
    RunSpec(_id(20), start_time=9, metrics={"m": -METRIC_VALUE_MAX}),
    RunSpec(_id(21), start_time=1, metrics={"m": math.nan}, params={"p": "b"}),
    RunSpec(_id(22), start_time=2, metrics={"m": math.nan, "r": 5.0}),
    RunSpec(_id(23), start_time=3, params={"p": "a"}),
    RunSpec(_id(24), start_time=3, metrics={"r": 1.0}),
    RunSpec(_id(25), start_time=0),
]  # fmt: skip


@pytest.mark.parametrize("split_rows", [10_000, 0])
def test_order_by_a_metric_the_filter_does_not_require(
    database: Database, monkeypatch: pytest.MonkeyPatch, split_rows: int
) -> None:
    # Numbers (infinities included), then NaN, then missing, at every page boundary; with
    # split_rows=0 every page takes the one-statement sort instead.
    monkeypatch.setattr(run_order, "SPLIT_ROWS", split_rows)
    runs = load(database, SPLIT_RUNS)
    for filter_string, order_by in [
        (None, ["metrics.m"]),
        (None, ["metrics.m DESC"]),
        ("params.p = 'a'", ["metrics.m"]),
        ("metrics.m < 2 OR params.p = 'b'", ["metrics.m DESC"]),
        ("metrics.r = 1", ["metrics.m", "params.p DESC"]),
        (None, ["metrics.m DESC", "metrics.r"]),
        ("metrics.m != 3", ["metrics.m"]),
        (None, ["metrics.missing"]),
    ]:
        for offset, limit in ((0, 100), (0, 1), (3, 4), (17, 3), (19, 4), (21, 10), (30, 5)):
            got = search(database, filter_string, order_by, offset=offset, limit=limit)
            want = expected(runs, filter_string, order_by, offset=offset, limit=limit)
            assert got == want, (filter_string, order_by, offset, limit)


def test_the_split_statement_keeps_selecting_from_runs(database: Database) -> None:
    runs = load(database, SPLIT_RUNS)
    query = runs_query([1], None, 1, ["metrics.m"], 2, 3).with_only_columns(
        schema.runs.c.run_uuid, schema.runs.c.start_time
    )
    with database.read() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    ids = expected(runs, order_by=["metrics.m"], offset=2, limit=3)
    starts = {r.info.run_id: r.info.start_time for r in runs}
    assert rows == [(i, starts[i]) for i in ids]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"filter_string": "metrics.x >"}, "expected a value at position 11"),
        ({"order_by": ["metrics.x sideways"]}, "expected ASC, DESC"),
        ({"run_view_type": 7}, "Invalid view type"),
        ({"offset": -1}, "Invalid offset"),
        ({"limit": -5}, "Invalid limit"),
        ({"experiment_ids": ["x"]}, "Invalid experiment ids"),
    ],
)
def test_runs_query_errors(kwargs: dict[str, Any], fragment: str) -> None:
    args: dict[str, Any] = {
        "experiment_ids": [1],
        "filter_string": None,
        "run_view_type": 1,
        "order_by": None,
        "offset": 0,
        "limit": 10,
    }
    args.update(kwargs)
    with pytest.raises(InvalidParameterValue, match=fragment):
        runs_query(**args)


def test_experiments_query_errors() -> None:
    with pytest.raises(InvalidParameterValue, match="unknown entity 'metrics'"):
        experiments_query(1, "metrics.m > 1", None, 0, 10)
    with pytest.raises(InvalidParameterValue, match="cannot order by"):
        experiments_query(1, None, ["tags.x"], 0, 10)


# -- property tests: runs ------------------------------------------------------------------

STRINGS = ["a", "A", "a ", "a_b", "a%b", "", "B%", "a\\b"]
PATTERNS = [
    "a%",
    "%b",
    "A%",
    "_",
    "a_b",
    "a\\_b",
    "%\\%%",
    "%",
    "a",
    "",
    "%a\\\\b%",
    "_ ",
    "a\\b",
    "%\\",
]
METRIC_VALUES = [-1.5, 0.0, 1.0, 2.5, 1e10, math.nan]
NUMBERS = [-1.5, 0, 1, 2.5, 3]
TIMES = [None, 0, 1, 2, 5]
DATASETS = [("train", "d1"), ("Train", "d2"), ("eval", "d1"), ("ev_l", "D3")]
CONTEXTS = [None, "training", "Training", "eval", ""]
ORDER_FIELDS = [
    "metrics.m1", "metrics.m2", "params.p1", "tags.t1", "start_time", "created", "end_time",
    "status", "user_id", "run_name", "artifact_uri", "run_id",
]  # fmt: skip

_maybe = st.sampled_from


def cmp(entity: str, key: str, comparator: str, value: Any) -> Comparison:
    """A Comparison from plain strings (the strategies draw them from lists)."""
    return Comparison(entity, key, comparator, value)  # type: ignore[arg-type]


def _some_dict(
    keys: list[str], values: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(_maybe(keys), values, max_size=len(keys))


@st.composite
def run_specs(draw: st.DrawFn) -> list[RunSpec]:
    ids = draw(st.lists(st.uuids(), min_size=5, max_size=10, unique=True))
    specs = []
    for run_uuid in ids:
        name = draw(st.one_of(st.none(), _maybe(STRINGS)))
        datasets = draw(st.lists(_maybe(DATASETS), max_size=2, unique=True))
        specs.append(
            RunSpec(
                run_id=run_uuid.hex,
                experiment_id=draw(_maybe([1, 1, 1, 2])),
                lifecycle_stage=draw(_maybe(["active", "active", "active", "deleted"])),
                status=draw(_maybe(["RUNNING", "FINISHED", "FAILED"])),
                user_id=draw(_maybe([None, "alice", "Alice", "bob"])),
                start_time=draw(_maybe([t for t in TIMES if t is not None])),
                end_time=draw(_maybe(TIMES)),
                artifact_uri=draw(_maybe([None, "s3://b/x", "/tmp/a_b", "S3://B/X"])),
                name=name,
                metrics=draw(_some_dict(["m1", "m2"], _maybe(METRIC_VALUES))),
                params=draw(_some_dict(["p1", "p2"], _maybe(STRINGS))),
                tags=draw(_some_dict(["t1", "t2"], _maybe(STRINGS))),
                datasets=[(n, d, draw(_maybe(CONTEXTS))) for n, d in datasets],
            )
        )
    return specs


def _string_comparison(entity: str, key: str, comparators: Sequence[str]) -> Any:
    def build(comparator: str, draw: st.DrawFn) -> Comparison:
        if comparator in ("LIKE", "ILIKE"):
            value: Any = draw(_maybe(PATTERNS))
        elif comparator in ("IN", "NOT IN"):
            value = tuple(draw(st.lists(_maybe(STRINGS), min_size=1, max_size=3)))
        elif comparator in ("IS NULL", "IS NOT NULL"):
            value = None
        else:
            value = draw(_maybe(STRINGS))
        return cmp(entity, key, comparator, value)

    return st.composite(lambda draw: build(draw(_maybe(comparators)), draw))()


@st.composite
def run_comparisons(draw: st.DrawFn, run_ids: Sequence[str]) -> Comparison:
    choice = draw(st.integers(0, 8))
    numeric = ["=", "!=", "<", "<=", ">", ">="]
    string = ["=", "!=", "LIKE", "ILIKE"]
    if choice == 0:
        key = draw(_maybe(["m1", "m2", "m3"]))
        return cmp("metric", key, draw(_maybe(numeric)), draw(_maybe(NUMBERS)))
    if choice in (1, 2):
        entity = "param" if choice == 1 else "tag"
        key = draw(_maybe(["p1", "p2"] if choice == 1 else ["t1", "t2", "mlflow.runName"]))
        return draw(_string_comparison(entity, key, [*string, "IS NULL", "IS NOT NULL"]))  # type: ignore[no-any-return]
    if choice == 3:
        comparator = draw(_maybe(["=", "!=", "IN", "NOT IN", "LIKE"]))
        pool = [*run_ids, "zz"]
        if comparator in ("IN", "NOT IN"):
            value: Any = tuple(draw(st.lists(_maybe(pool), min_size=1, max_size=3)))
        elif comparator == "LIKE":
            value = draw(_maybe(["%", "a%", "%1%", "_%"]))
        else:
            value = draw(_maybe(pool))
        return cmp("attribute", "run_id", comparator, value)
    if choice == 4:
        key = draw(_maybe(["run_name", "status", "user_id", "artifact_uri"]))
        if key == "status":
            statuses = ["RUNNING", "running", "FINISHED", "F%"]
            return cmp("attribute", key, draw(_maybe(string)), draw(_maybe(statuses)))
        return draw(_string_comparison("attribute", key, string))  # type: ignore[no-any-return]
    if choice == 5:
        key = draw(_maybe(["start_time", "end_time"]))
        return cmp("attribute", key, draw(_maybe(numeric)), draw(_maybe([0, 1, 2, 4])))
    if choice == 6:
        key = draw(_maybe(["name", "digest"]))
        values = ["train", "Train", "eval", "d1", "D3", "ev%", "ev_l"]
        comparator = draw(_maybe([*string, "IN", "NOT IN"]))
        if comparator in ("IN", "NOT IN"):
            listed = tuple(draw(st.lists(_maybe(values), min_size=1, max_size=2)))
            return cmp("dataset", key, comparator, listed)
        return cmp("dataset", key, comparator, draw(_maybe(values)))
    if choice == 7:
        return draw(_string_comparison("dataset", "context", [*string, "IN", "NOT IN"]))  # type: ignore[no-any-return]
    key = draw(_maybe(["m1", "m2"]))
    return cmp("metric", key, draw(_maybe(numeric)), draw(_maybe(NUMBERS)))


def expressions(leaves: st.SearchStrategy[Comparison]) -> st.SearchStrategy[Expr]:
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda ts: And(tuple(ts))),
            st.lists(inner, min_size=2, max_size=3).map(lambda ts: Or(tuple(ts))),
        ),
        max_leaves=4,
    )


@st.composite
def order_bys(draw: st.DrawFn) -> list[str]:
    fields = draw(
        st.lists(
            _maybe(ORDER_FIELDS),
            max_size=2,
            unique_by=lambda f: "start_time" if f == "created" else f,
        )
    )
    return [f + draw(_maybe(["", " ASC", " DESC", " desc"])) for f in fields]


@st.composite
def run_searches(draw: st.DrawFn) -> tuple[list[RunSpec], list[dict[str, Any]]]:
    specs = draw(run_specs())
    ids = [s.run_id for s in specs]
    searches = []
    for _ in range(3):
        leaf = run_comparisons(ids)
        expr = draw(st.one_of(st.none(), leaf, expressions(leaf)))
        order_by = draw(order_bys())
        if draw(st.integers(0, 2)) == 0:
            # Exercise the inner join: the first order key is a metric the filter compares.
            key = draw(_maybe(["m1", "m2"]))
            order_by = [f"metrics.{key}" + draw(_maybe(["", " DESC"]))]
            present = cmp(
                "metric", key, draw(_maybe(["=", "<", "<=", ">", ">="])), draw(_maybe(NUMBERS))
            )
            expr = present if expr is None else And((present, expr))
        searches.append(
            {
                "filter_string": to_filter_string(expr) or None,
                "order_by": order_by,
                "experiment_ids": draw(_maybe([(1,), (1,), (2,), (1, 2)])),
                "view_type": draw(_maybe([1, 1, 2, 3])),
                "offset": draw(_maybe([0, 0, 1, 3])),
                "limit": draw(_maybe([1000, 2, 5])),
            }
        )
    return specs, searches


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=run_searches())
def test_run_search_matches_the_reference_evaluator(
    database: Database, case: tuple[list[RunSpec], list[dict[str, Any]]]
) -> None:
    specs, searches = case
    runs = load(database, specs)
    for kwargs in searches:
        got = search(database, **kwargs)
        event(f"rows: {min(len(got), 3)}")
        assert got == expected(runs, **kwargs), kwargs


# -- exhaustive string semantics -------------------------------------------------------------

STRING_FIELDS = ["params.p1", "tags.t1", "user_id", "run_name", "artifact_uri", "datasets.name",
                 "datasets.context"]  # fmt: skip


def _string_pool_runs() -> list[RunSpec]:
    """One run per string of the pool in every string field, and one run lacking them all."""
    specs = [
        RunSpec(
            uuid.UUID(int=i + 1).hex,
            start_time=i % 3,
            user_id=value,
            artifact_uri=value,
            name=value,
            params={"p1": value},
            tags={"t1": value},
            datasets=[(value, "d", value)],
        )
        for i, value in enumerate(STRINGS)
    ]
    return [*specs, RunSpec(uuid.UUID(int=99).hex, user_id=None, start_time=1)]


def test_every_string_comparison_matches_the_reference(database: Database) -> None:
    # MySQL would refuse two datasets of one experiment whose names differ only in case or
    # trailing spaces: put each run in its own experiment.
    specs = _string_pool_runs()
    for i, spec in enumerate(specs):
        spec.experiment_id = i + 1
    experiments = [Experiment(str(i + 1), f"e{i}", "/a", "active") for i in range(len(specs))]
    runs = load(database, specs, experiments)
    everything = [s.experiment_id for s in specs]
    for name in STRING_FIELDS:
        comparators = ["=", "!=", "LIKE", "ILIKE"]
        if name.startswith(("params.", "tags.")):
            comparators += ["IS NULL", "IS NOT NULL"]
        if name.startswith("datasets."):
            comparators += ["IN", "NOT IN"]
        for comparator in comparators:
            if comparator in ("LIKE", "ILIKE"):
                values: list[Any] = PATTERNS
            elif comparator in ("IN", "NOT IN"):
                values = [(v,) for v in STRINGS] + [("a", "A")]
            elif comparator in ("IS NULL", "IS NOT NULL"):
                values = [None]
            else:
                values = STRINGS
            entity, _, key = name.rpartition(".")
            entity = {"params": "param", "tags": "tag", "datasets": "dataset", "": "attribute"}[
                entity
            ]
            for value in values:
                filter_string = to_filter_string(cmp(entity, key, comparator, value))
                want = expected(runs, filter_string, experiment_ids=everything)
                got = search(database, filter_string, experiment_ids=everything)
                assert got == want, filter_string
    for name in ["params.p1", "tags.t1", "user_id", "run_name", "artifact_uri", "run_id"]:
        for direction in ("ASC", "DESC"):
            order_by = [f"{name} {direction}"]
            want = expected(runs, order_by=order_by, experiment_ids=everything)
            assert search(database, order_by=order_by, experiment_ids=everything) == want


# -- property tests: experiments -----------------------------------------------------------

EXPERIMENT_NAMES = ["a", "B", "ab", "a_b", "b%", "Exp 1", "c\\d"]
EXPERIMENT_ORDER = ["name", "experiment_id", "creation_time", "last_update_time"]


@st.composite
def experiment_sets(draw: st.DrawFn) -> list[Experiment]:
    names = draw(st.lists(_maybe(EXPERIMENT_NAMES), min_size=1, max_size=6, unique=True))
    return [
        Experiment(
            str(i + 1),
            name,
            "/a",
            draw(_maybe(["active", "active", "deleted"])),
            draw(_some_dict(["t1", "t2"], _maybe(STRINGS))),
            creation_time=draw(_maybe(TIMES)),
            last_update_time=draw(_maybe(TIMES)),
        )
        for i, name in enumerate(names)
    ]


@st.composite
def experiment_comparisons(draw: st.DrawFn) -> Comparison:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(_string_comparison("attribute", "name", ["=", "!=", "LIKE", "ILIKE"]))  # type: ignore[no-any-return]
    if choice == 1:
        ids = ["1", "2", "3", "01", "x", "-1", "99999999999999999999"]
        comparator = draw(_maybe(["=", "!=", "IN", "NOT IN"]))
        if comparator in ("IN", "NOT IN"):
            value: Any = tuple(draw(st.lists(_maybe(ids), min_size=1, max_size=3)))
        else:
            value = draw(_maybe(ids))
        return cmp("attribute", "experiment_id", comparator, value)
    if choice == 2:
        key = draw(_maybe(["creation_time", "last_update_time"]))
        comparator = draw(_maybe(["=", "!=", "<", "<=", ">", ">="]))
        return cmp("attribute", key, comparator, draw(_maybe([0, 1, 2, 4])))
    key = draw(_maybe(["t1", "t2"]))
    comparators = ["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]
    return draw(_string_comparison("tag", key, comparators))  # type: ignore[no-any-return]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    experiments=experiment_sets(),
    expr=st.one_of(st.none(), expressions(experiment_comparisons())),
    order_by=st.lists(_maybe(EXPERIMENT_ORDER), max_size=2, unique=True).flatmap(
        lambda fs: st.tuples(*[_maybe([f, f + " DESC", f + " ASC"]) for f in fs]).map(list)
    ),
    view_type=_maybe([1, 2, 3]),
    page=_maybe([(0, 1000), (1, 2)]),
)
def test_experiment_search_matches_the_reference_evaluator(
    database: Database,
    experiments: list[Experiment],
    expr: Expr | None,
    order_by: list[str],
    view_type: int,
    page: tuple[int, int],
) -> None:
    load(database, [], experiments)
    filter_string = to_filter_string(expr) or None
    offset, limit = page
    query = experiments_query(view_type, filter_string, order_by, offset, limit)
    with database.read() as conn:
        got = [str(row[0]) for row in conn.execute(query)]
    parsed = parse_filter(filter_string, "experiments")
    stages = LifecycleStage.view_type_to_stages(view_type)
    chosen = [
        e for e in experiments if e.lifecycle_stage in stages and matches_experiment(parsed, e)
    ]
    ordered = sort_experiments(chosen, parse_order_by(order_by, "experiments"))
    assert got == [e.experiment_id for e in ordered[offset : offset + limit]]
