"""Tracking servers for the benchmark's HTTP workloads: start, measure, stop.

The harness (in trackline's virtualenv) starts the measured implementation's server on a
free loopback port, on a SQLite file in the workload's temporary folder (or, with
``--backend postgresql``, a scratch PostgreSQL database: ``bench/postgres.py``), in a session
of its own::

    <venv>/bin/trackline server --backend-store-uri sqlite:///<db> \
        --artifacts-destination <dir> -h 127.0.0.1 -p PORT [--workers N]   # default one
    <venv>/bin/mlflow server --backend-store-uri sqlite:///<db> \
        --artifacts-destination <dir> --host 127.0.0.1 --port PORT [--workers N]

Start-up is the time from spawning the command until ``GET /health`` first answers ``200``.
The workload's client starts once the server's processes have gone idle (MLflow's keep
starting helpers for a while after that). Memory is the resident set (``VmRSS``) summed
over the server process and all its descendants, read from ``/proc``. Stopping sends
SIGTERM to the server's process group, waits, and then kills whatever of the tree is left
(descendants that moved to another session included), so no server outlives its workload.
:func:`run_served` wraps one repetition of a workload in that life cycle.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from bench.catalog import Params, Workload
from bench.report import Outcome
from bench.scaling import ScaledWorkload

HOST = "127.0.0.1"
#: The workload command that only starts the server, checks that it answers, and stops it.
START_ONLY = "server.start"
_POLL_S = 0.005
_PORT_ATTEMPTS = 3


class ServerError(RuntimeError):
    """The server did not come up (it exited, or ``/health`` never answered)."""


# --------------------------------------------------------------------------- /proc


class Stat(NamedTuple):
    """What the benchmark reads from ``/proc/<pid>/stat``."""

    state: str
    ppid: int
    cpu_ticks: int  # user + system time, in clock ticks
    start: int  # start time after boot, in clock ticks (tells a reused pid apart)


def _stat(pid: int) -> Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    # fields[0] is field 3 of proc(5): state; ppid is 4, utime 14, stime 15, starttime 22.
    fields = text[text.rfind(")") + 2 :].split()
    return Stat(fields[0], int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19]))


def tree_stats(root: int) -> dict[int, Stat]:
    """``/proc`` facts of ``root`` and every live descendant (zombies left out)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, Stat] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        found = _stat(int(entry.name))
        if found is None or found.state == "Z":
            continue
        children.setdefault(found.ppid, []).append(int(entry.name))
        stats[int(entry.name)] = found
    out: dict[int, Stat] = {}
    todo = [root] if root in stats else []
    while todo:
        pid = todo.pop()
        out[pid] = stats[pid]
        todo.extend(children.get(pid, []))
    return out


def tree(root: int) -> dict[int, int]:
    """``{pid: start time}`` of ``root`` and every live descendant (zombies left out)."""
    return {pid: stat.start for pid, stat in tree_stats(root).items()}


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by ``root`` and its live descendants."""
    ticks = sum(stat.cpu_ticks for stat in tree_stats(root).values())
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def tree_rss_bytes(root: int) -> tuple[int, int]:
    """Resident memory summed over ``root`` and its descendants, and how many they are."""
    pids = tree(root)
    return sum(_rss_bytes(pid) for pid in pids), len(pids)


def _alive(pid: int, start: int) -> bool:
    found = _stat(pid)
    return found is not None and found.start == start and found.state != "Z"


# --------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def store_uri(db: Path | str) -> str:
    """The backend store URI of a SQLite file (a path) or a database URI (kept as is)."""
    return db if isinstance(db, str) and "://" in db else f"sqlite:///{db}"


def server_command(
    impl: str,
    python: Path,
    db: Path | str,
    artifacts: Path,
    port: int,
    workers: int | None = None,
) -> list[str]:
    """The command line of ``impl``'s server on ``db`` (a SQLite file or a database URI;
    ``workers`` None: the server's default)."""
    script = python.parent / impl
    base = [str(script)] if script.exists() else [str(python), "-m", impl]
    store = ["--backend-store-uri", store_uri(db), "--artifacts-destination", str(artifacts)]
    if impl == "trackline":
        command = [*base, "server", *store, "-h", HOST, "-p", str(port)]
    else:
        command = [*base, "server", *store, "--host", HOST, "--port", str(port)]
    return command + (["--workers", str(workers)] if workers is not None else [])


def server_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` without tracking URIs (the server's store is on its command line)."""
    drop = ("MLFLOW_TRACKING_URI", "TRACKLINE_TRACKING_URI")
    return {k: v for k, v in env.items() if k not in drop}


def get(url: str, path: str, timeout: float = 30.0) -> tuple[int, str]:
    """``GET path`` on a fresh connection: ``(status, body)``."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


class ServerProcess:
    """One server command run in a session of its own, with its output in ``log``."""

    def __init__(self, command: list[str], url: str, log: Path, env: dict[str, str]) -> None:
        self.command = command
        self.url = url
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> float:
        """Spawn the server; return the seconds until ``GET /health`` answered 200."""
        with self.log.open("ab") as out:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.log.parent,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                # A connection the kernel accepted before a worker is up waits here.
                status, _ = get(self.url, "/health", max(0.1, deadline - time.perf_counter()))
                if status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            if time.perf_counter() > deadline:
                raise ServerError(f"/health did not answer in {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(_POLL_S)

    def settle(self, window: float = 0.5, busy: float = 0.05, timeout: float = 60.0) -> float:
        """Wait until the server's tree used under ``busy`` of a CPU over ``window`` seconds
        (MLflow's server keeps starting helper processes after ``/health`` answers); return
        the seconds waited. Gives up after ``timeout``."""
        if self.proc is None:
            return 0.0
        t0 = time.perf_counter()
        before = tree_cpu_seconds(self.proc.pid)
        while time.perf_counter() - t0 < timeout:
            time.sleep(window)
            now = tree_cpu_seconds(self.proc.pid)
            if now - before < busy * window:
                break
            before = now
        return time.perf_counter() - t0

    def log_tail(self, lines: int = 25) -> str:
        """The last lines the server printed."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def rss_bytes(self) -> tuple[int, int]:
        """Resident memory of the server's process tree now, and its number of processes."""
        return tree_rss_bytes(self.proc.pid) if self.proc is not None else (0, 0)

    def stop(self, grace: float = 20.0) -> dict[str, Any]:
        """SIGTERM the process group; after ``grace`` seconds kill what is left of the tree."""
        if self.proc is None:
            return {}
        proc, self.proc = self.proc, None
        pids = tree(proc.pid)
        t0 = time.perf_counter()
        _signal_group(proc.pid, signal.SIGTERM)
        killed = False
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            killed = True
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        # Descendants outlive the main process briefly, or for good if they left its group.
        leftover = {p: s for p, s in pids.items() if p != proc.pid}
        end = time.monotonic() + (grace if not killed else 0.0)
        while any(_alive(p, s) for p, s in leftover.items()) and time.monotonic() < end:
            time.sleep(0.05)
        for pid, start in leftover.items():
            if _alive(pid, start):
                killed = True
                _kill(pid)
        _signal_group(proc.pid, signal.SIGKILL)
        end = time.monotonic() + 10.0  # SIGKILL takes effect asynchronously
        while any(_alive(p, s) for p, s in leftover.items()) and time.monotonic() < end:
            time.sleep(0.01)
        return {
            "stop_s": time.perf_counter() - t0,
            "killed": killed,
            "exit_code": proc.returncode,
            "processes": len(pids),
            "left_running": sum(_alive(p, s) for p, s in leftover.items()),
        }


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def launch(
    impl: str,
    python: Path,
    workdir: Path,
    db: Path | str,
    env: dict[str, str],
    *,
    workers: int | None = None,
    timeout: float = 180.0,
) -> tuple[ServerProcess, float]:
    """Start ``impl``'s server on ``db`` (a SQLite file or a database URI) in
    ``workdir/server``: the process and its start-up.

    A port that someone took between choosing and binding it is retried with another.
    """
    folder = workdir / "server"
    folder.mkdir(exist_ok=True)
    for attempt in range(_PORT_ATTEMPTS):
        port = free_port()
        command = server_command(impl, python, db, folder / "artifacts", port, workers)
        server = ServerProcess(command, f"http://{HOST}:{port}", folder / "server.log", env)
        try:
            return server, server.start(timeout)
        except ServerError as exc:
            server.stop()
            taken = "address already in use" in str(exc).lower()
            if not taken or attempt == _PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def probe(url: str) -> dict[str, list[Any]]:
    """Checks that a started server answers: ``/health`` and a tracking API call."""
    health = get(url, "/health")
    search = get(url, "/api/2.0/mlflow/experiments/search?max_results=1")
    return {
        "/health": [[200, "OK"], [health[0], health[1].strip()]],
        "experiments/search status": [200, search[0]],
    }


def run_served(
    workload: Workload,
    impl: str,
    python: Path,
    workdir: Path,
    db: Path | str,
    env: dict[str, str],
    run: Callable[[str], Outcome],
    *,
    timeout: float = 180.0,
) -> Outcome:
    """One repetition of an HTTP workload: start the server, ``run(url)``, sample, stop.

    The workload starts once the server's processes are idle (see
    :meth:`ServerProcess.settle`). The server's start-up (``server_start_s``) and its tree's
    resident memory after the workload (``server_rss_mb``, 10**6 bytes) become figures when
    the workload declares them, and are always recorded under ``details["server"]``.
    """
    workers = workload.mlflow_workers if impl == "mlflow" else None
    if isinstance(workload, ScaledWorkload):  # both servers with the same number
        workers = workload.workers
    server: ServerProcess | None = None
    facts: Params = {}
    try:
        server, start_s = launch(
            impl, python, workdir, db, server_env(env), workers=workers, timeout=timeout
        )
        facts = {"command": server.command, "url": server.url, "start_s": start_s}
        facts["settle_s"] = server.settle()
        if workload.command == START_ONLY:
            outcome = Outcome(True, checks=probe(server.url))
        else:
            outcome = run(server.url)
        rss, processes = server.rss_bytes()
        facts.update(rss_mb=rss / 1e6, processes=processes)
    except (ServerError, OSError) as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")
    finally:
        if server is not None:
            facts.update(server.stop())
    outcome.details["server"] = facts
    if outcome.ok:
        declared = {f.key for f in workload.figures}
        for key, value in (("server_start_s", start_s), ("server_rss_mb", rss / 1e6)):
            if key in declared:
                outcome.figures[key] = value
    return outcome
