"""complaint flags, order details, audit trail, order imports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:12:11.403350
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

FLAG_COMPLETE = (
    "(flag_category IS NULL) = (flagged_at IS NULL)"
    " AND (flag_category IS NULL) = (flag_rationale IS NULL)"
    " AND (flag_category IS NULL) = (flagged_by_id IS NULL)"
)
ROLES_BEFORE = "role IN ('merchant_owner', 'merchant_staff', 'reviewer', 'senior_reviewer', 'admin')"
ROLES_WITH_PLATFORM = (
    "role IN ('merchant_owner', 'merchant_staff', 'reviewer', 'senior_reviewer', 'admin', 'platform')"
)


def _create_append_only_triggers() -> None:
    # The audit trail is append-only in the database itself, not only in the code.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
    )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute("DROP TRIGGER audit_event_no_delete")
        return
    op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
    op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
    op.execute("DROP FUNCTION audit_event_append_only()")


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_audit_event_actor_id_app_user')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_audit_event_shop_id_shop')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    sa.UniqueConstraint('entry_hash', name=op.f('uq_audit_event_entry_hash'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_shop_id'), ['shop_id'], unique=False)

    op.create_table('order_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('previewed', 'applied', name='import_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_order_import_shop_id_shop')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_order_import_uploaded_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_import')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_order_import_stored_name'))
    )
    with op.batch_alter_table('order_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_import_shop_id'), ['shop_id'], unique=False)

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('open', 'appealed', 'closed', name='complaint_status', native_enum=False, create_constraint=True, length=32), nullable=False, server_default='open'))
        batch_op.add_column(sa.Column('flag_category', sa.Enum('return_abuse', 'extortion', 'fake_transaction', 'professional_claimant', 'competitor_sabotage', 'other', name='malicious_category', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('order_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('flag_rationale', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('flagged_by_id', sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_complaint_appeal_deadline'))
        batch_op.drop_index(batch_op.f('ix_complaint_shop_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_buyer_ref'))
        batch_op.create_index('ix_complaint_inbox', ['shop_id', 'appeal_deadline', 'id'], unique=False)
        batch_op.create_index('ix_complaint_shop_buyer', ['shop_id', 'buyer_ref'], unique=False)
        batch_op.create_index('ix_complaint_shop_received', ['shop_id', 'received_at'], unique=False)
        batch_op.create_index('ix_complaint_shop_status', ['shop_id', 'status', 'appeal_deadline', 'id'], unique=False)
        batch_op.create_index('ix_complaint_shop_flag', ['shop_id', 'flag_category'], unique=False)
        batch_op.create_index('ix_complaint_shop_order_number', ['shop_id', 'order_number'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_complaint_flagged_by_id_app_user'), 'app_user', ['flagged_by_id'], ['id'])
        batch_op.create_check_constraint('flag_complete', FLAG_COMPLETE)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_app_user_role'), type_='check')
        batch_op.create_check_constraint('role', ROLES_WITH_PLATFORM)

    _create_append_only_triggers()

    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_amount', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('contact_fingerprint', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('address_fingerprint', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_shop_order_address_fingerprint'), ['address_fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_shop_order_contact_fingerprint'), ['contact_fingerprint'], unique=False)
        batch_op.drop_index(batch_op.f('ix_shop_order_buyer_ref'))
        batch_op.drop_index(batch_op.f('ix_shop_order_shop_id'))
        batch_op.create_index('ix_shop_order_shop_buyer', ['shop_id', 'buyer_ref'], unique=False)
        batch_op.create_index('ix_shop_order_shop_ordered', ['shop_id', 'ordered_at'], unique=False)
        batch_op.create_index('ix_shop_order_shop_refunded', ['shop_id', 'refunded_at'], unique=False)



def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_app_user_role'), type_='check')
        batch_op.create_check_constraint('role', ROLES_BEFORE)
    with op.batch_alter_table('shop_order', schema=None) as batch_op:
        batch_op.drop_index('ix_shop_order_shop_refunded')
        batch_op.drop_index('ix_shop_order_shop_ordered')
        batch_op.drop_index('ix_shop_order_shop_buyer')
        batch_op.create_index(batch_op.f('ix_shop_order_buyer_ref'), ['buyer_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_shop_order_shop_id'), ['shop_id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_shop_order_contact_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_shop_order_address_fingerprint'))
        batch_op.drop_column('address_fingerprint')
        batch_op.drop_column('contact_fingerprint')
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('refund_amount')
        batch_op.drop_column('ordered_at')

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_complaint_flag_complete'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_complaint_flagged_by_id_app_user'), type_='foreignkey')
        batch_op.drop_index('ix_complaint_shop_order_number')
        batch_op.drop_index('ix_complaint_shop_flag')
        batch_op.drop_index('ix_complaint_shop_status')
        batch_op.drop_index('ix_complaint_shop_received')
        batch_op.drop_index('ix_complaint_shop_buyer')
        batch_op.create_index(batch_op.f('ix_complaint_buyer_ref'), ['buyer_ref'], unique=False)
        batch_op.drop_index('ix_complaint_inbox')
        batch_op.create_index(batch_op.f('ix_complaint_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_appeal_deadline'), ['appeal_deadline'], unique=False)
        batch_op.drop_column('flagged_by_id')
        batch_op.drop_column('flagged_at')
        batch_op.drop_column('flag_rationale')
        batch_op.drop_column('order_number')
        batch_op.drop_column('flag_category')
        batch_op.drop_column('status')

    with op.batch_alter_table('order_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_import_shop_id'))

    op.drop_table('order_import')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_shop_id'))

    op.drop_table('audit_event')
