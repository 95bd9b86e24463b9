"""appeals and their lifecycle

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 06:05:28.103076
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'in_review', 'info_requested', 'decided', 'second_review', 'final', 'withdrawn', 'expired', name='appeal_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('category', sa.Enum('return_abuse', 'extortion', 'fake_transaction', 'professional_claimant', 'competitor_sabotage', 'other', name='appeal_category', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('remedies', sa.JSON(), nullable=False),
    sa.Column('first_reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('submission_count', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'withdrawn', 'expired') OR submitted_at IS NOT NULL", name=op.f('ck_appeal_submitted_has_time')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_appeal_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['first_reviewer_id'], ['app_user.id'], name=op.f('fk_appeal_first_reviewer_id_app_user')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['app_user.id'], name=op.f('fk_appeal_reviewer_id_app_user')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_appeal_shop_id_shop')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal')),
    sa.UniqueConstraint('complaint_id', name=op.f('uq_appeal_complaint_id')),
    sa.UniqueConstraint('number', name=op.f('uq_appeal_number'))
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_shop_id'), ['shop_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_shop_id'))

    op.drop_table('appeal')
