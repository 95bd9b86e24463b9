"""order numbers without Excel's text guards

Orders imported before the platform layouts were known were stored with Excel's guard
(`="2766…"`, a leading `'` or tab), so no complaint ever linked to them. Each is stored
clean unless a clean twin was imported since (that one is kept, and the guarded one left
as it was: frozen dossiers counted it). Complaints' order numbers are cleaned alike and
linked to their order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:40:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_GUARD = re.compile(r'^=\s*"(.*)"$', re.DOTALL)


def _clean(number: str) -> str:
    text = number.strip(" \t\r\n\u3000\u00a0\ufeff")
    match = _GUARD.match(text)
    if match:
        text = match.group(1).replace('""', '"')
    return text.lstrip("'").strip(" \t")


def upgrade() -> None:
    bind = op.get_bind()
    order = sa.table("shop_order", sa.column("id"), sa.column("shop_id"), sa.column("number"))
    complaint = sa.table(
        "complaint", sa.column("id"), sa.column("shop_id"), sa.column("order_id"),
        sa.column("order_number"),
    )
    guarded = sa.or_(
        order.c.number.like("=%"), order.c.number.like("'%"), order.c.number.like("\t%"),
        order.c.number.like(" %"),
    )
    for order_id, shop_id, number in bind.execute(
        sa.select(order.c.id, order.c.shop_id, order.c.number).where(guarded)
    ).all():
        clean = _clean(number)
        if not clean or clean == number:
            continue
        twin = bind.scalar(
            sa.select(order.c.id).where(order.c.shop_id == shop_id, order.c.number == clean)
        )
        if twin is None:
            bind.execute(sa.update(order).where(order.c.id == order_id).values(number=clean))
    for complaint_id, number in bind.execute(
        sa.select(complaint.c.id, complaint.c.order_number).where(
            sa.or_(complaint.c.order_number.like("=%"), complaint.c.order_number.like("'%"))
        )
    ).all():
        bind.execute(
            sa.update(complaint).where(complaint.c.id == complaint_id)
            .values(order_number=_clean(number)[:64] or None)
        )
    matching = (
        sa.select(order.c.id)
        .where(order.c.shop_id == complaint.c.shop_id, order.c.number == complaint.c.order_number)
        .scalar_subquery()
    )
    bind.execute(
        sa.update(complaint)
        .where(complaint.c.order_id.is_(None), complaint.c.order_number.is_not(None))
        .values(order_id=matching)
    )


def downgrade() -> None:
    """Nothing to undo: the clean numbers are what the exports meant."""
