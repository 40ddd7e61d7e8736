"""RestTrackingStore against the real server app: round trips, wire format, paging, errors,
retries without duplicates."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from trackline.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
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
    TemporarilyUnavailable,
)
from trackline.store.rest import RestTrackingStore, tracking
from trackline.store.uri import get_tracking_store

from .conftest import BASE_URL, Wire


def _run(store: RestTrackingStore, experiment_id: str = "0", **kwargs: Any) -> str:
    args: dict[str, Any] = {"user_id": "alice", "start_time": 1000, "tags": [], "run_name": None}
    args.update(kwargs)
    return store.create_run(experiment_id, **args).info.run_id


def _history(store: RestTrackingStore, run_id: str, key: str) -> list[tuple[float, int, int]]:
    return [(m.value, m.timestamp, m.step) for m in store.get_metric_history(run_id, key)]


# -- experiments ---------------------------------------------------------------------------


def test_create_get_and_get_by_name(store: RestTrackingStore) -> None:
    experiment_id = store.create_experiment("exp", tags=[ExperimentTag("team", "vision")])
    experiment = store.get_experiment(experiment_id)
    assert experiment.experiment_id == experiment_id
    assert experiment.name == "exp"
    assert experiment.tags == {"team": "vision"}
    assert experiment.lifecycle_stage == LifecycleStage.ACTIVE
    assert experiment.artifact_location.endswith(f"/{experiment_id}")
    assert isinstance(experiment.creation_time, int)
    assert store.get_experiment_by_name("exp") == experiment
    assert store.get_experiment_by_name("nope") is None


def test_experiment_errors_carry_the_servers_codes(store: RestTrackingStore, wire: Wire) -> None:
    store.create_experiment("taken")
    with pytest.raises(ResourceAlreadyExists, match=r"taken"):
        store.create_experiment("taken")
    with pytest.raises(ResourceDoesNotExist) as missing:
        store.get_experiment("4242")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(InvalidParameterValue):
        store.search_experiments(max_results=0)
    # Client errors are answered once: never retried.
    assert len(wire.calls("experiments/create")) == 2
    assert len(wire.calls("experiments/get")) == 1


def test_rename_delete_restore_and_tags(store: RestTrackingStore) -> None:
    experiment_id = store.create_experiment("old")
    store.rename_experiment(experiment_id, "new")
    assert store.get_experiment(experiment_id).name == "new"
    store.set_experiment_tag(experiment_id, ExperimentTag("k", "v"))
    store.set_experiment_tag(experiment_id, ExperimentTag("k", "w"))
    assert store.get_experiment(experiment_id).tags == {"k": "w"}
    store.delete_experiment_tag(experiment_id, "k")
    assert store.get_experiment(experiment_id).tags == {}
    with pytest.raises(ResourceDoesNotExist):
        store.delete_experiment_tag(experiment_id, "k")
    run_id = _run(store, experiment_id)
    store.delete_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.DELETED
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    store.restore_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    with pytest.raises(InvalidParameterValue):
        store.restore_experiment(experiment_id)  # not deleted, and no retry to excuse it


def test_search_experiments_pages_filters_and_views(store: RestTrackingStore) -> None:
    ids = [store.create_experiment(f"e{i}") for i in range(5)]
    store.delete_experiment(ids[0])
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.search_experiments(max_results=2, page_token=token)
        pages += 1
        seen += [e.experiment_id for e in page]
        token = page.token
        if token is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted([*ids[1:], "0"])
    named = store.search_experiments(filter_string="name LIKE 'e%'", order_by=["name ASC"])
    assert [e.name for e in named] == ["e1", "e2", "e3", "e4"]
    deleted = store.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [ids[0]]
    assert len(store.search_experiments(view_type=ViewType.ALL)) == 6


# -- runs ----------------------------------------------------------------------------------


def test_create_and_get_run(store: RestTrackingStore) -> None:
    experiment_id = store.create_experiment("exp")
    run = store.create_run(
        experiment_id, "alice", 1234, [RunTag("mlflow.source.type", "LOCAL")], "first"
    )
    info = run.info
    assert info.experiment_id == experiment_id
    assert (info.user_id, info.start_time, info.run_name) == ("alice", 1234, "first")
    assert info.status == "RUNNING"
    assert info.end_time is None
    assert info.artifact_uri is not None
    assert info.artifact_uri.endswith(f"{info.run_id}/artifacts")
    assert run.data.tags == {"mlflow.source.type": "LOCAL", "mlflow.runName": "first"}
    assert store.get_run(info.run_id) == run
    generated = store.create_run(experiment_id, None, None, [], None)
    assert generated.info.run_name  # the server names runs that have no name
    with pytest.raises(ResourceDoesNotExist):
        store.get_run("f" * 32)


def test_update_delete_and_restore_run(store: RestTrackingStore) -> None:
    run_id = _run(store)
    info = store.update_run_info(run_id, RunStatus.FINISHED, 5000, "renamed")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 5000, "renamed")
    assert store.update_run_info(run_id, "killed", None, None).status == "KILLED"
    assert store.get_run(run_id).data.tags["mlflow.runName"] == "renamed"
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(InvalidParameterValue):
        store.log_param(run_id, Param("p", "1"))
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_logging_round_trips_with_non_finite_values(store: RestTrackingStore) -> None:
    run_id = _run(store)
    store.log_metric(run_id, Metric("loss", 0.5, 10, 0))
    store.log_metric(run_id, Metric("loss", math.nan, 11, 1))
    store.log_metric(run_id, Metric("up", math.inf, 12, 0))
    store.log_metric(run_id, Metric("down", -math.inf, 13, 0))
    store.log_param(run_id, Param("alpha", "0.5"))
    store.log_param(run_id, Param("alpha", "0.5"))  # the same value again is fine
    store.set_tag(run_id, RunTag("t", "1"))
    run = store.get_run(run_id)
    assert math.isnan(run.data.metrics["loss"])  # the latest point (step 1) is NaN
    assert run.data.metrics["up"] > 1e308
    assert run.data.metrics["down"] < -1e308
    assert run.data.params == {"alpha": "0.5"}
    assert run.data.tags["t"] == "1"
    history = _history(store, run_id, "loss")
    assert history[0] == (0.5, 10, 0)
    assert math.isnan(history[1][0])
    assert history[1][1:] == (11, 1)
    with pytest.raises(InvalidParameterValue, match="alpha"):
        store.log_param(run_id, Param("alpha", "0.7"))


def test_delete_tag(store: RestTrackingStore) -> None:
    run_id = _run(store)
    store.set_tag(run_id, RunTag("t", "1"))
    store.delete_tag(run_id, "t")
    assert "t" not in store.get_run(run_id).data.tags
    with pytest.raises(ResourceDoesNotExist):
        store.delete_tag(run_id, "t")


def test_log_batch_round_trip_with_metric_fields(store: RestTrackingStore) -> None:
    run_id = _run(store)
    model_id = store.create_logged_model("0", source_run_id=run_id).model_id
    metrics = [
        Metric("acc", 0.9, 100, 2, dataset_name="train", dataset_digest="abc", model_id=model_id),
        Metric("acc", math.nan, 101, 3),
    ]
    store.log_batch(run_id, metrics, [Param("p", "v")], [RunTag("t", "x")])
    run = store.get_run(run_id)
    assert run.data.params == {"p": "v"}
    assert run.data.tags["t"] == "x"
    points = store.get_metric_history(run_id, "acc")
    assert [(p.timestamp, p.step) for p in points] == [(100, 2), (101, 3)]
    assert points[0].value == 0.9
    assert math.isnan(points[1].value)


def test_log_batch_is_cut_within_the_servers_limits(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    metrics = [Metric(f"m{i % 7}", float(i), i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(250)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(150)]
    store.log_batch(run_id, metrics, params, tags)
    bodies = [s.body for s in wire.calls("runs/log-batch")]
    assert len(bodies) == 3
    for body in bodies:
        n_metrics, n_params, n_tags = (len(body.get(k, ())) for k in ("metrics", "params", "tags"))
        assert n_metrics <= 1000
        assert n_params <= 100
        assert n_tags <= 100
        assert n_metrics + n_params + n_tags <= 1000
    run = store.get_run(run_id)
    assert len(run.data.params) == 250
    assert sum(1 for k in run.data.tags if k.startswith("t")) == 150
    assert sum(len(store.get_metric_history(run_id, f"m{k}")) for k in range(7)) == 2500


def test_log_batch_bodies_stay_under_one_megabyte(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    params = [Param(f"p{i}", "x" * 6000) for i in range(100)]
    tags = [RunTag(f"t{i}", "é" * 4000) for i in range(100)]  # 8000 bytes each in UTF-8
    store.log_batch(run_id, params=params, tags=tags)
    sizes = [int(s.headers["content-length"]) for s in wire.calls("runs/log-batch")]
    assert len(sizes) >= 2
    assert all(size <= tracking.LOG_BATCH_MAX_BODY_BYTES for size in sizes)
    run = store.get_run(run_id)
    assert len(run.data.params) == 100
    assert run.data.tags["t99"] == "é" * 4000


def test_empty_log_batch_still_checks_the_run(store: RestTrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(run_id)
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue):
        store.log_batch(run_id)


def test_metric_history_pages(
    store: RestTrackingStore, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run(store)
    store.log_batch(run_id, [Metric("loss", float(i), 100 + i, i) for i in range(7)])
    first = store.get_metric_history(run_id, "loss", max_results=3)
    assert [m.step for m in first] == [0, 1, 2]
    assert first.token
    second = store.get_metric_history(run_id, "loss", max_results=3, page_token=first.token)
    assert [m.step for m in second] == [3, 4, 5]
    monkeypatch.setattr(tracking, "GET_METRIC_HISTORY_MAX_RESULTS", 3)
    store.columnar = False  # MLflow's pages (a trackline server has a columnar read too)
    calls_before = len(wire.calls("metrics/get-history"))
    everything = store.get_metric_history(run_id, "loss")
    assert [m.step for m in everything] == list(range(7))
    assert everything.token is None
    assert len(wire.calls("metrics/get-history")) - calls_before == 3
    assert store.get_metric_history("0" * 32, "loss") == []  # unknown run: no points


def test_search_runs_pages_filters_orders_and_views(store: RestTrackingStore) -> None:
    experiment_id = store.create_experiment("exp")
    run_ids = []
    for i in range(5):
        run_id = _run(store, experiment_id, start_time=1000 + i)
        store.log_metric(run_id, Metric("loss", float(i), 1, 0))
        run_ids.append(run_id)
    store.delete_run(run_ids[4])
    seen: list[str] = []
    token = None
    while True:
        page = store.search_runs([experiment_id], max_results=2, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if token is None:
            break
    assert seen == run_ids[3::-1]  # start_time DESC, active only
    low = store.search_runs([experiment_id], "metrics.loss < 2", order_by=["metrics.loss ASC"])
    assert [r.info.run_id for r in low] == run_ids[:2]
    assert low[0].data.metrics == {"loss": 0.0}
    deleted = store.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_ids[4]]
    assert store.search_runs([]) == []
    with pytest.raises(InvalidParameterValue):
        store.search_runs([experiment_id], "metrics.loss <")


def test_log_inputs_round_trip(store: RestTrackingStore) -> None:
    run_id = _run(store)
    dataset = Dataset("iris", "d1g3st", "code", '{"uri": "x"}', '{"cols": 4}', '{"rows": 150}')
    tags = [InputTag("mlflow.data.context", "train")]
    store.log_inputs(run_id, [DatasetInput(dataset, tags)])
    store.log_inputs(run_id, [DatasetInput(dataset, tags)])  # recorded inputs are skipped
    inputs = store.get_run(run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset == dataset
    assert inputs[0].tags == tags


# -- the wire: what goes out ---------------------------------------------------------------


def test_bodies_are_the_ones_mlflows_client_sends(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    store.log_metric(run_id, Metric("loss", math.nan, 7, 2))
    store.log_param(run_id, Param("alpha", "0.5"))
    store.set_tag(run_id, RunTag("t", "v"))
    store.update_run_info(run_id, RunStatus.FINISHED, 9, None)
    store.log_batch(run_id, [Metric("m", math.inf, 1, 0)])
    store.get_run(run_id)
    store.columnar = False  # MLflow's history call (a trackline server has a columnar one)
    store.get_metric_history(run_id, "loss")
    store.search_experiments()
    store.search_runs(["0"], "metrics.m > 0")

    def body(endpoint: str) -> Any:
        return wire.calls(endpoint)[-1].body

    ids = {"run_uuid": run_id, "run_id": run_id}
    metric = {"key": "loss", "value": "NaN", "timestamp": 7, "step": 2}
    assert body("runs/log-metric") == {**ids, **metric}
    assert body("runs/log-parameter") == {**ids, "key": "alpha", "value": "0.5"}
    assert body("runs/set-tag") == {**ids, "key": "t", "value": "v"}
    assert body("runs/update") == {**ids, "status": "FINISHED", "end_time": 9}
    assert body("runs/log-batch") == {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": "Infinity", "timestamp": 1, "step": 0, "run_id": run_id}],
    }
    assert body("runs/create") == {"experiment_id": "0", "user_id": "alice", "start_time": 1000}
    assert body("experiments/search") == {"max_results": 1000, "view_type": "ACTIVE_ONLY"}
    assert body("runs/search") == {
        "experiment_ids": ["0"],
        "filter": "metrics.m > 0",
        "run_view_type": "ACTIVE_ONLY",
        "max_results": 1000,
    }
    get = wire.calls("runs/get")[-1]
    assert (get.method, get.body) == ("GET", None)
    assert get.params == {"run_uuid": [run_id], "run_id": [run_id]}
    history = wire.calls("metrics/get-history")[-1].params
    assert history == {
        "run_uuid": [run_id],
        "metric_key": ["loss"],
        "run_id": [run_id],
        "max_results": ["25000"],
    }


def test_headers(store: RestTrackingStore, wire: Wire) -> None:
    from trackline.version import __version__

    store.get_experiment("0")
    store.create_experiment("exp")
    get, post = wire.sent
    assert get.headers["user-agent"] == post.headers["user-agent"] == f"trackline/{__version__}"
    assert post.headers["content-type"] == "application/json"
    assert "content-type" not in get.headers
    assert "authorization" not in get.headers


# -- answers the client must cope with -----------------------------------------------------


def test_non_json_error_answers_map_the_status(store: RestTrackingStore, wire: Wire) -> None:
    wire.script("experiments/get", 404, 403, httpx.Response(401, json={"detail": "who?"}))
    with pytest.raises(MlflowException, match="HTTP status 404") as not_found:
        store.get_experiment("0")
    assert not_found.value.error_code == "ENDPOINT_NOT_FOUND"
    with pytest.raises(MlflowException) as forbidden:
        store.get_experiment("0")
    assert forbidden.value.error_code == "PERMISSION_DENIED"
    with pytest.raises(MlflowException, match="who") as unauthenticated:
        store.get_experiment("0")
    assert unauthenticated.value.error_code == "UNAUTHENTICATED"


def test_json_error_with_unknown_code_keeps_it(store: RestTrackingStore, wire: Wire) -> None:
    answer = httpx.Response(409, json={"error_code": "ABORTED", "message": "try later"})
    wire.script("runs/create", answer)
    with pytest.raises(MlflowException, match=r"^try later$") as raised:
        _run(store)
    assert raised.value.error_code == "ABORTED"


def test_ok_answers_that_are_not_json_objects(store: RestTrackingStore, wire: Wire) -> None:
    wire.script("experiments/get", httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(MlflowException, match="not a JSON object"):
        store.get_experiment("0")
    wire.script("runs/set-tag", httpx.Response(200, content=b""))
    store.set_tag("a" * 32, RunTag("k", "v"))  # an empty 200 is {}, as for MLflow's client


def test_get_experiment_by_name_raises_other_errors(store: RestTrackingStore, wire: Wire) -> None:
    wire.script("experiments/get-by-name", 403)
    with pytest.raises(MlflowException) as raised:
        store.get_experiment_by_name("exp")
    assert raised.value.error_code == "PERMISSION_DENIED"


# -- retries -------------------------------------------------------------------------------


def test_transient_failures_are_retried(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    wire.script("runs/log-metric", "refused", 503, 502, 429, 500)
    store.log_metric(run_id, Metric("loss", 1.0, 5, 0))
    assert len(wire.calls("runs/log-metric")) == 6  # five retries (the default), then success
    assert _history(store, run_id, "loss") == [(1.0, 5, 0)]
    wire.script("runs/set-tag", 408, 504)
    store.set_tag(run_id, RunTag("t", "1"))
    assert len(wire.calls("runs/set-tag")) == 3


def test_retries_give_up_after_the_configured_number(
    store: RestTrackingStore, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire.script("experiments/get", *["refused"] * 6)
    with pytest.raises(TemporarilyUnavailable, match="after 6 attempts"):
        store.get_experiment("0")
    assert len(wire.calls("experiments/get")) == 6
    busy = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "database is busy"}
    wire.script("experiments/get", *[httpx.Response(503, json=busy) for _ in range(6)])
    with pytest.raises(TemporarilyUnavailable, match="database is busy"):
        store.get_experiment("0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    few = RestTrackingStore(BASE_URL, transport=wire)
    wire.script("experiments/get", "refused", "refused")
    with pytest.raises(TemporarilyUnavailable, match="after 2 attempts"):
        few.get_experiment("0")
    few.close()


def test_lost_answers_do_not_duplicate_logging(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    wire.script("runs/log-metric", "lost", "applied-503")
    store.log_metric(run_id, Metric("loss", 1.0, 5, 0))
    wire.script("runs/log-batch", "lost")
    store.log_batch(run_id, [Metric("acc", 0.5, 5, 0)], [Param("p", "1")], [RunTag("t", "1")])
    wire.script("runs/log-parameter", "lost")
    store.log_param(run_id, Param("q", "2"))
    wire.script("runs/set-tag", "lost")
    store.set_tag(run_id, RunTag("u", "2"))
    assert len(wire.calls("runs/log-metric")) == 3
    assert _history(store, run_id, "loss") == [(1.0, 5, 0)]
    assert _history(store, run_id, "acc") == [(0.5, 5, 0)]
    data = store.get_run(run_id).data
    assert data.params == {"p": "1", "q": "2"}
    assert (data.tags["t"], data.tags["u"]) == ("1", "2")


def test_lost_create_experiment_answer_resolves_by_name(
    store: RestTrackingStore, wire: Wire
) -> None:
    wire.script("experiments/create", "lost")
    experiment_id = store.create_experiment("exp")
    assert len(wire.calls("experiments/create")) == 2
    assert store.get_experiment(experiment_id).name == "exp"
    assert [e.experiment_id for e in store.search_experiments(filter_string="name = 'exp'")] == [
        experiment_id
    ]


def test_refused_then_taken_name_is_still_an_error(store: RestTrackingStore, wire: Wire) -> None:
    store.create_experiment("exp")
    wire.script("experiments/create", "refused")  # nothing was sent: the name was taken before
    with pytest.raises(ResourceAlreadyExists):
        store.create_experiment("exp")


def test_lost_answers_of_deletes_and_renames_resolve(store: RestTrackingStore, wire: Wire) -> None:
    experiment_id = store.create_experiment("exp")
    run_id = _run(store, experiment_id)
    store.set_tag(run_id, RunTag("t", "1"))
    wire.script("runs/delete-tag", "lost")
    store.delete_tag(run_id, "t")
    store.set_experiment_tag(experiment_id, ExperimentTag("k", "v"))
    wire.script("experiments/delete-experiment-tag", "lost")
    store.delete_experiment_tag(experiment_id, "k")
    wire.script("experiments/update", "lost")
    store.rename_experiment(experiment_id, "renamed")
    wire.script("experiments/delete", "lost")
    store.delete_experiment(experiment_id)
    wire.script("experiments/restore", "lost")
    store.restore_experiment(experiment_id)
    wire.script("runs/delete", "lost")
    store.delete_run(run_id)
    wire.script("runs/restore", "lost")
    store.restore_run(run_id)
    assert "t" not in store.get_run(run_id).data.tags
    experiment = store.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags, experiment.lifecycle_stage) == (
        "renamed",
        {},
        LifecycleStage.ACTIVE,
    )
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_create_run_sends_one_idempotency_key_per_call(
    store: RestTrackingStore, wire: Wire
) -> None:
    wire.script("runs/create", "refused", 503)
    _run(store)
    _run(store)
    keys = [c.headers[tracking.IDEMPOTENCY_HEADER] for c in wire.calls("runs/create")]
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2] != keys[3]


def test_lost_create_run_answer_does_not_make_a_second_run(
    store: RestTrackingStore, wire: Wire
) -> None:
    experiment_id = store.create_experiment("exp")
    wire.script("runs/create", "lost")
    run_id = _run(store, experiment_id)
    assert [r.info.run_id for r in store.search_runs([experiment_id])] == [run_id]


def test_client_errors_are_not_retried(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    store.log_param(run_id, Param("p", "1"))
    with pytest.raises(InvalidParameterValue):
        store.log_param(run_id, Param("p", "2"))
    assert len(wire.calls("runs/log-parameter")) == 2
    wire.script("runs/set-tag", 400)
    with pytest.raises(MlflowException, match="HTTP status 400"):
        store.set_tag(run_id, RunTag("t", "1"))
    assert len(wire.calls("runs/set-tag")) == 1


# -- the store as a whole ------------------------------------------------------------------


def test_http_tracking_uris_get_a_rest_store() -> None:
    from trackline.store import uri

    try:
        store = get_tracking_store("http://tracking.invalid:5000")
        assert isinstance(store, RestTrackingStore)
        assert store.uri == "http://tracking.invalid:5000"
    finally:
        uri._reset_cache()


def test_uri_with_a_path_prefix(app_transport: httpx.BaseTransport) -> None:
    wire = Wire(app_transport)
    store = RestTrackingStore(BASE_URL + "/", transport=wire)
    assert store.get_experiment("0").name == "Default"
    assert wire.sent[0].path == "/api/2.0/mlflow/experiments/get"
    store.close()
    prefixed = Wire(app_transport)
    behind_proxy = RestTrackingStore(BASE_URL + "/tracking", transport=prefixed)
    with pytest.raises(MlflowException):
        behind_proxy.get_experiment("0")  # the app has no prefix; the path shows it was sent
    assert prefixed.sent[0].path == "/tracking/api/2.0/mlflow/experiments/get"
    behind_proxy.close()
