"""The reference evaluator: the meaning of every comparator and of the ordering, in memory."""

from __future__ import annotations

import math

import pytest

from trackline.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
from trackline.search import (
    matches,
    matches_experiment,
    parse_filter,
    parse_order_by,
    sort_experiments,
    sort_runs,
)


def make_run(
    run_id: str,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    datasets: list[tuple[str, str, str | None]] | None = None,
    **info: object,
) -> Run:
    data = RunData(
        metrics=[Metric(k, v, 0, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )
    inputs = RunInputs(
        dataset_inputs=[
            DatasetInput(
                Dataset(name, digest, "code", "{}"),
                [InputTag("mlflow.data.context", context)] if context is not None else [],
            )
            for name, digest, context in datasets or []
        ]
    )
    return Run(RunInfo(run_id=run_id, experiment_id="1", **info), data, inputs)  # type: ignore[arg-type]


RUN = make_run(
    "r1",
    metrics={"rmse": 0.5, "nan": math.nan},
    params={"lr": "0.1", "model": "Random_Forest"},
    tags={"mlflow.runName": "best-run", "team": "A"},
    datasets=[("train-ds", "d1", "training"), ("eval-ds", "d2", None)],
    status="FINISHED",
    user_id="alice",
    start_time=100,
    end_time=None,
    artifact_uri="s3://bucket/r1",
    run_name="column-name",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, True),
        ("metrics.rmse < 1", True),
        ("metrics.rmse = 0.5", True),
        ("metrics.rmse != 0.5", False),
        ("metrics.rmse > 0.5", False),
        ("metrics.missing != 1", False),
        ("metrics.missing < 1", False),
        ("metrics.nan != 1", True),
        ("metrics.nan = 0", False),
        ("metrics.nan < 1", False),
        ("metrics.nan >= 0", False),
        ("params.lr = '0.1'", True),
        ("params.lr != '0.2'", True),
        ("params.missing != 'x'", False),
        ("params.missing IS NULL", True),
        ("params.lr IS NULL", False),
        ("params.lr IS NOT NULL", True),
        ("params.model LIKE 'Random%'", True),
        ("params.model LIKE 'random%'", False),
        ("params.model ILIKE 'random%'", True),
        ("params.model LIKE 'Random\\_Forest'", True),
        ("params.model LIKE 'Random\\_F'", False),
        ("tags.team = 'a'", False),
        ("tags.team = 'A'", True),
        ("run_name = 'best-run'", True),
        ("run_name = 'column-name'", False),
        ("run_name LIKE '%run'", True),
        ("run_id IN ('r0', 'r1')", True),
        ("run_id NOT IN ('r0', 'r1')", False),
        ("run_id NOT IN ('r0')", True),
        ("status = 'FINISHED'", True),
        ("status != 'FINISHED'", False),
        ("user_id ILIKE 'ALI%'", True),
        ("artifact_uri LIKE 's3://%'", True),
        ("start_time >= 100", True),
        ("created < 100", False),
        ("end_time > 0", False),
        ("end_time != 0", False),
        ("datasets.name = 'eval-ds'", True),
        ("datasets.name != 'eval-ds'", True),
        ("datasets.digest IN ('d3')", False),
        ("datasets.digest NOT IN ('d1', 'd2')", False),
        ("datasets.context = 'training'", True),
        ("datasets.context != 'training'", False),
        ("datasets.context LIKE 'eval%'", False),
        ("metrics.rmse < 1 AND params.lr = '0.2'", False),
        ("metrics.rmse > 1 OR params.lr = '0.1'", True),
        ("metrics.missing > 1 OR params.missing IS NULL", True),
        ("(metrics.rmse > 1 OR params.lr = '0.1') AND tags.team = 'B'", False),
        ("metrics.rmse > 1 OR params.lr = '0.1' AND tags.team = 'B'", False),
        ("metrics.rmse < 1 OR params.lr = '0.1' AND tags.team = 'B'", True),
    ],
)
def test_run_semantics(text: str | None, expected: bool) -> None:
    assert matches(parse_filter(text, "runs"), RUN) is expected


def test_user_id_none_fails_every_comparison() -> None:
    run = make_run("r", user_id=None)
    for text in ("user_id = 'x'", "user_id != 'x'", "user_id LIKE '%'"):
        assert not matches(parse_filter(text, "runs"), run)


def test_run_without_datasets_fails_dataset_comparisons() -> None:
    run = make_run("r")
    assert not matches(parse_filter("datasets.name != 'x'", "runs"), run)
    assert not matches(parse_filter("datasets.context NOT IN ('x')", "runs"), run)


def _ids(runs: list[Run]) -> list[str]:
    return [r.info.run_id for r in runs]


METRIC_RUNS = [
    make_run("a", metrics={"m": 2.0}, start_time=1),
    make_run("b", metrics={"m": math.nan}, start_time=2),
    make_run("c", start_time=3),
    make_run("d", metrics={"m": -1.0}, start_time=4),
    make_run("e", metrics={"m": 2.0}, start_time=5),
    make_run("f", metrics={"m": math.nan}, start_time=5),
]


def test_metric_order_values_then_nan_then_missing_ascending() -> None:
    keys = parse_order_by(["metrics.m ASC"], "runs")
    assert _ids(sort_runs(METRIC_RUNS, keys)) == ["d", "e", "a", "f", "b", "c"]


def test_metric_order_values_then_nan_then_missing_descending() -> None:
    keys = parse_order_by(["metrics.m DESC"], "runs")
    assert _ids(sort_runs(METRIC_RUNS, keys)) == ["e", "a", "d", "f", "b", "c"]


def test_default_order_is_start_time_desc_then_run_id() -> None:
    runs = [
        make_run("b", start_time=1),
        make_run("a", start_time=1),
        make_run("z", start_time=None),
        make_run("c", start_time=2),
    ]
    assert _ids(sort_runs(runs, parse_order_by(None, "runs"))) == ["c", "a", "b", "z"]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("params.p ASC", ["x", "y", "v", "w"]),
        ("params.p DESC", ["y", "x", "v", "w"]),
        ("tags.t ASC", ["v", "w", "y", "x"]),
        ("user_id DESC", ["x", "w", "v", "y"]),
        ("user_id ASC", ["w", "x", "v", "y"]),
        ("end_time ASC", ["w", "x", "y", "v"]),
        ("run_name ASC", ["w", "y", "v", "x"]),
    ],
)
def test_missing_values_sort_last_in_both_directions(clause: str, expected: list[str]) -> None:
    runs = [
        make_run("v", start_time=4, tags={"t": "A"}),
        make_run("w", start_time=3, params={}, tags={"t": "B"}, user_id="a", end_time=1,
                 run_name="a"),
        make_run("x", start_time=2, params={"p": "1"}, user_id="b", end_time=2),
        make_run("y", start_time=1, params={"p": "2"}, tags={"t": "a"}, end_time=3, run_name="b"),
    ]  # fmt: skip
    assert _ids(sort_runs(runs, parse_order_by([clause], "runs"))) == expected


def test_strings_sort_by_code_point() -> None:
    runs = [make_run(i, params={"p": v}) for i, v in (("1", "b"), ("2", "B"), ("3", "a"))]
    assert _ids(sort_runs(runs, parse_order_by(["params.p"], "runs"))) == ["2", "3", "1"]


EXPERIMENTS = [
    Experiment("1", "Alpha", "/a", "active", {"team": "x"}, creation_time=5, last_update_time=9),
    Experiment("2", "beta", "/b", "active", {}, creation_time=None, last_update_time=7),
    Experiment("10", "gamma", "/c", "active", {"team": "y"}, creation_time=5, last_update_time=8),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'Alpha'", ["1"]),
        ("name LIKE 'a%'", []),
        ("name ILIKE 'a%'", ["1"]),
        ("name != 'beta'", ["1", "10"]),
        ("experiment_id = '10'", ["10"]),
        ("experiment_id = '010'", []),
        ("experiment_id IN ('2', '10', 'x')", ["2", "10"]),
        ("experiment_id NOT IN ('2')", ["1", "10"]),
        ("creation_time = 5", ["1", "10"]),
        ("creation_time != 5", []),
        ("last_update_time < 9", ["2", "10"]),
        ("tags.team IS NULL", ["2"]),
        ("tags.team = 'x' OR name = 'beta'", ["1", "2"]),
    ],
)
def test_experiment_semantics(text: str, expected: list[str]) -> None:
    expr = parse_filter(text, "experiments")
    assert [e.experiment_id for e in EXPERIMENTS if matches_experiment(expr, e)] == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (None, ["1", "10", "2"]),
        (["experiment_id DESC"], ["10", "2", "1"]),
        (["experiment_id"], ["1", "2", "10"]),
        (["name"], ["1", "2", "10"]),
        (["creation_time"], ["1", "10", "2"]),
        (["last_update_time DESC"], ["1", "10", "2"]),
    ],
)
def test_experiment_order(order_by: list[str] | None, expected: list[str]) -> None:
    keys = parse_order_by(order_by, "experiments")
    assert [e.experiment_id for e in sort_experiments(EXPERIMENTS, keys)] == expected
