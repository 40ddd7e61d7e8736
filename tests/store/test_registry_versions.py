"""The SQL registry store's model versions: numbering, stages, latest versions, aliases, tags,
descriptions, deletion and the ``models:/`` sources. Bad input gets MLflow's error code and
changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.store.registry_helpers import fails

from trackline.entities import LoggedModelStatus, ModelVersionTag, RegisteredModelTag, Run
from trackline.exceptions import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
)
from trackline.store.sql.registry import SqlRegistryStore
from trackline.store.sql.schema import model_versions
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


def register(registry: SqlRegistryStore, run: Run, name: str = "m", count: int = 1) -> None:
    for _ in range(count):
        registry.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)


def test_versions_count_up_and_are_never_reused(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    created = [
        registry.create_model_version(
            "m",
            f"runs:/{run.info.run_id}/model",
            run.info.run_id,
            tags=[ModelVersionTag("k", str(i))],
            run_link="http://ui/run",
            description=f"v{i}",
            user_id="bob",
        )
        for i in range(3)
    ]
    assert [v.version for v in created] == ["1", "2", "3"]
    first = registry.get_model_version("m", "1")
    assert first == created[0]
    assert first.current_stage == "None"
    assert first.status.value == "READY"
    assert first.source == f"runs:/{run.info.run_id}/model"
    assert first.run_id == run.info.run_id
    assert first.run_link == "http://ui/run"
    assert first.description == "v0"
    assert first.user_id == "bob"
    assert first.tags == {"k": "0"}
    registry.delete_model_version("m", 3)
    register(registry, run)
    assert registry.get_model_version("m", 4).version == "4"
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.get_model_version("m", 3), registry)


def test_a_deleted_version_is_redacted_and_keeps_its_number(
    registry: SqlRegistryStore, run: Run
) -> None:
    registry.create_registered_model("m")
    registry.create_model_version(
        "m",
        f"runs:/{run.info.run_id}/model",
        run.info.run_id,
        tags=[ModelVersionTag("k", "v")],
        run_link="link",
        description="secret",
        user_id="u",
    )
    registry.set_registered_model_alias("m", "champion", 1)
    registry.delete_model_version("m", "1")
    with registry.db.read() as conn:
        row = conn.execute(sa.select(model_versions)).one()
    assert row.current_stage == "Deleted_Internal"
    assert (row.source, row.run_id, row.run_link) == (
        "REDACTED-SOURCE-PATH",
        "REDACTED-RUN-ID",
        "REDACTED-RUN-LINK",
    )
    assert (row.description, row.user_id, row.storage_location) == (None, None, None)
    assert registry.get_registered_model("m").aliases == {}
    assert registry.get_registered_model("m").latest_versions == []
    for call in (
        lambda: registry.get_model_version("m", 1),
        lambda: registry.delete_model_version("m", 1),
        lambda: registry.update_model_version("m", 1, "d"),
        lambda: registry.transition_model_version_stage("m", 1, "Production"),
        lambda: registry.set_registered_model_alias("m", "a", 1),
        lambda: registry.set_model_version_tag("m", 1, ModelVersionTag("k", "v")),
        lambda: registry.get_model_version_download_uri("m", 1),
    ):
        fails(RESOURCE_DOES_NOT_EXIST, call, registry)


@pytest.mark.parametrize("version", ["abc", "1.5", "", None, "1e3", 2**63, str(2**70)])
def test_non_integer_versions_are_invalid(
    registry: SqlRegistryStore, run: Run, version: Any
) -> None:
    registry.create_registered_model("m")
    register(registry, run)
    for call in (
        lambda: registry.get_model_version("m", version),
        lambda: registry.update_model_version("m", version, "d"),
        lambda: registry.transition_model_version_stage("m", version, "Staging"),
        lambda: registry.delete_model_version("m", version),
        lambda: registry.set_registered_model_alias("m", "a", version),
    ):
        fails(INVALID_PARAMETER_VALUE, call, registry)


@pytest.mark.parametrize("version", [0, -1, 2, 2**31, 2**40])
def test_unknown_versions_are_not_found(registry: SqlRegistryStore, run: Run, version: int) -> None:
    registry.create_registered_model("m")
    register(registry, run)
    error = fails(
        RESOURCE_DOES_NOT_EXIST, lambda: registry.get_model_version("m", version), registry
    )
    assert error.message == f"Model Version (name=m, version={version}) not found"
    fails(
        RESOURCE_DOES_NOT_EXIST,
        lambda: registry.set_registered_model_alias("m", "a", version),
        registry,
    )


def test_a_version_of_an_unknown_model_is_not_found(registry: SqlRegistryStore, run: Run) -> None:
    fails(RESOURCE_DOES_NOT_EXIST, lambda: register(registry, run, "nope"), registry)
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.get_model_version("nope", 1), registry)


def test_update_description(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    register(registry, run)
    updated = registry.update_model_version("m", 1, "better")
    assert updated.description == "better"
    assert registry.get_model_version("m", 1).description == "better"
    assert updated.last_updated_timestamp is not None
    assert updated.last_updated_timestamp >= updated.creation_timestamp


def test_transitions_are_case_insensitive(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    register(registry, run)
    for given, stored in [("staging", "Staging"), ("PRODUCTION", "Production"),
                          ("archived", "Archived"), ("none", "None")]:  # fmt: skip
        assert registry.transition_model_version_stage("m", 1, given).current_stage == stored


def test_invalid_stage_changes_nothing(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    register(registry, run)
    for stage in ("Prod", "", "Deleted_Internal"):
        error = fails(
            INVALID_PARAMETER_VALUE,
            lambda stage=stage: registry.transition_model_version_stage("m", 1, stage),
            registry,
        )
        assert "Invalid Model Version stage" in error.message
    for stage in ("None", "Archived"):
        fails(
            INVALID_PARAMETER_VALUE,
            lambda stage=stage: registry.transition_model_version_stage(
                "m", 1, stage, archive_existing_versions=True
            ),
            registry,
        )


def test_archive_existing_versions(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    register(registry, run, count=4)
    registry.transition_model_version_stage("m", 1, "Production")
    registry.transition_model_version_stage("m", 2, "Production")
    registry.transition_model_version_stage("m", 3, "Staging")
    # Without archiving, two versions are in Production.
    stages = {v.version: v.current_stage for v in registry.search_model_versions("name = 'm'")}
    assert stages == {"1": "Production", "2": "Production", "3": "Staging", "4": "None"}
    moved = registry.transition_model_version_stage(
        "m", 4, "Production", archive_existing_versions=True
    )
    assert moved.current_stage == "Production"
    stages = {v.version: v.current_stage for v in registry.search_model_versions("name = 'm'")}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Staging", "4": "Production"}


def test_latest_versions_per_stage(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    register(registry, run, count=5)
    registry.transition_model_version_stage("m", 1, "Production")
    registry.transition_model_version_stage("m", 2, "Production")
    registry.transition_model_version_stage("m", 3, "Staging")
    registry.set_registered_model_alias("m", "best", 2)
    registry.delete_model_version("m", 5)

    def latest(stages: list[str] | None = None) -> dict[str, str]:
        return {v.current_stage: v.version for v in registry.get_latest_versions("m", stages)}

    assert latest() == {"Production": "2", "Staging": "3", "None": "4"}
    assert latest(["production"]) == {"Production": "2"}
    assert latest(["Archived"]) == {}
    assert registry.get_latest_versions("m", ["Production"])[0].aliases == ["best"]
    model = registry.get_registered_model("m")
    assert [v.version for v in model.latest_versions] == ["2", "3", "4"]
    fails(INVALID_PARAMETER_VALUE, lambda: registry.get_latest_versions("m", ["Prod"]), registry)


def test_aliases(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    register(registry, run, count=3)
    registry.set_registered_model_alias("m", "champion", "1")
    registry.set_registered_model_alias("m", "challenger", 2)
    registry.set_registered_model_alias("m", "champion", 3)  # moves
    assert registry.get_registered_model("m").aliases == {"challenger": "2", "champion": "3"}
    by_alias = registry.get_model_version_by_alias("m", "champion")
    assert (by_alias.version, by_alias.aliases) == ("3", ["champion"])
    assert registry.get_model_version("m", 2).aliases == ["challenger"]
    assert registry.get_model_version_by_alias("m", "latest").version == "3"
    registry.delete_registered_model_alias("m", "champion")
    registry.delete_registered_model_alias("m", "champion")  # no error when absent
    error = fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.get_model_version_by_alias("m", "champion"),
        registry,
    )
    assert error.message == "Registered model alias champion not found."
    fails(
        RESOURCE_DOES_NOT_EXIST,
        lambda: registry.get_model_version_by_alias("nope", "champion"),
        registry,
    )


@pytest.mark.parametrize("alias", ["", "latest", "LATEST", "v1", "V12", "a b", "a.b", "a" * 256])
def test_bad_aliases_change_nothing(registry: SqlRegistryStore, run: Run, alias: str) -> None:
    registry.create_registered_model("m")
    register(registry, run)
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.set_registered_model_alias("m", alias, 1),
        registry,
    )


def test_version_tags(registry: SqlRegistryStore, run: Run) -> None:
    registry.create_registered_model("m")
    register(registry, run)
    registry.set_model_version_tag("m", 1, ModelVersionTag("k", "1"))
    registry.set_model_version_tag("m", "1", ModelVersionTag("k", "2"))
    registry.set_model_version_tag("m", 1, ModelVersionTag("other", "x"))
    assert registry.get_model_version("m", 1).tags == {"k": "2", "other": "x"}
    registry.delete_model_version_tag("m", 1, "k")
    assert registry.get_model_version("m", 1).tags == {"other": "x"}
    fails(RESOURCE_DOES_NOT_EXIST, lambda: registry.delete_model_version_tag("m", 1, "k"), registry)
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.set_model_version_tag("m", 1, ModelVersionTag("bad key!", "v")),
        registry,
    )


# -- sources that name other entities ------------------------------------------------------


def test_a_logged_model_source_stores_its_location(
    stores: tuple[SqlTrackingStore, SqlRegistryStore], run: Run
) -> None:
    tracking, registry = stores
    model = tracking.create_logged_model("0", "model", source_run_id=run.info.run_id)
    tracking.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    registry.create_registered_model("m")
    version = registry.create_model_version(
        "m", f"models:/{model.model_id}", model_id=model.model_id
    )
    assert version.source == f"models:/{model.model_id}"
    assert version.model_id == model.model_id
    assert version.run_id == run.info.run_id  # the logged model's run
    assert registry.get_model_version_download_uri("m", 1) == model.artifact_location
    assert registry.get_model_version("m", 1).model_id == model.model_id


def test_a_registered_model_source_names_that_version(
    stores: tuple[SqlTrackingStore, SqlRegistryStore], run: Run
) -> None:
    tracking, registry = stores
    model = tracking.create_logged_model("0", "model", source_run_id=run.info.run_id)
    registry.create_registered_model("src")
    registry.create_model_version("src", f"models:/{model.model_id}", model_id=model.model_id)
    registry.create_model_version("src", f"runs:/{run.info.run_id}/other", run.info.run_id)
    registry.transition_model_version_stage("src", 1, "Staging")
    registry.set_registered_model_alias("src", "gold", 1)
    registry.create_registered_model("copy")
    for source, expected in [
        ("models:/src/1", "models:/src/1"),
        ("models:/src/latest", "models:/src/2"),
        ("models:/src/staging", "models:/src/1"),
        ("models:/src@gold", "models:/src/1"),
    ]:
        version = registry.create_model_version("copy", source)
        assert version.source == expected
        download = registry.get_model_version_download_uri("copy", version.version)
        if expected.endswith("/1"):
            assert version.model_id == model.model_id
            assert download == model.artifact_location
        else:
            assert download == f"runs:/{run.info.run_id}/other"
    for bad in ("models:/src/9", "models:/src/Production", "models:/src@nope", "models:/none/1"):
        fails(
            INVALID_PARAMETER_VALUE,
            lambda bad=bad: registry.create_model_version("copy", bad),
            registry,
        )
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: registry.create_model_version("copy", "models:/src/1", run_id="other"),
        registry,
    )


def test_registering_needs_tags_and_links_that_are_valid(
    registry: SqlRegistryStore, run: Run
) -> None:
    registry.create_registered_model("m", [RegisteredModelTag("k", "v")])
    source = f"runs:/{run.info.run_id}/model"
    for call in (
        lambda: registry.create_model_version(
            "m", source, run.info.run_id, [ModelVersionTag("", "v")]
        ),
        lambda: registry.create_model_version("m", source, "bad run id!"),
        lambda: registry.create_model_version("m", source, run.info.run_id, model_id="bad id!"),
        lambda: registry.create_model_version("m", source, run.info.run_id, run_link="x" * 5000),
        lambda: registry.create_model_version("m", source, run.info.run_id, user_id="u" * 300),
        lambda: registry.create_model_version("m", "", run.info.run_id),
    ):
        fails(INVALID_PARAMETER_VALUE, call, registry)
