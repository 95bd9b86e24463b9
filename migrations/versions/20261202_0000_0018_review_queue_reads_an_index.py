"""review queue reads an index

The queue lists the appeals waiting on the platform (a few states) soonest due first; with
thousands of decided and withdrawn appeals beside them it read the whole table to find and
sort them. One index on (state, review_due_at, id) serves the filter, the order and the count.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 00:00:00
"""

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_appeal_queue", "appeal", ["state", "review_due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_appeal_queue", table_name="appeal")
