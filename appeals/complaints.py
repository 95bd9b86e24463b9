"""Complaints against a shop: intake from the platform, the inbox, and malicious flags."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Boolean, ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from appeals import audit
from appeals.clock import utcnow
from appeals.deadlines import DeadlineState
from appeals.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from appeals.models import (
    Complaint,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintType,
    MaliciousCategory,
    Order,
    Shop,
)
from appeals.paging import Page
from appeals.permissions import Actor, Permission, require
from appeals.policies import DeadlinePolicy

T = TypeVar("T")
RATIONALE_MIN, RATIONALE_MAX = 10, 4000


def paginate(session: Session, query: Select[T], page: int, per_page: int) -> Page[T]:
    """Run a select for one page, clamping the page number into range."""
    total = _count(session, query)
    page = _clamp(page, total, per_page)
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _clamp(page: int, total: int, per_page: int) -> int:
    return min(max(1, page), max(1, -(-total // per_page)))


def paginate_by_id(
    session: Session, query: Select[Complaint], page: int, per_page: int
) -> Page[Complaint]:
    """Paginate in two steps: the page's ids from the index alone, then those rows only.

    A deep page (page 500 is offset 12,475) then skips index entries, not table rows.
    """
    ids_query = query.with_only_columns(Complaint.id)
    total = _count(session, ids_query)
    page = _clamp(page, total, per_page)
    ids = list(session.scalars(ids_query.limit(per_page).offset((page - 1) * per_page)))
    rows = session.scalars(
        select(Complaint).where(Complaint.id.in_(ids)).options(selectinload(Complaint.order))
    )
    by_id = {complaint.id: complaint for complaint in rows}
    return Page(items=[by_id[i] for i in ids], total=total, page=page, per_page=per_page)


def own_shop_id(actor: Actor, permission: Permission) -> int:
    """The actor's shop, after checking the permission; platform staff have none here."""
    require(actor, permission)
    if actor.shop_id is None:
        raise PermissionDenied(N_("Only a shop's own users can see its records."))
    return actor.shop_id


@dataclass(frozen=True)
class InboxFilter:
    """What the merchant narrowed the inbox to."""

    status: ComplaintStatus | None = None
    type: ComplaintType | None = None
    flagged: bool | None = None
    deadline: DeadlineState | None = None
    search: str = ""
    sort: str = "deadline"


def _deadline_condition(state: DeadlineState, now: datetime) -> ColumnElement[bool]:
    column = Complaint.appeal_deadline
    day, five_days = now + timedelta(hours=24), now + timedelta(days=5)
    return {
        DeadlineState.PAST_DUE: column <= now,
        DeadlineState.UNDER_24_HOURS: and_(column > now, column <= day),
        DeadlineState.UNDER_5_DAYS: and_(column > day, column <= five_days),
        DeadlineState.AMPLE: column > five_days,
    }[state]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_term(typed: str) -> str:
    """What a number search looks for: full-width digits and letters made plain, no spaces."""
    return "".join(unicodedata.normalize("NFKC", typed).split())


def contains(column: Any, term: str) -> ColumnElement[bool]:
    """column holds term anywhere, whatever its case (a number searched by any part of it)."""
    return _Contains(column, literal(_like(term)))


class _Contains(FunctionElement[bool]):
    """ILIKE; on SQLite its LIKE, already blind to ASCII case, at half the cost of lower()."""

    type = Boolean()
    inherit_cache = True


@compiles(_Contains)
def _ilike(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} ILIKE {pattern} ESCAPE '\\'"


@compiles(_Contains, "sqlite")
def _sqlite_like(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} LIKE {pattern} ESCAPE '\\'"


def inbox_query(shop_id: int, where: InboxFilter, now: datetime) -> Select[Complaint]:
    """The complaints of one shop matching a filter, in the chosen order."""
    query = select(Complaint).where(Complaint.shop_id == shop_id)
    if where.status:
        query = query.where(Complaint.status == where.status)
    if where.type:
        query = query.where(Complaint.type == where.type)
    if where.flagged is not None:
        flagged = Complaint.flag_category.is_not(None)
        query = query.where(flagged if where.flagged else ~flagged)
    if where.deadline:
        query = query.where(_deadline_condition(where.deadline, now))
    term = search_term(where.search)
    if term:
        # Any part of a number: the shop's index narrows the scan to its own rows, and
        # LIKE then reads only those (a 10,000-complaint shop in milliseconds).
        orders = select(Order.id).where(Order.shop_id == shop_id, contains(Order.number, term))
        query = query.where(
            or_(
                contains(Complaint.external_id, term),
                contains(Complaint.order_number, term),
                Complaint.order_id.in_(orders),
            )
        )
    if where.sort == "received":
        return query.order_by(Complaint.received_at.desc(), Complaint.id.desc())
    return query.order_by(Complaint.appeal_deadline, Complaint.id)


def list_complaints(
    session: Session,
    actor: Actor,
    where: InboxFilter | None = None,
    *,
    page: int = 1,
    per_page: int = 25,
    now: datetime | None = None,
) -> Page[Complaint]:
    """The actor's shop's complaints matching the filter, one page of them."""
    shop_id = own_shop_id(actor, Permission.MERCHANT_COMPLAINT_READ)
    query = inbox_query(shop_id, where or InboxFilter(), now or utcnow())
    return paginate_by_id(session, query, page, per_page)


def status_counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many of the shop's complaints are in each status, and how many are flagged."""
    shop_id = own_shop_id(actor, Permission.MERCHANT_COMPLAINT_READ)
    rows = session.execute(
        select(Complaint.status, func.count())
        .where(Complaint.shop_id == shop_id)
        .group_by(Complaint.status)
    ).all()
    counts = {status.value: 0 for status in ComplaintStatus} | {s.value: n for s, n in rows}
    counts["flagged"] = (
        session.scalar(  # served by ix_complaint_shop_flag: only flagged rows are read
            select(func.count())
            .select_from(Complaint)
            .where(Complaint.shop_id == shop_id, Complaint.flag_category.is_not(None))
        )
        or 0
    )
    return counts


def get_complaint(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    """One complaint of the actor's shop; any other shop's answers NotFound."""
    shop_id = own_shop_id(actor, Permission.MERCHANT_COMPLAINT_READ)
    complaint = session.scalar(
        select(Complaint).where(Complaint.id == complaint_id, Complaint.shop_id == shop_id)
    )
    if complaint is None:
        raise NotFound(N_("No such complaint."))
    return complaint


def get_order(session: Session, actor: Actor, order_id: int) -> Order:
    """One order of the actor's shop; any other shop's answers NotFound."""
    shop_id = own_shop_id(actor, Permission.MERCHANT_ORDER_READ)
    order = session.scalar(select(Order).where(Order.id == order_id, Order.shop_id == shop_id))
    if order is None:
        raise NotFound(N_("No such order."))
    return order


def list_orders(
    session: Session, actor: Actor, *, search: str = "", page: int = 1, per_page: int = 25
) -> Page[Order]:
    """The shop's orders, newest first, optionally narrowed by order number or buyer."""
    shop_id = own_shop_id(actor, Permission.MERCHANT_ORDER_READ)
    query = select(Order).where(Order.shop_id == shop_id)
    if search.strip():
        like = _like(search.strip())
        query = query.where(
            or_(Order.number.ilike(like, escape="\\"), Order.buyer_ref.ilike(like, escape="\\"))
        )
    order_time = func.coalesce(Order.ordered_at, Order.paid_at, Order.created_at)
    return paginate(session, query.order_by(order_time.desc(), Order.id.desc()), page, per_page)


def _flag_state(complaint: Complaint) -> dict[str, Any]:
    return {
        "category": complaint.flag_category.value if complaint.flag_category else None,
        "rationale": complaint.flag_rationale,
    }


def flag_complaint(
    session: Session,
    actor: Actor,
    complaint: Complaint,
    category: MaliciousCategory,
    rationale: str,
    now: datetime | None = None,
) -> None:
    """Mark a complaint as malicious with the merchant's reasons (or change the reasons)."""
    _check_can_flag(actor, complaint)
    rationale = rationale.strip()
    if not RATIONALE_MIN <= len(rationale) <= RATIONALE_MAX:
        raise InvalidInput(
            N_("Explain in %(min)d to %(max)d characters why the complaint is malicious."),
            field="rationale",
            min=RATIONALE_MIN,
            max=RATIONALE_MAX,
        )
    before = _flag_state(complaint)
    complaint.flag_category = category
    complaint.flag_rationale = rationale
    complaint.flagged_at = now or utcnow()
    complaint.flagged_by_id = getattr(actor, "id", None)
    session.flush()
    audit.record(
        session, actor, "complaint.flagged", complaint, before=before, after=_flag_state(complaint)
    )


def unflag_complaint(session: Session, actor: Actor, complaint: Complaint) -> None:
    """Withdraw the malicious flag."""
    _check_can_flag(actor, complaint)
    if complaint.flag_category is None:
        return
    before = _flag_state(complaint)
    complaint.flag_category = None
    complaint.flag_rationale = None
    complaint.flagged_at = None
    complaint.flagged_by_id = None
    session.flush()
    audit.record(
        session,
        actor,
        "complaint.unflagged",
        complaint,
        before=before,
        after=_flag_state(complaint),
    )


def _check_can_flag(actor: Actor, complaint: Complaint) -> None:
    if own_shop_id(actor, Permission.MERCHANT_COMPLAINT_FLAG) != complaint.shop_id:
        raise NotFound(N_("No such complaint."))
    if complaint.status is ComplaintStatus.CLOSED:
        raise Conflict(N_("This complaint is closed; its flag can no longer change."))


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
    policy: DeadlinePolicy,
) -> Complaint:
    """Store a complaint as the platform reported it, with its appeal deadline."""
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
        status=ComplaintStatus.OPEN,
    )
    session.add(complaint)
    session.flush()
    return complaint
