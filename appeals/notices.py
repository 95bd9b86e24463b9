"""Notifications: who is told what (in the portal, and queued for email), reminders 24 hours
before a deadline, the email outbox, and the check at send time that nobody is told to act
on something already closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from appeals.clock import utcnow
from appeals.models import (
    Appeal,
    AppealState,
    Complaint,
    InfoRequest,
    Notification,
    Ruling,
    User,
)

S = AppealState
SOON = timedelta(hours=24)
MAX_ATTEMPTS = 5


def shop_user_ids(session: Session, shop_id: int) -> list[int]:
    return list(
        session.scalars(select(User.id).where(User.shop_id == shop_id, User.disabled_at.is_(None)))
    )


def notify_shop(
    session: Session, appeal: Appeal, kind: str, params: dict[str, Any], *, now: datetime
) -> None:
    notify(session, shop_user_ids(session, appeal.shop_id), appeal, kind, params, now=now)


def notify(
    session: Session,
    user_ids: list[int],
    appeal: Appeal | None,
    kind: str,
    params: dict[str, Any],
    *,
    now: datetime,
    dedupe: str | None = None,
) -> None:
    """One notification per user: shown in the portal, and queued for email."""
    for user_id in dict.fromkeys(user_ids):
        key = f"{dedupe}:{user_id}" if dedupe else None
        if key and session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue
        session.add(
            Notification(
                user_id=user_id,
                appeal_id=appeal.id if appeal else None,
                kind=kind,
                params={"number": appeal.number if appeal else None, **params},
                dedupe_key=key,
                created_at=now,
                email_state="pending",
                email_attempts=0,
            )
        )
    session.flush()


def remind(session: Session, *, now: datetime | None = None) -> int:
    """Notify whoever must act within 24 hours, once per deadline (dedupe keys)."""
    now = now or utcnow()
    before = session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    for request, appeal in session.execute(
        select(InfoRequest, Appeal)
        .join(Appeal, Appeal.id == InfoRequest.appeal_id)
        .where(Appeal.state == S.INFO_REQUESTED, InfoRequest.answered_at.is_(None))
        .where(InfoRequest.due_at > now, InfoRequest.due_at <= now + SOON)
    ):
        # Said before it happens: past the deadline the reviewer may rule on the record.
        notify(session, shop_user_ids(session, appeal.shop_id), appeal, "answer_due_soon",
               {"due_at": request.due_at.isoformat()}, now=now,
               dedupe=f"answer:{request.id}")  # fmt: skip
    for ruling, appeal in session.execute(
        select(Ruling, Appeal)
        .join(Appeal, Appeal.id == Ruling.appeal_id)
        .where(Appeal.state == S.DECIDED, Ruling.instance == 1)
        .where(Ruling.window_ends_at > now, Ruling.window_ends_at <= now + SOON)
    ):
        notify(session, shop_user_ids(session, appeal.shop_id), appeal, "window_closing",
               {"due_at": (ruling.window_ends_at or now).isoformat()}, now=now,
               dedupe=f"window:{ruling.id}")  # fmt: skip
    for appeal, deadline in session.execute(
        select(Appeal, Complaint.appeal_deadline)
        .join(Complaint, Complaint.id == Appeal.complaint_id)
        .where(Appeal.state == S.DRAFT)
        .where(Complaint.appeal_deadline > now, Complaint.appeal_deadline <= now + SOON)
    ):
        notify(session, shop_user_ids(session, appeal.shop_id), appeal, "deadline_soon",
               {"due_at": deadline.isoformat()}, now=now, dedupe=f"draft:{appeal.id}")  # fmt: skip
    for appeal in session.scalars(
        select(Appeal)
        .where(Appeal.state.in_([S.IN_REVIEW, S.SECOND_REVIEW]), Appeal.reviewer_id.is_not(None))
        .where(Appeal.review_due_at > now, Appeal.review_due_at <= now + SOON)
    ):
        due = appeal.review_due_at or now
        notify(session, [appeal.reviewer_id or 0], appeal, "deadline_soon",
               {"due_at": due.isoformat()}, now=now,
               dedupe=f"review:{appeal.id}:{due.isoformat()}")  # fmt: skip
    after = session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    return (after or 0) - (before or 0)


def still_relevant(session: Session, note: Notification) -> bool:
    """Re-checked at send time: a reminder or a call to act on a closed step is dropped."""
    appeal = session.get(Appeal, note.appeal_id) if note.appeal_id else None
    if appeal is None:
        return note.appeal_id is None
    key = note.dedupe_key or ""
    if note.kind in ("info_requested", "answer_due_soon"):
        return appeal.state is S.INFO_REQUESTED
    if note.kind == "deadline_soon":
        if key.startswith("answer:"):
            return appeal.state is S.INFO_REQUESTED
        if key.startswith("draft:"):
            return appeal.state is S.DRAFT
        if key.startswith("review:"):
            return appeal.state in (S.IN_REVIEW, S.SECOND_REVIEW)
    if note.kind == "window_closing":
        return appeal.state is S.DECIDED
    if note.kind == "second_instance":
        return appeal.state is S.SECOND_REVIEW and appeal.reviewer_id is None
    return True


Sender = Callable[[User, Notification], None]


def send_outbox(
    session: Session, send: Sender, *, now: datetime | None = None, limit: int = 100
) -> dict[str, int]:
    """Email pending notifications; each is claimed first, so two senders never both send."""
    now = now or utcnow()
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    pending = list(
        session.scalars(
            select(Notification.id)
            .where(Notification.email_state == "pending")
            .order_by(Notification.id)
            .limit(limit)
        )
    )
    for note_id in pending:
        claimed = session.execute(
            update(Notification)
            .where(Notification.id == note_id, Notification.email_state == "pending")
            .values(email_state="sending", email_attempts=Notification.email_attempts + 1)
        )
        session.commit()
        if getattr(claimed, "rowcount", 0) != 1:
            continue  # another sender has it
        note = session.get_one(Notification, note_id)
        user = session.get_one(User, note.user_id)
        if user.disabled_at is not None or not still_relevant(session, note):
            note.email_state = "skipped"
            counts["skipped"] += 1
        else:
            try:
                send(user, note)
            except Exception:
                note.email_state = "failed" if note.email_attempts >= MAX_ATTEMPTS else "pending"
                counts["failed"] += 1
            else:
                note.email_state, note.emailed_at = "sent", now
                counts["sent"] += 1
        session.commit()
    return counts


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user_id: int, *, now: datetime | None = None) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
    )
