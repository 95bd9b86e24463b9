"""One case state: the complaint follows its appeal, the same on every screen.

The complaint's status is set by the appeal's lifecycle (appeals.lifecycle.transition
calls `follow`), never by a view: open while no appeal is submitted, appealed from the
submission until the last ruling, closed once the case is final, withdrawn or expired.
`stages` gives the inbox the appeal state and latest outcome of many complaints at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.models import Appeal, AppealState, ComplaintStatus, Outcome, Ruling

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
