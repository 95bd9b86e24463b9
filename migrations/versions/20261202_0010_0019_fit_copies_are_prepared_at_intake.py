"""fit copies are prepared at intake

A bundle at the platform's size limit re-encoded every picture that had to shrink while the
merchant waited for the build. The copies the fit is likely to take are now made after
intake, in the background, and kept as blobs; each item lists them (side, quality, pixels,
bytes and blob key) so that a build copies their bytes instead of encoding.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 00:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fit_copies", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.drop_column("fit_copies")
