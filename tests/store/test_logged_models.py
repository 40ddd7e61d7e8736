"""Logged models in the SQL store on every backend: create, read, finalize, tag, delete,
search, run outputs and model metrics from log_batch (idempotent creation: test_request_keys)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, insert, select

import trackline.store.sql
from trackline.entities import (
    Dataset,
    DatasetInput,
    LifecycleStage,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    Param,
    RunTag,
)
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.store.sql.engine import Database, upgrade
from trackline.store.sql.schema import SCHEMA_REVISION, experiments, logged_model_metrics
from trackline.store.sql.tracking import SqlTrackingStore


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(db_uri, (tmp_path / "mlruns").as_uri())
    yield opened
    opened.close()


def _run(store: SqlTrackingStore, experiment_id: str = "0", **kwargs: Any) -> str:
    args: dict[str, Any] = {"user_id": "u", "start_time": 1000, "tags": [], "run_name": None}
    args.update(kwargs)
    return store.create_run(experiment_id, **args).info.run_id


def _count(store: SqlTrackingStore, table: Any) -> int:
    with store.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _names(models: list[Any]) -> list[str]:
    return [m.name for m in models]


# -- create and read -----------------------------------------------------------------------


def test_create_returns_a_pending_model_under_the_experiment_location(
    store: SqlTrackingStore,
) -> None:
    run_id = _run(store)
    model = store.create_logged_model(
        "0",
        name="model",
        source_run_id=run_id,
        tags=[LoggedModelTag("mlflow.user", "ada")],
        params=[LoggedModelParameter("alpha", "0.5")],
        model_type="classifier",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.status is LoggedModelStatus.PENDING
    location = store.get_experiment("0").artifact_location
    assert model.artifact_location == f"{location}/models/{model.model_id}/artifacts"
    assert model.creation_timestamp == model.last_updated_timestamp
    assert model.model_uri == f"models:/{model.model_id}"
    stored = store.get_logged_model(model.model_id)
    assert stored == model
    assert (stored.name, stored.source_run_id, stored.model_type) == ("model", run_id, "classifier")
    assert stored.tags == {"mlflow.user": "ada"}
    assert stored.params == {"alpha": "0.5"}
    assert stored.metrics == []


def test_a_missing_name_is_generated(store: SqlTrackingStore) -> None:
    first, second = store.create_logged_model("0"), store.create_logged_model("0", name="")
    for model in (first, second):
        assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", model.name)
        assert store.get_logged_model(model.model_id).name == model.name


@pytest.mark.parametrize("name", ["a/b", "a:b", "a.b", "50%", 'say "hi"', "it's", "x" * 501])
def test_invalid_names_are_rejected(store: SqlTrackingStore, name: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid model name"):
        store.create_logged_model("0", name=name)
    assert store.create_logged_model("0", name="x" * 500).name == "x" * 500


def test_create_needs_an_active_experiment_and_an_existing_source_run(
    store: SqlTrackingStore,
) -> None:
    with pytest.raises(ResourceDoesNotExist):
        store.create_logged_model("4242", name="m")
    experiment_id = store.create_experiment("gone")
    store.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.create_logged_model(experiment_id, name="m")
    with pytest.raises(ResourceDoesNotExist, match="Run with id=0123abcd not found"):
        store.create_logged_model("0", name="m", source_run_id="0123abcd")
    with pytest.raises(InvalidParameterValue, match="model_type"):
        store.create_logged_model("0", name="m", model_type="x" * 501)
    assert store.search_logged_models(["0", experiment_id]) == []


def test_a_location_of_the_experiment_is_used(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("s3", artifact_location="s3://bucket/exp")
    model = store.create_logged_model(experiment_id, name="m")
    assert model.artifact_location == f"s3://bucket/exp/models/{model.model_id}/artifacts"


def test_unknown_model_is_not_found(store: SqlTrackingStore) -> None:
    with pytest.raises(ResourceDoesNotExist, match="Logged model with ID 'm-nope' not found"):
        store.get_logged_model("m-nope")
    with pytest.raises(InvalidParameterValue, match="model_id"):
        store.get_logged_model("")


# -- finalize, tags, delete ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (LoggedModelStatus.READY, LoggedModelStatus.READY),
        ("LOGGED_MODEL_UPLOAD_FAILED", LoggedModelStatus.FAILED),
        (2, LoggedModelStatus.READY),
    ],
)
def test_finalize_sets_the_status(
    store: SqlTrackingStore, given: Any, expected: LoggedModelStatus
) -> None:
    model = store.create_logged_model("0", name="m")
    finalized = store.finalize_logged_model(model.model_id, given)
    assert finalized.status is expected
    assert finalized.last_updated_timestamp >= model.last_updated_timestamp
    assert store.get_logged_model(model.model_id).status is expected


def test_finalize_rejects_unknown_statuses_and_models(store: SqlTrackingStore) -> None:
    model = store.create_logged_model("0", name="m")
    for status in ("DONE", LoggedModelStatus.UNSPECIFIED, 9):
        with pytest.raises(InvalidParameterValue):
            store.finalize_logged_model(model.model_id, status)
    with pytest.raises(ResourceDoesNotExist):
        store.finalize_logged_model("m-nope", LoggedModelStatus.READY)
    assert store.get_logged_model(model.model_id).status is LoggedModelStatus.PENDING


def test_set_and_delete_tags(store: SqlTrackingStore) -> None:
    model = store.create_logged_model("0", name="m", tags=[LoggedModelTag("a", "1")])
    store.set_logged_model_tags(
        model.model_id, [LoggedModelTag("a", "2"), LoggedModelTag("path/key", "x")]
    )
    assert store.get_logged_model(model.model_id).tags == {"a": "2", "path/key": "x"}
    store.delete_logged_model_tag(model.model_id, "path/key")
    assert store.get_logged_model(model.model_id).tags == {"a": "2"}
    with pytest.raises(ResourceDoesNotExist, match="No tag with key 'path/key'"):
        store.delete_logged_model_tag(model.model_id, "path/key")
    with pytest.raises(ResourceDoesNotExist):
        store.set_logged_model_tags("m-nope", [LoggedModelTag("a", "1")])
    with pytest.raises(InvalidParameterValue):
        store.set_logged_model_tags(model.model_id, [LoggedModelTag("a", "x" * 100_001)])


def test_tag_keys_are_case_sensitive(store: SqlTrackingStore) -> None:
    model = store.create_logged_model("0", name="m")
    store.set_logged_model_tags(
        model.model_id, [LoggedModelTag("k", "1"), LoggedModelTag("K", "2")]
    )
    assert store.get_logged_model(model.model_id).tags == {"k": "1", "K": "2"}


def test_deleted_models_are_hidden(store: SqlTrackingStore) -> None:
    model = store.create_logged_model("0", name="m")
    store.delete_logged_model(model.model_id)
    with pytest.raises(ResourceDoesNotExist):
        store.get_logged_model(model.model_id)
    deleted = store.get_logged_model(model.model_id, allow_deleted=True)
    assert deleted.lifecycle_stage == LifecycleStage.DELETED
    assert store.search_logged_models(["0"]) == []
    for call in (
        lambda: store.delete_logged_model(model.model_id),
        lambda: store.set_logged_model_tags(model.model_id, [LoggedModelTag("a", "1")]),
        lambda: store.finalize_logged_model(model.model_id, LoggedModelStatus.READY),
    ):
        with pytest.raises(ResourceDoesNotExist):
            call()


# -- runs: outputs and model metrics -------------------------------------------------------


def test_log_outputs_shows_in_the_run(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    first = store.create_logged_model("0", name="a", source_run_id=run_id)
    second = store.create_logged_model("0", name="b", source_run_id=run_id)
    store.log_outputs(run_id, [LoggedModelOutput(first.model_id, 0)])
    store.log_outputs(
        run_id, [LoggedModelOutput(second.model_id, 3), LoggedModelOutput(first.model_id, 5)]
    )
    outputs = store.get_run(run_id).outputs.model_outputs
    assert sorted((o.model_id, o.step) for o in outputs) == sorted(
        [(first.model_id, 5), (second.model_id, 3)]
    )
    found = store.search_runs(["0"])[0].outputs.model_outputs
    assert len(found) == 2


def test_log_outputs_needs_an_active_run_and_known_models(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0", name="m")
    with pytest.raises(ResourceDoesNotExist, match="m-nope"):
        store.log_outputs(run_id, [LoggedModelOutput(model.model_id), LoggedModelOutput("m-nope")])
    assert store.get_run(run_id).outputs.model_outputs == []  # all or nothing
    with pytest.raises(ResourceDoesNotExist):
        store.log_outputs("f" * 32, [LoggedModelOutput(model.model_id)])
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.log_outputs(run_id, [LoggedModelOutput(model.model_id)])


def test_log_batch_metrics_with_a_model_id_become_model_metrics(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    store.log_inputs(
        run_id, [DatasetInput(Dataset("iris", "d1", "code", "{}"))]
    )  # a dataset of the experiment, found by name and digest
    model = store.create_logged_model("0", name="m", source_run_id=run_id)
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.9, 10, 0, "iris", "d1", model.model_id),
            Metric("loss", math.nan, 10, 0, model_id=model.model_id),
            Metric("big", math.inf, 10, 0, model_id=model.model_id),
            Metric("plain", 1.0, 10, 0),
        ],
        params=[Param("p", "1")],
    )
    stored = store.get_logged_model(model.model_id)
    by_key = {m.key: m for m in stored.metrics}
    assert set(by_key) == {"acc", "loss", "big"}
    acc = by_key["acc"]
    assert (acc.value, acc.timestamp, acc.step) == (0.9, 10, 0)
    assert (acc.dataset_name, acc.dataset_digest, acc.model_id, acc.run_id) == (
        "iris", "d1", model.model_id, run_id
    )  # fmt: skip
    assert math.isnan(by_key["loss"].value)
    assert by_key["big"].value == 1.7976931348623157e308
    with store.db.read() as conn:
        uuids = conn.execute(select(logged_model_metrics.c.dataset_uuid)).scalars().all()
    assert sum(u is not None for u in uuids) == 1  # only "acc" names a known dataset
    # The run keeps its own metrics as before.
    assert store.get_run(run_id).data.metrics["acc"] == 0.9


def test_a_model_metric_logged_again_replaces_its_value(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0", name="m")
    store.log_metric(run_id, Metric("acc", 0.5, 10, 0, model_id=model.model_id))
    store.log_metric(run_id, Metric("acc", 0.7, 10, 0, model_id=model.model_id))
    points = store.get_logged_model(model.model_id).metrics
    assert [(p.value, p.timestamp) for p in points] == [(0.7, 10)]


def test_model_metric_dataset_fields_are_limited(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    model_id = store.create_logged_model("0", name="m").model_id
    for name, digest in (("n" * 501, "d"), ("n", "d" * 37)):
        with pytest.raises(InvalidParameterValue, match="dataset_"):
            store.log_metric(run_id, Metric("acc", 1.0, 1, 0, name, digest, model_id))
    store.log_metric(run_id, Metric("acc", 1.0, 1, 0, "n" * 500, "d" * 36, model_id))
    assert store.get_logged_model(model_id).metrics[0].dataset_name == "n" * 500


def test_log_batch_with_an_unknown_model_writes_nothing(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    with pytest.raises(ResourceDoesNotExist, match="m-nope"):
        store.log_batch(
            run_id,
            metrics=[Metric("acc", 0.9, 10, 0, model_id="m-nope")],
            tags=[RunTag("t", "1")],
        )
    run = store.get_run(run_id)
    assert run.data.metrics == {}
    assert "t" not in run.data.tags


# -- search --------------------------------------------------------------------------------


def _three(store: SqlTrackingStore) -> tuple[str, list[str]]:
    """An experiment with models a (READY, run r1), b (PENDING, run r2), c (READY, run r1),
    created in that order; returns the experiment id and the model ids."""
    experiment_id = store.create_experiment("search")
    r1, r2 = _run(store, experiment_id), _run(store, experiment_id)
    ids = []
    for name, run_id, ready in (("a", r1, True), ("b", r2, False), ("c", r1, True)):
        model = store.create_logged_model(
            experiment_id,
            name=name,
            source_run_id=run_id,
            params=[LoggedModelParameter("depth", str(len(ids) + 1))],
            tags=[LoggedModelTag("team", "vision" if name != "b" else "nlp")],
            model_type="clf" if name == "a" else None,
        )
        if ready:
            store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
        ids.append(model.model_id)
    return experiment_id, ids


def test_search_by_name_finds_the_model_of_a_run(store: SqlTrackingStore) -> None:
    experiment_id, ids = _three(store)
    found = store.search_logged_models([experiment_id], "name = 'b'")
    assert [m.model_id for m in found] == [ids[1]]
    assert found[0].source_run_id is not None
    assert found[0].params == {"depth": "2"}
    assert store.search_logged_models([experiment_id], "name = 'B'") == []
    assert store.search_logged_models(["0"], "name = 'b'") == []


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["c", "b", "a"]),
        ("status = 'READY'", ["c", "a"]),
        ("status = 'LOGGED_MODEL_PENDING'", ["b"]),
        ("status IN ('PENDING', 'FAILED')", ["b"]),
        ("status != 'READY'", ["b"]),
        ("params.depth = '3'", ["c"]),
        ("tags.team = 'vision' AND name LIKE 'a%'", ["a"]),
        ("tags.team = 'nlp' OR params.depth = '1'", ["b", "a"]),
        ("tags.missing IS NULL", ["c", "b", "a"]),
        ("model_type = 'clf'", ["a"]),
        ("name IN ('a', 'c')", ["c", "a"]),
        ("creation_timestamp > 0", ["c", "b", "a"]),
        ("attributes.creation_time < 0", []),
    ],
)
def test_search_filters(
    store: SqlTrackingStore, filter_string: str | None, expected: list[str]
) -> None:
    experiment_id, _ = _three(store)
    found = store.search_logged_models([experiment_id], filter_string)
    assert sorted(_names(found)) == sorted(expected)  # created in one millisecond: any order


def test_search_filters_on_source_run_and_model_id(store: SqlTrackingStore) -> None:
    experiment_id, ids = _three(store)
    run_id = store.get_logged_model(ids[0]).source_run_id
    found = store.search_logged_models([experiment_id], f"source_run_id = '{run_id}'")
    assert sorted(_names(found)) == ["a", "c"]
    found = store.search_logged_models([experiment_id], f"model_id = '{ids[2]}'")
    assert _names(found) == ["c"]


@pytest.mark.parametrize(
    "bad",
    [
        "status = 'DONE'",
        "experiment_id = '1'",
        "datasets.name = 'x'",
        "metrics.acc = 'x'",
        "name =",
    ],
)
def test_search_rejects_bad_filters(store: SqlTrackingStore, bad: str) -> None:
    with pytest.raises(InvalidParameterValue):
        store.search_logged_models(["0"], bad)


def _metric_models(store: SqlTrackingStore) -> tuple[str, dict[str, str]]:
    """Models x, y, z with metrics: x acc 0.5 then 0.9 (latest, dataset "val"); y acc 0.8 on
    "train"; z no acc."""
    experiment_id = store.create_experiment("metrics")
    run_id = _run(store, experiment_id)
    ids = {n: store.create_logged_model(experiment_id, name=n).model_id for n in "xyz"}
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.5, 1, 0, "train", "t1", ids["x"]),
            Metric("acc", 0.9, 2, 1, "val", "v1", ids["x"]),
            Metric("acc", 0.8, 1, 0, "train", "t1", ids["y"]),
            Metric("loss", math.nan, 1, 0, model_id=ids["z"]),
        ],
    )
    return experiment_id, ids


def test_search_on_metrics_uses_the_latest_point(store: SqlTrackingStore) -> None:
    experiment_id, _ = _metric_models(store)

    def names(flt: str, datasets: Any = None) -> list[str]:
        return sorted(_names(store.search_logged_models([experiment_id], flt, datasets)))

    assert names("metrics.acc > 0.85") == ["x"]
    assert names("metrics.acc < 0.6") == []  # x's 0.5 is not its latest point
    assert names("metrics.acc >= 0.8") == ["x", "y"]
    assert names("metrics.loss != 1") == ["z"]  # NaN matches only !=
    assert names("metrics.loss = 0") == []
    train = [{"dataset_name": "train"}]
    assert names("metrics.acc < 0.6", train) == ["x"]  # x's latest point on "train"
    assert names("metrics.acc < 0.6", [{"dataset_name": "train", "dataset_digest": "zz"}]) == []


def test_search_orders_by_metrics_and_attributes(store: SqlTrackingStore) -> None:
    experiment_id, ids = _metric_models(store)

    def order(*keys: dict[str, Any]) -> list[str]:
        return _names(store.search_logged_models([experiment_id], order_by=list(keys)))

    assert order({"field_name": "metrics.acc", "ascending": False}) == ["x", "y", "z"]
    assert order({"field_name": "metrics.acc"}) == ["y", "x", "z"]  # missing last
    by_train = {"field_name": "metrics.acc", "dataset_name": "train", "dataset_digest": "t1"}
    assert order(by_train) == ["x", "y", "z"]  # x 0.5 < y 0.8 on train
    assert order({"field_name": "name", "ascending": False}) == ["z", "y", "x"]
    assert order({"field_name": "model_id"}) == [
        n for n, _ in sorted(ids.items(), key=lambda item: item[1])
    ]


def test_search_rejects_bad_order_by(store: SqlTrackingStore) -> None:
    for bad in (
        [{"field_name": "params.p"}],
        [{"field_name": "nope"}],
        [{"ascending": True}],
        [{"field_name": "name", "ascending": "yes"}],
        [{"field_name": "name"}, {"field_name": "name", "ascending": False}],
        ["name"],
    ):
        with pytest.raises(InvalidParameterValue):
            store.search_logged_models(["0"], order_by=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue):
        store.search_logged_models(["0"], datasets=[{"dataset_digest": "x"}])


def test_search_pages(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("pages")
    made = [store.create_logged_model(experiment_id, name=f"m{i}").model_id for i in range(5)]
    order = [{"field_name": "name"}]
    seen: list[str] = []
    token = None
    while True:
        page = store.search_logged_models(
            [experiment_id], max_results=2, order_by=order, page_token=token
        )
        seen += [m.model_id for m in page]
        token = page.token
        if token is None:
            break
    assert seen == made
    assert len(store.search_logged_models([experiment_id])) == 5  # default page of 100
    with pytest.raises(InvalidParameterValue):
        store.search_logged_models([experiment_id], max_results=0)


def test_search_of_no_experiments_is_empty(store: SqlTrackingStore) -> None:
    store.create_logged_model("0", name="m")
    assert store.search_logged_models([]) == []
    assert store.search_logged_models(["99999999999"]) == []
    with pytest.raises(InvalidParameterValue):
        store.search_logged_models(["abc"])


def test_search_spans_experiments(store: SqlTrackingStore) -> None:
    other = store.create_experiment("other")
    store.create_logged_model("0", name="a")
    store.create_logged_model(other, name="b")
    assert sorted(_names(store.search_logged_models(["0", other]))) == ["a", "b"]


# -- the migration -------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
def test_a_database_at_the_first_revision_upgrades_with_its_data(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        uri = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        uri = request.getfixturevalue(f"{backend}_uri")
    db = Database(uri, create=False)
    with db.engine.connect() as conn:
        config = Config()
        migrations = Path(trackline.store.sql.__file__).with_name("migrations")
        config.set_main_option("script_location", str(migrations))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001_initial")
        conn.execute(insert(experiments).values(name="old", lifecycle_stage="active"))
        conn.commit()
    db.close()
    assert upgrade(uri) == ("0001_initial", SCHEMA_REVISION)
    opened = SqlTrackingStore(uri, str(tmp_path / "mlruns"))
    try:
        old = opened.get_experiment_by_name("old")
        assert old is not None
        model = opened.create_logged_model(old.experiment_id, name="m")
        assert opened.search_logged_models([old.experiment_id])[0].model_id == model.model_id
    finally:
        opened.close()
