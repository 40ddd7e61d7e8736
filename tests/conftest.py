"""Shared fixtures: a fresh database per test on SQLite, PostgreSQL and MariaDB/MySQL.

PostgreSQL and MySQL tests need the servers named by ``TRACKLINE_TEST_POSTGRES_URI`` and
``TRACKLINE_TEST_MYSQL_URI`` (defaults: the services of the development machine). Where one
cannot be reached the test is skipped with the reason, unless ``TRACKLINE_REQUIRE_SERVICES=1``
(set by ``.ci/run``), which turns the skip into a failure so CI never passes without them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URI = os.environ.get(
    "TRACKLINE_TEST_POSTGRES_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URI = os.environ.get("TRACKLINE_TEST_MYSQL_URI", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE_SERVICES = os.environ.get("TRACKLINE_REQUIRE_SERVICES") == "1"


def unreachable(service: str, reason: object) -> None:
    """Skip (or, in CI, fail) a test whose service is down."""
    message = f"{service} is unreachable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (TRACKLINE_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from trackline.store.sql.engine import Database

    path = tmp_path_factory.mktemp("template") / "trackline.db"
    Database(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def sqlite_uri(tmp_path: Path, _sqlite_template: Path) -> str:
    """A SQLite database at the head revision, empty, in the test's own folder."""
    path = tmp_path / "trackline.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema (dropped afterwards), as a database URI."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URI, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:
        admin.dispose()
        unreachable("PostgreSQL", exc)
    url = sa.make_url(POSTGRES_URI).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def mysql_uri() -> Iterator[str]:
    """A fresh, empty MariaDB/MySQL database (dropped afterwards), as a database URI."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(MYSQL_URI, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except Exception as exc:
        admin.dispose()
        unreachable("MySQL/MariaDB", exc)
    url = sa.make_url(MYSQL_URI).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE `{name}`")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def db_uri(request: pytest.FixtureRequest) -> str:
    """A fresh database URI on each backend in turn."""
    uri: str = request.getfixturevalue(f"{request.param}_uri")
    return uri


# -- S3: moto in server mode on a loopback port (tests/s3.py) -------------------------------


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a moto S3 server for the whole session (skipped if moto cannot
    start)."""
    from tests.s3 import start_moto, stop_moto

    try:
        server = start_moto(tmp_path_factory.mktemp("moto"))
    except RuntimeError as exc:
        unreachable("The moto S3 server", exc)
    try:
        yield server.endpoint
    finally:
        stop_moto(server)


@pytest.fixture
def s3_env(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment of a client of the moto server (MLFLOW_S3_ENDPOINT_URL, fake AWS
    credentials, no AWS config files); its endpoint."""
    from tests.s3 import s3_environment

    for name, value in s3_environment(moto_endpoint, tmp_path).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return moto_endpoint


@pytest.fixture
def s3_bucket(s3_env: str) -> Iterator[str]:
    """A new, empty bucket on the moto server (deleted afterwards); its name."""
    from tests.s3 import new_bucket_name, remove_bucket, s3_client

    client = s3_client(s3_env)
    name = new_bucket_name()
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        remove_bucket(client, name)
