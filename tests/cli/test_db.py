"""``trackline db upgrade`` and ``trackline --version``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from trackline.cli import main
from trackline.store.sql.schema import SCHEMA_REVISION
from trackline.version import __version__


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_db_upgrade_creates_then_reports_latest(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    first = CliRunner().invoke(main, ["db", "upgrade", uri])
    assert first.exit_code == 0, first.output
    assert SCHEMA_REVISION in first.output
    second = CliRunner().invoke(main, ["db", "upgrade", uri])
    assert "Already at the latest revision" in second.output


def test_db_upgrade_reports_bad_uri_without_traceback() -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "nosuch://x"])
    assert result.exit_code != 0
    assert "Unsupported database" in result.output
