"""``bench/run --backend postgresql`` keeps working: server workloads on scratch PostgreSQL
databases, the search population as a template database, the scaling workloads' worker
counts. Tiny sizes, trackline only; counts are checked, never timings."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import POSTGRES_URI, unreachable

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a top-level package of the repository
    sys.path.insert(0, str(ROOT))

from bench import catalog, harness, postgres, scaling, server, workloads  # noqa: E402

PYTHON = Path(sys.executable)
SEARCH_SIZE = 40


@pytest.fixture(scope="module")
def pg() -> postgres.Postgres:
    found = postgres.Postgres(POSTGRES_URI)
    try:
        found.check()
    except postgres.PostgresError as exc:
        unreachable("PostgreSQL", exc)
    return found


@pytest.fixture(scope="module")
def populations(
    pg: postgres.Postgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[postgres.PostgresPopulations]:
    """PostgreSQL populations under a fingerprint of this module's own (dropped after)."""
    cache = harness.PopulationCache(
        tmp_path_factory.mktemp("bench-cache"), {"trackline": PYTHON}, log=lambda _: None
    )
    made = harness.postgres_populations(pg, cache, {"trackline": PYTHON}, 600, lambda _: None)
    made.prefix = f"bench_test_{uuid.uuid4().hex[:8]}_"  # never the real caches
    try:
        yield made
    finally:
        for name in pg.databases(made.prefix):
            pg.drop(name)


def _run(workload: catalog.Workload, populations: postgres.PostgresPopulations) -> harness.Outcome:
    return harness.run_workload(
        workload,
        "trackline",
        PYTHON,
        "tiny",
        backend="postgresql",
        client_python=PYTHON,
        postgres=populations,
    )


def _bench_databases(pg: postgres.Postgres) -> list[str]:
    return pg.databases(postgres.RUN_PREFIX)


def test_a_server_workload_runs_on_a_scratch_database_dropped_after(
    pg: postgres.Postgres, populations: postgres.PostgresPopulations
) -> None:
    before = _bench_databases(pg)
    workload = next(w for w in catalog.http_workloads_for("tiny", [SEARCH_SIZE])
                    if w.name == "http.log_metric.sync")  # fmt: skip
    outcome = _run(workload, populations)

    assert outcome.ok, outcome.error
    assert outcome.failed_checks() == []
    command = outcome.details["server"]["command"]
    store = command[command.index("--backend-store-uri") + 1]
    assert store.startswith("postgresql://")
    assert f"/{postgres.RUN_PREFIX}trackline_" in store
    assert _bench_databases(pg) == before


def test_search_reads_a_copy_of_the_template_population(
    pg: postgres.Postgres, populations: postgres.PostgresPopulations
) -> None:
    workload = next(w for w in catalog.http_workloads_for("tiny", [SEARCH_SIZE])
                    if w.name == f"http.search.{SEARCH_SIZE}")  # fmt: skip
    outcome = _run(workload, populations)

    assert outcome.ok, outcome.error
    matching, first = workloads.expected_first_page(SEARCH_SIZE)
    assert outcome.checks["first page length"] == [min(matching, 100), len(first)]
    assert outcome.checks["DataFrame rows"] == [SEARCH_SIZE, SEARCH_SIZE]
    [made] = populations.populations
    assert pg.exists(made["path"].rsplit("/", 1)[1])
    again = _run(workload, populations)  # the same template, not populated twice
    assert again.ok, again.error
    assert len(populations.populations) == 1


def test_scaling_runs_the_server_with_its_workers(
    populations: postgres.PostgresPopulations,
) -> None:
    by_name = {w.name: w for w in scaling.scaling_workloads()}
    assert list(by_name) == ["http.scale.w1", "http.scale.w2", "http.scale.w4"]
    workload = by_name["http.scale.w2"]
    outcome = _run(workload, populations)

    assert outcome.ok, outcome.error
    assert outcome.failed_checks() == []
    size = workload.sizes["tiny"]
    assert outcome.details["operations"] == size["procs"] * size["runs"] * (
        1 + size["params"] + size["steps"]
    )
    command = outcome.details["server"]["command"]
    assert command[command.index("--workers") + 1] == "2"
    assert outcome.details["server"]["processes"] >= 3  # the supervisor and two workers


def test_postgresql_runs_only_server_workloads_and_the_scaling_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = harness.main(["--tiny", "--backend", "postgresql", "--list"])
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]

    assert code == 0
    assert names
    assert all(n.startswith(("http.", "http-w1.")) for n in names)
    assert names[-3:] == ["http.scale.w1", "http.scale.w2", "http.scale.w4"]


def test_both_servers_take_a_database_uri(tmp_path: Path) -> None:
    uri = "postgresql+psycopg2://postgres@127.0.0.1:5432/bench_run_x"
    for impl in ("trackline", "mlflow"):
        command = server.server_command(impl, PYTHON, uri, tmp_path, 5123, workers=2)
        assert command[command.index("--backend-store-uri") + 1] == uri
        assert command[-2:] == ["--workers", "2"]
    pg = postgres.Postgres("postgresql+psycopg://u:secret@db:5432/admin")
    assert pg.uri("x", "mlflow") == "postgresql+psycopg2://u:secret@db:5432/x"
    assert pg.uri("x", "trackline") == "postgresql://u:secret@db:5432/x"
    assert "secret" not in pg.shown
