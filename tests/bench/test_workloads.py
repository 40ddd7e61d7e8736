"""The benchmark code keeps working: every workload once, at tiny sizes, against trackline.

These tests check what the workloads count (points readable == points logged, runs, lost
writes), never how fast anything was.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a top-level package of the repository
    sys.path.insert(0, str(ROOT))

from bench import catalog, harness, report, workloads  # noqa: E402

PYTHON = Path(sys.executable)
SEARCH_SIZE = 40
TINY = catalog.workloads_for("tiny", [SEARCH_SIZE])


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> harness.PopulationCache:
    """One search population shared by the module's tests."""
    directory = tmp_path_factory.mktemp("bench-cache")
    return harness.PopulationCache(directory, {"trackline": PYTHON}, log=lambda _: None)


@pytest.mark.parametrize("workload", TINY, ids=[w.name for w in TINY])
def test_workload_runs_and_its_counts_add_up(
    workload: catalog.Workload, cache: harness.PopulationCache
) -> None:
    outcome = harness.run_workload(workload, "trackline", PYTHON, "tiny", cache=cache)

    assert outcome.ok, outcome.error
    assert outcome.failed_checks() == []
    assert set(outcome.figures) == {f.key for f in workload.figures}
    if workload.name != "import":
        assert outcome.checks, "a workload must verify what it wrote or read"
    for figure in workload.figures:
        value = outcome.figures[figure.key]
        assert value == 0 if figure.unit == "count" else value > 0, figure.key


def test_counts_are_the_tiny_sizes(cache: harness.PopulationCache) -> None:
    by_name = {w.name: w for w in TINY}
    history = harness.run_workload(by_name["metric_history"], "trackline", PYTHON, "tiny")
    points = by_name["metric_history"].sizes["tiny"]["points"]
    assert history.checks["points readable"] == [points, points]

    writers = harness.run_workload(by_name["concurrency"], "trackline", PYTHON, "tiny")
    size = by_name["concurrency"].sizes["tiny"]
    ops = size["procs"] * size["runs"] * (1 + size["params"] + size["steps"])
    assert writers.details["operations"] == ops
    assert writers.checks["lost writes"] == [0, 0]
    assert writers.details["orphan_runs"] == 0

    search_workload = by_name[f"search.{SEARCH_SIZE}"]
    search = harness.run_workload(search_workload, "trackline", PYTHON, "tiny", cache=cache)
    matching, first = workloads.expected_first_page(SEARCH_SIZE)
    assert search.checks["first page length"] == [min(matching, 100), len(first)]
    assert search.checks["DataFrame rows"] == [SEARCH_SIZE, SEARCH_SIZE]


def test_population_is_cached_and_reused(tmp_path: Path) -> None:
    cache = harness.PopulationCache(tmp_path, {"trackline": PYTHON}, log=lambda _: None)
    first = cache.ensure("trackline", 6)
    second = cache.ensure("trackline", 6)

    assert first == second
    assert first.exists()
    assert [p["size"] for p in cache.populations] == [6]
    assert cache.path("trackline", 6).name.startswith("trackline-search-6-")


def test_refresh_repopulates_once_per_run(tmp_path: Path) -> None:
    harness.PopulationCache(tmp_path, {"trackline": PYTHON}, log=lambda _: None).ensure(
        "trackline", 4
    )
    cache = harness.PopulationCache(
        tmp_path, {"trackline": PYTHON}, refresh=True, log=lambda _: None
    )
    cache.ensure("trackline", 4)
    cache.ensure("trackline", 4)

    assert len(cache.populations) == 1
    assert len(list(tmp_path.glob("trackline-search-4-*.db"))) == 1


def test_unknown_workload_is_a_failed_outcome(tmp_path: Path) -> None:
    outcome = harness.run_child(PYTHON, "trackline", "no-such-workload", {}, tmp_path)

    assert not outcome.ok
    assert "no-such-workload" in (outcome.error or "")


def test_main_prints_the_table_and_writes_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--tiny",
        "--impl",
        "trackline",
        "--only",
        "log_metric.sync,metric_*",
        "--reps",
        "2",
        "--trackline-python",
        str(PYTHON),
        "--results-dir",
        str(tmp_path / "results"),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert harness.main(argv, log=lambda _: None) == 0

    table = capsys.readouterr().out
    assert "log_metric.sync" in table
    assert "metric_history" in table
    assert "log_batch" not in table
    data = json.loads((tmp_path / "results" / "latest.json").read_text())
    names = [w["name"] for w in data["workloads"]]
    assert names == ["log_metric.sync", "metric_history"]
    rate = data["workloads"][0]["figures"][0]
    assert len(rate["trackline"]["samples"]) == 2
    assert rate["mlflow"] is None
    assert (tmp_path / "results" / "latest.md").read_text().startswith("# trackline vs MLflow")


def test_select_takes_substrings_globs_and_lists() -> None:
    names = [w.name for w in TINY]

    def chosen(pattern: str | None) -> list[str]:
        return [w.name for w in harness.select(TINY, pattern)]

    assert chosen(None) == names
    assert chosen("log_metric") == ["log_metric.sync", "log_metric.async"]
    assert chosen("search.*") == [f"search.{SEARCH_SIZE}"]
    assert chosen("import, concurrency") == ["import", "concurrency"]
    assert chosen("nothing-like-this") == []


def test_search_workloads_are_named_by_size() -> None:
    names = [w.name for w in catalog.workloads_for("full", [10_000, 50_000, 1_500])]

    assert [n for n in names if "search" in n] == ["search.10k", "search.50k", "search.1500"]
    ten_k = catalog.search_workload(10_000, "full")
    assert [f.target for f in ten_k.figures] == [0.030, 0.300]


RATE = catalog.Figure("rate", "loop", "pts/s", "higher", 10_000)
TIME = catalog.Figure("t", "call", "s", "lower", 0.1)
COUNT = catalog.Figure("errors", "exceptions", "count", "lower", 0)


def test_ratio_is_normalised_so_above_one_means_trackline_is_better() -> None:
    assert report.ratio(RATE, 100.0, 1_000.0) == pytest.approx(10.0)
    assert report.ratio(TIME, 2.0, 0.5) == pytest.approx(4.0)
    assert report.ratio(TIME, 0.5, 2.0) == pytest.approx(0.25)
    assert report.ratio(COUNT, 3.0, 0.0) is None
    assert report.ratio(RATE, None, 5.0) is None
    assert report.format_ratio(12.34) == "12.3x faster"
    assert report.format_ratio(0.25) == "4.0x slower"
    assert report.format_ratio(1.01) == "same"
    assert report.format_ratio(None) == "—"


def test_values_and_targets_are_formatted_for_people() -> None:
    assert report.format_value(0.0123, "s") == "12.3 ms"
    assert report.format_value(1.284, "s") == "1.28 s"
    assert report.format_value(652.4, "s") == "652 s"
    assert report.format_value(10652.4, "pts/s") == "10,652 pts/s"
    assert report.format_value(37.84, "runs/s") == "37.8 runs/s"
    assert report.format_value(0.0, "count") == "0"
    assert report.format_value(None, "s") == "—"
    assert report.format_target(TIME, 0.05) == "≤ 100 ms ✓"
    assert report.format_target(RATE, 500.0) == "≥ 10,000 pts/s ✗"
    assert report.format_target(RATE, 500.0, judge=False) == "≥ 10,000 pts/s"
    assert report.format_target(COUNT, 0.0) == "= 0 ✓"


def _report(outcomes: dict[tuple[str, str], list[report.Outcome]]) -> report.Report:
    workload = catalog.Workload("demo", "demo", {"tiny": {}}, (RATE, COUNT))
    return report.Report({"profile": "tiny"}, [workload], outcomes)


def test_table_shows_medians_side_by_side() -> None:
    ml = [report.Outcome(True, {"rate": v, "errors": 0.0}) for v in (100.0, 300.0, 200.0)]
    tl = [report.Outcome(True, {"rate": v, "errors": 0.0}) for v in (2_000.0, 1_000.0, 4_000.0)]
    rep = _report({("demo", "mlflow"): ml, ("demo", "trackline"): tl})
    rows = rep.rows()

    assert rows[0] == (
        "demo",
        "loop",
        "200 pts/s",
        "2,000 pts/s",
        "10.0x faster",
        "≥ 10,000 pts/s ✗",
    )
    assert rows[1][2:5] == ("0", "0", "—")
    assert "| demo | loop | 200 pts/s | 2,000 pts/s | 10.0x faster |" in rep.markdown()


def test_markdown_escapes_what_markdown_would_swallow() -> None:
    broken = report.Outcome(False, error="ValueError: <bad> a|b")
    text = _report({("demo", "trackline"): [broken]}).markdown()

    assert "- demo [trackline] rep 1: ValueError: &lt;bad> a\\|b" in text


def test_failures_and_failed_checks_are_flagged() -> None:
    bad = report.Outcome(True, {"rate": 10.0, "errors": 0.0}, checks={"points readable": [5, 4]})
    broken = report.Outcome(False, error="Traceback ...\nValueError: boom")
    rep = _report({("demo", "mlflow"): [bad], ("demo", "trackline"): [broken]})

    assert rep.rows()[0][2:4] == ("10 pts/s !", "error")
    assert rep.problems() == [
        "demo [mlflow] rep 1: check points readable: expected 5, got 4",
        "demo [trackline] rep 1: ValueError: boom",
    ]
    assert "ValueError: boom" in rep.text()
    assert rep.to_json()["workloads"][0]["figures"][0]["trackline"]["errors"]


def test_a_process_past_its_timeout_is_ended_and_failed(tmp_path: Path) -> None:
    outcome = harness.run_child(PYTHON, "trackline", "import", {"reps": 500}, tmp_path, timeout=0.5)

    assert not outcome.ok
    assert "timed out" in (outcome.error or "")


def test_machine_noise_is_recorded_and_summarised(tmp_path: Path) -> None:
    outcome = harness.run_child(PYTHON, "trackline", "info", {}, tmp_path)
    assert "load average" in outcome.noise

    quiet = report.Outcome(True, {"rate": 1.0, "errors": 0.0}, noise={"load average": 0.5})
    busy = report.Outcome(True, {"rate": 1.0, "errors": 0.0}, noise={"load average": 6.0})
    text = _report({("demo", "trackline"): [quiet, busy]}).text()
    assert "load average 0.5-6" in text
