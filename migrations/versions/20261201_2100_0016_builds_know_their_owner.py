"""builds know their owner

A build records the process building it (a token whose lease in the bundle work folder
proves whether that process lives), so that the next start takes over a build whose
process was killed at once instead of after the five-minute stale timeout.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bundle_build") as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bundle_build") as batch_op:
        batch_op.drop_column("owner")
