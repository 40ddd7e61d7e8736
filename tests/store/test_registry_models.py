"""The SQL registry store's registered models: create, get, rename, update, delete, tags,
and the wiring of registry URIs. Bad input gets MLflow's error code and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.store.registry_helpers import TABLES, fails, state

from trackline.entities import ModelVersionTag, RegisteredModelTag
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from trackline.store import uri as store_uri
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


def test_create_and_get(registry: SqlRegistryStore) -> None:
    created = registry.create_registered_model(
        "m1", [RegisteredModelTag("team", "a"), RegisteredModelTag("k", "v")], "first", "alice"
    )
    got = registry.get_registered_model("m1")
    assert got == created
    assert got.name == "m1"
    assert got.description == "first"
    assert got.user_id == "alice"
    assert got.tags == {"team": "a", "k": "v"}
    assert got.aliases == {}
    assert got.latest_versions == []
    assert got.creation_timestamp == got.last_updated_timestamp
    assert isinstance(got.creation_timestamp, int)


def test_names_are_case_sensitive(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("Model")
    registry.create_registered_model("model")
    assert registry.get_registered_model("Model").name == "Model"
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.get_registered_model("MODEL"), registry)


def test_duplicate_name_is_already_exists(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("m1", description="original")
    error = fails(RESOURCE_ALREADY_EXISTS, lambda: registry.create_registered_model("m1"), registry)
    assert error.message == "Registered Model (name=m1) already exists."
    assert registry.get_registered_model("m1").description == "original"


@pytest.mark.parametrize("name", ["", "  ", None, "a/b", "a:b", "./a", "a/", "x" * 257])
def test_invalid_names_are_refused(registry: SqlRegistryStore, name: Any) -> None:
    fails(INVALID_PARAMETER_VALUE, lambda: registry.create_registered_model(name), registry)


def test_unknown_model_is_not_found(registry: SqlRegistryStore) -> None:
    error = fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.get_registered_model("nope"), registry)
    assert error.message == "Registered Model with name=nope not found"
    for call in (
        lambda: registry.update_registered_model("nope", "d"),
        lambda: registry.rename_registered_model("nope", "other"),
        lambda: registry.delete_registered_model("nope"),
        lambda: registry.set_registered_model_tag("nope", RegisteredModelTag("k", "v")),
        lambda: registry.delete_registered_model_tag("nope", "k"),
        lambda: registry.get_latest_versions("nope"),
    ):
        fails(RESOURCE_DOES_NOT_EXIST, call, registry)


def test_rename_moves_versions_tags_and_aliases(
    stores: tuple[SqlTrackingStore, SqlRegistryStore],
) -> None:
    tracking, registry = stores
    run = tracking.create_run("0", "u", 1, [], "r")
    registry.create_registered_model("old", [RegisteredModelTag("k", "v")])
    registry.create_model_version("old", f"runs:/{run.info.run_id}/m", run.info.run_id)
    registry.set_registered_model_alias("old", "champion", 1)
    renamed = registry.rename_registered_model("old", "new")
    assert renamed.name == "new"
    assert renamed.tags == {"k": "v"}
    assert renamed.aliases == {"champion": "1"}
    assert [v.name for v in renamed.latest_versions] == ["new"]
    assert registry.get_model_version("new", 1).name == "new"
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.get_registered_model("old"), registry)
    # The old name is free again.
    assert registry.create_registered_model("old").name == "old"


def test_rename_to_a_taken_name_changes_nothing(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("a")
    registry.create_registered_model("b")
    fails(RESOURCE_ALREADY_EXISTS, lambda: registry.rename_registered_model("a", "b"), registry)
    for bad in ("", "x/y", None):
        fails(
            INVALID_PARAMETER_VALUE,
            lambda bad=bad: registry.rename_registered_model("a", bad),
            registry,
        )


def test_rename_to_the_same_name_is_a_no_op(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("a")
    before = state(registry)
    assert registry.rename_registered_model("a", "a").name == "a"
    assert state(registry) == before


def test_update_description(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("m", description="one")
    updated = registry.update_registered_model("m", "two")
    assert updated.description == "two"
    assert registry.get_registered_model("m").description == "two"
    assert registry.update_registered_model("m", None).description is None
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.update_registered_model("m", 5),  # type: ignore[arg-type]
        registry,
    )


def test_delete_removes_everything_and_frees_the_name(
    stores: tuple[SqlTrackingStore, SqlRegistryStore],
) -> None:
    tracking, registry = stores
    run = tracking.create_run("0", "u", 1, [], "r")
    registry.create_registered_model("m", [RegisteredModelTag("k", "v")])
    for _ in range(2):
        registry.create_model_version("m", f"runs:/{run.info.run_id}/m", run.info.run_id)
    registry.set_model_version_tag("m", 1, ModelVersionTag("t", "1"))
    registry.set_registered_model_alias("m", "a", 2)
    registry.delete_registered_model("m")
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.get_registered_model("m"), registry)
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.get_model_version("m", 1), registry)
    rows = state(registry)
    for table in TABLES[:-1]:
        assert rows[table.name] == [], table.name
    # A new model of that name starts afresh.
    registry.create_registered_model("m")
    assert (
        registry.create_model_version("m", f"runs:/{run.info.run_id}/m", run.info.run_id).version
        == "1"
    )


def test_tags_set_replace_delete(registry: SqlRegistryStore) -> None:
    registry.create_registered_model("m")
    registry.set_registered_model_tag("m", RegisteredModelTag("k", "1"))
    registry.set_registered_model_tag("m", RegisteredModelTag("k", "2"))
    registry.set_registered_model_tag("m", RegisteredModelTag("K", "3"))
    assert registry.get_registered_model("m").tags == {"k": "2", "K": "3"}
    registry.delete_registered_model_tag("m", "k")
    assert registry.get_registered_model("m").tags == {"K": "3"}
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.delete_registered_model_tag("m", "k"), registry)
    long_value = "x" * 100_000
    registry.set_registered_model_tag("m", RegisteredModelTag("long", long_value))
    assert registry.get_registered_model("m").tags["long"] == long_value


@pytest.mark.parametrize(
    ("key", "value"),
    [("", "v"), ("bad key!", "v"), ("k" * 251, "v"), ("k", None), ("k", "x" * 100_001)],
)
def test_invalid_tags_are_refused(registry: SqlRegistryStore, key: str, value: Any) -> None:
    registry.create_registered_model("m")
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.set_registered_model_tag("m", RegisteredModelTag(key, value)),
        registry,
    )
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.create_registered_model("m2", [RegisteredModelTag(key, value)]),
        registry,
    )


# -- registry URIs ---------------------------------------------------------------------------


@pytest.fixture
def clean_cache() -> Iterator[None]:
    store_uri._reset_cache()
    yield
    store_uri._reset_cache()


@pytest.mark.usefixtures("clean_cache")
def test_registry_store_shares_the_tracking_database(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'r.db'}"
    registry = store_uri.get_registry_store(uri)
    tracking = store_uri.get_tracking_store(uri)
    assert isinstance(registry, SqlRegistryStore)
    assert isinstance(tracking, SqlTrackingStore)
    assert registry.db is tracking.db
    assert store_uri.get_registry_store(uri) is registry
    assert registry.artifact_roots == [tracking.default_artifact_root]


@pytest.mark.usefixtures("clean_cache")
def test_folder_uri_gives_the_folder_database(tmp_path: Path) -> None:
    registry = store_uri.get_registry_store(str(tmp_path / "runs"))
    assert isinstance(registry, SqlRegistryStore)
    registry.create_registered_model("m")
    assert (tmp_path / "runs" / "trackline.db").exists()


@pytest.mark.usefixtures("clean_cache")
def test_http_uri_gives_the_rest_registry() -> None:
    from trackline.store.rest.registry import RestRegistryStore

    assert isinstance(store_uri.get_registry_store("http://127.0.0.1:1"), RestRegistryStore)


@pytest.mark.usefixtures("clean_cache")
def test_registered_schemes_and_unknown_schemes(tmp_path: Path) -> None:
    made: list[str] = []

    def build(uri: str) -> SqlRegistryStore:
        made.append(uri)
        return SqlRegistryStore(f"sqlite:///{tmp_path / 'custom.db'}")

    store_uri.register_registry_store("custom", build)
    try:
        assert isinstance(store_uri.get_registry_store("custom://x"), SqlRegistryStore)
        assert made == ["custom://x"]
    finally:
        store_uri._registry_builders.pop("custom")
    with pytest.raises(MlflowException, match="Unsupported registry URI"):
        store_uri.get_registry_store("nosuch://x")
