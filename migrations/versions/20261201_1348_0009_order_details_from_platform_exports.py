"""order details from platform exports; one evidence file for several complaints

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:48:19.294990
"""

from alembic import op
import sqlalchemy as sa



revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform', sa.String(length=16), nullable=True))

    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_columns', sa.JSON(), server_default='{}', nullable=False))

    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_constraint('uq_evidence_item_shop_sha256', type_='unique')
        batch_op.create_unique_constraint(
            'uq_evidence_item_complaint_sha256', ['complaint_id', 'sha256']
        )
        batch_op.create_index('ix_evidence_item_shop_sha256', ['shop_id', 'sha256'], unique=False)

    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_index('ix_shop_order_contact_fingerprint')
        batch_op.drop_index('ix_shop_order_address_fingerprint')
        batch_op.create_index(
            'ix_shop_order_shop_contact', ['shop_id', 'contact_fingerprint'], unique=False
        )
        batch_op.create_index(
            'ix_shop_order_shop_address', ['shop_id', 'address_fingerprint'], unique=False
        )
        batch_op.create_index('ix_shop_order_shop_created', ['shop_id', 'created_at'], unique=False)
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('platform', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('status_text', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('postage', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('receiver', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('buyer_message', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('seller_note', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_index('ix_shop_order_shop_created')
        batch_op.drop_index('ix_shop_order_shop_address')
        batch_op.drop_index('ix_shop_order_shop_contact')
        batch_op.create_index(
            'ix_shop_order_contact_fingerprint', ['contact_fingerprint'], unique=False
        )
        batch_op.create_index(
            'ix_shop_order_address_fingerprint', ['address_fingerprint'], unique=False
        )
        batch_op.drop_column('seller_note')
        batch_op.drop_column('buyer_message')
        batch_op.drop_column('address')
        batch_op.drop_column('phone')
        batch_op.drop_column('receiver')
        batch_op.drop_column('postage')
        batch_op.drop_column('state')
        batch_op.drop_column('status_text')
        batch_op.drop_column('platform')
        batch_op.drop_column('completed_at')

    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_column('import_columns')

    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_item_shop_sha256')
        batch_op.drop_constraint('uq_evidence_item_complaint_sha256', type_='unique')
        batch_op.create_unique_constraint('uq_evidence_item_shop_sha256', ['shop_id', 'sha256'])

    with op.batch_alter_table('order_import', schema=None) as batch_op:
        batch_op.drop_column('platform')

