"""The model registry: registered models, versions, tags, aliases and the audit trail.

Revision ID: 0003_registry
Revises: 0002_logged_models
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003_registry"
down_revision = "0002_logged_models"
branch_labels = None
depends_on = None


def _key(length: int = 250) -> sa.types.TypeEngine[str]:
    # Keys and names compare byte for byte, also under MySQL's case-insensitive default.
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _long_text() -> sa.types.TypeEngine[str]:
    # Up to 100,000 characters (MySQL's TEXT holds 65,535 bytes).
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def _model_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["registered_model_id"],
        ["registered_models.id"],
        name=f"fk_{table}_registered_model_id_registered_models",
        ondelete="CASCADE",
    )


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
        name=f"fk_{table}_registered_model_id_model_versions",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", _key(256), nullable=False),
        sa.Column("description", _long_text()),
        sa.Column("user_id", sa.String(256)),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registered_models"),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    op.create_index(
        "ix_registered_models_last_updated_time", "registered_models", ["last_updated_time"]
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("registered_model_id", sa.Integer, nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("value", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint("registered_model_id", "key", name="pk_registered_model_tags"),
        _model_fk("registered_model_tags"),
    )
    op.create_table(
        "model_versions",
        sa.Column("registered_model_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("description", _long_text()),
        sa.Column("user_id", sa.String(256)),
        sa.Column("current_stage", sa.String(20), nullable=False, server_default="None"),
        sa.Column("source", sa.Text),
        sa.Column("storage_location", sa.Text),
        sa.Column("run_id", _key(256)),
        sa.Column("model_id", sa.String(64)),
        sa.Column("run_link", sa.Text),
        sa.Column("status", sa.String(20), nullable=False, server_default="READY"),
        sa.Column("status_message", sa.String(500)),
        sa.PrimaryKeyConstraint("registered_model_id", "version", name="pk_model_versions"),
        _model_fk("model_versions"),
    )
    op.create_index(
        "ix_model_versions_registered_model_id_current_stage_version",
        "model_versions",
        ["registered_model_id", "current_stage", "version"],
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_index("ix_model_versions_last_updated_time", "model_versions", ["last_updated_time"])
    op.create_table(
        "model_version_tags",
        sa.Column("registered_model_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("value", _long_text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "registered_model_id", "version", "key", name="pk_model_version_tags"
        ),
        _version_fk("model_version_tags"),
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("registered_model_id", sa.Integer, nullable=False),
        sa.Column("alias", _key(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("registered_model_id", "alias", name="pk_registered_model_aliases"),
        _version_fk("registered_model_aliases"),
    )
    op.create_index(
        "ix_registered_model_aliases_registered_model_id_version",
        "registered_model_aliases",
        ["registered_model_id", "version"],
    )
    op.create_table(
        "registry_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.String(256)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("registered_model_id", sa.Integer, nullable=False),
        sa.Column("name", _key(256), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("key", _key(256)),
        sa.Column("old_value", _long_text()),
        sa.Column("new_value", _long_text()),
        sa.PrimaryKeyConstraint("event_id", name="pk_registry_events"),
    )
    op.create_index(
        "ix_registry_events_registered_model_id_event_id",
        "registry_events",
        ["registered_model_id", "event_id"],
    )
    op.create_index("ix_registry_events_name_event_id", "registry_events", ["name", "event_id"])
