"""Searching registered models and model versions in SQL: filters, prompts, order and pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.store.registry_helpers import fails

from trackline.entities import ModelVersionTag, RegisteredModelTag, Run
from trackline.exceptions import INVALID_PARAMETER_VALUE
from trackline.store.sql.registry import SqlRegistryStore
from trackline.store.sql.tracking import SqlTrackingStore

PROMPT = RegisteredModelTag("mlflow.prompt.is_prompt", "true")
CLIENT_CLAUSE = "tag.`mlflow.prompt.is_prompt` != 'true'"


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
def runs(stores: tuple[SqlTrackingStore, SqlRegistryStore]) -> list[Run]:
    return [stores[0].create_run("0", "u", 1, [], f"r{i}") for i in range(2)]


def names(registry: SqlRegistryStore, filter_string: str | None = None, **kw: object) -> list[str]:
    found = registry.search_registered_models(filter_string, **kw)  # type: ignore[arg-type]
    return [m.name for m in found]


@pytest.fixture
def models(registry: SqlRegistryStore) -> SqlRegistryStore:
    registry.create_registered_model("alpha", [RegisteredModelTag("team", "vision")])
    registry.create_registered_model("Alpha2", [RegisteredModelTag("team", "nlp")])
    not_a_prompt = RegisteredModelTag("mlflow.prompt.is_prompt", "false")
    registry.create_registered_model("beta", [RegisteredModelTag("team", "vision"), not_a_prompt])
    registry.create_registered_model("gamma_1")
    registry.create_registered_model("prompt-one", [PROMPT, RegisteredModelTag("team", "vision")])
    return registry


def test_model_filters(models: SqlRegistryStore) -> None:
    assert names(models) == ["Alpha2", "alpha", "beta", "gamma_1"]
    assert names(models, "name = 'alpha'") == ["alpha"]
    assert names(models, "name != 'alpha'") == ["Alpha2", "beta", "gamma_1"]
    assert names(models, "name LIKE 'alpha%'") == ["alpha"]
    assert names(models, "name ILIKE 'alpha%'") == ["Alpha2", "alpha"]
    assert names(models, "name LIKE 'gamma\\_%'") == ["gamma_1"]
    assert names(models, "name IN ('beta', 'gamma_1', 'nope')") == ["beta", "gamma_1"]
    assert names(models, "name NOT IN ('beta')") == ["Alpha2", "alpha", "gamma_1"]
    assert names(models, "tags.team = 'vision'") == ["alpha", "beta"]
    assert names(models, "tag.team != 'vision'") == ["Alpha2"]
    assert names(models, "tags.team LIKE '%i%'") == ["alpha", "beta"]
    assert names(models, "tags.team IS NULL") == ["gamma_1"]
    assert names(models, "name = 'gamma_1' OR (tags.team = 'nlp' AND name LIKE 'A%')") == [
        "Alpha2",
        "gamma_1",
    ]


def test_prompts_are_excluded_unless_asked_for(models: SqlRegistryStore) -> None:
    # The 3.x client's clause keeps models without the tag (an anti-join, not "tag exists").
    assert names(models, CLIENT_CLAUSE) == ["Alpha2", "alpha", "beta", "gamma_1"]
    assert names(models, f"name LIKE 'a%' AND {CLIENT_CLAUSE}") == ["alpha"]
    assert names(models, f"tags.team = 'vision' AND {CLIENT_CLAUSE}") == ["alpha", "beta"]
    assert names(models, "tags.`mlflow.prompt.is_prompt` = 'false'") == [
        "Alpha2",
        "alpha",
        "beta",
        "gamma_1",
    ]
    assert names(models, "tags.`mlflow.prompt.is_prompt` = 'true'") == ["prompt-one"]
    assert names(models, "tags.`mlflow.prompt.is_prompt` != 'false'") == ["prompt-one"]
    assert names(models, "tags.team = 'vision' AND tags.`mlflow.prompt.is_prompt` = 'TRUE'") == []


def test_model_order(models: SqlRegistryStore) -> None:
    assert names(models, order_by=["name DESC"]) == ["gamma_1", "beta", "alpha", "Alpha2"]
    models.update_registered_model("alpha", "touched")
    newest_first = names(models, order_by=["last_updated_timestamp DESC"])
    assert newest_first[0] == "alpha"
    assert names(models, order_by=["timestamp DESC"]) == newest_first
    oldest = names(models, order_by=["creation_timestamp ASC"])
    assert oldest[0] == "alpha"
    for bad in (
        ["tags.team"],
        ["version"],
        ["name", "name DESC"],
        ["timestamp", "last_updated_timestamp"],
    ):
        fails(
            INVALID_PARAMETER_VALUE,
            lambda bad=bad: models.search_registered_models(order_by=bad),
            models,
        )


def test_model_pages(models: SqlRegistryStore) -> None:
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = models.search_registered_models(max_results=3, page_token=token)
        seen += [m.name for m in page]
        pages += 1
        token = page.token
        if token is None:
            break
    assert seen == ["Alpha2", "alpha", "beta", "gamma_1"]
    assert pages == 2
    assert models.search_registered_models(max_results=4).token is None
    for call in (
        lambda: models.search_registered_models(max_results=1001),
        lambda: models.search_registered_models(max_results=0),
        lambda: models.search_registered_models(page_token="garbage"),
        lambda: models.search_registered_models("name = 'a' OR"),
        lambda: models.search_registered_models("version_number = 1"),
        lambda: models.search_registered_models("tags.team > 'a'"),
        lambda: models.search_registered_models("name = 1"),
    ):
        fails(INVALID_PARAMETER_VALUE, call, models)


def test_searched_models_carry_latest_versions_tags_and_aliases(
    registry: SqlRegistryStore, runs: list[Run]
) -> None:
    registry.create_registered_model("m", [RegisteredModelTag("k", "v")])
    for _ in range(2):
        registry.create_model_version("m", f"runs:/{runs[0].info.run_id}/x", runs[0].info.run_id)
    registry.transition_model_version_stage("m", 1, "Production")
    registry.set_registered_model_alias("m", "a", 2)
    (found,) = registry.search_registered_models("name = 'm'")
    assert found == registry.get_registered_model("m")
    assert [v.version for v in found.latest_versions] == ["1", "2"]
    assert found.aliases == {"a": "2"}


# -- model versions --------------------------------------------------------------------------


@pytest.fixture
def versions(registry: SqlRegistryStore, runs: list[Run]) -> SqlRegistryStore:
    first, second = runs[0].info.run_id, runs[1].info.run_id
    registry.create_registered_model("m1")
    registry.create_registered_model("m2")
    registry.create_registered_model("p", [PROMPT])
    for name, run_id, path in [("m1", first, "a"), ("m1", second, "b"), ("m1", first, "c"),
                               ("m2", second, "a"), ("p", first, "a")]:  # fmt: skip
        registry.create_model_version(name, f"runs:/{run_id}/{path}", run_id)
    registry.set_model_version_tag("m1", 2, ModelVersionTag("stage", "candidate"))
    registry.set_model_version_tag("m2", 1, ModelVersionTag("mlflow.prompt.is_prompt", "true"))
    registry.delete_model_version("m1", 3)
    return registry


def keys(registry: SqlRegistryStore, filter_string: str | None = None, **kw: object) -> list[str]:
    found = registry.search_model_versions(filter_string, **kw)  # type: ignore[arg-type]
    return [f"{v.name}/{v.version}" for v in found]


def test_version_filters(versions: SqlRegistryStore, runs: list[Run]) -> None:
    first, second = runs[0].info.run_id, runs[1].info.run_id
    assert sorted(keys(versions)) == ["m1/1", "m1/2"]  # deleted and prompt versions left out
    assert keys(versions, "name = 'm1'", order_by=["version_number"]) == ["m1/1", "m1/2"]
    assert keys(versions, f"run_id = '{second}'") == ["m1/2"]
    assert sorted(keys(versions, f"run_id IN ('{first}', 'x')")) == ["m1/1"]
    assert keys(versions, "source_path LIKE '%/b'") == ["m1/2"]
    assert keys(versions, "version_number > 1") == ["m1/2"]
    assert keys(versions, "version_number <= 1 AND name LIKE 'm%'") == ["m1/1"]
    assert keys(versions, "tags.stage = 'candidate'") == ["m1/2"]
    either = "tags.stage = 'candidate' OR version_number = 1"
    assert keys(versions, either, order_by=["version_number DESC"]) == ["m1/2", "m1/1"]
    assert keys(versions, "tags.`mlflow.prompt.is_prompt` = 'true'") == ["m2/1"]
    for bad in (
        "version_number = 1.5",
        "current_stage = 'None'",
        "source_path IN ('a')",
        "run_id > 'a'",
    ):
        fails(
            INVALID_PARAMETER_VALUE, lambda bad=bad: versions.search_model_versions(bad), versions
        )


def test_version_order_and_pages(versions: SqlRegistryStore, runs: list[Run]) -> None:
    versions.update_model_version("m1", 1, "touched")
    assert keys(versions) == ["m1/1", "m1/2"]  # last_updated_timestamp DESC
    assert keys(versions, order_by=["version_number DESC"]) == ["m1/2", "m1/1"]
    assert keys(versions, order_by=["creation_timestamp ASC"]) == ["m1/1", "m1/2"]
    for i in range(5):
        versions.create_model_version("m2", f"runs:/{runs[0].info.run_id}/{i}", runs[0].info.run_id)
    everything = keys(versions, "name = 'm2'", order_by=["version_number"])
    assert everything == [f"m2/{i}" for i in range(2, 7)]
    collected: list[str] = []
    token = None
    while True:
        page = versions.search_model_versions(
            "name = 'm2'", max_results=2, order_by=["version_number"], page_token=token
        )
        collected += [f"{v.name}/{v.version}" for v in page]
        token = page.token
        if token is None:
            break
    assert collected == everything
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: versions.search_model_versions(max_results=200001),
        versions,
    )
    fails(
        INVALID_PARAMETER_VALUE,
        lambda: versions.search_model_versions(order_by=["run_id"]),
        versions,
    )
