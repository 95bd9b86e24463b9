"""Orders and complaints of a shop: recording them and reading them within the tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from appeals.deadlines import DeadlinePolicy
from appeals.errors import N_, NotFound, PermissionDenied
from appeals.models import Complaint, ComplaintChannel, ComplaintType, Order, Shop
from appeals.permissions import Actor, Permission, require

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing with the figures to draw its pager."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(session: Session, query: Select[T], page: int, per_page: int) -> Page[T]:
    """Run a select for one page, clamping the page number into range."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def _own_shop_id(actor: Actor, permission: Permission) -> int:
    require(actor, permission)
    if actor.shop_id is None:
        raise PermissionDenied(N_("Only a shop's own users can see its records."))
    return actor.shop_id


def list_complaints(
    session: Session, actor: Actor, *, page: int = 1, per_page: int = 25
) -> Page[Complaint]:
    """The actor's shop's complaints, soonest appeal deadline first."""
    shop_id = _own_shop_id(actor, Permission.MERCHANT_COMPLAINT_READ)
    query = (
        select(Complaint)
        .where(Complaint.shop_id == shop_id)
        .options(selectinload(Complaint.order))
        .order_by(Complaint.appeal_deadline, Complaint.id)
    )
    return paginate(session, query, page, per_page)


def get_complaint(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    """One complaint of the actor's shop; any other shop's answers NotFound."""
    shop_id = _own_shop_id(actor, Permission.MERCHANT_COMPLAINT_READ)
    complaint = session.scalar(
        select(Complaint).where(Complaint.id == complaint_id, Complaint.shop_id == shop_id)
    )
    if complaint is None:
        raise NotFound(N_("No such complaint."))
    return complaint


def get_order(session: Session, actor: Actor, order_id: int) -> Order:
    """One order of the actor's shop; any other shop's answers NotFound."""
    shop_id = _own_shop_id(actor, Permission.MERCHANT_ORDER_READ)
    order = session.scalar(select(Order).where(Order.id == order_id, Order.shop_id == shop_id))
    if order is None:
        raise NotFound(N_("No such order."))
    return order


def record_order(
    session: Session,
    shop: Shop,
    *,
    number: str,
    buyer_ref: str,
    items: list[dict[str, Any]],
    total_amount: Decimal,
    currency: str = "CNY",
    **times_and_carrier: Any,
) -> Order:
    """Store an order as the platform reported it."""
    order = Order(
        shop=shop,
        number=number,
        buyer_ref=buyer_ref,
        items=items,
        total_amount=total_amount,
        currency=currency,
        **times_and_carrier,
    )
    session.add(order)
    session.flush()
    return order


def record_complaint(
    session: Session,
    shop: Shop,
    *,
    external_id: str,
    type: ComplaintType,
    channel: ComplaintChannel,
    description: str,
    buyer_ref: str,
    received_at: datetime,
    order: Order | None = None,
    penalty_points: int = 0,
    policy: DeadlinePolicy | None = None,
) -> Complaint:
    """Store a complaint as the platform reported it, with its appeal deadline."""
    policy = policy or DeadlinePolicy()
    complaint = Complaint(
        shop_id=shop.id,
        order_id=order.id if order else None,
        external_id=external_id,
        type=type,
        channel=channel,
        description=description,
        buyer_ref=buyer_ref,
        received_at=received_at,
        appeal_deadline=policy.appeal_deadline(received_at),
        penalty_points=penalty_points,
    )
    session.add(complaint)
    session.flush()
    return complaint
