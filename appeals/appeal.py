"""Starting an appeal against a complaint and loading it within the tenant."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals import audit, fit_plan
from appeals.clock import utcnow
from appeals.complaints import get_complaint
from appeals.errors import N_, Conflict, InvalidInput, NotFound
from appeals.lifecycle import (
    Action,
    InvalidTransition,
    check_editable,
    flush_or_conflict,
    transition,
)
from appeals.models import (
    Appeal,
    AppealState,
    AppealVersion,
    Complaint,
    ComplaintStatus,
    EvidenceItem,
    EvidenceKind,
    MaliciousCategory,
    RebuttalRow,
)
from appeals.notices import notify_shop
from appeals.permissions import Actor, Permission, require
from appeals.policies import BudgetProfile, ReviewPolicy
from appeals.rebuttal import MAX_ROWS, row_label
from appeals.vocabulary import Remedy


def may_start(complaint: Complaint, now: datetime | None = None) -> bool:
    """Whether an appeal can still be started: the complaint is open and its deadline ahead
    (a draft is expired when the deadline passes, so one started later could never be sent)."""
    return complaint.status is not ComplaintStatus.CLOSED and (
        complaint.appeal_deadline > (now or utcnow())
    )


def start_appeal(
    session: Session, actor: Actor, complaint_id: int, *, now: datetime | None = None
) -> Appeal:
    """Open the draft appeal of a complaint of the actor's shop (one per complaint)."""
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    complaint = get_complaint(session, actor, complaint_id)
    existing = session.scalar(select(Appeal).where(Appeal.complaint_id == complaint.id))
    if existing is not None:
        return existing
    if complaint.status is ComplaintStatus.CLOSED:
        raise Conflict(N_("This complaint is closed; it can no longer be appealed."))
    if not may_start(complaint, now):
        raise Conflict(
            N_("The appeal deadline has passed; this complaint can no longer be appealed.")
        )
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


REMEDIES = tuple(Remedy)

# What a reviewer needs to see for each kind of malicious complaint: each entry is met
# by any one of its kinds among the exhibits the rebuttal cites.
CHAT = frozenset({EvidenceKind.CHAT_SCREENSHOT, EvidenceKind.CHAT_EXPORT})
CHECKLISTS: dict[MaliciousCategory, list[tuple[str, frozenset[EvidenceKind]]]] = {
    MaliciousCategory.RETURN_ABUSE: [
        (
            "delivery_proof",
            frozenset({EvidenceKind.DELIVERY_PROOF, EvidenceKind.LOGISTICS_TRACKING}),
        ),
        ("product_condition", frozenset({EvidenceKind.PRODUCT_PHOTO})),
        ("chat", CHAT),
    ],
    MaliciousCategory.EXTORTION: [
        ("chat", CHAT),
        ("review", frozenset({EvidenceKind.REVIEW_CAPTURE})),
    ],
    MaliciousCategory.FAKE_TRANSACTION: [
        ("order_history", frozenset({EvidenceKind.ORDER_HISTORY})),
        ("payment", frozenset({EvidenceKind.PAYMENT_RECORD})),
        ("logistics", frozenset({EvidenceKind.LOGISTICS_TRACKING, EvidenceKind.SHIPPING_RECEIPT})),
    ],
    MaliciousCategory.PROFESSIONAL_CLAIMANT: [
        ("order_history", frozenset({EvidenceKind.ORDER_HISTORY})),
        ("chat", CHAT),
    ],
    MaliciousCategory.COMPETITOR_SABOTAGE: [
        ("order_history", frozenset({EvidenceKind.ORDER_HISTORY})),
        ("chat", CHAT),
    ],
    MaliciousCategory.OTHER: [("any_evidence", frozenset(EvidenceKind))],
}


@dataclass(frozen=True)
class Readiness:
    """Whether the draft can be submitted, and what is missing if not."""

    checklist: list[tuple[str, bool]]
    missing: list[str]

    @property
    def ready(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Budget:
    """What the bundle weighs: `bytes` after the automatic fit, `raw_bytes` before it."""

    bytes: int
    pages: int
    files: int
    text: int
    profile: BudgetProfile
    raw_bytes: int = 0
    fit_images: int = 0  # images the fit will downscale ...
    fit_side: int = 0  # ... to at most this many pixels on their long side

    @property
    def over(self) -> list[str]:
        profile = self.profile
        limits = (
            ("bytes", self.bytes, profile.max_bytes),
            ("pages", self.pages, profile.max_pages),
            ("files", self.files, profile.max_files),
            ("text", self.text, profile.max_text),
        )
        return [name for name, used, limit in limits if used > limit]


def update_draft(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    *,
    category: MaliciousCategory | None,
    statement: str,
    remedies: list[str],
    rows: list[tuple[str, str, list[int]]],
) -> None:
    """Replace the draft's category, statement, remedies and rebuttal rows."""
    appeal = get_appeal(session, actor, appeal.id)
    check_editable(appeal)
    if len(statement) > 20_000:
        raise InvalidInput(N_("Longer than %(max)d characters."), field="statement", max=20_000)
    unknown = [remedy for remedy in remedies if remedy not in REMEDIES]
    if unknown:
        raise InvalidInput(N_("Unknown remedy: %(value)s."), field="remedies", value=unknown[0])
    if len(rows) > MAX_ROWS:
        raise InvalidInput(N_("At most %(max)d rows."), field="rows", max=MAX_ROWS)
    check_cited(session, appeal, [i for _allegation, _answer, cited in rows for i in cited], "rows")
    appeal.category = category
    appeal.statement = statement.strip()
    appeal.remedies = [remedy.value for remedy in REMEDIES if remedy in remedies]
    appeal.rows = [
        RebuttalRow(
            position=index,
            allegation=allegation.strip()[:4000],
            answer=answer.strip()[:4000],
            evidence_ids=list(dict.fromkeys(cited)),
        )
        for index, (allegation, answer, cited) in enumerate(rows)
    ]  # fmt: skip
    flush_or_conflict(session)  # two tabs saving at once: the later is told
    audit.record(session, actor, "appeal.draft_saved", appeal, after={
        "category": category.value if category else None, "remedies": appeal.remedies,
        "rows": len(appeal.rows), "statement_chars": len(appeal.statement),
    })  # fmt: skip


def check_cited(session: Session, appeal: Appeal, evidence_ids: list[int], field: str) -> None:
    """Refuse citing anything but the appeal's own complaint's evidence."""
    allowed = set(
        session.scalars(
            select(EvidenceItem.id).where(EvidenceItem.complaint_id == appeal.complaint_id)
        )
    )
    if not set(evidence_ids) <= allowed:
        raise InvalidInput(N_("Cite only evidence from this complaint's locker."), field=field)


def freeze_version(
    session: Session, appeal: Appeal, actor: Actor, *, number: int, late: bool, now: datetime
) -> AppealVersion:
    """The appeal as it stands, as an immutable version with its content's SHA-256."""
    content = frozen_content(session, appeal)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return AppealVersion(
        appeal_id=appeal.id, number=number, content=content,
        content_sha256=hashlib.sha256(canonical).hexdigest(), late=late,
        submitted_by_id=getattr(actor, "id", None), submitted_at=now,
    )  # fmt: skip


def cited_items(session: Session, appeal: Appeal) -> list[tuple[str, EvidenceItem]]:
    """Each cited item once, labelled by the row that first cites it: A-1, A-2, B-1 ..."""
    ids = {i for row in appeal.rows for i in row.evidence_ids}
    items = {
        item.id: item
        for item in session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(ids)))
    }
    labelled: list[tuple[str, EvidenceItem]] = []
    seen: set[int] = set()
    for row in appeal.rows:
        letter = row_label(row.position)
        fresh = [i for i in row.evidence_ids if i in items and i not in seen]
        for number, item_id in enumerate(fresh, start=1):
            labelled.append((f"{letter}-{number}", items[item_id]))
            seen.add(item_id)
    return labelled


def readiness(session: Session, appeal: Appeal, profile: BudgetProfile | None = None) -> Readiness:
    """The category's evidence checklist and every other thing a submission needs; with the
    platform's profile, also that the bundle stays within its limits."""
    kinds = {item.kind for _label, item in cited_items(session, appeal)}
    needs = CHECKLISTS[appeal.category] if appeal.category else []
    checklist = [(name, bool(kinds & needed)) for name, needed in needs]
    missing = [f"evidence:{name}" for name, met in checklist if not met]
    if appeal.category is None:
        missing.insert(0, "category")
    if len(appeal.statement) < 20:
        missing.append("statement")
    if not appeal.remedies:
        missing.append("remedies")
    if not any(row.answer for row in appeal.rows):
        missing.append("rows")
    if profile is not None and budget(session, appeal, profile).over:
        missing.append("within_limits")
    return Readiness(checklist, missing)


def budget(session: Session, appeal: Appeal, profile: BudgetProfile) -> Budget:
    """What the bundle would weigh against the platform's profile, from the first upload on."""
    items = [item for _label, item in cited_items(session, appeal)]
    text = len(appeal.statement) + sum(len(row.allegation) + len(row.answer) for row in appeal.rows)
    return budget_for(items, text, profile)


def budget_for(items: list[EvidenceItem], text: int, profile: BudgetProfile) -> Budget:
    """The budget of these files in one bundle, after the automatic fit: what the build's
    plan (appeals.fit_plan) predicts it will make of them."""
    pages = sum(
        item.pages or (1 + (item.rows or 0) // 40 if not item.is_image else 1) for item in items
    )
    raw = sum(item.size for item in items)
    pictures = {item.id: found for item in items if (found := fit_plan.picture_of(item))}
    documents = sum(item.size for item in items if item.id not in pictures)
    reserved = fit_plan.reserve(documents, len(items))
    planned = fit_plan.plan(list(pictures.values()), reserved, profile.max_bytes)
    return Budget(planned.bytes, pages, len(items), text, profile, raw, planned.images,
                  planned.max_side)  # fmt: skip


def frozen_content(session: Session, appeal: Appeal) -> dict[str, Any]:
    """The submitted version as data: everything a reviewer judges, with exhibit hashes."""
    labels = {item.id: label for label, item in cited_items(session, appeal)}
    items = {item.id: item for _label, item in cited_items(session, appeal)}
    return {
        "appeal": appeal.number,
        "complaint": appeal.complaint.external_id,
        "category": appeal.category.value if appeal.category else None,
        "statement": appeal.statement,
        "remedies": list(appeal.remedies),
        "rows": [
            {"allegation": row.allegation, "answer": row.answer,
             "exhibits": [labels[i] for i in row.evidence_ids if i in labels]}
            for row in appeal.rows
        ],
        "exhibits": [
            {
                "label": labels[i],
                "evidence_id": i,
                "kind": items[i].kind.value,
                "caption": items[i].caption,
                "name": items[i].display_name,
                "size": items[i].size,
                "sha256": items[i].sha256,
                "redacted_sha256": items[i].redacted_key,
            }
            for i in labels
        ],
    }  # fmt: skip


def submit_appeal(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    *,
    profile: BudgetProfile,
    review_policy: ReviewPolicy,
    now: datetime | None = None,
) -> AppealVersion:
    """Freeze the draft as an immutable version and move the appeal to submitted."""
    appeal = get_appeal(session, actor, appeal.id)
    if appeal.state is not AppealState.DRAFT and appeal.versions:
        raise InvalidTransition(N_("This appeal has already been submitted."))
    ready = readiness(session, appeal)  # the limits are checked below, with their own message
    if not ready.ready:
        raise InvalidInput(
            # The checklist names each missing thing in words; `missing` keeps the codes.
            N_("The appeal is not ready: the checklist shows what is still missing."),
            missing=", ".join(ready.missing),
        )
    over = budget(session, appeal, profile).over
    if over:
        raise InvalidInput(
            N_("The appeal is over the platform's limits: %(over)s."), over=", ".join(over)
        )
    now = now or utcnow()
    version = freeze_version(
        session, appeal, actor, number=appeal.submission_count + 1,
        late=now > appeal.complaint.appeal_deadline, now=now,
    )  # fmt: skip

    def freeze(changed: Appeal) -> None:
        changed.submission_count += 1
        changed.submitted_at = now
        changed.review_due_at = now + review_policy.first_review  # the reviewers' clock starts
        session.add(version)

    transition(session, actor, appeal, Action.SUBMIT, now=now, before_flush=freeze)
    notify_shop(session, appeal, "submitted", {}, now=now)
    return version


def withdraw_appeal(
    session: Session, actor: Actor, appeal: Appeal, reason: str, *, now: datetime | None = None
) -> None:
    """Take back a draft or a submitted appeal that no reviewer has picked up yet."""
    appeal = get_appeal(session, actor, appeal.id)
    reason = " ".join(reason.split())
    if len(reason) > 1000:
        raise InvalidInput(N_("Longer than %(max)d characters."), field="reason", max=1000)

    def remember(changed: Appeal) -> None:
        changed.extra = {**(changed.extra or {}), "withdrawn_reason": reason}

    transition(session, actor, appeal, Action.WITHDRAW, now=now, before_flush=remember)
