"""Idempotency keys for every kind of creation: ``request_keys`` records the kind of entity a
key created and the entity's id instead of a run's uuid (existing keys become kind ``run``),
and loses its foreign key to ``runs``.

Revision ID: 0004_request_keys
Revises: 0003_registry
Create Date: 2026-12-13
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_request_keys"
down_revision = "0003_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("request_keys", sa.Column("kind", sa.String(16), nullable=True))
    op.add_column("request_keys", sa.Column("entity_id", sa.String(64), nullable=True))
    op.execute("UPDATE request_keys SET kind = 'run', entity_id = run_uuid")
    # On SQLite the batch copies the table (it cannot drop a constraint in place); elsewhere
    # these are plain ALTER TABLE statements.
    with op.batch_alter_table("request_keys") as batch:
        batch.drop_constraint("fk_request_keys_run_uuid_runs", type_="foreignkey")
        batch.drop_column("run_uuid")
        batch.alter_column("kind", existing_type=sa.String(16), nullable=False)
        batch.alter_column("entity_id", existing_type=sa.String(64), nullable=False)
