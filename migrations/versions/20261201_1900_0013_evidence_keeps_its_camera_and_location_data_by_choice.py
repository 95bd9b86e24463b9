"""evidence keeps its camera and location data by choice

Reviewers' copies of a picture lose their GPS and device fields unless the merchant chose,
for that file, to keep them. Files stored before keep nothing: the locker promised so.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('keep_metadata', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_column('keep_metadata')
