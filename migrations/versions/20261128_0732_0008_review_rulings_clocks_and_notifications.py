"""review, rulings, clocks and notifications

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 07:32:06.477284
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clock_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_clock_pause_appeal_id_appeal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_pause'))
    )
    with op.batch_alter_table('clock_pause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_pause_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('info_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('asked_on_version', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_info_request_appeal_id_appeal')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['app_user.id'], name=op.f('fk_info_request_asked_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_request'))
    )
    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_info_request_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_state', sa.String(length=16), nullable=False),
    sa.Column('email_attempts', sa.Integer(), nullable=False),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_notification_appeal_id_appeal')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_email_state'), ['email_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    op.create_table('review_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_review_note_appeal_id_appeal')),
    sa.ForeignKeyConstraint(['author_id'], ['app_user.id'], name=op.f('fk_review_note_author_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_note'))
    )
    with op.batch_alter_table('review_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_note_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('ruling',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('instance', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('upheld', 'partially_upheld', 'rejected', name='ruling_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('insufficient', sa.JSON(), nullable=False),
    sa.Column('rule_applied', sa.Text(), nullable=False),
    sa.Column('merchant_measures', sa.JSON(), nullable=False),
    sa.Column('buyer_measures', sa.JSON(), nullable=False),
    sa.Column('restore_points', sa.Boolean(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_ruling_appeal_id_appeal')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['app_user.id'], name=op.f('fk_ruling_reviewer_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ruling')),
    sa.UniqueConstraint('appeal_id', 'instance', name='uq_ruling_instance')
    )
    with op.batch_alter_table('ruling', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ruling_appeal_id'), ['appeal_id'], unique=False)

    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_appeal_review_due_at'), ['review_due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_review_due_at'))
        batch_op.drop_column('review_due_at')

    with op.batch_alter_table('ruling', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ruling_appeal_id'))

    op.drop_table('ruling')
    with op.batch_alter_table('review_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_note_appeal_id'))

    op.drop_table('review_note')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))
        batch_op.drop_index(batch_op.f('ix_notification_email_state'))
        batch_op.drop_index(batch_op.f('ix_notification_appeal_id'))

    op.drop_table('notification')
    with op.batch_alter_table('info_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_info_request_appeal_id'))

    op.drop_table('info_request')
    with op.batch_alter_table('clock_pause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_pause_appeal_id'))

    op.drop_table('clock_pause')
