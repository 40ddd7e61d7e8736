"""SqlTrackingStore: experiments, runs, params, tags and searches on every backend."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trackline.entities import (
    ExperimentTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from trackline.exceptions import (
    InvalidParameterValue,
    MlflowException,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from trackline.search import decode_page_token
from trackline.store.sql import experiments as experiment_sql
from trackline.store.sql import runs as run_sql
from trackline.store.sql import tracking
from trackline.store.sql.tracking import SqlTrackingStore


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    uri = request.getfixturevalue(f"{request.param}_uri")
    opened = SqlTrackingStore(uri, (tmp_path / "mlruns").as_uri())
    yield opened
    opened.close()


def _root(store: SqlTrackingStore) -> str:
    return store.default_artifact_root


def _run(store: SqlTrackingStore, experiment_id: str = "0", **kwargs: Any) -> str:
    args: dict[str, Any] = {"user_id": "alice", "start_time": 1000, "tags": [], "run_name": None}
    args.update(kwargs)
    return store.create_run(experiment_id, **args).info.run_id


# -- the default experiment --------------------------------------------------------------


def test_default_experiment_exists(store: SqlTrackingStore) -> None:
    experiment = store.get_experiment("0")
    assert experiment.name == "Default"
    assert experiment.lifecycle_stage == LifecycleStage.ACTIVE
    assert experiment.artifact_location == f"{_root(store)}/0"
    # The next experiment gets id 1 (MySQL must not have read the explicit 0 as "next").
    assert store.create_experiment("first") == "1"


def test_default_experiment_insert_that_loses_the_race_is_tolerated(
    sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SqlTrackingStore(sqlite_uri, str(tmp_path)).close()
    # A second process that still saw no default experiment inserts it too and fails.
    monkeypatch.setattr(experiment_sql, "get_experiment_row", lambda conn, eid: None)
    second = SqlTrackingStore(sqlite_uri, str(tmp_path))
    monkeypatch.undo()
    assert [e.name for e in second.search_experiments()] == ["Default"]
    second.close()


def test_many_stores_open_a_fresh_database_at_once(db_uri: str, tmp_path: Path) -> None:
    errors: list[BaseException] = []
    stores: list[SqlTrackingStore] = []
    lock = threading.Lock()

    def open_store() -> None:
        try:
            opened = SqlTrackingStore(db_uri, str(tmp_path))
            with lock:
                stores.append(opened)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [e.experiment_id for e in stores[0].search_experiments()] == ["0"]
    for opened in stores:
        opened.close()


def test_plain_path_artifact_root_is_made_absolute(
    sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = SqlTrackingStore(sqlite_uri, "mlruns")
    assert opened.get_experiment("0").artifact_location == f"{tmp_path}/mlruns/0"
    opened.close()


# -- experiments -------------------------------------------------------------------------


def test_create_and_get_experiment(store: SqlTrackingStore) -> None:
    before = int(time.time() * 1000)
    experiment_id = store.create_experiment("exp", tags=[ExperimentTag("team", "ml")])
    experiment = store.get_experiment(experiment_id)
    assert experiment.experiment_id == experiment_id
    assert experiment.name == "exp"
    assert experiment.artifact_location == f"{_root(store)}/{experiment_id}"
    assert experiment.lifecycle_stage == "active"
    assert experiment.tags == {"team": "ml"}
    assert experiment.creation_time is not None
    assert experiment.creation_time >= before
    assert experiment.last_update_time == experiment.creation_time
    assert store.get_experiment(int(experiment_id)).name == "exp"  # type: ignore[arg-type]


def test_create_experiment_with_artifact_location(
    store: SqlTrackingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri_id = store.create_experiment("s3", artifact_location="s3://bucket/path")
    assert store.get_experiment(uri_id).artifact_location == "s3://bucket/path"
    monkeypatch.chdir(tmp_path)
    local_id = store.create_experiment("local", artifact_location="relative/dir")
    assert store.get_experiment(local_id).artifact_location == f"{tmp_path}/relative/dir"
    with pytest.raises(InvalidParameterValue, match="runs:/"):
        store.create_experiment("bad", artifact_location="runs:/abc/model")


def test_duplicate_experiment_name_even_deleted(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("dup")
    with pytest.raises(ResourceAlreadyExists, match=re.escape("Experiment(name=dup) already")):
        store.create_experiment("dup")
    store.delete_experiment(experiment_id)
    with pytest.raises(ResourceAlreadyExists) as info:
        store.create_experiment("dup")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert info.value.get_http_status_code() == 400


@pytest.mark.parametrize("name", ["", None, 12, "x" * 501])
def test_invalid_experiment_names(store: SqlTrackingStore, name: Any) -> None:
    with pytest.raises(InvalidParameterValue):
        store.create_experiment(name)


def test_get_experiment_errors(store: SqlTrackingStore) -> None:
    with pytest.raises(ResourceDoesNotExist, match="No Experiment with id=9999 exists"):
        store.get_experiment("9999")
    with pytest.raises(ResourceDoesNotExist):
        store.get_experiment("99999999999999")  # beyond the 32-bit column
    for bad in ("abc", "1.5", ""):
        with pytest.raises(InvalidParameterValue) as info:
            store.get_experiment(bad)
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_get_experiment_by_name(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("named")
    found = store.get_experiment_by_name("named")
    assert found is not None
    assert found.experiment_id == experiment_id
    assert store.get_experiment_by_name("NAMED") is None
    assert store.get_experiment_by_name("named ") is None
    assert store.get_experiment_by_name("missing") is None
    store.delete_experiment(experiment_id)
    deleted = store.get_experiment_by_name("named")
    assert deleted is not None
    assert deleted.lifecycle_stage == "deleted"


def test_delete_experiment_deletes_its_runs_and_restore_restores_them(
    store: SqlTrackingStore,
) -> None:
    experiment_id = store.create_experiment("cascade")
    kept, earlier = _run(store, experiment_id), _run(store, experiment_id)
    other = _run(store, "0")
    store.delete_run(earlier)
    store.delete_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert store.get_run(kept).info.lifecycle_stage == "deleted"
    assert store.get_run(other).info.lifecycle_stage == "active"
    store.delete_experiment(experiment_id)  # deleting again changes nothing
    store.restore_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == "active"
    assert store.get_run(kept).info.lifecycle_stage == "active"
    # A run deleted on its own before the experiment stays deleted.
    assert store.get_run(earlier).info.lifecycle_stage == "deleted"


def test_restore_tells_runs_deleted_in_the_same_millisecond(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracking, "_now", lambda: 5000)  # every deletion at the same instant
    experiment_id = store.create_experiment("same-ms")
    alone, cascaded = _run(store, experiment_id), _run(store, experiment_id)
    store.delete_run(alone)
    store.delete_experiment(experiment_id)
    store.restore_experiment(experiment_id)
    assert store.get_run(alone).info.lifecycle_stage == "deleted"
    assert store.get_run(cascaded).info.lifecycle_stage == "active"


def test_delete_and_restore_experiment_errors(store: SqlTrackingStore) -> None:
    with pytest.raises(ResourceDoesNotExist):
        store.delete_experiment("424242")
    with pytest.raises(ResourceDoesNotExist):
        store.restore_experiment("424242")
    experiment_id = store.create_experiment("alive")
    with pytest.raises(InvalidParameterValue, match="not deleted"):
        store.restore_experiment(experiment_id)


def test_runs_cannot_be_created_in_deleted_experiment(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("gone")
    store.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        _run(store, experiment_id)
    with pytest.raises(ResourceDoesNotExist):
        _run(store, "31337")
    with pytest.raises(InvalidParameterValue):
        _run(store, "not-a-number")


def test_rename_experiment(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("old")
    store.create_experiment("taken")
    store.rename_experiment(experiment_id, "new")
    assert store.get_experiment(experiment_id).name == "new"
    store.rename_experiment(experiment_id, "new")  # same name: nothing to do
    with pytest.raises(ResourceAlreadyExists):
        store.rename_experiment(experiment_id, "taken")
    with pytest.raises(InvalidParameterValue):
        store.rename_experiment(experiment_id, "")
    store.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameterValue, match="non-active"):
        store.rename_experiment(experiment_id, "newer")


def test_experiment_tags(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("tagged")
    store.set_experiment_tag(experiment_id, ExperimentTag("k", "v1"))
    store.set_experiment_tag(experiment_id, ExperimentTag("k", "v2"))
    store.set_experiment_tag(experiment_id, ExperimentTag("other", "x"))
    assert store.get_experiment(experiment_id).tags == {"k": "v2", "other": "x"}
    store.delete_experiment_tag(experiment_id, "other")
    assert store.get_experiment(experiment_id).tags == {"k": "v2"}
    with pytest.raises(ResourceDoesNotExist, match="No tag with name: other"):
        store.delete_experiment_tag(experiment_id, "other")
    with pytest.raises(InvalidParameterValue):
        store.set_experiment_tag(experiment_id, ExperimentTag("k", "v" * 20001))
    with pytest.raises(InvalidParameterValue):
        store.set_experiment_tag(experiment_id, ExperimentTag("../k", "v"))
    store.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.set_experiment_tag(experiment_id, ExperimentTag("k", "v3"))
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.delete_experiment_tag(experiment_id, "k")


def test_search_experiments_views_paging_and_filter(store: SqlTrackingStore) -> None:
    ids = [store.create_experiment(f"e{i}") for i in range(5)]
    store.delete_experiment(ids[0])
    active = store.search_experiments(max_results=1000)
    assert {e.experiment_id for e in active} == {"0", *ids[1:]}
    assert active.token is None
    deleted = store.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [ids[0]]
    assert len(store.search_experiments(view_type=ViewType.ALL)) == 6

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.search_experiments(
            view_type=ViewType.ALL, max_results=2, order_by=["name"], page_token=token
        )
        seen += [e.name for e in page]
        pages += 1
        token = page.token
        if token is None:
            break
        assert decode_page_token(token) == 2 * pages
    assert seen == ["Default", "e0", "e1", "e2", "e3", "e4"]
    assert pages == 3

    matched = store.search_experiments(filter_string="name LIKE 'e%'", order_by=["name DESC"])
    assert [e.name for e in matched] == ["e4", "e3", "e2", "e1"]
    store.set_experiment_tag(ids[2], ExperimentTag("k", "v"))
    tagged = store.search_experiments(filter_string="tags.k = 'v'")
    assert [(e.experiment_id, e.tags) for e in tagged] == [(ids[2], {"k": "v"})]


@pytest.mark.parametrize("max_results", [0, -1, 50001, "x"])
def test_search_max_results_is_checked(store: SqlTrackingStore, max_results: Any) -> None:
    with pytest.raises(InvalidParameterValue, match="max_results"):
        store.search_experiments(max_results=max_results)
    with pytest.raises(InvalidParameterValue, match="max_results"):
        store.search_runs(["0"], max_results=max_results)


# -- runs --------------------------------------------------------------------------------


def test_create_run(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("runs")
    run = store.create_run(
        experiment_id, "alice", 1234, [RunTag("mlflow.source.name", "train.py")], "my-run"
    )
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.experiment_id == experiment_id
    assert info.user_id == "alice"
    assert info.status == "RUNNING"
    assert info.start_time == 1234
    assert info.end_time is None
    assert info.lifecycle_stage == "active"
    assert info.run_name == "my-run"
    assert info.artifact_uri == f"{_root(store)}/{experiment_id}/{info.run_id}/artifacts"
    assert run.data.tags == {"mlflow.source.name": "train.py", "mlflow.runName": "my-run"}
    assert store.get_run(info.run_id) == run


def test_create_run_artifact_uri_follows_experiment_location(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("s3", artifact_location="s3://b/p/")
    run = store.create_run(experiment_id, None, None, [], None)
    assert run.info.artifact_uri == f"s3://b/p/{run.info.run_id}/artifacts"
    assert run.info.start_time is not None
    assert abs(run.info.start_time - time.time() * 1000) < 60_000


def test_run_names(store: SqlTrackingStore) -> None:
    generated = store.get_run(_run(store))
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", generated.info.run_name or "")
    assert generated.data.tags["mlflow.runName"] == generated.info.run_name

    from_tag = store.get_run(_run(store, tags=[RunTag("mlflow.runName", "tagged")]))
    assert from_tag.info.run_name == "tagged"
    same = _run(store, tags=[RunTag("mlflow.runName", "both")], run_name="both")
    assert store.get_run(same).info.run_name == "both"
    with pytest.raises(InvalidParameterValue, match="different values"):
        _run(store, tags=[RunTag("mlflow.runName", "a")], run_name="b")
    with pytest.raises(InvalidParameterValue):
        _run(store, run_name="n" * 251)


def test_get_run_errors(store: SqlTrackingStore) -> None:
    missing = "0" * 32
    with pytest.raises(ResourceDoesNotExist, match=f"Run with id={missing} not found"):
        store.get_run(missing)
    with pytest.raises(InvalidParameterValue):
        store.get_run("../etc")


def test_update_run_info(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    info = store.update_run_info(run_id, RunStatus.FINISHED, 5000, None)
    assert (info.status, info.end_time) == ("FINISHED", 5000)
    info = store.update_run_info(run_id, "killed", None, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("KILLED", 5000, "renamed")
    assert store.get_run(run_id).data.tags["mlflow.runName"] == "renamed"
    # Unknown statuses are ignored, as MLflow's server does.
    assert store.update_run_info(run_id, "BOGUS", None, None).status == "KILLED"
    assert store.update_run_info(run_id, 99, None, None).status == "KILLED"
    assert store.update_run_info(run_id, "3", None, None).status == "FINISHED"
    with pytest.raises(ResourceDoesNotExist):
        store.update_run_info("f" * 32, "FINISHED", None, None)
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        store.update_run_info(run_id, "FINISHED", None, None)


def test_delete_and_restore_run(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == "deleted"
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == "active"
    for method in (store.delete_run, store.restore_run):
        with pytest.raises(ResourceDoesNotExist):
            method("a" * 32)


def test_writes_to_deleted_run_are_rejected(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    store.delete_run(run_id)
    message = re.escape(
        f"The run {run_id} must be in the 'active' state. Current state is deleted."
    )
    writes = [
        lambda: store.log_metric(run_id, Metric("m", 1.0, 1, 0)),
        lambda: store.log_batch(run_id, metrics=[Metric(f"m{i}", 1.0, 1, 0) for i in range(20)]),
        lambda: store.log_param(run_id, Param("p", "1")),
        lambda: store.set_tag(run_id, RunTag("t", "1")),
        lambda: store.log_batch(run_id),
        lambda: store.delete_tag(run_id, "mlflow.runName"),
    ]
    for write in writes:
        with pytest.raises(InvalidParameterValue, match=message) as info:
            write()
        assert info.value.get_http_status_code() == 400


def test_writes_to_unknown_run_are_not_found(store: SqlTrackingStore) -> None:
    missing = "b" * 32
    with pytest.raises(ResourceDoesNotExist, match="not found"):
        store.log_metric(missing, Metric("m", 1.0, 1, 0))
    with pytest.raises(ResourceDoesNotExist):
        store.log_param(missing, Param("p", "1"))
    with pytest.raises(ResourceDoesNotExist):
        store.log_batch(missing, metrics=[Metric(f"m{i}", 1.0, 1, 0) for i in range(20)])


def test_finished_runs_still_accept_logging(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    store.update_run_info(run_id, "FINISHED", 10, None)
    store.log_metric(run_id, Metric("late", 2.0, 11, 0))
    assert store.get_run(run_id).data.metrics == {"late": 2.0}


def test_params_are_immutable(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("a", "1"))
    store.log_param(run_id, Param("a", "1"))  # the same value again is fine
    store.log_batch(run_id, params=[Param("a", "1"), Param("b", "2")])
    expected = (
        "Changing param values is not allowed. Param with key='a' was already logged with "
        f"value='1' for run ID='{run_id}'. Attempted logging new value '2'."
    )
    with pytest.raises(InvalidParameterValue) as info:
        store.log_param(run_id, Param("a", "2"))
    assert info.value.message == expected
    with pytest.raises(InvalidParameterValue) as info:
        store.log_batch(run_id, params=[Param("b", "3")])
    assert "Changing param values is not allowed" in info.value.message
    assert "'old_value': '2', 'new_value': '3'" in info.value.message
    assert store.get_run(run_id).data.params == {"a": "1", "b": "2"}


def test_params_and_tags_round_trip(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(
        run_id,
        params=[Param("lr", "0.1"), Param("empty", ""), Param("path/like key", "x")],
        tags=[RunTag("t", "1"), RunTag("t", "2"), RunTag("u", "ü")],
    )
    data = store.get_run(run_id).data
    assert data.params == {"lr": "0.1", "empty": "", "path/like key": "x"}
    assert data.tags["t"] == "2"
    assert data.tags["u"] == "ü"


def test_long_values_are_truncated(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("p", "x" * 6001))
    store.set_tag(run_id, RunTag("t", "y" * 8001))
    data = store.get_run(run_id).data
    assert data.params["p"] == "x" * 6000
    assert data.tags["t"] == "y" * 8000
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "false")
    with pytest.raises(InvalidParameterValue, match="6000"):
        store.log_param(run_id, Param("q", "x" * 6001))
    with pytest.raises(InvalidParameterValue, match="8000"):
        store.set_tag(run_id, RunTag("t2", "y" * 8001))


def test_run_name_tag_renames_the_run(store: SqlTrackingStore) -> None:
    run_id = _run(store, run_name="before")
    store.set_tag(run_id, RunTag("mlflow.runName", "after"))
    run = store.get_run(run_id)
    assert run.info.run_name == "after"
    assert run.data.tags["mlflow.runName"] == "after"
    [found] = store.search_runs(["0"], filter_string="attributes.run_name = 'after'")
    assert found.info.run_id == run_id


def test_delete_tag(store: SqlTrackingStore) -> None:
    run_id = _run(store)
    store.set_tag(run_id, RunTag("t", "v"))
    store.delete_tag(run_id, "t")
    assert "t" not in store.get_run(run_id).data.tags
    with pytest.raises(ResourceDoesNotExist, match=f"No tag with name: t in run with id {run_id}"):
        store.delete_tag(run_id, "t")


def test_run_name_falls_back_to_the_tag_for_old_rows(store: SqlTrackingStore) -> None:
    run_id = _run(store, run_name="from-tag")
    from sqlalchemy import update

    from trackline.store.sql.schema import runs

    with store.db.write() as conn:  # MLflow <= 1.29 left runs.name empty
        conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(name=""))
    assert store.get_run(run_id).info.run_name == "from-tag"
    [found] = store.search_runs(["0"])
    assert found.info.run_name == "from-tag"


# -- search_runs -------------------------------------------------------------------------


def test_search_runs_filters_orders_and_loads_everything(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("search")
    ids = []
    for i in range(5):
        run_id = _run(store, experiment_id, start_time=1000 + i)
        store.log_batch(
            run_id,
            metrics=[Metric("acc", i / 10, 1, 0)],
            params=[Param("i", str(i))],
            tags=[RunTag("parity", "even" if i % 2 == 0 else "odd")],
        )
        ids.append(run_id)
    default_order = store.search_runs([experiment_id])
    assert [r.info.run_id for r in default_order] == ids[::-1]  # start_time DESC
    assert default_order.token is None
    even = store.search_runs(
        [experiment_id], filter_string="tags.parity = 'even'", order_by=["metrics.acc DESC"]
    )
    assert [r.info.run_id for r in even] == [ids[4], ids[2], ids[0]]
    run = even[0]
    assert run.data.metrics == {"acc": 0.4}
    assert run.data.params == {"i": "4"}
    assert run.data.tags["parity"] == "even"
    assert run == store.get_run(ids[4])
    assert store.search_runs([experiment_id], filter_string="metrics.acc > 0.25") != []
    assert store.search_runs([]) == []


def test_search_runs_pages_and_view_types(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("pages")
    ids = [_run(store, experiment_id, start_time=100 - i) for i in range(5)]
    store.delete_run(ids[1])
    first = store.search_runs([experiment_id], max_results=2)
    assert [r.info.run_id for r in first] == [ids[0], ids[2]]
    assert first.token is not None
    second = store.search_runs([experiment_id], max_results=2, page_token=first.token)
    assert [r.info.run_id for r in second] == [ids[3], ids[4]]
    assert second.token is None  # no token when no row follows
    deleted = store.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [ids[1]]
    assert len(store.search_runs([experiment_id], run_view_type=ViewType.ALL)) == 5
    with pytest.raises(InvalidParameterValue):
        store.search_runs([experiment_id], page_token="not a token")


def test_search_runs_across_experiments(store: SqlTrackingStore) -> None:
    other = store.create_experiment("other")
    a, b = _run(store, "0", start_time=1), _run(store, other, start_time=2)
    found = store.search_runs(["0", other, "99999999999"])
    assert [r.info.run_id for r in found] == [b, a]
    assert store.search_runs(["99999999999"]) == []
    with pytest.raises(InvalidParameterValue):
        store.search_runs(["zero"])


def test_search_loads_in_chunks_and_keeps_order(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_sql, "LOAD_CHUNK", 2)
    ids = [_run(store, start_time=i) for i in range(5)]
    for run_id in ids:
        store.log_param(run_id, Param("id", run_id))
    found = store.search_runs(["0"], order_by=["start_time ASC"])
    assert [r.info.run_id for r in found] == ids
    assert [r.data.params["id"] for r in found] == ids


def test_search_errors_are_client_errors(store: SqlTrackingStore) -> None:
    with pytest.raises(MlflowException) as info:
        store.search_runs(["0"], filter_string="metrics.x >")
    assert info.value.get_http_status_code() == 400
