"""One case state: the complaint follows its appeal, the same on every screen.

The complaint's status is set by the appeal's lifecycle (appeals.lifecycle.transition
calls `follow`), never by a view: open while no appeal is submitted, appealed from the
submission until the last ruling, closed once the case is final, withdrawn or expired.
`stages` gives the inbox the appeal state and latest outcome of many complaints at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from appeals.clock import utcnow
from appeals.models import (
    Appeal,
    AppealState,
    Complaint,
    ComplaintStatus,
    InfoRequest,
    Outcome,
    Ruling,
)

S = AppealState
COMPLAINT_STATUS: dict[AppealState, ComplaintStatus] = {
    S.DRAFT: ComplaintStatus.OPEN,
    S.SUBMITTED: ComplaintStatus.APPEALED,
    S.IN_REVIEW: ComplaintStatus.APPEALED,
    S.INFO_REQUESTED: ComplaintStatus.APPEALED,
    S.DECIDED: ComplaintStatus.APPEALED,
    S.SECOND_REVIEW: ComplaintStatus.APPEALED,
    S.FINAL: ComplaintStatus.CLOSED,
    S.WITHDRAWN: ComplaintStatus.CLOSED,
    S.EXPIRED: ComplaintStatus.CLOSED,
}


def follow(appeal: Appeal) -> None:
    """Set the complaint's status from its appeal's state."""
    appeal.complaint.status = COMPLAINT_STATUS[appeal.state]


def open_request(session: Session, appeal: Appeal) -> InfoRequest | None:
    """The reviewer's question that waits for the merchant's answer, if one does."""
    return session.scalar(
        select(InfoRequest)
        .where(InfoRequest.appeal_id == appeal.id, InfoRequest.answered_at.is_(None))
        .order_by(InfoRequest.id.desc())
    )


def answer_overdue(appeal: Appeal, now: datetime | None = None) -> bool:
    """Whether the merchant let a question's deadline pass: the reviewer may rule on the record."""
    session = object_session(appeal)
    asked = open_request(session, appeal) if session is not None else None
    return asked is not None and asked.due_at <= (now or utcnow())


def unanswered_question(session: Session, ruling: Ruling) -> InfoRequest | None:
    """The question a ruling was made without: asked on the version ruled on, never answered,
    its deadline passed before the ruling (the ruling was made on the record)."""
    return session.scalar(
        select(InfoRequest).where(
            InfoRequest.appeal_id == ruling.appeal_id,
            InfoRequest.asked_on_version == ruling.version,
            InfoRequest.answered_at.is_(None),
            InfoRequest.due_at <= ruling.decided_at,
        )
    )


@dataclass(frozen=True)
class Stage:
    """Where a complaint's appeal is: its state and, once ruled, the latest outcome."""

    appeal_id: int
    state: AppealState
    outcome: Outcome | None


def stages(session: Session, complaint_ids: list[int]) -> dict[int, Stage]:
    """The appeal stage of each complaint that has an appeal (one query for the page)."""
    if not complaint_ids:
        return {}
    rows = session.execute(
        select(Appeal.complaint_id, Appeal.id, Appeal.state, Ruling.outcome, Ruling.instance)
        .outerjoin(Ruling, Ruling.appeal_id == Appeal.id)
        .where(Appeal.complaint_id.in_(complaint_ids))
        .order_by(Appeal.complaint_id, Ruling.instance)
    ).all()
    found: dict[int, Stage] = {}
    for complaint_id, appeal_id, state, outcome, _instance in rows:
        found[complaint_id] = Stage(appeal_id, state, outcome)  # the latest ruling wins
    return found


# The steps of a case, as the merchant's step indicator draws them.
STEPS = ("received", "appeal", "submitted", "review", "ruled", "final")
STEP_OF: dict[AppealState, str] = {
    S.DRAFT: "appeal",
    S.SUBMITTED: "submitted",
    S.IN_REVIEW: "review",
    S.INFO_REQUESTED: "review",
    S.DECIDED: "ruled",
    S.SECOND_REVIEW: "review",
    S.FINAL: "final",
    S.WITHDRAWN: "final",
    S.EXPIRED: "final",
}


@dataclass(frozen=True)
class NextStep:
    """What happens next in a case and by when, as the merchant's pages say it."""

    code: str
    due: datetime | None
    level: str  # "info", "warning" (under a day left), "alert" (past due)
    outcome: Outcome | None = None
    step: str = "appeal"  # where the case stands among STEPS

    @property
    def steps(self) -> list[tuple[str, str]]:
        """Each step with "done", "current" or "todo"."""
        at = STEPS.index(self.step)
        return [(name, "done" if i < at else "current" if i == at else "todo")
                for i, name in enumerate(STEPS)]  # fmt: skip


SOON = timedelta(hours=24)


def next_step(session: Session, complaint: Complaint, now: datetime | None = None) -> NextStep:
    """The next step of a complaint's case: appeal by, wait for the review, answer by, …"""
    now = now or utcnow()
    appeal = session.scalar(select(Appeal).where(Appeal.complaint_id == complaint.id))
    ruling = (
        session.scalar(
            select(Ruling).where(Ruling.appeal_id == appeal.id).order_by(Ruling.instance.desc())
        )
        if appeal is not None
        else None
    )
    outcome = ruling.outcome if ruling else None
    if appeal is None or appeal.state is S.DRAFT:
        code = "appeal_by" if complaint.appeal_deadline > now else "appeal_past_due"
        return NextStep(code, complaint.appeal_deadline, _level(complaint.appeal_deadline, now),
                        step="appeal")  # fmt: skip
    if appeal.state is S.INFO_REQUESTED:
        asked = open_request(session, appeal)
        due = asked.due_at if asked else None
        return NextStep("answer_by", due, _level(due, now) if due else "warning", step="review")
    if appeal.state is S.DECIDED:
        until = ruling.window_ends_at if ruling else None
        if until is not None and until > now:
            return NextStep("reappeal_by", until, "info", outcome, step="ruled")
        return NextStep("decided", None, "info", outcome, step="ruled")
    waiting = {S.SUBMITTED: "awaiting_reviewer", S.IN_REVIEW: "in_review",
               S.SECOND_REVIEW: "second_review"}  # fmt: skip
    if appeal.state in waiting:
        return NextStep(waiting[appeal.state], appeal.review_due_at, "info", outcome,
                        step=STEP_OF[appeal.state])  # fmt: skip
    # final, withdrawn, expired
    return NextStep(appeal.state.value, None, "info", outcome, step=STEP_OF[appeal.state])


def _level(due: datetime, now: datetime) -> str:
    if due <= now:
        return "alert"
    return "warning" if due - now <= SOON else "info"
