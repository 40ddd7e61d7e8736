"""RestTrackingStore's logged-model calls against the real server app: round trips, the
requests MLflow's 3.x client sends, and retries."""

from __future__ import annotations

import math
from typing import Any

import pytest

from trackline.entities import (
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
)
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.store.rest import RestTrackingStore
from trackline.store.rest.logged_models import logged_model_from_json, status_from_json

from .conftest import Wire


def _run(store: RestTrackingStore, experiment_id: str = "0") -> str:
    return store.create_run(experiment_id, "u", 1000, [], None).info.run_id


def test_create_get_finalize_round_trip(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    model = store.create_logged_model(
        "0",
        name="model",
        source_run_id=run_id,
        tags=[LoggedModelTag("mlflow.user", "ada")],
        params=[LoggedModelParameter("C", "1.0")],
        model_type="clf",
    )
    assert wire.calls("logged-models")[0].body == {
        "experiment_id": "0", "name": "model", "model_type": "clf", "source_run_id": run_id,
        "params": [{"key": "C", "value": "1.0"}], "tags": [{"key": "mlflow.user", "value": "ada"}],
    }  # fmt: skip
    assert model.status is LoggedModelStatus.PENDING
    assert model.artifact_location.endswith(f"/0/models/{model.model_id}/artifacts")
    assert (model.tags, model.params) == ({"mlflow.user": "ada"}, {"C": "1.0"})
    assert store.get_logged_model(model.model_id) == model
    ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    patch = wire.calls(f"logged-models/{model.model_id}")[-1]
    assert (patch.method, patch.body) == (
        "PATCH", {"model_id": model.model_id, "status": "LOGGED_MODEL_READY"}
    )  # fmt: skip
    assert ready.status is LoggedModelStatus.READY
    assert ready.last_updated_timestamp >= model.last_updated_timestamp
    with pytest.raises(InvalidParameterValue):
        store.finalize_logged_model(model.model_id, "DONE")


def test_outputs_and_model_metrics(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    model_id = store.create_logged_model("0", name="m", source_run_id=run_id).model_id
    store.log_outputs(run_id, [LoggedModelOutput(model_id, 2)])
    assert wire.calls("runs/outputs")[0].body == {
        "run_id": run_id, "models": [{"model_id": model_id, "step": 2}]
    }  # fmt: skip
    outputs = store.get_run(run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(model_id, 2)]
    store.log_batch(run_id, [Metric("loss", math.nan, 5, 2, "val", "d1", model_id)])
    (point,) = store.get_logged_model(model_id).metrics
    assert math.isnan(point.value)
    assert (point.key, point.timestamp, point.step, point.model_id, point.run_id) == (
        "loss", 5, 2, model_id, run_id
    )  # fmt: skip
    assert (point.dataset_name, point.dataset_digest) == ("val", "d1")


def test_tags_delete_and_deleted_models(store: RestTrackingStore, wire: Wire) -> None:
    model_id = store.create_logged_model("0", name="m").model_id
    store.set_logged_model_tags(model_id, [LoggedModelTag("a/b", "1"), LoggedModelTag("c", "2")])
    store.delete_logged_model_tag(model_id, "a/b")
    assert store.get_logged_model(model_id).tags == {"c": "2"}
    with pytest.raises(ResourceDoesNotExist):
        store.delete_logged_model_tag(model_id, "a/b")
    store.delete_logged_model(model_id)
    with pytest.raises(ResourceDoesNotExist):
        store.get_logged_model(model_id)
    assert store.get_logged_model(model_id, allow_deleted=True).model_id == model_id
    assert wire.sent[-1].params == {"allow_deleted": ["true"]}


def test_search_round_trip_and_pages(store: RestTrackingStore, wire: Wire) -> None:
    run_id = _run(store)
    ids = [store.create_logged_model("0", name=n, source_run_id=run_id).model_id for n in "abc"]
    found = store.search_logged_models(["0"], "name = 'b'")
    assert [m.model_id for m in found] == [ids[1]]
    assert found[0].source_run_id == run_id
    assert wire.calls("logged-models/search")[-1].body == {
        "experiment_ids": ["0"], "filter": "name = 'b'"
    }  # fmt: skip
    order = [{"field_name": "name", "ascending": False}]
    datasets = [{"dataset_name": "val", "dataset_digest": None}]
    first = store.search_logged_models(["0"], None, datasets, 2, order)
    assert wire.calls("logged-models/search")[-1].body == {
        "experiment_ids": ["0"], "datasets": [{"dataset_name": "val"}], "max_results": 2,
        "order_by": [{"field_name": "name", "ascending": False}],
    }  # fmt: skip
    assert [m.name for m in first] == ["c", "b"]
    assert first.token is not None
    rest = store.search_logged_models(["0"], None, datasets, 2, order, first.token)
    assert [m.name for m in rest] == ["a"]
    assert rest.token is None


def test_a_tag_delete_whose_answer_was_lost_succeeds_on_retry(
    store: RestTrackingStore, wire: Wire
) -> None:
    model_id = store.create_logged_model("0", name="m").model_id
    store.set_logged_model_tags(model_id, [LoggedModelTag("t", "1")])
    wire.script("tags/t", "lost")
    store.delete_logged_model_tag(model_id, "t")
    assert len(wire.calls(f"logged-models/{model_id}/tags/t")) == 2
    assert store.get_logged_model(model_id).tags == {}


def test_create_run_passes_a_given_request_key(store: RestTrackingStore, wire: Wire) -> None:
    first = store.create_run("0", "u", 1, [], None, request_key="my-key")
    again = store.create_run("0", "u", 1, [], None, request_key="my-key")
    assert again.info.run_id == first.info.run_id
    keys = [s.headers["X-Trackline-Idempotency-Key"] for s in wire.calls("runs/create")]
    assert keys == ["my-key", "my-key"]


def _model_json(**info: Any) -> dict[str, Any]:
    return {"info": {"model_id": "m-1", "experiment_id": "3", "name": "n", **info}}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("LOGGED_MODEL_READY", LoggedModelStatus.READY),
        (3, LoggedModelStatus.FAILED),
        ("1", LoggedModelStatus.PENDING),
        (None, LoggedModelStatus.UNSPECIFIED),
    ],
)
def test_status_is_read_from_names_and_numbers(status: Any, expected: LoggedModelStatus) -> None:
    assert status_from_json(status) is expected
    model = logged_model_from_json(_model_json(status=status, creation_timestamp_ms="7"))
    assert (model.status, model.creation_timestamp, model.experiment_id) == (expected, 7, "3")


def test_an_unknown_status_from_the_server_is_an_error() -> None:
    with pytest.raises(InvalidParameterValue, match="logged model status"):
        status_from_json("WEIRD")
    with pytest.raises(InvalidParameterValue):
        status_from_json(True)
