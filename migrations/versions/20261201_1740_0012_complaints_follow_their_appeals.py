"""complaints follow their appeals

A complaint's status stayed "open" whatever became of its appeal. It is now set by the
appeal's lifecycle; complaints stored before are given the status their appeal's state
means (appealed from submission to the last ruling; closed once final, withdrawn or
expired).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

APPEALED = ("submitted", "in_review", "info_requested", "decided", "second_review")
CLOSED = ("final", "withdrawn", "expired")


def upgrade() -> None:
    complaint = sa.table("complaint", sa.column("id"), sa.column("status"))
    appeal = sa.table("appeal", sa.column("complaint_id"), sa.column("state"))
    for status, states in (("appealed", APPEALED), ("closed", CLOSED)):
        having = sa.select(appeal.c.complaint_id).where(appeal.c.state.in_(states))
        op.execute(
            complaint.update().where(complaint.c.id.in_(having)).values(status=status)
        )


def downgrade() -> None:
    pass  # the statuses are right under either schema
