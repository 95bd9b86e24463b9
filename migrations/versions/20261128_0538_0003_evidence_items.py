"""evidence items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 05:38:42.588499
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('shipping_receipt', 'logistics_tracking', 'delivery_proof', 'chat_screenshot', 'chat_export', 'order_history', 'product_photo', 'payment_record', 'review_capture', 'other', name='evidence_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('caption', sa.String(length=300), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('blob_key', sa.String(length=64), nullable=False),
    sa.Column('normalized_key', sa.String(length=64), nullable=True),
    sa.Column('thumbnail_key', sa.String(length=64), nullable=True),
    sa.Column('content_key', sa.String(length=64), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('provenance', sa.Enum('platform_native', 'merchant_uploaded', name='provenance', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('redacted_key', sa.String(length=64), nullable=True),
    sa.Column('redacted_thumbnail_key', sa.String(length=64), nullable=True),
    sa.Column('redaction', sa.JSON(), nullable=True),
    sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('redacted_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_evidence_item_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_evidence_item_shop_id_shop')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_evidence_item_uploaded_by_id_app_user')),
    sa.ForeignKeyConstraint(['redacted_by_id'], ['app_user.id'], name=op.f('fk_evidence_item_redacted_by_id_app_user')),
    sa.CheckConstraint('(redacted_key IS NULL) = (redacted_at IS NULL) AND (redacted_key IS NULL) = (redaction IS NULL)', name=op.f('ck_evidence_item_redaction_complete')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_item')),
    sa.UniqueConstraint('shop_id', 'sha256', name='uq_evidence_item_shop_sha256')
    )
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_item_blob_key'), ['blob_key'], unique=False)
        batch_op.create_index('ix_evidence_item_complaint', ['complaint_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_content_key'), ['content_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_normalized_key'), ['normalized_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_thumbnail_key'), ['thumbnail_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_redacted_key'), ['redacted_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_redacted_thumbnail_key'), ['redacted_thumbnail_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_item_redacted_thumbnail_key'))
        batch_op.drop_index(batch_op.f('ix_evidence_item_redacted_key'))
        batch_op.drop_index(batch_op.f('ix_evidence_item_thumbnail_key'))
        batch_op.drop_index(batch_op.f('ix_evidence_item_normalized_key'))
        batch_op.drop_index(batch_op.f('ix_evidence_item_content_key'))
        batch_op.drop_index('ix_evidence_item_complaint')
        batch_op.drop_index(batch_op.f('ix_evidence_item_blob_key'))

    op.drop_table('evidence_item')
