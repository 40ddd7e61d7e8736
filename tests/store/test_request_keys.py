"""Idempotent creation in the SQL stores on every backend: a run, a logged model or a model
version created with an idempotency key is created once however often the request repeats;
keys of another experiment, model or kind are refused; keys expire; and migration 0004 keeps
the keys of a database at 0003."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Connection, column, func, insert, select, table

import trackline.store.sql
from trackline.cli import main
from trackline.exceptions import InvalidParameterValue, ResourceDoesNotExist
from trackline.store.sql import request_keys
from trackline.store.sql.engine import Database
from trackline.store.sql.registry import SqlRegistryStore
from trackline.store.sql.schema import (
    SCHEMA_REVISION,
    experiments,
    logged_models,
    metadata,
    model_versions,
    registry_events,
    runs,
)
from trackline.store.sql.schema import request_keys as request_keys_table
from trackline.store.sql.tracking import SqlTrackingStore

RUN_ID = "0123456789abcdef0123456789abcdef"
#: Now, as a key's created_time (a key recorded now is not pruned).
NOW = time.time_ns() // 1_000_000


@pytest.fixture
def store(db_uri: str, tmp_path: Path) -> Iterator[SqlTrackingStore]:
    opened = SqlTrackingStore(db_uri, str(tmp_path / "mlruns"))
    yield opened
    opened.close()


@pytest.fixture
def registry(store: SqlTrackingStore) -> SqlRegistryStore:
    return SqlRegistryStore(store.db_uri, store.default_artifact_root, database=store.db)


def _count(store: SqlTrackingStore, table: Any) -> int:
    with store.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _keys(store: SqlTrackingStore) -> list[tuple[str, str, str]]:
    t = request_keys_table.c
    with store.db.read() as conn:
        rows = conn.execute(select(t.key, t.kind, t.entity_id).order_by(t.key))
        return [(str(k), str(kind), str(e)) for k, kind, e in rows]


def _version(registry: SqlRegistryStore, run_id: str, name: str = "m", **kwargs: Any) -> str:
    created = registry.create_model_version(name, f"runs:/{run_id}/model", run_id, **kwargs)
    return str(created.version)


# -- runs ----------------------------------------------------------------------------------


def test_a_repeated_request_key_returns_the_first_run(store: SqlTrackingStore) -> None:
    first = store.create_run("0", "u", 1, [], "r", request_key="key-1")
    again = store.create_run("0", "u", 1, [], "r", request_key="key-1")
    assert again.info.run_id == first.info.run_id
    other = store.create_run("0", "u", 1, [], "r", request_key="key-2")
    unkeyed = store.create_run("0", "u", 1, [], "r")
    assert len({first.info.run_id, other.info.run_id, unkeyed.info.run_id}) == 3
    assert _count(store, runs) == 3
    assert _keys(store) == [
        ("key-1", "run", first.info.run_id),
        ("key-2", "run", other.info.run_id),
    ]


def test_a_run_key_of_another_experiment_is_refused(store: SqlTrackingStore) -> None:
    store.create_run("0", "u", 1, [], "r", request_key="key-1")
    other = store.create_experiment("other")
    with pytest.raises(InvalidParameterValue, match="already used"):
        store.create_run(other, "u", 1, [], "r", request_key="key-1")
    assert _count(store, runs) == 1


def test_concurrent_calls_with_one_key_make_one_run(store: SqlTrackingStore) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            run = store.create_run("0", "u", 1, [], "r", request_key="shared")
            results.append(run.info.run_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert _count(store, runs) == 1


# -- logged models -------------------------------------------------------------------------


def test_a_repeated_request_key_returns_the_first_logged_model(store: SqlTrackingStore) -> None:
    first = store.create_logged_model("0", name="m", params=[], request_key="key-1")
    again = store.create_logged_model("0", name="m", params=[], request_key="key-1")
    assert again.model_id == first.model_id
    assert again.artifact_location == first.artifact_location
    other = store.create_logged_model("0", name="m", request_key="key-2")
    unkeyed = store.create_logged_model("0", name="m")
    assert len({first.model_id, other.model_id, unkeyed.model_id}) == 3
    assert _count(store, logged_models) == 3
    assert ("key-1", "logged_model", first.model_id) in _keys(store)


def test_a_logged_model_key_of_another_experiment_is_refused(store: SqlTrackingStore) -> None:
    store.create_logged_model("0", name="m", request_key="key-1")
    other = store.create_experiment("other")
    with pytest.raises(InvalidParameterValue, match="already used"):
        store.create_logged_model(other, name="m", request_key="key-1")
    assert _count(store, logged_models) == 1


def test_a_repeat_finds_its_logged_model_even_when_deleted(store: SqlTrackingStore) -> None:
    first = store.create_logged_model("0", name="m", request_key="key-1")
    store.delete_logged_model(first.model_id)
    again = store.create_logged_model("0", name="m", request_key="key-1")
    assert (again.model_id, again.lifecycle_stage) == (first.model_id, "deleted")
    assert _count(store, logged_models) == 1


# -- model versions ------------------------------------------------------------------------


def test_a_repeated_request_key_returns_the_first_version(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    registry.create_registered_model("m")
    assert _version(registry, run_id, request_key="key-1") == "1"
    again = registry.create_model_version("m", f"runs:/{run_id}/model", run_id, request_key="key-1")
    assert (again.version, again.run_id) == ("1", run_id)
    assert again == registry.get_model_version("m", "1")
    assert _version(registry, run_id, request_key="key-2") == "2"
    assert _version(registry, run_id) == "3"
    assert _count(store, model_versions) == 3
    assert _count(store, registry_events) == 4  # the model and three versions, no repeat
    assert ("key-1", "model_version", f"{_model_id(store)}/1") in _keys(store)


def _model_id(store: SqlTrackingStore) -> int:
    with store.db.read() as conn:
        return int(conn.execute(select(model_versions.c.registered_model_id)).scalars().first())


def test_a_version_key_of_another_model_is_refused(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    registry.create_registered_model("m")
    registry.create_registered_model("other")
    _version(registry, run_id, request_key="key-1")
    with pytest.raises(InvalidParameterValue, match="version of model 'm'"):
        _version(registry, run_id, "other", request_key="key-1")
    assert _count(store, model_versions) == 1


def test_a_repeat_of_a_deleted_version_is_not_found(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    registry.create_registered_model("m")
    _version(registry, run_id, request_key="key-1")
    registry.delete_model_version("m", 1)
    with pytest.raises(ResourceDoesNotExist):
        _version(registry, run_id, request_key="key-1")
    assert _count(store, model_versions) == 1


def test_concurrent_registrations_with_one_key_make_one_version(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    registry.create_registered_model("m")
    results: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            results.append(_version(registry, run_id, request_key="shared"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == ["1"] * 4
    assert _count(store, model_versions) == 1


# -- every kind ------------------------------------------------------------------------------


def _creates(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> dict[str, Callable[[str], str]]:
    """One keyed create of each kind, returning the id it created (a model "m" and a run to
    register from exist)."""
    run_id = store.create_run("0", "u", 1, [], "r").info.run_id
    registry.create_registered_model("m")
    return {
        "run": lambda key: store.create_run("0", "u", 1, [], "r", request_key=key).info.run_id,
        "logged_model": lambda key: store.create_logged_model("0", request_key=key).model_id,
        "model_version": lambda key: _version(registry, run_id, request_key=key),
    }


def _entities(store: SqlTrackingStore) -> tuple[int, int, int]:
    return _count(store, runs), _count(store, logged_models), _count(store, model_versions)


@pytest.mark.parametrize("key", ["", "a b", "x" * 129, "caf\u00e9", "tab\tkey"])
def test_malformed_request_keys_are_refused(
    store: SqlTrackingStore, registry: SqlRegistryStore, key: str
) -> None:
    creates = _creates(store, registry)
    before = _entities(store)
    for kind, create in creates.items():
        with pytest.raises(InvalidParameterValue, match="idempotency key"):
            create(key)
        assert _entities(store) == before, kind
    assert _keys(store) == []


def test_a_key_of_another_kind_is_refused(
    store: SqlTrackingStore, registry: SqlRegistryStore
) -> None:
    creates = _creates(store, registry)
    for kind, create in creates.items():
        create(f"key-{kind}")
    before = _entities(store)
    for kind, create in creates.items():
        for other in creates:
            if other != kind:
                with pytest.raises(InvalidParameterValue, match="already used to create a"):
                    create(f"key-{other}")
    assert _entities(store) == before


@pytest.mark.parametrize("kind", ["run", "logged_model", "model_version"])
def test_a_key_recorded_concurrently_returns_that_entity(
    store: SqlTrackingStore,
    registry: SqlRegistryStore,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    create = _creates(store, registry)[kind]
    first = create("raced")
    before = _entities(store)
    real_find = request_keys.find
    calls: list[str] = []

    def find_nothing_first(conn: Connection, key: str, wanted: str) -> str | None:
        calls.append(key)
        # The first lookup (inside the write) runs before the other call committed.
        return None if len(calls) == 1 else real_find(conn, key, wanted)

    monkeypatch.setattr(request_keys, "find", find_nothing_first)
    assert create("raced") == first
    assert len(calls) == 2
    assert _entities(store) == before  # the second insert was rolled back


def test_expired_request_keys_are_pruned(store: SqlTrackingStore) -> None:
    run = store.create_run("0", "u", 1, [], "r", request_key="old")
    with store.db.write() as conn:
        assert request_keys.prune(conn, 0) == 0
    created = 10**12
    with store.db.write() as conn:
        conn.execute(request_keys_table.update().values(created_time=created))
        assert request_keys.prune(conn, created + request_keys.KEY_LIFETIME_MS) == 0
        assert request_keys.prune(conn, created + request_keys.KEY_LIFETIME_MS + 1) == 1
    # The key is forgotten: the same key now makes a new run.
    assert store.create_run("0", "u", 1, [], "r", request_key="old").info.run_id != run.info.run_id


def test_a_store_prunes_expired_keys_when_it_records_one(store: SqlTrackingStore) -> None:
    store.create_run("0", "u", 1, [], "r", request_key="old")
    with store.db.write() as conn:
        conn.execute(request_keys_table.update().values(created_time=1))
    fresh = SqlTrackingStore(store.db_uri, store.default_artifact_root)
    try:
        fresh.create_logged_model("0", request_key="new")
    finally:
        fresh.close()
    assert [k for k, _, _ in _keys(store)] == ["new"]


# -- migration 0004 ------------------------------------------------------------------------


def _database_at_0003_with_a_key(uri: str, tmp_path: Path) -> None:
    db = Database(uri, create=False)
    with db.engine.connect() as conn:
        config = Config()
        migrations = Path(trackline.store.sql.__file__).with_name("migrations")
        config.set_main_option("script_location", str(migrations))
        config.attributes["connection"] = conn
        command.upgrade(config, "0003_registry")
        result = conn.execute(
            insert(experiments).values(
                name="old", lifecycle_stage="active", artifact_location=str(tmp_path / "old")
            )
        )
        assert result.inserted_primary_key is not None
        conn.execute(
            insert(runs).values(
                run_uuid=RUN_ID,
                status="RUNNING",
                start_time=1,
                lifecycle_stage="active",
                experiment_id=result.inserted_primary_key[0],
                artifact_uri=str(tmp_path / "old" / RUN_ID / "artifacts"),
            )
        )
        # The table as 0002 made it: the key and its run's uuid.
        old_keys = table("request_keys", column("key"), column("run_uuid"), column("created_time"))
        conn.execute(insert(old_keys).values(key="k-old", run_uuid=RUN_ID, created_time=NOW))
        conn.commit()
    db.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
def test_a_database_at_0003_upgrades_with_its_keys(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        uri = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        uri = request.getfixturevalue(f"{backend}_uri")
    _database_at_0003_with_a_key(uri, tmp_path)
    result = CliRunner().invoke(main, ["db", "upgrade", uri])
    assert result.exit_code == 0, result.output
    assert f"Upgraded from 0003_registry to {SCHEMA_REVISION}" in result.output
    store = SqlTrackingStore(uri, str(tmp_path / "mlruns"))
    try:
        with store.db.read() as conn:  # the upgraded schema is the head's, nothing left over
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert _keys(store) == [("k-old", "run", RUN_ID)]
        experiment = store.get_experiment_by_name("old")
        assert experiment is not None
        again = store.create_run(experiment.experiment_id, "u", 1, [], "r", request_key="k-old")
        assert again.info.run_id == RUN_ID
        model = store.create_logged_model("0", request_key="k-new")
        assert store.create_logged_model("0", request_key="k-new") == model
        assert sorted(_keys(store)) == [
            ("k-new", "logged_model", model.model_id),
            ("k-old", "run", RUN_ID),
        ]
    finally:
        store.close()
