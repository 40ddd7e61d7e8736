"""Real servers on loopback ports, and clean client state, for the compatibility tests.

* ``trackline_server``: ``trackline server`` as a subprocess (temporary SQLite backend,
  temporary ``--artifacts-destination``); ``start_trackline_server`` starts one with other
  options (the notes' scenario 2).
* ``mlflow_server``: a real ``mlflow server`` (the pinned 3.x release) the same way, for the
  reverse direction.
* ``stock_mlflow``: the real ``mlflow`` module pointed at the trackline server;
  ``trackline_client``: ``trackline`` pointed at the MLflow server. Both restore the
  process's tracking state (and the environment variables MLflow sets) afterwards, so the
  rest of the suite is unaffected.

Servers are module-scoped (starting MLflow's takes seconds); every test uses its own
experiment names. Each server runs in its own session (process group): it is stopped with
SIGTERM and, after a bounded wait, whatever is left of its group is killed. Waits are
bounded (60 s for start-up) and nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
_START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it

#: The environment of every server subprocess: no telemetry, no background job runner
#: (MLflow's starts a pool of worker processes the tests do not need), unbuffered logs.
_SERVER_ENV = {
    "PYTHONUNBUFFERED": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}
#: Client-side settings the servers must not inherit from the test process.
_CLIENT_ENV_PREFIXES = ("MLFLOW_TRACKING_", "MLFLOW_EXPERIMENT_", "MLFLOW_RUN_ID", "TRACKLINE_")


@dataclass(frozen=True)
class ServerProcess:
    """A server subprocess: its base URL, its temporary folder, its artifacts folder
    (``--artifacts-destination``) and its log file."""

    url: str
    root: Path
    artifacts: Path
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output (for failure messages)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLIENT_ENV_PREFIXES)}
    env.update(_SERVER_ENV)
    return env


def _healthy(server: ServerProcess, deadline: float) -> bool:
    """Wait for ``GET /health`` to answer ``OK``; False if the process exits first."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            if httpx.get(f"{server.url}/health", timeout=2).text.strip() == "OK":
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    pytest.fail(
        f"{server.url} did not answer /health within {STARTUP_TIMEOUT_SECONDS:.0f} s:\n"
        f"{server.log_tail()}"
    )


def start_server(
    command: Callable[[int], Sequence[str]], root: Path, artifacts: Path
) -> ServerProcess:
    """Run ``command(port)`` in ``root`` on a free loopback port until ``/health`` answers.

    The process gets its own session, its output goes to ``root/server-<port>.log``.
    """
    for _ in range(_START_ATTEMPTS):
        port = free_port()
        log = root / f"server-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                list(command(port)),
                cwd=root,
                env=_server_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = ServerProcess(f"http://127.0.0.1:{port}", root, artifacts, process, log)
        if _healthy(server, time.monotonic() + STARTUP_TIMEOUT_SECONDS):
            return server
        stop_server(server)  # exited early, most likely because the port was taken
    pytest.fail(f"the server did not start:\n{server.log_tail()}")


def stop_server(server: ServerProcess) -> None:
    """SIGTERM the server, wait (bounded), then kill what is left of its process group."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # children it left behind, if any
    except (ProcessLookupError, PermissionError):
        pass


def trackline_command(*options: str) -> Callable[[int], list[str]]:
    """``trackline server <options> -h 127.0.0.1 -p <port>``."""

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "trackline", "server", *options,
            "-h", "127.0.0.1", "-p", str(port),
        ]  # fmt: skip

    return command


StartTracklineServer = Callable[[Path, Sequence[str], Path], ServerProcess]


@pytest.fixture(scope="module")
def start_trackline_server() -> Iterator[StartTracklineServer]:
    """``start(root, options, artifacts)``: a ``trackline server`` with these options,
    running in ``root`` until the end of the module."""
    started: list[ServerProcess] = []

    def start(root: Path, options: Sequence[str], artifacts: Path) -> ServerProcess:
        server = start_server(trackline_command(*options), root, artifacts)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            stop_server(server)


@pytest.fixture(scope="module")
def trackline_server(
    tmp_path_factory: pytest.TempPathFactory, start_trackline_server: StartTracklineServer
) -> ServerProcess:
    """``trackline server`` with a temporary SQLite backend, proxying artifacts into a
    temporary ``--artifacts-destination``."""
    root = tmp_path_factory.mktemp("trackline-server")
    artifacts = root / "artifacts"
    options = (
        "--backend-store-uri", f"sqlite:///{root / 'backend.db'}",
        "--artifacts-destination", str(artifacts),
    )  # fmt: skip
    return start_trackline_server(root, options, artifacts)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real ``mlflow server`` (one worker) with a temporary SQLite backend, proxying
    artifacts into a temporary ``--artifacts-destination``."""
    root = tmp_path_factory.mktemp("mlflow-server")
    artifacts = root / "artifacts"

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "mlflow", "server",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{root / 'backend.db'}",
            "--artifacts-destination", str(artifacts),
        ]  # fmt: skip

    server = start_server(command, root, artifacts)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def _restore_environ() -> Iterator[None]:
    """Undo the environment variables a client sets (MLflow's ``set_tracking_uri`` and
    ``set_experiment`` export ``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_ID``, which
    trackline would read in later tests)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in set(os.environ) - set(saved):
            if name != "PYTEST_CURRENT_TEST":
                del os.environ[name]
        for name, value in saved.items():
            if name != "PYTEST_CURRENT_TEST" and os.environ.get(name) != value:
                os.environ[name] = value


def import_stock_mlflow() -> ModuleType:
    """The real ``mlflow`` package (never trackline), with its telemetry off."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    import mlflow

    assert mlflow.__version__.startswith("3."), mlflow.__version__  # the 3.x client
    return mlflow


def reset_stock_mlflow(mlflow: ModuleType) -> None:
    """End any run the stock client left active and forget its tracking URI and
    experiment."""
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    mlflow.tracking.fluent._active_experiment_id = None


def reset_trackline() -> None:
    """End trackline's active runs, flush, and close and forget its stores."""
    import trackline
    from trackline.store import uri as store_uri
    from trackline.tracking import fluent

    try:
        while trackline.active_run() is not None:
            trackline.end_run()
        trackline.flush()
    finally:
        fluent._reset()
        trackline.set_tracking_uri(None)
        trackline.set_registry_uri(None)
        store_uri._reset_cache()


@pytest.fixture
def stock_mlflow(trackline_server: ServerProcess, _restore_environ: None) -> Iterator[ModuleType]:
    """The real ``mlflow`` module, its tracking URI set to the trackline server."""
    mlflow = import_stock_mlflow()
    mlflow.set_tracking_uri(trackline_server.url)
    try:
        yield mlflow
    finally:
        reset_stock_mlflow(mlflow)


@pytest.fixture
def trackline_client(mlflow_server: ServerProcess, _restore_environ: None) -> Iterator[ModuleType]:
    """``trackline``, its tracking URI set to the real MLflow server."""
    import trackline

    trackline.set_tracking_uri(mlflow_server.url)
    try:
        yield trackline
    finally:
        reset_trackline()
