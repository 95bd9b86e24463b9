"""rebuttal rows and submitted versions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 06:12:12.086790
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appeal_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_appeal_version_appeal_id_appeal')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['app_user.id'], name=op.f('fk_appeal_version_submitted_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_version')),
    sa.UniqueConstraint('appeal_id', 'number', name='uq_appeal_version_number')
    )
    with op.batch_alter_table('appeal_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_version_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('rebuttal_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('allegation', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('evidence_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_rebuttal_row_appeal_id_appeal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rebuttal_row'))
    )
    with op.batch_alter_table('rebuttal_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rebuttal_row_appeal_id'), ['appeal_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rebuttal_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rebuttal_row_appeal_id'))

    op.drop_table('rebuttal_row')
    with op.batch_alter_table('appeal_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_version_appeal_id'))

    op.drop_table('appeal_version')
