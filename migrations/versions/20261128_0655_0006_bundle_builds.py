"""bundle builds

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 06:55:06.063369
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bundle_build',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'ready', 'failed', name='build_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('pdf_key', sa.String(length=64), nullable=True),
    sa.Column('zip_key', sa.String(length=64), nullable=True),
    sa.Column('pdf_size', sa.BigInteger(), nullable=True),
    sa.Column('zip_size', sa.BigInteger(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_bundle_build_appeal_id_appeal')),
    sa.ForeignKeyConstraint(['version_id'], ['appeal_version.id'], name=op.f('fk_bundle_build_version_id_appeal_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundle_build')),
    sa.UniqueConstraint('version_id', name=op.f('uq_bundle_build_version_id'))
    )
    with op.batch_alter_table('bundle_build', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bundle_build_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bundle_build_pdf_key'), ['pdf_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_bundle_build_zip_key'), ['zip_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bundle_build', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bundle_build_zip_key'))
        batch_op.drop_index(batch_op.f('ix_bundle_build_pdf_key'))
        batch_op.drop_index(batch_op.f('ix_bundle_build_appeal_id'))

    op.drop_table('bundle_build')
