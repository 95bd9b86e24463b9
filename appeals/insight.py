"""Figures for the dashboards: a shop's appeals, and the platform's queue and outcomes."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals.clock import utcnow
from appeals.complaints import own_shop_id
from appeals.models import (
    Appeal,
    AppealState,
    Complaint,
    ComplaintStatus,
    InfoRequest,
    Outcome,
    Ruling,
    User,
)
from appeals.permissions import Actor, Permission, require

S = AppealState
WON = (Outcome.UPHELD, Outcome.PARTIALLY_UPHELD)


@dataclass(frozen=True)
class Due:
    """Something with a deadline this week."""

    kind: str  # "appeal_deadline", "answer", "reappeal"
    due_at: datetime
    complaint_id: int
    label: str
    appeal_id: int | None = None


@dataclass(frozen=True)
class ShopInsight:
    by_state: dict[str, int]
    win_rate: dict[str, tuple[int, int]]  # category -> (won, decided)
    median_days_to_ruling: float | None
    due_this_week: list[Due]
    repeat_complainants: list[tuple[str, int]]


def _latest_rulings(session: Session, appeal_ids: list[int]) -> dict[int, Ruling]:
    rulings: dict[int, Ruling] = {}
    for ruling in session.scalars(
        select(Ruling).where(Ruling.appeal_id.in_(appeal_ids)).order_by(Ruling.instance)
    ):
        rulings[ruling.appeal_id] = ruling
    return rulings


def shop_insight(session: Session, actor: Actor, *, now: datetime | None = None) -> ShopInsight:
    shop_id = own_shop_id(actor, Permission.MERCHANT_COMPLAINT_READ)
    now = now or utcnow()
    week = now + timedelta(days=7)
    appeals = list(session.scalars(select(Appeal).where(Appeal.shop_id == shop_id)))
    by_state = {state.value: 0 for state in AppealState}
    for appeal in appeals:
        by_state[appeal.state.value] += 1
    rulings = _latest_rulings(session, [a.id for a in appeals])
    firsts = {
        r.appeal_id: r
        for r in session.scalars(
            select(Ruling).where(
                Ruling.appeal_id.in_([a.id for a in appeals]), Ruling.instance == 1
            )
        )
    }
    win_rate: dict[str, tuple[int, int]] = {}
    days = []
    for appeal in appeals:
        ruling = rulings.get(appeal.id)
        if ruling is None or appeal.category is None:
            continue
        won, decided = win_rate.get(appeal.category.value, (0, 0))
        win_rate[appeal.category.value] = (won + (ruling.outcome in WON), decided + 1)
        first = firsts.get(appeal.id)
        if first is not None and appeal.submitted_at is not None:
            days.append((first.decided_at - appeal.submitted_at).total_seconds() / 86400)
    due: list[Due] = []
    unappealed = select(Complaint).where(
        Complaint.shop_id == shop_id, Complaint.status == ComplaintStatus.OPEN,
        Complaint.appeal_deadline > now, Complaint.appeal_deadline <= week,
    )  # fmt: skip
    started = {a.complaint_id: a for a in appeals}
    for complaint in session.scalars(unappealed):
        draft = started.get(complaint.id)
        if draft is None or draft.state is S.DRAFT:
            due.append(Due("appeal_deadline", complaint.appeal_deadline, complaint.id,
                           complaint.external_id, draft.id if draft else None))  # fmt: skip
    for request, appeal in session.execute(
        select(InfoRequest, Appeal)
        .join(Appeal, Appeal.id == InfoRequest.appeal_id)
        .where(Appeal.shop_id == shop_id, Appeal.state == S.INFO_REQUESTED)
        .where(InfoRequest.answered_at.is_(None), InfoRequest.due_at <= week)
    ):
        due.append(Due("answer", request.due_at, appeal.complaint_id, appeal.number, appeal.id))
    for appeal in appeals:
        first = firsts.get(appeal.id)
        if (
            appeal.state is S.DECIDED
            and first
            and first.window_ends_at
            and first.window_ends_at <= week
        ):
            due.append(Due("reappeal", first.window_ends_at, appeal.complaint_id, appeal.number,
                           appeal.id))  # fmt: skip
    repeat = session.execute(
        select(Complaint.buyer_ref, func.count())
        .where(Complaint.shop_id == shop_id, Complaint.received_at >= now - timedelta(days=90))
        .group_by(Complaint.buyer_ref)
        .having(func.count() >= 2)
        .order_by(func.count().desc(), Complaint.buyer_ref)
        .limit(10)
    )
    return ShopInsight(
        by_state={k: v for k, v in by_state.items() if v},
        win_rate=win_rate,
        median_days_to_ruling=round(statistics.median(days), 3) if days else None,
        due_this_week=sorted(due, key=lambda d: d.due_at),
        repeat_complainants=[(str(buyer), int(count)) for buyer, count in repeat],
    )


@dataclass(frozen=True)
class PlatformInsight:
    queue_size: int
    oldest_waiting_days: float | None
    sla_met: int
    sla_missed: int
    by_category: dict[str, dict[str, int]]  # category -> outcome -> count
    by_reviewer: dict[str, dict[str, int]]  # reviewer -> outcome -> count
    repeat_complainants: list[tuple[str, int, int]]  # buyer, complaints, shops


def platform_insight(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> PlatformInsight:
    require(actor, Permission.PLATFORM_INSIGHT_READ)
    now = now or utcnow()
    waiting = list(
        session.scalars(
            select(Appeal.submitted_at).where(
                Appeal.state.in_([S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED, S.SECOND_REVIEW])
            )
        )
    )
    oldest = min((w for w in waiting if w is not None), default=None)
    met = missed = 0
    by_category: dict[str, dict[str, int]] = {}
    by_reviewer: dict[str, dict[str, int]] = {}
    for ruling, appeal, reviewer in session.execute(
        select(Ruling, Appeal, User)
        .join(Appeal, Appeal.id == Ruling.appeal_id)
        .join(User, User.id == Ruling.reviewer_id)
    ):
        if ruling.due_at is not None:
            if ruling.decided_at <= ruling.due_at:
                met += 1
            else:
                missed += 1
        category = appeal.category.value if appeal.category else "other"
        outcome = ruling.outcome.value
        by_category.setdefault(category, {}).setdefault(outcome, 0)
        by_category[category][outcome] += 1
        name = reviewer.display_name or reviewer.email
        by_reviewer.setdefault(name, {}).setdefault(outcome, 0)
        by_reviewer[name][outcome] += 1
    repeat = session.execute(
        select(Complaint.buyer_ref, func.count(), func.count(func.distinct(Complaint.shop_id)))
        .where(Complaint.received_at >= now - timedelta(days=90))
        .group_by(Complaint.buyer_ref)
        .having(func.count(func.distinct(Complaint.shop_id)) >= 2)
        .order_by(func.count().desc(), Complaint.buyer_ref)
        .limit(10)
    )
    return PlatformInsight(
        queue_size=len(waiting),
        oldest_waiting_days=round((now - oldest).total_seconds() / 86400, 1) if oldest else None,
        sla_met=met, sla_missed=missed, by_category=by_category, by_reviewer=by_reviewer,
        repeat_complainants=[(str(b), int(c), int(s)) for b, c, s in repeat],
    )  # fmt: skip
