"""evidence page copies

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 07:16:03.697692
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_evidence_item_page_key'), ['page_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_item_page_key'))
        batch_op.drop_column('page_key')

