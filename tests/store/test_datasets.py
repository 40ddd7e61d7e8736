"""Run inputs in the SQL store: datasets, their tags and logged-model inputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from trackline.entities import Dataset, DatasetInput, InputTag, LoggedModelInput
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.store.sql.schema import datasets, input_tags, inputs
from trackline.store.sql.tracking import SqlTrackingStore


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(request.getfixturevalue(f"{request.param}_uri"), str(tmp_path))
    yield opened
    opened.close()


def _dataset(name: str = "iris", digest: str = "abc123", context: str = "train") -> DatasetInput:
    return DatasetInput(
        Dataset(name, digest, "local", '{"uri": "/data"}', '{"cols": []}', '{"rows": 3}'),
        [InputTag("mlflow.data.context", context)],
    )


def _count(store: SqlTrackingStore, table: object) -> int:
    with store.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_log_inputs_round_trip(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", "u", 0, [], "r").info.run_id
    store.log_inputs(
        run_id, [_dataset(), _dataset("wine", "d1", "eval")], [LoggedModelInput("m-1")]
    )
    inputs_ = store.get_run(run_id).inputs
    by_name = {d.dataset.name: d for d in inputs_.dataset_inputs}
    assert set(by_name) == {"iris", "wine"}
    iris = by_name["iris"]
    assert iris.dataset == Dataset(
        "iris", "abc123", "local", '{"uri": "/data"}', '{"cols": []}', '{"rows": 3}'
    )
    assert iris.tags == [InputTag("mlflow.data.context", "train")]
    assert by_name["wine"].tags == [InputTag("mlflow.data.context", "eval")]
    assert [m.model_id for m in inputs_.model_inputs] == ["m-1"]
    [searched] = store.search_runs(["0"])
    assert searched.inputs.to_dictionary() == inputs_.to_dictionary()


def test_datasets_are_deduplicated(store: SqlTrackingStore) -> None:
    first = store.create_run("0", "u", 0, [], "a").info.run_id
    second = store.create_run("0", "u", 0, [], "b").info.run_id
    store.log_inputs(first, [_dataset(), _dataset()])
    store.log_inputs(first, [_dataset(context="other")])  # already an input: skipped
    store.log_inputs(second, [_dataset()])
    store.log_inputs(second, [_dataset(digest="new")])
    assert _count(store, datasets) == 2  # (iris, abc123) and (iris, new) in experiment 0
    assert _count(store, inputs) == 3
    assert _count(store, input_tags) == 3
    [only] = store.get_run(first).inputs.dataset_inputs
    assert only.tags == [InputTag("mlflow.data.context", "train")]
    assert len(store.get_run(second).inputs.dataset_inputs) == 2
    store.log_inputs(first, models=[LoggedModelInput("m-2"), LoggedModelInput("m-2")])
    assert [m.model_id for m in store.get_run(first).inputs.model_inputs] == ["m-2"]


def test_datasets_are_per_experiment(store: SqlTrackingStore) -> None:
    other = store.create_experiment("other")
    for experiment_id in ("0", other):
        run_id = store.create_run(experiment_id, "u", 0, [], "r").info.run_id
        store.log_inputs(run_id, [_dataset()])
    assert _count(store, datasets) == 2


def test_log_inputs_errors(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", "u", 0, [], "r").info.run_id
    too_long = DatasetInput(Dataset("iris", "d" * 37, "local", "{}"))
    with pytest.raises(InvalidParameterValue, match="digest"):
        store.log_inputs(run_id, [too_long])
    with pytest.raises(ResourceDoesNotExist):
        store.log_inputs("e" * 32, [_dataset()])
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.log_inputs(run_id, [_dataset()])
    assert _count(store, datasets) == 0
