"""The first schema: experiments, runs, metrics, params, tags and run inputs.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_ACTIVE = "lifecycle_stage IN ('active', 'deleted')"
_NO_ROWID = {"sqlite_with_rowid": False}


def _key(length: int = 250) -> sa.types.TypeEngine[str]:
    # Keys and names compare byte for byte, also under MySQL's case-insensitive default.
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _run_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_uuid"], ["runs.run_uuid"], name=f"fk_{name}_run_uuid_runs", ondelete="CASCADE"
    )


def _experiment_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["experiment_id"],
        ["experiments.experiment_id"],
        name=f"fk_{name}_experiment_id_experiments",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", _key(256), nullable=False),
        sa.Column("artifact_location", sa.String(1000)),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        sa.Column("creation_time", sa.BigInteger),
        sa.Column("last_update_time", sa.BigInteger),
        sa.PrimaryKeyConstraint("experiment_id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
        sa.CheckConstraint(_ACTIVE, name="ck_experiments_lifecycle_stage"),
    )
    op.create_table(
        "experiment_tags",
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("value", sa.Text),
        sa.PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
        _experiment_fk("experiment_tags"),
    )
    op.create_table(
        "runs",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("name", sa.String(250)),
        sa.Column("source_type", sa.String(20), server_default="UNKNOWN"),
        sa.Column("source_name", sa.String(500)),
        sa.Column("entry_point_name", sa.String(50)),
        sa.Column("user_id", sa.String(256)),
        sa.Column("status", sa.String(9), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("deleted_time", sa.BigInteger),
        sa.Column("source_version", sa.String(50)),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False, server_default="active"),
        sa.Column("artifact_uri", sa.String(1000)),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", name="pk_runs"),
        _experiment_fk("runs"),
        sa.CheckConstraint(
            "status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING', 'KILLED')",
            name="ck_runs_status",
        ),
        sa.CheckConstraint(
            "source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')",
            name="ck_runs_source_type",
        ),
        sa.CheckConstraint(_ACTIVE, name="ck_runs_lifecycle_stage"),
    )
    op.create_index(
        "ix_runs_experiment_id_lifecycle_stage_start_time_run_uuid",
        "runs",
        ["experiment_id", "lifecycle_stage", "start_time", "run_uuid"],
    )
    op.create_table(
        "metrics",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint(
            "run_uuid", "key", "timestamp", "step", "value", "is_nan", name="pk_metrics"
        ),
        _run_fk("metrics"),
        **_NO_ROWID,
    )
    op.create_table(
        "latest_metrics",
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "key", name="pk_latest_metrics"),
        _run_fk("latest_metrics"),
        **_NO_ROWID,
    )
    op.create_index(
        "ix_latest_metrics_experiment_id_key_value",
        "latest_metrics",
        ["experiment_id", "key", "value"],
    )
    for table, value_nullable in (("params", False), ("tags", True)):
        op.create_table(
            table,
            sa.Column("run_uuid", sa.String(32), nullable=False),
            sa.Column("key", _key(), nullable=False),
            sa.Column("value", sa.String(8000), nullable=value_nullable),
            sa.PrimaryKeyConstraint("run_uuid", "key", name=f"pk_{table}"),
            _run_fk(table),
            **_NO_ROWID,
        )
        op.create_index(f"ix_{table}_key", table, ["key"])
    op.create_table(
        "datasets",
        sa.Column("dataset_uuid", sa.String(36), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _key(500), nullable=False),
        sa.Column("digest", _key(36), nullable=False),
        sa.Column("dataset_source_type", sa.String(36), nullable=False),
        sa.Column("dataset_source", sa.Text, nullable=False),
        sa.Column("dataset_schema", sa.Text),
        sa.Column("dataset_profile", sa.Text),
        sa.PrimaryKeyConstraint("experiment_id", "name", "digest", name="pk_datasets"),
        sa.UniqueConstraint("dataset_uuid", name="uq_datasets_dataset_uuid"),
        _experiment_fk("datasets"),
    )
    op.create_table(
        "inputs",
        sa.Column("input_uuid", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source_id", sa.String(36), nullable=False),
        sa.Column("destination_type", sa.String(36), nullable=False),
        sa.Column("destination_id", sa.String(36), nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint(
            "source_type", "source_id", "destination_type", "destination_id", name="pk_inputs"
        ),
        sa.UniqueConstraint("input_uuid", name="uq_inputs_input_uuid"),
    )
    op.create_index(
        "ix_inputs_destination_type_destination_id",
        "inputs",
        ["destination_type", "destination_id"],
    )
    op.create_table(
        "input_tags",
        sa.Column("input_uuid", sa.String(36), nullable=False),
        sa.Column("name", _key(255), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("input_uuid", "name", name="pk_input_tags"),
    )
