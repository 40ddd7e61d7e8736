"""Migration 0003: a database at 0002 with data upgrades with ``trackline db upgrade`` and
then holds a working registry; until then trackline refuses it and asks for the upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from click.testing import CliRunner
from sqlalchemy import insert

import trackline.store.sql
from trackline.cli import main
from trackline.exceptions import InvalidState
from trackline.store.sql.engine import Database, ensure_schema
from trackline.store.sql.registry import SqlRegistryStore
from trackline.store.sql.schema import SCHEMA_REVISION, experiments, runs
from trackline.store.sql.tracking import SqlTrackingStore

RUN_ID = "0123456789abcdef0123456789abcdef"


def _database_at_0002(uri: str, tmp_path: Path) -> None:
    db = Database(uri, create=False)
    with db.engine.connect() as conn:
        config = Config()
        migrations = Path(trackline.store.sql.__file__).with_name("migrations")
        config.set_main_option("script_location", str(migrations))
        config.attributes["connection"] = conn
        command.upgrade(config, "0002_logged_models")
        result = conn.execute(
            insert(experiments).values(
                name="old", lifecycle_stage="active", artifact_location=str(tmp_path / "old")
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        conn.execute(
            insert(runs).values(
                run_uuid=RUN_ID,
                status="FINISHED",
                start_time=1,
                lifecycle_stage="active",
                experiment_id=key[0],
                artifact_uri=str(tmp_path / "old" / RUN_ID / "artifacts"),
            )
        )
        conn.commit()
    db.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
def test_a_database_at_0002_upgrades_with_its_data(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        uri = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        uri = request.getfixturevalue(f"{backend}_uri")
    _database_at_0002(uri, tmp_path)
    old = Database(uri, create=False)
    try:
        with pytest.raises(InvalidState, match="trackline db upgrade"):
            ensure_schema(old)
    finally:
        old.close()
    result = CliRunner().invoke(main, ["db", "upgrade", uri])
    assert result.exit_code == 0, result.output
    assert f"Upgraded from 0002_logged_models to {SCHEMA_REVISION}" in result.output
    tracking = SqlTrackingStore(uri, str(tmp_path / "mlruns"))
    registry = SqlRegistryStore(uri, tracking.default_artifact_root, database=tracking.db)
    try:
        assert tracking.get_run(RUN_ID).info.status == "FINISHED"
        registry.create_registered_model("m")
        version = registry.create_model_version("m", f"runs:/{RUN_ID}/model", RUN_ID)
        assert version.version == "1"
        model_dir = str(tmp_path / "old" / RUN_ID / "artifacts" / "model")
        assert registry.create_model_version("m", model_dir, RUN_ID).version == "2"
        assert [e.action for e in registry.search_registry_events("m")] == [
            "create_registered_model",
            "create_model_version",
            "create_model_version",
        ]
    finally:
        tracking.close()
