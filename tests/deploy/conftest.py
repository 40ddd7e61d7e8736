"""The notes' scenario 3 on real components: PostgreSQL databases made for one test module,
a moto S3 server (tests/s3.py) and ``trackline server`` processes on loopback ports.

* :func:`scratch_database` creates a database of its own on the PostgreSQL server of
  ``TRACKLINE_TEST_POSTGRES_URI`` (never touching ``test`` or ``postgres`` beyond connecting
  to them) and drops it afterwards, connections and all.
* :func:`start_scenario_server` starts ``trackline server`` with the moto server's
  environment (endpoint, fake credentials).
* :func:`admin` runs statements on the PostgreSQL server outside any transaction.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.compat.conftest import ServerProcess, start_server, trackline_command
from tests.conftest import POSTGRES_URI, unreachable
from tests.s3 import new_bucket_name, remove_bucket, s3_client, s3_environment


@contextmanager
def admin(database: str | None = None) -> Iterator[sa.Connection]:
    """An autocommit connection to the test PostgreSQL server (to ``database`` if given)."""
    url = sa.make_url(POSTGRES_URI)
    if database is not None:
        url = url.set(database=database)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def database_uri(name: str) -> str:
    """The URI of database ``name`` on the test PostgreSQL server, as users write it."""
    url = sa.make_url(POSTGRES_URI).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


def new_database_name(purpose: str) -> str:
    """A database name no other test uses."""
    return f"tl_{purpose}_{uuid.uuid4().hex[:10]}"


def drop_database(name: str) -> None:
    """Drop database ``name`` if it exists, closing its connections first."""
    with admin() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(purpose: str, *, create: bool = True) -> Iterator[str]:
    """A new, empty database's name (created unless ``create`` is false), dropped on exit.

    Skips the test (fails under ``TRACKLINE_REQUIRE_SERVICES=1``) when PostgreSQL is down."""
    name = new_database_name(purpose)
    try:
        with admin() as conn:
            if create:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        unreachable("PostgreSQL", exc)
    try:
        yield name
    finally:
        drop_database(name)


def trackline_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m trackline <args>`` in a subprocess, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "trackline", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start_scenario_server(
    root: Path, endpoint: str | None, options: Sequence[str]
) -> ServerProcess:
    """``trackline server <options>`` in ``root``; with ``endpoint``, the environment of a
    client of that S3 server (``MLFLOW_S3_ENDPOINT_URL``, fake credentials)."""
    root.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        if endpoint is not None:
            for name, value in s3_environment(endpoint, root).items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
        return start_server(trackline_command(*options), root, root)


@pytest.fixture(scope="module")
def module_bucket(moto_endpoint: str) -> Iterator[str]:
    """A bucket on the moto server for the whole module (emptied and deleted afterwards)."""
    client = s3_client(moto_endpoint)
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        remove_bucket(client, name)
