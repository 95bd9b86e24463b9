"""Starting an appeal against a complaint and loading it within the tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals import audit
from appeals.complaints import get_complaint
from appeals.errors import N_, Conflict, NotFound
from appeals.models import Appeal, AppealState, ComplaintStatus
from appeals.permissions import Actor, Permission, require


def start_appeal(session: Session, actor: Actor, complaint_id: int) -> Appeal:
    """Open the draft appeal of a complaint of the actor's shop (one per complaint)."""
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    complaint = get_complaint(session, actor, complaint_id)
    existing = session.scalar(select(Appeal).where(Appeal.complaint_id == complaint.id))
    if existing is not None:
        return existing
    if complaint.status is ComplaintStatus.CLOSED:
        raise Conflict(N_("This complaint is closed; it can no longer be appealed."))
    appeal = Appeal(
        shop_id=complaint.shop_id,
        complaint_id=complaint.id,
        number=f"AP-{complaint.received_at.year}-{complaint.id:06d}",
        state=AppealState.DRAFT,
        category=complaint.flag_category,
        statement="",
        remedies=[],
        submission_count=0,
        extra={},
    )
    session.add(appeal)
    session.flush()
    audit.record(session, actor, "appeal.started", appeal, after={"number": appeal.number})
    return appeal


def get_appeal(session: Session, actor: Actor, appeal_id: int) -> Appeal:
    """The appeal of the actor's shop; another shop's answers NotFound."""
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    appeal = session.scalar(
        select(Appeal).where(Appeal.id == appeal_id, Appeal.shop_id == actor.shop_id)
    )
    if appeal is None:
        raise NotFound(N_("No such appeal."))
    return appeal
