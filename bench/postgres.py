"""PostgreSQL for the server workloads: ``bench/run --backend postgresql``.

Every repetition of a server workload gets a scratch database of its own on the PostgreSQL
server of ``--postgres-uri`` (default ``$TRACKLINE_BENCH_POSTGRES_URI``, else the test server
``postgresql://postgres@127.0.0.1:5432/test``), named ``bench_run_<impl>_<random>`` and dropped
after the workload, connections and all. Nothing else on the server is changed.

The search workloads read a population made through each implementation's own SQL store on
PostgreSQL (``bench/pg_workloads.py populate``: MLflow through psycopg2, trackline through
psycopg 3, the same drivers as their servers), kept as a *template database*
``bench_cache_<impl>_<size>_<fingerprint>``; a repetition's scratch database is
``CREATE DATABASE ... TEMPLATE`` of it, a file-level copy.
The fingerprint is that of the SQLite cache (implementation version + store code), so a change
to either populates again; ``--refresh-cache`` does too. Stale templates of the same
implementation and size are dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.report import Outcome

DEFAULT_URI = os.environ.get(
    "TRACKLINE_BENCH_POSTGRES_URI", "postgresql://postgres@127.0.0.1:5432/test"
)
RUN_PREFIX = "bench_run_"
#: The driver each implementation's URIs name. MLflow's SQL store is measured on psycopg2,
#: the driver of its documentation; SQLAlchemy 2.1 (in MLflow's virtualenv too) would pick
#: psycopg 3 for a bare postgresql:// URI. trackline's default driver is psycopg 3.
DRIVERS = {"mlflow": "postgresql+psycopg2", "trackline": "postgresql"}
CACHE_PREFIX = "bench_cache_"

#: Runs ``bench/pg_workloads.py populate`` for (impl, params, workdir, database URI).
Populate = Callable[[str, dict[str, Any], Path, str], Outcome]


class PostgresError(RuntimeError):
    """The PostgreSQL server cannot be used (unreachable, or a statement failed)."""


class Postgres:
    """Scratch and template databases on one PostgreSQL server."""

    def __init__(self, admin_uri: str = DEFAULT_URI) -> None:
        from sqlalchemy.engine import make_url

        url = make_url(admin_uri)
        if url.get_backend_name() != "postgresql":
            raise PostgresError(f"--postgres-uri must be a postgresql:// URI, got {admin_uri!r}")
        self._url = url.set(drivername="postgresql")

    @property
    def shown(self) -> str:
        """The server's URI without its password (for reports)."""
        return self._url.render_as_string(hide_password=True)

    def uri(self, database: str, impl: str | None = None) -> str:
        """The URI of ``database`` on this server, with ``impl``'s driver (see ``DRIVERS``;
        none: a plain ``postgresql://`` URI)."""
        url = self._url.set(database=database, drivername=DRIVERS.get(impl or "", "postgresql"))
        return url.render_as_string(hide_password=False)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement outside a transaction on the admin database; its rows."""
        import psycopg

        try:
            with psycopg.connect(self.uri(str(self._url.database)), autocommit=True) as conn:
                cursor = conn.execute(sql.encode(), params or None)
                return list(cursor.fetchall()) if cursor.description else []
        except psycopg.Error as exc:
            raise PostgresError(f"PostgreSQL at {self.shown}: {exc}") from exc

    def check(self) -> str:
        """The server's version string (raises PostgresError when it cannot be reached)."""
        return str(self.execute("SELECT version()")[0][0])

    def exists(self, database: str) -> bool:
        """Whether ``database`` exists."""
        return bool(self.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)))

    def databases(self, prefix: str) -> list[str]:
        """The databases whose names start with ``prefix``."""
        rows = self.execute("SELECT datname FROM pg_database")
        return sorted(str(row[0]) for row in rows if str(row[0]).startswith(prefix))

    def create(self, database: str, template: str | None = None) -> None:
        """``CREATE DATABASE`` (a copy of ``template`` when given)."""
        copy = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{database}"{copy}')

    def drop(self, database: str) -> None:
        """Drop ``database`` if it exists, ending its sessions first."""
        self.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    @contextlib.contextmanager
    def scratch(self, impl: str, template: str | None = None) -> Iterator[str]:
        """A new database for one repetition (a copy of ``template``); its URI. Dropped on
        exit."""
        name = f"{RUN_PREFIX}{impl}_{uuid.uuid4().hex[:12]}"
        self.create(name, template)
        try:
            yield self.uri(name, impl)
        finally:
            self.drop(name)


def template_name(impl: str, size: int, fingerprint: str, prefix: str = CACHE_PREFIX) -> str:
    """The template database of ``impl``'s population of ``size`` runs."""
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    return f"{prefix}{impl}_{size}_{digest}"


class PostgresPopulations:
    """The search populations as template databases (see the module's documentation)."""

    def __init__(
        self,
        pg: Postgres,
        fingerprint: Callable[[str, int], str],
        populate: Populate,
        *,
        procs: int = 2,
        refresh: bool = False,
        timeout: float = 4 * 3600,
        log: Callable[[str], None] = print,
        prefix: str = CACHE_PREFIX,
    ) -> None:
        self.pg = pg
        self.fingerprint = fingerprint
        self.populate = populate
        self.procs = procs
        self.refresh = refresh
        self.timeout = timeout
        self.log = log
        self.prefix = prefix
        self.populations: list[dict[str, Any]] = []
        self._fresh: set[str] = set()

    def ensure(self, impl: str, size: int) -> str:
        """The template database of ``impl``'s ``size`` runs, populated first if needed."""
        name = template_name(impl, size, self.fingerprint(impl, size), self.prefix)
        if name in self._fresh or (not self.refresh and self.pg.exists(name)):
            return name
        self.log(f"populating {size:,} runs for {impl} on PostgreSQL (template {name}) ...")
        partial = f"{name}_partial"
        self.pg.drop(partial)
        self.pg.create(partial)
        try:
            with tempfile.TemporaryDirectory(prefix=f"bench-pg-populate-{impl}-") as tmp:
                params = {"size": size, "procs": self.procs, "timeout_s": self.timeout}
                outcome = self.populate(impl, params, Path(tmp), self.pg.uri(partial, impl))
            if not outcome.ok or outcome.failed_checks():
                problem = outcome.error or "; ".join(outcome.failed_checks())
                raise RuntimeError(f"populating {size} runs for {impl} failed: {problem}")
            self.pg.drop(name)
            self.pg.execute(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
        finally:
            self.pg.drop(partial)
        for stale in self.pg.databases(f"{self.prefix}{impl}_{size}_"):
            if stale != name:
                self.pg.drop(stale)
        self._fresh.add(name)
        elapsed = float(outcome.details["elapsed_s"])
        self.populations.append(
            {
                "impl": impl,
                "size": size,
                "procs": self.procs,
                "elapsed_s": elapsed,
                "rate": size / elapsed,
                "path": f"{self.pg.shown.rsplit('/', 1)[0]}/{name}",
            }
        )
        return name
