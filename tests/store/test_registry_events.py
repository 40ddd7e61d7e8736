"""The registry's audit trail: every change in order (who, what, from -> to), nothing for a
failed or no-op write, history kept across renames and deletions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.store.registry_helpers import fails

from trackline.entities import REGISTRY_ACTIONS, ModelVersionTag, RegisteredModelTag, Run
from trackline.exceptions import INVALID_PARAMETER_VALUE
from trackline.store.sql.registry import SqlRegistryStore
from trackline.store.sql.tracking import SqlTrackingStore


@pytest.fixture
def stores(db_uri: str, tmp_path: Path) -> Iterator[tuple[SqlTrackingStore, SqlRegistryStore]]:
    tracking = SqlTrackingStore(db_uri, str(tmp_path / "mlruns"))
    registry = SqlRegistryStore(db_uri, tracking.default_artifact_root, database=tracking.db)
    yield tracking, registry
    tracking.close()


@pytest.fixture
def registry(stores: tuple[SqlTrackingStore, SqlRegistryStore]) -> SqlRegistryStore:
    return stores[1]


@pytest.fixture
def run(stores: tuple[SqlTrackingStore, SqlRegistryStore]) -> Run:
    return stores[0].create_run("0", "u", 1, [], "r")


Row = tuple[str | None, str, str, str | None, str | None, str | None, str | None]


def trail(registry: SqlRegistryStore, name: str | None = None, version: object = None) -> list[Row]:
    events = registry.search_registry_events(name, version)  # type: ignore[arg-type]
    ids = [e.event_id for e in events]
    assert ids == sorted(ids)
    return [
        (e.user_id, e.action, e.name, e.version, e.key, e.old_value, e.new_value) for e in events
    ]


def test_the_workflow_is_recorded_in_order(registry: SqlRegistryStore, run: Run) -> None:
    source = f"runs:/{run.info.run_id}/model"
    registry.create_registered_model("m", [RegisteredModelTag("team", "a")], "first", "ann")
    registry.create_model_version("m", source, run.info.run_id, user_id="ann")
    registry.create_model_version(
        "m", source, run.info.run_id, tags=[ModelVersionTag("k", "v")], user_id="bob"
    )
    registry.transition_model_version_stage("m", 1, "production", user_id="ann")
    registry.transition_model_version_stage("m", 2, "Production", True, user_id="bob")
    registry.update_model_version("m", 2, "better", user_id="bob")
    registry.update_registered_model("m", "second", user_id="ann")
    registry.set_registered_model_tag("m", RegisteredModelTag("team", "b"), user_id="ann")
    registry.delete_registered_model_tag("m", "team", user_id="ann")
    registry.set_registered_model_alias("m", "champion", 1, user_id="bob")
    registry.set_registered_model_alias("m", "champion", 2, user_id="bob")
    registry.set_model_version_tag("m", 2, ModelVersionTag("k", "w"), user_id="ann")
    registry.delete_model_version_tag("m", 2, "k", user_id="ann")
    registry.rename_registered_model("m", "n", user_id="ann")
    registry.delete_registered_model_alias("n", "champion", user_id="bob")
    registry.set_registered_model_alias("n", "old", 1, user_id="bob")
    registry.delete_model_version("n", 1, user_id="ann")
    assert trail(registry, "n") == [
        ("ann", "create_registered_model", "m", None, None, None, "first"),
        ("ann", "set_registered_model_tag", "m", None, "team", None, "a"),
        ("ann", "create_model_version", "m", "1", None, None, source),
        ("bob", "create_model_version", "m", "2", None, None, source),
        ("bob", "set_model_version_tag", "m", "2", "k", None, "v"),
        ("ann", "transition_model_version_stage", "m", "1", None, "None", "Production"),
        ("bob", "transition_model_version_stage", "m", "1", None, "Production", "Archived"),
        ("bob", "transition_model_version_stage", "m", "2", None, "None", "Production"),
        ("bob", "update_model_version", "m", "2", "description", None, "better"),
        ("ann", "update_registered_model", "m", None, "description", "first", "second"),
        ("ann", "set_registered_model_tag", "m", None, "team", "a", "b"),
        ("ann", "delete_registered_model_tag", "m", None, "team", "b", None),
        ("bob", "set_registered_model_alias", "m", None, "champion", None, "1"),
        ("bob", "set_registered_model_alias", "m", None, "champion", "1", "2"),
        ("ann", "set_model_version_tag", "m", "2", "k", "v", "w"),
        ("ann", "delete_model_version_tag", "m", "2", "k", "w", None),
        ("ann", "rename_registered_model", "n", None, "name", "m", "n"),
        ("bob", "delete_registered_model_alias", "n", None, "champion", "2", None),
        ("bob", "set_registered_model_alias", "n", None, "old", None, "1"),
        ("ann", "delete_registered_model_alias", "n", None, "old", "1", None),
        ("ann", "delete_model_version", "n", "1", None, None, None),
    ]
    assert {row[1] for row in trail(registry)} <= set(REGISTRY_ACTIONS)
    assert [row[1] for row in trail(registry, "n", "2")] == [
        "create_model_version",
        "set_model_version_tag",
        "transition_model_version_stage",
        "update_model_version",
        "set_model_version_tag",
        "delete_model_version_tag",
    ]
    # No model is called "m" any more: its name finds the events recorded under it.
    assert trail(registry, "m") == trail(registry, "n")[:16]


def test_a_deleted_model_keeps_its_trail(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    registry.create_model_version("m", f"runs:/{run.info.run_id}/x", run.info.run_id)
    registry.delete_registered_model("m", user_id="ann")
    registry.create_registered_model("other")
    assert [row[1] for row in trail(registry, "m")] == [
        "create_registered_model",
        "create_model_version",
        "delete_registered_model",
    ]
    # A new model of the same name has its own trail; the old one stays readable by name
    # only until then (the current model's trail follows its id).
    registry.create_registered_model("m", user_id="bob")
    assert trail(registry, "m") == [("bob", "create_registered_model", "m", None, None, None, None)]
    assert len(trail(registry)) == 5


def test_failed_and_no_op_writes_record_nothing(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m", description="d")
    registry.create_model_version("m", f"runs:/{run.info.run_id}/x", run.info.run_id)
    registry.set_registered_model_tag("m", RegisteredModelTag("k", "v"))
    registry.set_registered_model_alias("m", "a", 1)
    before = trail(registry)
    registry.update_registered_model("m", "d")
    registry.set_registered_model_tag("m", RegisteredModelTag("k", "v"))
    registry.set_registered_model_alias("m", "a", 1)
    registry.delete_registered_model_alias("m", "nope")
    registry.transition_model_version_stage("m", 1, "None")
    registry.rename_registered_model("m", "m")
    assert trail(registry) == before
    for call in (
        lambda: registry.create_model_version("m", "file:///etc/passwd", run.info.run_id),
        lambda: registry.transition_model_version_stage("m", 1, "Nowhere"),
        lambda: registry.set_registered_model_alias("m", "latest", 1),
        lambda: registry.create_registered_model("bad/name"),
    ):
        fails(INVALID_PARAMETER_VALUE, call, registry)


def test_events_page_and_filter(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    for i in range(5):
        registry.set_registered_model_tag("m", RegisteredModelTag("k", str(i)))
    everything = registry.search_registry_events("m")
    collected = []
    token = None
    while True:
        page = registry.search_registry_events("m", max_results=2, page_token=token)
        collected += list(page)
        token = page.token
        if token is None:
            break
    assert collected == list(everything)
    assert len(collected) == 6
    assert list(registry.search_registry_events("nobody")) == []
    for call in (
        lambda: registry.search_registry_events(version=1),
        lambda: registry.search_registry_events("m", "one"),
        lambda: registry.search_registry_events(max_results=10001),
        lambda: registry.search_registry_events(page_token="x"),
    ):
        fails(INVALID_PARAMETER_VALUE, call, registry)
    event = everything[0]
    assert event.to_dictionary()["action"] == "create_registered_model"
    assert isinstance(event.timestamp, int)


def test_an_out_of_range_version_is_invalid_not_a_crash(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("m")
    fails(INVALID_PARAMETER_VALUE, lambda: registry.search_registry_events("m", 2**70), registry)
