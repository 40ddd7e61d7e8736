"""Run the benchmark workloads through MLflow and trackline and print them side by side.

Usually started by ``bench/run``, which makes MLflow's virtualenv first. Each repetition of
each workload runs in a fresh subprocess of the implementation's own interpreter, in a fresh
temporary working directory with its own SQLite file; the two implementations alternate, so
machine noise falls on both. The search workloads read a database populated once per
implementation and size through that implementation's public API and cached in
``bench/.cache``. Results go to stdout and to ``bench/results/`` as JSON and Markdown.

With ``--backend postgresql`` only the server workloads run, each server on a scratch
PostgreSQL database of its own (``bench/postgres.py``), plus the scaling workloads
(``bench/scaling.py``: 1, 2 and 4 server workers).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.catalog import Params, Workload, all_workloads
from bench.postgres import DEFAULT_URI, Postgres, PostgresError, PostgresPopulations
from bench.report import IMPLS, Outcome, Report
from bench.scaling import scaling_workloads
from bench.workloads import DB_NAME, RESULT_PREFIX

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORKLOADS_PY = BENCH / "workloads.py"
HTTP_WORKLOADS_PY = BENCH / "http_workloads.py"
PG_WORKLOADS_PY = BENCH / "pg_workloads.py"
BACKENDS = ("sqlite", "postgresql")
DEFAULT_PYTHONS = {
    "mlflow": BENCH / ".venv-mlflow" / "bin" / "python",
    "trackline": ROOT / ".venv" / "bin" / "python",
}
DEFAULT_SEARCH_SIZES = {"full": [10_000, 50_000], "quick": [1_000], "tiny": [40]}

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def noise() -> dict[str, float]:
    """How busy the machine is: 1-min load average and CPU pressure (PSI some avg10, %)."""
    readings = {"load average": round(os.getloadavg()[0], 2)}
    try:
        first = Path("/proc/pressure/cpu").read_text().split("\n", 1)[0]
        fields = dict(item.split("=", 1) for item in first.split()[1:])
        readings["CPU pressure %"] = float(fields["avg10"])
    except (OSError, KeyError, ValueError):
        pass
    return readings


def child_env(workdir: Path, uri: str | None = None) -> dict[str, str]:
    """The environment of a workload process: no inherited MLflow/trackline settings.

    The tracking URI is ``uri`` (a server's URL) or the working directory's SQLite file.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "TRACKLINE_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    uri = uri or f"sqlite:///{workdir / DB_NAME}"
    env.update(
        MLFLOW_TRACKING_URI=uri,
        TRACKLINE_TRACKING_URI=uri,
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
    )
    return env


def run_child(
    python: Path,
    impl: str,
    command: str,
    params: Params,
    workdir: Path,
    *,
    backend: str = "sqlite",
    timeout: float = 3600,
    script: Path = WORKLOADS_PY,
    extra_args: Sequence[str] = (),
    uri: str | None = None,
) -> Outcome:
    """Run ``script`` (``workloads.py``) once in ``workdir`` and parse its result line.

    ``extra_args`` go before the common ones; ``uri`` is the child's tracking URI.
    """
    argv = [
        str(python),
        str(script),
        *extra_args,
        "--impl",
        impl,
        "--workload",
        command,
        "--params",
        json.dumps(params),
        "--workdir",
        str(workdir),
        "--backend",
        backend,
    ]
    before = noise()
    t0 = time.perf_counter()
    # A session of its own, so a timeout also ends the writers a workload started.
    proc = subprocess.Popen(
        argv,
        cwd=workdir,
        env=child_env(workdir, uri),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Outcome(False, error=f"timed out after {timeout:.0f} s", noise=before)
    except BaseException:  # the harness is being stopped: leave no workload behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    seconds = time.perf_counter() - t0
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX) and proc.returncode == 0:
            data = json.loads(line[len(RESULT_PREFIX) :])
            return Outcome(
                True,
                figures={k: float(v) for k, v in data.get("figures", {}).items()},
                checks=data.get("checks", {}),
                details=data.get("details", {}),
                seconds=seconds,
                noise=before,
            )
    tail = "\n".join((err or out).strip().splitlines()[-25:])
    error = f"exit code {proc.returncode}\n{tail}"
    return Outcome(False, error=error, seconds=seconds, noise=before)


def implementation_info(python: Path, impl: str) -> dict[str, Any]:
    """Version and store fingerprint of an implementation, from its own interpreter."""
    with tempfile.TemporaryDirectory(prefix="bench-info-") as tmp:
        outcome = run_child(python, impl, "info", {}, Path(tmp), timeout=300)
    if not outcome.ok:
        raise RuntimeError(f"cannot import {impl} with {python}: {outcome.error}")
    return outcome.details


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database into one self-contained file (WAL content included)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


class PopulationCache:
    """Search databases populated through each implementation's API, cached per size.

    A cached file is named after the implementation, its version and a fingerprint of its
    store code (plus the layout of the populated data), so a change to either re-populates.
    """

    def __init__(
        self,
        cache_dir: Path,
        pythons: dict[str, Path],
        *,
        procs: int = 2,
        refresh: bool = False,
        timeout: float = 4 * 3600,
        log: Log = _stderr,
    ) -> None:
        self.cache_dir = cache_dir
        self.pythons = pythons
        self.procs = procs
        self.refresh = refresh
        self.timeout = timeout
        self.log = log
        self.populations: list[dict[str, Any]] = []
        self._infos: dict[str, dict[str, Any]] = {}
        self._fresh: set[Path] = set()

    def path(self, impl: str, size: int) -> Path:
        """Where the database of ``size`` runs for ``impl`` is cached."""
        if impl not in self._infos:
            self._infos[impl] = implementation_info(self.pythons[impl], impl)
        info = self._infos[impl]
        tag = f"{info['version']}-{str(info['store_fingerprint'])[:12]}"
        return self.cache_dir / f"{impl}-search-{size}-{tag}.db"

    def ensure(self, impl: str, size: int) -> Path:
        """The cached database, populated first if it is missing (or ``refresh`` was asked)."""
        path = self.path(impl, size)
        if path.exists() and (path in self._fresh or not self.refresh):
            return path
        self.log(f"populating {size:,} runs for {impl} (cached in {path}) ...")
        with tempfile.TemporaryDirectory(prefix=f"bench-populate-{impl}-") as tmp:
            params = {"size": size, "procs": self.procs, "timeout_s": self.timeout}
            outcome = run_child(
                self.pythons[impl], impl, "populate", params, Path(tmp), timeout=self.timeout
            )
            if not outcome.ok or outcome.failed_checks():
                problem = outcome.error or "; ".join(outcome.failed_checks())
                raise RuntimeError(f"populating {size} runs for {impl} failed: {problem}")
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            copy_database(Path(tmp) / DB_NAME, partial)
            partial.replace(path)
        for stale in self.cache_dir.glob(f"{impl}-search-{size}-*.db"):
            if stale != path:
                stale.unlink()
        self._fresh.add(path)
        elapsed = float(outcome.details["elapsed_s"])
        self.populations.append(
            {
                "impl": impl,
                "size": size,
                "procs": self.procs,
                "elapsed_s": elapsed,
                "rate": size / elapsed,
                "path": str(path),
            }
        )
        return path


def run_workload(
    workload: Workload,
    impl: str,
    python: Path,
    profile: str,
    *,
    cache: PopulationCache | None = None,
    backend: str = "sqlite",
    timeout: float = 3600,
    client_python: Path | None = None,
    postgres: PostgresPopulations | None = None,
) -> Outcome:
    """One repetition of a workload in a fresh temporary directory.

    A server workload runs against ``impl``'s server (started from ``python``'s
    virtualenv, on the directory's SQLite file, or with ``backend="postgresql"`` on a
    scratch database of ``postgres``); its client runs in ``client_python`` (default
    ``python``).
    """
    params = dict(workload.sizes[profile])
    if backend == "postgresql" and (not workload.server or postgres is None):
        return Outcome(False, error="on PostgreSQL only server workloads run (with a server)")
    with tempfile.TemporaryDirectory(prefix=f"bench-{impl}-") as tmp:
        workdir = Path(tmp)
        if workload.search_size is not None and backend == "sqlite":
            if cache is None:
                raise ValueError(f"{workload.name} needs a PopulationCache")
            try:
                source = cache.ensure(impl, workload.search_size)
            except RuntimeError as exc:
                return Outcome(False, error=str(exc))
            shutil.copyfile(source, workdir / DB_NAME)
        if workload.server:
            from bench.server import run_served

            def client(url: str) -> Outcome:
                return run_child(
                    client_python or python,
                    impl,
                    workload.command,
                    params,
                    workdir,
                    backend="sqlite",  # the client's own store, unused: it talks to the server
                    timeout=timeout,
                    script=HTTP_WORKLOADS_PY,
                    extra_args=["--url", url],
                    uri=url,
                )

            env = child_env(workdir)
            if postgres is not None and backend == "postgresql":
                return _served_on_postgres(workload, impl, python, workdir, env, client, postgres)
            return run_served(workload, impl, python, workdir, workdir / DB_NAME, env, client)
        return run_child(
            python, impl, workload.command, params, workdir, backend=backend, timeout=timeout
        )


def _served_on_postgres(
    workload: Workload,
    impl: str,
    python: Path,
    workdir: Path,
    env: dict[str, str],
    client: Callable[[str], Outcome],
    postgres: PostgresPopulations,
) -> Outcome:
    """A server workload on a scratch PostgreSQL database (a copy of the search population's
    template for the search workloads), dropped afterwards."""
    from bench.server import run_served

    try:
        template = None
        if workload.search_size is not None:
            template = postgres.ensure(impl, workload.search_size)
        with postgres.pg.scratch(impl, template) as uri:
            return run_served(workload, impl, python, workdir, uri, env, client)
    except RuntimeError as exc:  # PostgresError included
        return Outcome(False, error=str(exc))


def postgres_populations(
    pg: Postgres, cache: PopulationCache, pythons: dict[str, Path], timeout: float, log: Log
) -> PostgresPopulations:
    """The PostgreSQL search populations, fingerprinted like ``cache``'s SQLite files and
    populated by ``bench/pg_workloads.py`` in each implementation's interpreter."""

    def populate(impl: str, params: Params, workdir: Path, uri: str) -> Outcome:
        return run_child(
            pythons[impl], impl, "populate", params, workdir, backend="postgresql",
            timeout=timeout, script=PG_WORKLOADS_PY, extra_args=["--database-uri", uri], uri=uri,
        )  # fmt: skip

    return PostgresPopulations(
        pg,
        lambda impl, size: cache.path(impl, size).name,
        populate,
        procs=cache.procs,
        refresh=cache.refresh,
        timeout=timeout,
        log=log,
    )


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit, so ``finally`` blocks stop the servers."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def select(workloads: list[Workload], only: str | None) -> list[Workload]:
    """Workloads whose name matches one of the comma-separated patterns.

    A pattern with ``*``, ``?`` or ``[`` is a glob; any other is a substring, which picks
    HTTP workloads (``http.*``, ``http-w1.*``) only when it contains ``http``.
    """
    if not only:
        return workloads
    patterns = [p.strip() for p in only.split(",") if p.strip()]

    def matches(name: str) -> bool:
        return any(
            fnmatch.fnmatchcase(name, p)
            if any(c in p for c in "*?[")
            else p in name and ("http" in p or not name.startswith("http"))
            for p in patterns
        )

    return [w for w in workloads if matches(w.name)]


def _summary(workload: Workload, outcome: Outcome) -> str:
    if not outcome.ok:
        return "FAILED: " + (outcome.error or "").strip().splitlines()[-1][:200]
    shown = [
        f"{f.key}={outcome.figures[f.key]:.4g}"
        for f in workload.figures
        if f.key in outcome.figures
    ]
    failed = outcome.failed_checks()
    return " ".join(shown) + (f"  CHECK FAILED: {'; '.join(failed)}" if failed else "")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    load = os.getloadavg()
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python (harness)": platform.python_version(),
        "load average at start": [round(x, 2) for x in load],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see bench/README.md)."""
    parser = argparse.ArgumentParser(
        prog="bench/run", description="trackline vs MLflow, side by side (medians of --reps)."
    )
    parser.add_argument("--only", help="comma-separated names, substrings or globs")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per workload (3)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    size.add_argument("--tiny", action="store_true", help="tiny sizes (what the tests use)")
    parser.add_argument("--impl", choices=[*IMPLS, "both"], default="both")
    parser.add_argument(
        "--search-sizes",
        help="comma-separated run counts for the search workloads "
        "(10000,50000; --quick 1000; --tiny 40)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="sqlite",
        help="the store: sqlite (every workload) or postgresql (the server workloads and the "
        "scaling ones, on scratch databases of --postgres-uri's server)",
    )
    parser.add_argument(
        "--postgres-uri",
        default=DEFAULT_URI,
        help="a database of the PostgreSQL server to use (to connect to; scratch databases "
        "are created beside it) [$TRACKLINE_BENCH_POSTGRES_URI or the test server]",
    )
    parser.add_argument("--populate-procs", type=int, default=2)
    parser.add_argument("--refresh-cache", action="store_true", help="re-populate search dbs")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per process")
    parser.add_argument("--mlflow-python", type=Path, default=DEFAULT_PYTHONS["mlflow"])
    parser.add_argument("--trackline-python", type=Path, default=DEFAULT_PYTHONS["trackline"])
    parser.add_argument("--cache-dir", type=Path, default=BENCH / ".cache")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def main(argv: list[str] | None = None, log: Log = _stderr) -> int:
    """Run the selected workloads; print the table; write results. 1 if anything failed."""
    args = parse_args(argv)
    profile = "tiny" if args.tiny else "quick" if args.quick else "full"
    sizes = (
        [int(s) for s in args.search_sizes.split(",") if s.strip()]
        if args.search_sizes
        else DEFAULT_SEARCH_SIZES[profile]
    )
    catalogue = all_workloads(profile, sizes)
    if args.backend == "postgresql":
        catalogue = [w for w in catalogue if w.server] + scaling_workloads()
    chosen = select(catalogue, args.only)
    if args.list:
        for w in chosen:
            print(f"{w.name:20} {w.description}  {json.dumps(w.sizes[profile])}")
        return 0
    if not chosen:
        log(f"no workload matches --only {args.only!r}")
        return 2
    impls = list(IMPLS) if args.impl == "both" else [args.impl]
    pythons: dict[str, Path] = {"mlflow": args.mlflow_python, "trackline": args.trackline_python}
    meta = machine()
    meta.update(profile=profile, reps=args.reps, backend=args.backend, search_sizes=sizes)
    for impl in impls:
        if not pythons[impl].exists():
            log(f"{pythons[impl]} does not exist (bench/run creates MLflow's virtualenv)")
            return 2
        try:
            info = implementation_info(pythons[impl], impl)
            meta[impl] = f"{info['version']} ({pythons[impl]})"
        except RuntimeError as exc:
            log(str(exc))
            meta[impl] = f"not importable ({pythons[impl]})"
    cache = PopulationCache(
        args.cache_dir, pythons, procs=args.populate_procs, refresh=args.refresh_cache, log=log
    )
    postgres = None
    if args.backend == "postgresql":
        try:
            pg = Postgres(args.postgres_uri)
            meta["postgres"] = f"{pg.shown}: {pg.check()}"
        except PostgresError as exc:
            log(str(exc))
            return 2
        postgres = postgres_populations(pg, cache, pythons, args.timeout, log)
    outcomes: dict[tuple[str, str], list[Outcome]] = {}
    started = time.perf_counter()
    with terminate_as_exit():
        for workload in chosen:
            for rep in range(args.reps):
                order = impls if rep % 2 == 0 else impls[::-1]
                for impl in order:
                    outcome = run_workload(
                        workload,
                        impl,
                        pythons[impl],
                        profile,
                        cache=cache,
                        backend=args.backend,
                        timeout=args.timeout,
                        client_python=pythons[workload.client or impl],
                        postgres=postgres,
                    )
                    outcomes.setdefault((workload.name, impl), []).append(outcome)
                    log(
                        f"[{time.perf_counter() - started:7.1f}s] {workload.name:18} {impl:9} "
                        f"rep {rep + 1}/{args.reps} ({outcome.seconds:.1f} s) "
                        f"{_summary(workload, outcome)}"
                    )
    meta["load average at end"] = [round(x, 2) for x in os.getloadavg()]
    meta["wall time (s)"] = round(time.perf_counter() - started, 1)
    populations = cache.populations + (postgres.populations if postgres else [])
    report = Report(meta, chosen, outcomes, populations, judge_targets=profile == "full")
    print(report.text())
    save(report, args.results_dir, log)
    return 1 if report.problems() else 0


def save(report: Report, results_dir: Path, log: Log = _stderr) -> Path:
    """Write ``<stamp>.json`` and ``<stamp>.md`` plus ``latest.*`` copies; return the JSON."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    data = json.dumps(report.to_json(), indent=2)
    markdown = report.markdown()
    for name in (stamp, "latest"):
        (results_dir / f"{name}.json").write_text(data + "\n")
        (results_dir / f"{name}.md").write_text(markdown)
    log(f"results written to {results_dir / stamp}.json and .md")
    return results_dir / f"{stamp}.json"


if __name__ == "__main__":
    sys.exit(main())
