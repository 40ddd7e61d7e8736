"""Retries that never duplicate: the REST stores against the real server app, with the first
attempt of a create reaching the server and its answer lost (a reset connection, or a proxy's
503 after the server committed). The client retries and the server's state holds one copy,
for every create: runs, logged models, model versions (one idempotency key per call) and
experiments and registered models (a unique name)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trackline.store.rest import RestTrackingStore
from trackline.store.rest.registry import RestRegistryStore
from trackline.store.rest.tracking import IDEMPOTENCY_HEADER

from .conftest import BASE_URL, Wire

FAULTS = ["lost", "applied-503"]


@pytest.fixture
def registry(wire: Wire) -> Iterator[RestRegistryStore]:
    """A REST registry store talking to the in-process server through ``wire``."""
    opened = RestRegistryStore(BASE_URL, transport=wire)
    yield opened
    opened.close()


def _keys(wire: Wire, endpoint: str) -> list[str]:
    return [sent.headers[IDEMPOTENCY_HEADER] for sent in wire.calls(endpoint)]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_retried_run_create_leaves_one_run(
    store: RestTrackingStore, wire: Wire, fault: str
) -> None:
    experiment_id = store.create_experiment("exp")
    wire.script("runs/create", fault)
    run = store.create_run(experiment_id, None, 1, [], "once")
    assert [r.info.run_id for r in store.search_runs([experiment_id])] == [run.info.run_id]
    assert len(_keys(wire, "runs/create")) == 2


@pytest.mark.parametrize("fault", FAULTS)
def test_a_retried_logged_model_create_leaves_one_model(
    store: RestTrackingStore, wire: Wire, fault: str
) -> None:
    experiment_id = store.create_experiment("exp")
    wire.script("logged-models", fault, fault)
    model = store.create_logged_model(experiment_id, name="once")
    found = store.search_logged_models([experiment_id])
    assert [m.model_id for m in found] == [model.model_id]
    assert store.get_logged_model(model.model_id).name == "once"
    other = store.create_logged_model(experiment_id, name="twice")
    assert other.model_id != model.model_id
    keys = _keys(wire, "logged-models")
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2] != keys[3]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_retried_version_create_leaves_one_version(
    store: RestTrackingStore, registry: RestRegistryStore, wire: Wire, fault: str
) -> None:
    run = store.create_run("0", None, 1, [], None)
    source = f"{run.info.artifact_uri}/model"
    registry.create_registered_model("m")
    wire.script("model-versions/create", fault, fault)
    version = registry.create_model_version("m", source, run.info.run_id)
    assert version.version == "1"
    found = registry.search_model_versions("name = 'm'")
    assert [v.version for v in found] == ["1"]
    assert registry.create_model_version("m", source, run.info.run_id).version == "2"
    events = [e.action for e in registry.search_registry_events("m")]
    assert events.count("create_model_version") == 2
    keys = _keys(wire, "model-versions/create")
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2] != keys[3]


def test_given_request_keys_are_sent(
    store: RestTrackingStore, registry: RestRegistryStore, wire: Wire
) -> None:
    run = store.create_run("0", None, 1, [], None)
    first = store.create_logged_model("0", request_key="model-key")
    assert store.create_logged_model("0", request_key="model-key") == first
    registry.create_registered_model("m")
    source = f"{run.info.artifact_uri}/model"
    registry.create_model_version("m", source, run.info.run_id, request_key="version-key")
    again = registry.create_model_version("m", source, run.info.run_id, request_key="version-key")
    assert again.version == "1"
    assert _keys(wire, "logged-models") == ["model-key"] * 2
    assert _keys(wire, "model-versions/create") == ["version-key"] * 2


@pytest.mark.parametrize("fault", FAULTS)
def test_a_retried_experiment_create_leaves_one_experiment(
    store: RestTrackingStore, wire: Wire, fault: str
) -> None:
    wire.script("experiments/create", fault)
    experiment_id = store.create_experiment("once")
    assert [e.experiment_id for e in store.search_experiments() if e.name == "once"] == [
        experiment_id
    ]
    assert len(wire.calls("experiments/create")) == 2


@pytest.mark.parametrize("fault", FAULTS)
def test_a_retried_registered_model_create_leaves_one_model(
    registry: RestRegistryStore, wire: Wire, fault: str
) -> None:
    wire.script("registered-models/create", fault)
    model = registry.create_registered_model("once", description="d")
    assert (model.name, model.description) == ("once", "d")
    assert [m.name for m in registry.search_registered_models()] == ["once"]
    assert len(wire.calls("registered-models/create")) == 2
