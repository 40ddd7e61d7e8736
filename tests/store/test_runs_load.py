"""Loading one run (``get_run``) in one statement gives what the many-run loader gives."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunTag,
)
from trackline.store.sql import runs as run_sql
from trackline.store.sql.tracking import SqlTrackingStore


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(db_uri, (tmp_path / "mlruns").as_uri())
    yield opened
    opened.close()


def _both(store: SqlTrackingStore, run_id: str) -> tuple[list[Run], list[Run]]:
    """The run through the one-statement path and through the chunked loader."""
    with store.db.read() as conn:
        one = run_sql.load_runs(conn, [run_id])
        conn.begin()
        many = run_sql._load_chunk(conn, [run_id])
    return one, many


def _everything(run: Run) -> tuple[object, ...]:
    data = run.data
    return (
        run.info,
        run.info.experiment_id,
        run.info.run_name,
        [m.to_dictionary() for m in sorted(data._metric_objs, key=lambda m: m.key)],
        data.params,
        data.tags,
        run.inputs.to_dictionary(),
        run.outputs.to_dictionary(),
    )


def test_a_bare_run(store: SqlTrackingStore) -> None:
    run_id = store.create_run("0", None, 5, [], "bare").info.run_id
    one, many = _both(store, run_id)
    assert len(one) == 1
    assert _everything(one[0]) == _everything(many[0])
    assert one[0].info.run_name == "bare"
    assert one[0].data.metrics == {}
    assert one[0].data.params == {}
    assert one[0].inputs.dataset_inputs == []
    assert one[0].outputs.model_outputs == []


def test_a_run_with_every_part(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("parts")
    run_id = store.create_run(experiment_id, "ann", 7, [RunTag("t", "1")], "full").info.run_id
    store.log_batch(
        run_id,
        metrics=[
            Metric("b", 2.5, 10, 3),
            Metric("a", math.nan, 11, 1),
            Metric("c", math.inf, 12, 0),
            Metric("b", 1.0, 9, 1),
        ],
        params=[Param(f"p{i}", str(i)) for i in range(5)],
        tags=[RunTag("z", "last"), RunTag("a", "first")],
    )
    tags = [InputTag("mlflow.data.context", "training"), InputTag("b", "2")]
    sets = [
        DatasetInput(Dataset("train", "d1", "local", '{"uri": "x"}', "{}", None), tags),
        DatasetInput(Dataset("eval", "d2", "local", '{"uri": "y"}'), []),
    ]
    used = store.create_logged_model(experiment_id, name="used")
    made = [store.create_logged_model(experiment_id, name=f"made{i}") for i in range(2)]
    store.log_inputs(run_id, datasets=sets, models=[LoggedModelInput(used.model_id)])
    store.log_outputs(run_id, [LoggedModelOutput(m.model_id, i + 4) for i, m in enumerate(made)])

    one, many = _both(store, run_id)
    assert _everything(one[0]) == _everything(many[0])
    run = one[0]
    assert run.info.user_id == "ann"
    assert run.info.start_time == 7
    assert run.info.experiment_id == experiment_id
    assert math.isnan(run.data.metrics["a"])
    assert run.data.metrics["b"] == 2.5
    assert run.data.params == {f"p{i}": str(i) for i in range(5)}
    assert [d.dataset.name for d in run.inputs.dataset_inputs] == ["eval", "train"]
    assert {(t.key, t.value) for t in run.inputs.dataset_inputs[1].tags} == {
        ("mlflow.data.context", "training"),
        ("b", "2"),
    }
    assert [m.model_id for m in run.inputs.model_inputs] == [used.model_id]
    assert sorted((m.model_id, m.step) for m in run.outputs.model_outputs) == sorted(
        (m.model_id, i + 4) for i, m in enumerate(made)
    )
    assert store.get_run(run_id) == run


def test_an_unknown_run_is_none(store: SqlTrackingStore) -> None:
    with store.db.read() as conn:
        assert run_sql.load_runs(conn, ["0" * 32]) == []


def test_a_run_named_only_by_its_tag(store: SqlTrackingStore) -> None:
    """Runs written by old MLflow versions have their name only in the tag."""
    run_id = store.create_run("0", None, 5, [], "named").info.run_id
    with store.db.write() as conn:
        conn.execute(run_sql.runs.update().values(name=None))
    one, many = _both(store, run_id)
    assert one[0].info.run_name == "named" == many[0].info.run_name
