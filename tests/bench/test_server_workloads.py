"""The HTTP benchmark keeps working: every HTTP workload once, tiny, against trackline's server.

Like tests/bench/test_workloads.py, these check counts (points readable, runs, requests
answered, lost writes) and that no server outlives its workload, never how fast anything was.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a top-level package of the repository
    sys.path.insert(0, str(ROOT))

from bench import catalog, harness, http_workloads, report, server, workloads  # noqa: E402

PYTHON = Path(sys.executable)
SEARCH_SIZE = 40
HTTP = catalog.http_workloads_for("tiny", [SEARCH_SIZE])
DEFAULT_VARIANTS = [w for w in HTTP if w.name.startswith("http.")]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> harness.PopulationCache:
    """One search population shared by the module's tests."""
    directory = tmp_path_factory.mktemp("bench-cache")
    return harness.PopulationCache(directory, {"trackline": PYTHON}, log=lambda _: None)


def _refused(url: str) -> bool:
    try:
        server.get(url, "/health", timeout=5)
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.parametrize("workload", DEFAULT_VARIANTS, ids=[w.name for w in DEFAULT_VARIANTS])
def test_http_workload_runs_and_its_counts_add_up(
    workload: catalog.Workload, cache: harness.PopulationCache
) -> None:
    outcome = harness.run_workload(
        workload, "trackline", PYTHON, "tiny", cache=cache, client_python=PYTHON
    )

    assert outcome.ok, outcome.error
    assert outcome.failed_checks() == []
    assert outcome.checks, "a workload must verify what it wrote or read"
    assert set(outcome.figures) == {f.key for f in workload.figures}
    for figure in workload.figures:
        value = outcome.figures[figure.key]
        assert value == 0 if figure.unit == "count" else value > 0, figure.key
    facts = outcome.details["server"]
    assert facts["command"][1:3] == ["server", "--backend-store-uri"]
    assert facts["processes"] >= 1
    assert facts["killed"] is False  # it stopped on SIGTERM
    assert facts["left_running"] == 0
    assert _refused(facts["url"]), "the server outlived its workload"


def test_http_counts_are_the_tiny_sizes(cache: harness.PopulationCache) -> None:
    by_name = {w.name: w for w in HTTP}

    def run(name: str) -> report.Outcome:
        return harness.run_workload(
            by_name[name], "trackline", PYTHON, "tiny", cache=cache, client_python=PYTHON
        )

    sync = run("http.log_metric.sync")
    n = by_name["http.log_metric.sync"].sizes["tiny"]["n"]
    assert sync.checks["points readable"] == [n, n]

    writers = run("http.concurrency")
    size = by_name["http.concurrency"].sizes["tiny"]
    ops = size["procs"] * size["runs"] * (1 + size["params"] + size["steps"])
    assert writers.details["operations"] == ops
    assert writers.checks["lost writes"] == [0, 0]
    assert writers.details["orphan_runs"] == 0

    gets = run("http.runs_get")
    requests = by_name["http.runs_get"].sizes["tiny"]["requests"]
    assert gets.checks["responses 200"] == [requests, requests]
    assert gets.details["requests"] == requests

    search = run(f"http.search.{SEARCH_SIZE}")
    matching, first = workloads.expected_first_page(SEARCH_SIZE)
    assert search.checks["first page length"] == [min(matching, 100), len(first)]
    assert search.checks["DataFrame rows"] == [SEARCH_SIZE, SEARCH_SIZE]
    assert search.figures["server_rss_mb"] == search.details["server"]["rss_mb"]


def test_every_workers_1_variant_is_its_default_with_one_mlflow_worker() -> None:
    by_name = {w.name: w for w in HTTP}
    variants = [w for w in HTTP if w.name.startswith("http-w1.")]

    assert {w.name for w in variants} == {
        "http-w1.start",
        "http-w1.log_metric.sync",
        "http-w1.run_create",
        "http-w1.runs_get",
        f"http-w1.search.{SEARCH_SIZE}",
    }
    for variant in variants:
        default = by_name[variant.name.replace("http-w1.", "http.")]
        assert variant.mlflow_workers == 1
        assert default.mlflow_workers is None
        assert (variant.command, variant.figures) == (default.command, default.figures)
        assert HTTP.index(variant) == HTTP.index(default) + 1
    assert all(w.server for w in HTTP)


def test_http_search_runs_over_each_search_size_with_the_issues_targets() -> None:
    workloads = catalog.http_workloads_for("full", [10_000, 50_000])
    names = [w.name for w in workloads if "search" in w.name]
    assert names == [
        "http.search.10k",
        "http-w1.search.10k",
        "http.search.50k",
        "http-w1.search.50k",
    ]
    targets = {w.name: [f.target for f in w.figures] for w in workloads}
    assert targets["http.search.10k"] == [0.050, 0.600, 150]
    assert targets["http.search.50k"] == [0.080, 3.0, 150]


def test_plain_words_pick_http_workloads_only_when_they_say_http() -> None:
    every = catalog.all_workloads("tiny", [SEARCH_SIZE])

    def chosen(pattern: str) -> list[str]:
        return [w.name for w in harness.select(every, pattern)]

    assert chosen("log_metric") == ["log_metric.sync", "log_metric.async"]
    assert chosen("http.log_metric") == ["http.log_metric.sync", "http.log_metric.async"]
    assert chosen("http") == [w.name for w in HTTP]
    assert chosen("http-w1.runs_get") == ["http-w1.runs_get"]
    assert chosen("*log_metric.sync") == [
        "log_metric.sync",
        "http.log_metric.sync",
        "http-w1.log_metric.sync",
    ]


def test_server_commands_follow_each_cli(tmp_path: Path) -> None:
    python = tmp_path / "bin" / "python"
    db, art = tmp_path / "b.db", tmp_path / "art"

    trackline = server.server_command("trackline", python, db, art, 5123)
    mlflow_w1 = server.server_command("mlflow", python, db, art, 5123, workers=1)

    assert trackline == [
        str(python), "-m", "trackline", "server",
        "--backend-store-uri", f"sqlite:///{db}", "--artifacts-destination", str(art),
        "-h", "127.0.0.1", "-p", "5123",
    ]  # fmt: skip
    assert mlflow_w1[3:] == [
        "server",
        "--backend-store-uri", f"sqlite:///{db}", "--artifacts-destination", str(art),
        "--host", "127.0.0.1", "--port", "5123", "--workers", "1",
    ]  # fmt: skip
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mlflow").touch()
    default = server.server_command("mlflow", python, db, art, 5123)
    assert default[0] == str(tmp_path / "bin" / "mlflow")
    assert "--workers" not in default


FAKE_SERVER = textwrap.dedent(
    """
    import http.server, subprocess, sys
    # A helper that leaves the process group and ignores SIGTERM, like a stubborn worker.
    # It writes its pid once it is stubborn.
    stubborn = (
        "import os, signal, time; os.setsid(); "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "open('child.tmp', 'w').write(str(os.getpid())); os.rename('child.tmp', 'child.pid'); "
        "time.sleep(600)"
    )
    child = subprocess.Popen([sys.executable, "-c", stubborn])

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
    """
)


def test_stop_ends_the_whole_tree_even_a_stubborn_helper(tmp_path: Path) -> None:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    port = server.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = server.ServerProcess(
        [str(PYTHON), str(script), str(port)], url, tmp_path / "server.log", {}
    )
    try:
        assert proc.start(timeout=60) > 0
        pid_file = tmp_path / "child.pid"
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        child = int(pid_file.read_text())
        start = server.tree(child)[child]
        rss, processes = proc.rss_bytes()
        assert processes == 2
        assert rss > 0
    finally:
        stopped = proc.stop(grace=0.5)

    assert stopped["killed"] is True
    assert stopped["left_running"] == 0
    assert not server._alive(child, start)
    assert _refused(url)


def test_a_server_that_exits_is_an_error_with_its_output(tmp_path: Path) -> None:
    command = [str(PYTHON), "-c", "print('no such store'); raise SystemExit(3)"]
    proc = server.ServerProcess(command, "http://127.0.0.1:9", tmp_path / "server.log", {})

    with pytest.raises(server.ServerError, match="exited with 3") as caught:
        proc.start(timeout=60)
    assert "no such store" in str(caught.value)
    stopped = proc.stop()
    assert (stopped["exit_code"], stopped["killed"]) == (3, False)


def test_a_failed_start_is_a_failed_outcome(tmp_path: Path) -> None:
    workload = next(w for w in HTTP if w.name == "http.start")
    missing = tmp_path / "no-venv" / "bin" / "python"

    outcome = harness.run_workload(workload, "trackline", missing, "tiny")

    assert not outcome.ok
    assert "FileNotFoundError" in (outcome.error or "")


def test_sigterm_ends_the_harness_through_its_finally_blocks() -> None:
    before = signal.getsignal(signal.SIGTERM)
    cleaned: list[bool] = []

    def interrupted_work() -> None:
        with harness.terminate_as_exit():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises before this ends
            finally:
                cleaned.append(True)

    with pytest.raises(SystemExit) as caught:
        interrupted_work()

    assert caught.value.code == 128 + signal.SIGTERM
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) == before


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert http_workloads.percentile(values, 50) == 50.0
    assert http_workloads.percentile(values, 99) == 99.0
    assert http_workloads.percentile([3.0, 1.0, 2.0], 99) == 3.0
    assert http_workloads.percentile([7.0], 50) == 7.0


def test_memory_ratios_read_smaller_or_larger() -> None:
    rss = catalog.SERVER_RSS

    assert report.format_ratio(report.ratio(rss, 3000.0, 60.0), rss.unit) == "50.0x smaller"
    assert report.format_ratio(report.ratio(rss, 60.0, 120.0), rss.unit) == "2.0x larger"
    assert report.format_value(56.04, "MB") == "56 MB"
    assert report.format_target(rss, 56.0) == "≤ 150 MB ✓"


def test_main_runs_http_workloads_in_the_same_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--tiny",
        "--impl",
        "trackline",
        "--only",
        "log_metric.sync,http.start",
        "--reps",
        "1",
        "--trackline-python",
        str(PYTHON),
        "--results-dir",
        str(tmp_path / "results"),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert harness.main(argv, log=lambda _: None) == 0

    table = capsys.readouterr().out
    assert "http.start" in table
    assert "start until /health answers" in table
    data = json.loads((tmp_path / "results" / "latest.json").read_text())
    assert [w["name"] for w in data["workloads"]] == ["log_metric.sync", "http.start"]
    run = data["workloads"][1]["runs"]["trackline"][0]
    assert run["details"]["server"]["start_s"] > 0
