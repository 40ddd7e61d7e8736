"""``trackline server`` and ``trackline ui``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from trackline.cli import main


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_health(url: str, process: subprocess.Popen[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited early: {process.communicate()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).text == "OK":
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("the server did not answer /health")


def test_server_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    database = tmp_path / "db" / "trackline.db"
    command = [
        sys.executable, "-m", "trackline", "server",
        "--backend-store-uri", f"sqlite:///{database}",
        "--default-artifact-root", str(tmp_path / "artifacts"),
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, time.monotonic() + 60)
        with httpx.Client(base_url=url) as client:
            created = client.post("/api/2.0/mlflow/experiments/create", json={"name": "e"})
            assert created.status_code == 200
            found = client.get("/api/2.0/mlflow/experiments/get", params=created.json())
            assert found.json()["experiment"]["artifact_location"].startswith(
                (tmp_path / "artifacts").as_uri()
            )
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # uvicorn re-raises the signal once it has shut down, so the exit reads "terminated by
    # SIGTERM" (which service managers count as a clean stop); what matters is the shutdown.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert f"listening on {url}" in output
    assert "Application shutdown complete" in output
    # the store was closed: SQLite removes the write-ahead log when its last connection closes
    assert not Path(f"{database}-wal").exists()


def test_help_is_long_only_because_h_is_host() -> None:
    runner = CliRunner()
    for command in ("server", "ui"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "-h, --host" in result.output
        assert "--backend-store-uri" in result.output
    assert "--workers" in runner.invoke(main, ["server", "--help"]).output
    assert "--workers" not in runner.invoke(main, ["ui", "--help"]).output


def test_missing_server_extra_is_a_one_line_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(main, ["server", "-p", "1"])
    assert result.exit_code == 1
    assert "pip install 'trackline[server]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_store_uri_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["server", "--backend-store-uri", "nosuch://x", "-p", "1"])
    assert result.exit_code == 1
    assert "Unsupported tracking URI" in result.output
    assert "Traceback" not in result.output


def test_ui_defaults_to_the_local_folder_and_port_5000(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: dict[str, object] = {}

    def fake_run(app: object, **options: object) -> None:
        seen.update(options, app=app)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(main, ["ui"])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 5000)
    assert "http://127.0.0.1:5000" in result.output
    assert (tmp_path / "mlruns" / "trackline.db").is_file()
    seen["app"].state.context.store.close()  # type: ignore[attr-defined]


def test_server_with_workers_runs_the_app_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from trackline.server.app import ENV_BACKEND_STORE_URI

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    monkeypatch.setenv(ENV_BACKEND_STORE_URI, "restored-after-the-test")
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(main, ["server", "--backend-store-uri", uri, "-w", "3",
                                       "-h", "::1", "-p", "5005"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["app"] == "trackline.server.app:create_app_from_env"
    assert (seen["factory"], seen["workers"]) == (True, 3)
    assert os.environ[ENV_BACKEND_STORE_URI] == uri
    assert "http://[::1]:5005" in result.output
