"""Logged models (MLflow 3's log_model) and the keys of idempotent run creation.

Revision ID: 0002_logged_models
Revises: 0001_initial
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002_logged_models"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_NO_ROWID = {"sqlite_with_rowid": False}


def _key(length: int = 250) -> sa.types.TypeEngine[str]:
    # Keys and names compare byte for byte, also under MySQL's case-insensitive default.
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"],
        ["logged_models.model_id"],
        name=f"fk_{table}_model_id_logged_models",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("name", _key(500), nullable=False),
        sa.Column("artifact_location", sa.String(1000), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
        sa.Column("model_type", sa.String(500)),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("status_message", sa.String(1000)),
        sa.PrimaryKeyConstraint("model_id", name="pk_logged_models"),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name="fk_logged_models_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "lifecycle_stage IN ('active', 'deleted')", name="ck_logged_models_lifecycle_stage"
        ),
    )
    op.create_index(
        "ix_logged_models_listing",
        "logged_models",
        ["experiment_id", "lifecycle_stage", "creation_timestamp_ms", "model_id"],
    )
    op.create_index(
        "ix_logged_models_experiment_id_name", "logged_models", ["experiment_id", "name"]
    )
    op.create_index("ix_logged_models_source_run_id", "logged_models", ["source_run_id"])
    op.create_table(
        "logged_model_params",
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("param_key", _key(), nullable=False),
        sa.Column("param_value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "param_key", name="pk_logged_model_params"),
        _model_fk("logged_model_params"),
        **_NO_ROWID,
    )
    op.create_table(
        "logged_model_tags",
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("tag_key", _key(), nullable=False),
        sa.Column("tag_value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "tag_key", name="pk_logged_model_tags"),
        _model_fk("logged_model_tags"),
        **_NO_ROWID,
    )
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("metric_name", _key(), nullable=False),
        sa.Column("metric_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("metric_step", sa.BigInteger, nullable=False),
        sa.Column("metric_value", sa.Double, nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("dataset_uuid", sa.String(36)),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.PrimaryKeyConstraint(
            "model_id",
            "metric_name",
            "metric_timestamp_ms",
            "metric_step",
            "run_id",
            name="pk_logged_model_metrics",
        ),
        _model_fk("logged_model_metrics"),
        **_NO_ROWID,
    )
    op.create_table(
        "request_keys",
        sa.Column("key", _key(128), nullable=False),
        sa.Column("run_uuid", sa.String(32), nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_request_keys"),
        sa.ForeignKeyConstraint(
            ["run_uuid"],
            ["runs.run_uuid"],
            name="fk_request_keys_run_uuid_runs",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_request_keys_created_time", "request_keys", ["created_time"])
