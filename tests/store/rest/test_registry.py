"""RestRegistryStore against the real server app: the requests MLflow's client sends, entities
back, error codes through, retries that succeed without duplicates."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from trackline.entities import ModelVersionTag, RegisteredModelTag
from trackline.exceptions import MlflowException
from trackline.store.rest import RestTrackingStore
from trackline.store.rest.registry import RestRegistryStore

from .conftest import BASE_URL, Wire


@pytest.fixture
def registry(wire: Wire) -> Iterator[RestRegistryStore]:
    """A REST registry store talking to the in-process server through ``wire``."""
    opened = RestRegistryStore(BASE_URL, transport=wire)
    yield opened
    opened.close()


def _source(store: RestTrackingStore) -> tuple[str, str]:
    run = store.create_run("0", "alice", 1000, [], None)
    return run.info.run_id, f"{run.info.artifact_uri}/model"


def test_round_trip_and_wire_shapes(
    store: RestTrackingStore, registry: RestRegistryStore, wire: Wire
) -> None:
    run_id, source = _source(store)
    model = registry.create_registered_model("m", [RegisteredModelTag("k", "v")], "about m")
    assert (model.name, model.tags, model.description) == ("m", {"k": "v"}, "about m")
    assert wire.calls("registered-models/create")[0].body == {
        "name": "m",
        "tags": [{"key": "k", "value": "v"}],
        "description": "about m",
    }
    version = registry.create_model_version(
        "m", source, run_id=run_id, tags=[ModelVersionTag("a", "b")]
    )
    assert (version.version, version.source, version.run_id) == ("1", source, run_id)
    assert version.tags == {"a": "b"}
    assert version.status.value == "READY"

    moved = registry.transition_model_version_stage("m", 1, "Production", False)
    assert moved.current_stage == "Production"
    assert wire.calls("model-versions/transition-stage")[0].body == {
        "name": "m", "version": "1", "stage": "Production", "archive_existing_versions": False
    }  # fmt: skip
    registry.set_registered_model_alias("m", "champion", 1)
    assert registry.get_model_version_by_alias("m", "champion").aliases == ["champion"]
    assert registry.get_registered_model("m").aliases == {"champion": "1"}
    latest = registry.get_latest_versions("m", ["production"])
    assert [v.version for v in latest] == ["1"]
    assert wire.calls("registered-models/get-latest-versions")[0].method == "POST"
    assert registry.get_model_version_download_uri("m", "1") == source

    found = registry.search_registered_models("name = 'm'", max_results=10)
    assert [m.name for m in found] == ["m"]
    assert found.token is None
    sent = wire.calls("registered-models/search")[0]
    assert sent.method == "GET"
    assert sent.params == {"max_results": ["10"], "filter": ["name = 'm'"]}
    versions = registry.search_model_versions("name = 'm'", order_by=["version_number DESC"])
    assert [v.version for v in versions] == ["1"]
    assert wire.calls("model-versions/search")[0].params["order_by"] == ["version_number DESC"]

    registry.delete_model_version("m", 1)
    assert wire.calls("model-versions/delete")[0].method == "DELETE"
    assert wire.calls("model-versions/delete")[0].body == {"name": "m", "version": "1"}
    events = registry.search_registry_events("m")
    assert [e.action for e in events][:3] == [
        "create_registered_model",
        "set_registered_model_tag",
        "create_model_version",
    ]
    assert events[-1].action == "delete_model_version"


def test_errors_keep_their_codes(store: RestTrackingStore, registry: RestRegistryStore) -> None:
    run_id, source = _source(store)
    registry.create_registered_model("m")
    registry.create_model_version("m", source, run_id=run_id)
    cases = [
        (lambda: registry.create_registered_model("m"), "RESOURCE_ALREADY_EXISTS"),
        (lambda: registry.get_registered_model("nope"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: registry.get_model_version("m", "x"), "INVALID_PARAMETER_VALUE"),
        (lambda: registry.get_model_version_by_alias("m", "nope"), "INVALID_PARAMETER_VALUE"),
        (lambda: registry.transition_model_version_stage("m", 1, "Prod"),
         "INVALID_PARAMETER_VALUE"),
    ]  # fmt: skip
    for call, code in cases:
        with pytest.raises(MlflowException) as exc:
            call()
        assert exc.value.error_code == code


def test_retries_after_applied_attempts_succeed(registry: RestRegistryStore, wire: Wire) -> None:
    wire.script("registered-models/create", "lost")
    assert registry.create_registered_model("m").name == "m"
    assert len(wire.calls("registered-models/create")) == 2
    wire.script("registered-models/rename", "applied-503")
    assert registry.rename_registered_model("m", "n").name == "n"
    registry.set_registered_model_tag("n", RegisteredModelTag("k", "v"))
    wire.script("registered-models/delete-tag", "lost")
    registry.delete_registered_model_tag("n", "k")
    wire.script("registered-models/delete", "applied-503")
    registry.delete_registered_model("n")
    assert registry.search_registered_models() == []


def test_latest_versions_falls_back_to_get(
    store: RestTrackingStore, registry: RestRegistryStore, wire: Wire
) -> None:
    run_id, source = _source(store)
    registry.create_registered_model("m")
    registry.create_model_version("m", source, run_id=run_id)
    not_routed = httpx.Response(404, json={"error_code": "ENDPOINT_NOT_FOUND", "message": "?"})
    wire.script("registered-models/get-latest-versions", not_routed)
    assert [v.version for v in registry.get_latest_versions("m")] == ["1"]
    calls = wire.calls("registered-models/get-latest-versions")
    assert [c.method for c in calls] == ["POST", "GET"]


def test_shares_the_tracking_stores_session(monkeypatch: pytest.MonkeyPatch, wire: Wire) -> None:
    from trackline.store import uri as store_uri

    monkeypatch.setitem(
        store_uri._builders, "http", lambda uri: RestTrackingStore(uri, transport=wire)
    )
    try:
        shared = RestRegistryStore(BASE_URL)
        tracking = store_uri.get_tracking_store(BASE_URL)
        assert isinstance(tracking, RestTrackingStore)
        assert shared.session is tracking.session
        shared.close()  # leaves the shared session open
        assert shared.search_registered_models() == []
    finally:
        store_uri._reset_cache()
