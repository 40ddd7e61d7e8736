"""Populate a PostgreSQL database for the search workloads through an implementation's own store.

This file runs as a script inside the implementation's own virtualenv, like
``bench/workloads.py``, with the URI of a fresh database the harness created
(``bench/postgres.py``)::

    python bench/pg_workloads.py --database-uri postgresql://... --impl mlflow|trackline \
        --workload populate --params JSON --workdir DIR --backend postgresql

The commands are those of ``bench/workloads.py`` (``populate`` and its writers) with the
tracking URI set to that database: MLflow's SQL store reaches it through psycopg2,
trackline's through psycopg. Each implementation creates its own schema on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from bench import workloads as wl
except ImportError:  # run as a script: bench/ itself is on sys.path
    import workloads as wl  # type: ignore[no-redef,import-not-found]


class PostgresContext(wl.Context):
    """An implementation pointed at a PostgreSQL database."""

    script = Path(__file__).resolve()

    def __init__(self, impl: str, workdir: Path, uri: str) -> None:
        super().__init__(impl, workdir)
        self.uri = uri

    def child_args(self) -> list[str]:
        """Writers get the database's URI too."""
        return ["--database-uri", self.uri]


COMMANDS: dict[str, Callable[[wl.Context, wl.Params], wl.Result]] = {"populate": wl.populate}
SUBCOMMANDS: dict[str, Callable[[wl.Context, wl.Params], dict[str, Any]]] = {
    "populate_writer": wl.populate_writer,
}


def main(argv: list[str] | None = None) -> int:
    """Run one command (or writer) on the database at ``--database-uri``; print its result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-uri", required=True, help="postgresql://...")
    parser.add_argument("--impl", required=True, choices=["mlflow", "trackline"])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--params", default="{}", help="the workload's sizes as JSON")
    parser.add_argument("--workdir", type=Path, default=Path.cwd())
    parser.add_argument("--backend", default="postgresql", choices=["postgresql"])
    args = parser.parse_args(argv)
    params: wl.Params = json.loads(args.params)
    workdir = args.workdir.resolve()
    os.chdir(workdir)
    ctx = PostgresContext(args.impl, workdir, args.database_uri)
    if args.workload in SUBCOMMANDS:
        wl._emit(SUBCOMMANDS[args.workload](ctx, params))
        return 0
    if args.workload not in COMMANDS:
        parser.error(f"unknown workload {args.workload!r}; known: {', '.join(sorted(COMMANDS))}")
    result = COMMANDS[args.workload](ctx, params)
    wl._emit({"figures": result.figures, "checks": result.checks, "details": result.details})
    return 0


if __name__ == "__main__":
    sys.exit(main())
