"""Connections to the backend database: engines, transactions and the schema's first use.

One :class:`Database` per URL and process. It hides the dialects' differences that matter for
correctness:

* **SQLite** runs in WAL mode with a long busy timeout. Every write transaction starts with
  ``BEGIN IMMEDIATE`` (so two writers queue on the busy handler instead of failing with
  "database is locked" when a read lock cannot be upgraded) and the writers of one process
  share one lock, so they never contend with each other inside SQLite. Reads use their own
  engine and see a consistent snapshot without blocking writers.
* **PostgreSQL and MySQL/MariaDB** use one pooled engine per process (each server worker
  has its own): ``TRACKLINE_DB_POOL_SIZE`` connections kept open (default 5), up to
  ``TRACKLINE_DB_MAX_OVERFLOW`` more under load (default 5), a request waits at most
  ``TRACKLINE_DB_POOL_TIMEOUT`` seconds for one (default 30), connections are replaced after
  ``TRACKLINE_DB_POOL_RECYCLE`` seconds (default 1800) and a new one gives up after
  ``TRACKLINE_DB_CONNECT_TIMEOUT`` seconds (default 10). MLflow's
  ``MLFLOW_SQLALCHEMYSTORE_POOL_SIZE``, ``..._MAX_OVERFLOW`` and ``..._POOL_RECYCLE`` are read
  when trackline's are unset. Every connection is pinged when taken from the pool, so a
  restarted database is picked up again without a restart of the server.

A database that cannot be reached (refused, down, restarting, not accepting connections, no
connection free in the pool) raises :class:`~trackline.exceptions.TemporarilyUnavailable`
(a server answers 503, which clients retry); the transaction of a write that was cut off is
rolled back by the database, so nothing is half written.

The schema is created at the head revision on first use. Many processes opening a fresh
database at once take a lock first (a file lock beside a SQLite file, an advisory lock on
PostgreSQL, ``GET_LOCK`` on MySQL), so exactly one of them creates it and the others wait.
A database at an older revision is left alone: ``trackline db upgrade URI`` upgrades it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import StaticPool

from trackline.exceptions import InvalidParameterValue, InvalidState, TemporarilyUnavailable
from trackline.store.sql.schema import SCHEMA_REVISION

__all__ = ["Database", "is_connection_error", "normalize_url", "pool_options", "upgrade"]

_MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x7472_6B6C  # "trkl": the advisory lock id of schema creation on PostgreSQL
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
            "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}  # fmt: skip
_EXTRAS = {"postgresql": ("psycopg", "postgres"), "mysql": ("pymysql", "mysql")}


def normalize_url(uri: str) -> URL:
    """Parse a database URI, choosing trackline's drivers when the URI names none."""
    try:
        url = make_url(uri)
    except Exception as exc:
        raise InvalidParameterValue(f"Invalid database URI {uri!r}: {exc}") from None
    if url.drivername in _DRIVERS:
        url = url.set(drivername=_DRIVERS[url.drivername])
    if url.get_backend_name() not in ("sqlite", "postgresql", "mysql"):
        raise InvalidParameterValue(
            f"Unsupported database {url.get_backend_name()!r} in {uri!r}: trackline stores "
            "runs in SQLite, PostgreSQL or MySQL/MariaDB"
        )
    return url


class Database:
    """Engines and transactions for one database URL."""

    def __init__(self, uri: str, *, create: bool = True) -> None:
        self.url = normalize_url(uri)
        self.dialect: str = self.url.get_backend_name()
        self._write_lock = _writer_lock(self.sqlite_path) if self.dialect == "sqlite" else None
        self.engine = self._make_engine(immediate=True)
        self.read_engine = self.engine
        # SQLite writers are serialised by the lock anyway, so they share one connection
        # kept open: no pool checkout per write (it is most of a log_metric's cost).
        self._writer: Connection | None = None
        self._pid = os.getpid()
        if self.dialect == "sqlite" and not self._in_memory:
            self.read_engine = self._make_engine(immediate=False)
        if create:
            try:
                ensure_schema(self)
            except BaseException:
                self.close()  # a database we refuse keeps no connection open
                raise

    @property
    def _in_memory(self) -> bool:
        return self.dialect == "sqlite" and self.url.database in (None, "", ":memory:")

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite URL (None for other dialects and in-memory)."""
        if self.dialect != "sqlite" or self._in_memory:
            return None
        return Path(str(self.url.database)).expanduser().resolve()

    def _make_engine(self, *, immediate: bool) -> Engine:
        if self.dialect != "sqlite":
            _require_driver(self.dialect)
            options = pool_options()
            connect_timeout = options.pop("connect_timeout")
            connect_args: dict[str, Any] = {}
            if "connect_timeout" not in self.url.query:
                connect_args["connect_timeout"] = connect_timeout
            if self.dialect == "postgresql":
                # Our statements are short index walks: PostgreSQL's JIT compiles some of
                # them (an ordered, OR-filtered search) for 1-3 s to save milliseconds.
                given = self.url.query.get("options", "")
                given = given if isinstance(given, str) else " ".join(given)
                if "jit" not in given:
                    connect_args["options"] = f"{given} -c jit=off".strip()
            engine = sa.create_engine(
                self.url, pool_pre_ping=True, connect_args=connect_args, **options
            )
            event.listen(engine, "handle_error", _mark_connect_failure)
            return engine
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 60}}
        if self._in_memory:
            kwargs["poolclass"] = StaticPool
        else:
            path = self.sqlite_path
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self.url, **kwargs)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from the driver so that BEGIN is ours to issue.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            for pragma in (
                "busy_timeout=60000",
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "foreign_keys=ON",
                "case_sensitive_like=ON",
                "cache_size=-32000",
                "temp_store=MEMORY",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Straight to the driver: this runs once per write, on the logging hot path.
            conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

        return engine

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside one write transaction: committed on exit, rolled back on error."""
        lock = self._write_lock
        if lock is None:
            with _translate_errors(self), self.engine.begin() as conn:
                yield conn
            return
        with lock, _translate_errors(self):
            conn = self._writer_connection()
            with conn.begin():
                yield conn

    def _writer_connection(self) -> Connection:
        if self._pid != os.getpid():
            self._after_fork()
        conn = self._writer
        if conn is None or conn.closed or conn.invalidated:
            conn = self._writer = self.engine.connect()
        return conn

    def _after_fork(self) -> None:
        # A forked child must not use its parent's SQLite connections: forget them without
        # closing (closing would touch the parent's file handles) and start afresh.
        self._pid = os.getpid()
        self._writer = None
        self.engine.dispose(close=False)
        if self.read_engine is not self.engine:
            self.read_engine.dispose(close=False)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads that see one consistent snapshot."""
        if self._pid != os.getpid():
            self._after_fork()
        with _translate_errors(self), self.read_engine.connect() as conn:
            yield conn

    def close(self) -> None:
        lock = self._write_lock or contextlib.nullcontext()
        with lock:
            if self._writer is not None and self._pid == os.getpid():
                self._writer.close()
            self._writer = None
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


_writer_locks: dict[Path | None, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(path: Path | None) -> threading.RLock:
    """The lock of a SQLite file's writers in this process, shared by all its Databases."""
    if path is None:  # in-memory: one Database, its own lock
        return threading.RLock()
    with _writer_locks_guard:
        return _writer_locks.setdefault(path, threading.RLock())


def _require_driver(dialect: str) -> None:
    module, extra = _EXTRAS[dialect]
    try:
        __import__(module)
    except ImportError:
        from trackline.exceptions import MissingDependency

        raise MissingDependency(module, extra, f"{dialect} backend stores") from None


# -- pool settings and unreachable databases ----------------------------------------------

#: (create_engine keyword, trackline's variable, MLflow's twin or None, default).
_POOL_SETTINGS = (
    ("pool_size", "TRACKLINE_DB_POOL_SIZE", "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", 5),
    ("max_overflow", "TRACKLINE_DB_MAX_OVERFLOW", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW", 5),
    ("pool_timeout", "TRACKLINE_DB_POOL_TIMEOUT", None, 30),
    ("pool_recycle", "TRACKLINE_DB_POOL_RECYCLE", "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE", 1800),
    ("connect_timeout", "TRACKLINE_DB_CONNECT_TIMEOUT", None, 10),
)


def pool_options(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """The connection pool settings of a PostgreSQL/MySQL engine, from the environment
    (see the module's documentation); InvalidParameterValue for a value that is not a
    whole number in range."""
    env = os.environ if environ is None else environ
    options: dict[str, int] = {}
    for keyword, name, twin, default in _POOL_SETTINGS:
        used = name if env.get(name, "").strip() or twin is None else twin
        text = env.get(used, "").strip()
        if not text:
            options[keyword] = default
            continue
        try:
            value = int(text)
        except ValueError:
            value = -1
        lowest = 1 if keyword in ("pool_size", "pool_timeout", "connect_timeout") else 0
        if keyword == "pool_recycle" and value == -1 and text == "-1":
            value = lowest = -1  # SQLAlchemy's "never recycle"
        if value < lowest:
            raise InvalidParameterValue(
                f"{used}={text!r}: expected a whole number of at least {lowest}"
            )
        options[keyword] = value
    return options


def _mark_connect_failure(context: ExceptionContext) -> None:
    """A DBAPI error while opening a connection (no connection yet) means the database
    cannot be reached, whatever the driver's wording: flag it as a disconnect."""
    if context.connection is None and not context.is_disconnect:
        context.is_disconnect = True


#: psycopg SQLSTATEs of a lost or refused connection: class 08, and the server shutting
#: down or starting (57P01-57P03); MySQL error numbers of the same (2002/2003 cannot
#: connect, 2006 gone away, 2013 lost, 1040 too many connections, 1053 shutdown, 1927 killed,
#: and PyMySQL's 0 for a connection it already closed).
_LOST_SQLSTATES = ("57P01", "57P02", "57P03")
_LOST_MYSQL = (0, 2002, 2003, 2006, 2013, 1040, 1053, 1927)
_LOST_TEXT = (
    "connection refused", "could not connect", "can't connect", "server closed",
    "connection is closed", "unable to open database", "lost connection",
    "terminating connection", "connection already closed", "gone away",
)  # fmt: skip


@contextlib.contextmanager
def _translate_errors(db: Database) -> Iterator[None]:
    """Turn "cannot reach the database" into TEMPORARILY_UNAVAILABLE (a 503, retried by clients)."""
    try:
        yield
    except DBAPIError as exc:
        if is_connection_error(exc):
            raise TemporarilyUnavailable(
                f"The backend database {_display(db)} cannot be reached: "
                + " ".join(str(exc.orig).split())
            ) from exc
        raise
    except PoolTimeout as exc:  # every pooled connection busy for pool_timeout
        raise TemporarilyUnavailable(
            f"The backend database {_display(db)} is busy: no connection became free in "
            f"time ({exc}); raise TRACKLINE_DB_POOL_SIZE or add server processes"
        ) from exc


def is_connection_error(exc: DBAPIError) -> bool:
    """Whether a database error means the connection was lost or could not be made (rather
    than a problem with the statement)."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _LOST_SQLSTATES):
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _LOST_MYSQL:
        return True
    text = str(orig).lower()
    return any(s in text for s in _LOST_TEXT)


# -- schema -------------------------------------------------------------------------------


def current_revision(conn: Connection) -> str | None:
    """The alembic revision of the database, None when it has no trackline schema."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _fast_revision(db: Database) -> str | None:
    try:
        with db.read_engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except (OperationalError, ProgrammingError):
        return None


def ensure_schema(db: Database) -> None:
    """Create the schema at head on a fresh database; refuse one at another revision."""
    if _fast_revision(db) == SCHEMA_REVISION:
        return
    with _translate_errors(db), _schema_lock(db) as conn:
        revision = current_revision(conn)
        if revision is None:
            if _has_foreign_tables(conn):
                raise InvalidState(
                    f"The database {_display(db)} holds tables that trackline did not create "
                    "(an MLflow database?). Point trackline at a new database."
                )
            _run_alembic(conn, "head")
            if conn.in_transaction():
                conn.commit()
        elif revision != SCHEMA_REVISION:
            raise InvalidState(
                f"The database {_display(db)} is at schema revision {revision!r}, this trackline "
                f"expects {SCHEMA_REVISION!r}. Back it up, then run: trackline db upgrade "
                f"{_display(db)}"
            )


def upgrade(uri: str) -> tuple[str | None, str]:
    """Upgrade the database at ``uri`` to the head revision; returns (before, after)."""
    db = Database(uri, create=False)
    try:
        with _translate_errors(db), _schema_lock(db) as conn:
            before = current_revision(conn)
            if before is None and _has_foreign_tables(conn):
                raise InvalidState(
                    f"The database {_display(db)} holds tables trackline did not create"
                )
            _run_alembic(conn, "head")
            if conn.in_transaction():
                conn.commit()
            return before, current_revision(conn) or ""
    finally:
        db.close()


def _display(db: Database) -> str:
    return db.url.render_as_string(hide_password=True)


def _has_foreign_tables(conn: Connection) -> bool:
    return bool(set(sa.inspect(conn).get_table_names()) - {"alembic_version"})


def _run_alembic(conn: Connection, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, target)


@contextlib.contextmanager
def _schema_lock(db: Database) -> Iterator[Connection]:
    """A connection holding the database-wide lock under which the schema is changed."""
    if db.dialect == "sqlite":
        path = db.sqlite_path
        if path is None:
            with db.engine.connect() as conn:
                yield conn
            return
        import fcntl

        with open(f"{path}.lock", "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                with db.engine.connect() as conn:
                    yield conn
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_LOCK_ID})")
            unlock = f"SELECT pg_advisory_unlock({_LOCK_ID})"
        else:
            conn.exec_driver_sql("SELECT GET_LOCK('trackline_schema', 300)")
            unlock = "SELECT RELEASE_LOCK('trackline_schema')"
        conn.commit()
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.exec_driver_sql(unlock)
            conn.commit()
