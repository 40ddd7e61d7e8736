"""The SQL schema of the tracking store, as SQLAlchemy Core tables.

Names follow MLflow's schema (``runs.run_uuid``, ``latest_metrics``, ...) so that its users
and importers find what they expect. The tables here are the *head* of the migrations in
``migrations/versions``; ``tests/store/test_migrations.py`` checks that upgrading an empty
database gives exactly these tables, columns and indexes.

Indexes serve the searches: runs of an experiment by start time, metric history of a key
ordered by time, runs ordered or filtered by a latest metric, params and tags by key; the
registry's latest version per stage, versions by run, and the audit trail of one model.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql


def long_text() -> Text:
    """A text column for values up to MLflow's registry limit of 100,000 characters (MySQL's
    plain TEXT holds only 65,535 bytes)."""
    return Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def key_string(length: int = 250) -> String:
    """A key or name column: compared byte for byte on every backend (MySQL's default
    collation would make ``alpha`` and ``Alpha`` the same param)."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


#: The alembic revision these tables correspond to; the store refuses older databases.
SCHEMA_REVISION = "0004_request_keys"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

RUN_STATUSES = ("SCHEDULED", "FAILED", "FINISHED", "RUNNING", "KILLED")
SOURCE_TYPES = ("NOTEBOOK", "JOB", "LOCAL", "UNKNOWN", "PROJECT")

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", key_string(256), nullable=False),
    Column("artifact_location", String(1000)),
    Column("lifecycle_stage", String(32), nullable=False, server_default="active"),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
    UniqueConstraint("name"),
    CheckConstraint("lifecycle_stage IN ('active', 'deleted')", name="lifecycle_stage"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", key_string(), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("experiment_id", "key"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("name", String(250)),
    Column("source_type", String(20), server_default="UNKNOWN"),
    Column("source_name", String(500)),
    Column("entry_point_name", String(50)),
    Column("user_id", String(256)),
    Column("status", String(9), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("deleted_time", BigInteger),
    Column("source_version", String(50)),
    Column("lifecycle_stage", String(20), nullable=False, server_default="active"),
    Column("artifact_uri", String(1000)),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    CheckConstraint(f"status IN {RUN_STATUSES!r}", name="status"),
    CheckConstraint(f"source_type IN {SOURCE_TYPES!r}", name="source_type"),
    CheckConstraint("lifecycle_stage IN ('active', 'deleted')", name="lifecycle_stage"),
    # Default listing: WHERE experiment_id IN (...) AND lifecycle_stage = ?
    # ORDER BY start_time DESC, run_uuid
    Index(None, "experiment_id", "lifecycle_stage", "start_time", "run_uuid"),
)

# Every point of every metric. The primary key makes an exact repeat of a point a no-op
# (MLflow's semantics) and, led by (run_uuid, key, timestamp, step), serves the history
# query in its order.
metrics = Table(
    "metrics",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", key_string(), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False, server_default="0"),
    Column("value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False, server_default="0"),
    PrimaryKeyConstraint("run_uuid", "key", "timestamp", "step", "value", "is_nan"),
    sqlite_with_rowid=False,  # keyed by the primary key alone: one b-tree, not two
)

# The latest point of each metric of each run: max by (step, timestamp, value).
# Searches filter and order on this table, never on ``metrics``. It repeats the run's
# experiment so that "order an experiment's runs by a metric" walks one index range,
# however many other experiments the database holds.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", key_string(), nullable=False),
    Column("value", Double, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", Boolean, nullable=False, server_default="0"),
    Column("experiment_id", Integer, nullable=False),
    PrimaryKeyConstraint("run_uuid", "key"),
    Index(None, "experiment_id", "key", "value"),
    sqlite_with_rowid=False,  # keyed by the primary key alone: one b-tree, not two
)

params = Table(
    "params",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", key_string(), nullable=False),
    Column("value", String(8000), nullable=False),
    PrimaryKeyConstraint("run_uuid", "key"),
    Index(None, "key"),
    sqlite_with_rowid=False,  # keyed by the primary key alone: one b-tree, not two
)

tags = Table(
    "tags",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", key_string(), nullable=False),
    Column("value", String(8000)),
    PrimaryKeyConstraint("run_uuid", "key"),
    Index(None, "key"),
    sqlite_with_rowid=False,  # keyed by the primary key alone: one b-tree, not two
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(36), nullable=False),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", key_string(500), nullable=False),
    Column("digest", key_string(36), nullable=False),
    Column("dataset_source_type", String(36), nullable=False),
    Column("dataset_source", Text, nullable=False),
    Column("dataset_schema", Text),
    Column("dataset_profile", Text),
    PrimaryKeyConstraint("experiment_id", "name", "digest"),
    UniqueConstraint("dataset_uuid"),
)

# Links: (DATASET, dataset_uuid) -> (RUN, run_uuid); (RUN_OUTPUT, run) -> (MODEL_OUTPUT, model).
inputs = Table(
    "inputs",
    metadata,
    Column("input_uuid", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source_id", String(36), nullable=False),
    Column("destination_type", String(36), nullable=False),
    Column("destination_id", String(36), nullable=False),
    Column("step", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("source_type", "source_id", "destination_type", "destination_id"),
    UniqueConstraint("input_uuid"),
    Index(None, "destination_type", "destination_id"),
)

input_tags = Table(
    "input_tags",
    metadata,
    Column("input_uuid", String(36), nullable=False),
    Column("name", key_string(255), nullable=False),
    Column("value", String(500), nullable=False),
    PrimaryKeyConstraint("input_uuid", "name"),
)


# -- logged models (MLflow 3) -------------------------------------------------------------

LOGGED_MODEL_STAGES = "lifecycle_stage IN ('active', 'deleted')"

# A model logged to an experiment (usually by a run); ``status`` is the protocol's number
# (PENDING=1, READY=2, UPLOAD_FAILED=3). ``source_run_id`` is not a foreign key: runs are
# only ever soft-deleted and a model outlives the run that logged it.
logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(36), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", key_string(500), nullable=False),
    Column("artifact_location", String(1000), nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False, server_default="active"),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", String(1000)),
    CheckConstraint(LOGGED_MODEL_STAGES, name="lifecycle_stage"),
    # Default listing: WHERE experiment_id IN (...) AND lifecycle_stage = 'active'
    # ORDER BY creation_timestamp_ms DESC, model_id
    Index(
        "ix_logged_models_listing",
        "experiment_id",
        "lifecycle_stage",
        "creation_timestamp_ms",
        "model_id",
    ),
    # ``runs:/<run>/<name>`` resolves through a search by name in the run's experiment.
    Index(None, "experiment_id", "name"),
    Index(None, "source_run_id"),
)


def _model_fk() -> ForeignKey:
    return ForeignKey("logged_models.model_id", ondelete="CASCADE")


logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column("model_id", String(36), _model_fk(), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("param_key", key_string(250), nullable=False),
    Column("param_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "param_key"),
    sqlite_with_rowid=False,
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(36), _model_fk(), nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Column("tag_key", key_string(250), nullable=False),
    Column("tag_value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "tag_key"),
    sqlite_with_rowid=False,
)

# Metric points logged with a ``model_id`` (a run's ``log-batch``). NaN is stored as 0 with
# ``is_nan`` set, as in ``metrics``; a point logged again at the same (key, timestamp, step,
# run) replaces the value.
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("model_id", String(36), _model_fk(), nullable=False),
    Column("metric_name", key_string(250), nullable=False),
    Column("metric_timestamp_ms", BigInteger, nullable=False),
    Column("metric_step", BigInteger, nullable=False),
    Column("metric_value", Double, nullable=False),
    Column("is_nan", Boolean, nullable=False, server_default="0"),
    Column("experiment_id", Integer, nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("dataset_uuid", String(36)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    PrimaryKeyConstraint("model_id", "metric_name", "metric_timestamp_ms", "metric_step", "run_id"),
    sqlite_with_rowid=False,
)

# -- idempotent creation ------------------------------------------------------------------

# The key a client sent with a create request (``X-Trackline-Idempotency-Key``), the kind of
# entity it created (``run``, ``logged_model``, ``model_version``) and that entity's id (a
# run's uuid, a logged model's id, ``<registered model id>/<version>``), written in the
# entity's transaction: a repeat of the request finds the entity here. No foreign key: keys
# of three kinds, and they expire after a day.
request_keys = Table(
    "request_keys",
    metadata,
    Column("key", key_string(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Index(None, "created_time"),
)


# -- model registry -----------------------------------------------------------------------

#: The stage of a deleted version: the row stays, so its number is never reused.
DELETED_STAGE = "Deleted_Internal"

# ``id`` is stable across renames: versions, tags, aliases and the audit trail refer to it.
registered_models = Table(
    "registered_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", key_string(256), nullable=False),
    Column("description", long_text()),
    Column("user_id", String(256)),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    UniqueConstraint("name"),
    Index(None, "last_updated_time"),
)


def _registered_model_fk() -> ForeignKey:
    return ForeignKey("registered_models.id", ondelete="CASCADE")


registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("registered_model_id", Integer, _registered_model_fk(), nullable=False),
    Column("key", key_string(), nullable=False),
    Column("value", long_text(), nullable=False),
    PrimaryKeyConstraint("registered_model_id", "key"),
)

# A deleted version keeps its row with ``current_stage = 'Deleted_Internal'`` and its
# source, run and description redacted, so that ``max(version) + 1`` never reuses it.
model_versions = Table(
    "model_versions",
    metadata,
    Column("registered_model_id", Integer, _registered_model_fk(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", long_text()),
    Column("user_id", String(256)),
    Column("current_stage", String(20), nullable=False, server_default="None"),
    Column("source", Text),
    Column("storage_location", Text),
    Column("run_id", key_string(256)),
    Column("model_id", String(64)),
    Column("run_link", Text),
    Column("status", String(20), nullable=False, server_default="READY"),
    Column("status_message", String(500)),
    PrimaryKeyConstraint("registered_model_id", "version"),
    # The latest version per stage: max(version) within (model, stage).
    Index(None, "registered_model_id", "current_stage", "version"),
    Index(None, "run_id"),
    Index(None, "last_updated_time"),
)


def _model_version_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
        ondelete="CASCADE",
    )


model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("registered_model_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", key_string(), nullable=False),
    Column("value", long_text(), nullable=False),
    PrimaryKeyConstraint("registered_model_id", "version", "key"),
    _model_version_fk(),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("registered_model_id", Integer, nullable=False),
    Column("alias", key_string(256), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("registered_model_id", "alias"),
    _model_version_fk(),
    Index(None, "registered_model_id", "version"),
)

# The audit trail: one row per change, never updated or deleted. ``registered_model_id`` is
# not a foreign key (the trail outlives the model); ``name`` is the model's name when the
# change happened.
registry_events = Table(
    "registry_events",
    metadata,
    Column(
        "event_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("timestamp", BigInteger, nullable=False),
    Column("user_id", String(256)),
    Column("action", String(64), nullable=False),
    Column("registered_model_id", Integer, nullable=False),
    Column("name", key_string(256), nullable=False),
    Column("version", Integer),
    Column("key", key_string(256)),
    Column("old_value", long_text()),
    Column("new_value", long_text()),
    Index(None, "registered_model_id", "event_id"),
    Index(None, "name", "event_id"),
)
