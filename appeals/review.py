"""The platform's review of an appeal: queue, claim, information requests and answers,
rulings with their reasons and measures, the second instance, clocks and their pauses.

Every function takes the acting user and checks, here, that they may act: the assigned
reviewer rules the first instance, a senior reviewer who did not rule first rules the
second; the shop answers and appeals again. State moves go through lifecycle.transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from appeals import audit, case
from appeals.appeal import check_cited, freeze_version
from appeals.clock import utcnow
from appeals.complaints import contains, paginate, search_term
from appeals.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied, refuse_all
from appeals.lifecycle import Action, flush_or_conflict, transition
from appeals.models import (
    Appeal,
    AppealState,
    AppealVersion,
    ClockPause,
    Complaint,
    InfoRequest,
    MaliciousCategory,
    Outcome,
    RebuttalRow,
    ReviewNote,
    Ruling,
    User,
)
from appeals.notices import notify, notify_shop
from appeals.paging import Page
from appeals.permissions import MERCHANT_ROLES, Actor, Permission, Role, has_permission, require
from appeals.policies import ReviewPolicy
from appeals.rebuttal import row_label, row_labels
from appeals.vocabulary import BuyerMeasure, MerchantMeasure

S = AppealState
REVIEWABLE = (S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED, S.SECOND_REVIEW)
MERCHANT_MEASURES = tuple(MerchantMeasure)
BUYER_MEASURES = tuple(BuyerMeasure)


# -------------------------------------------------------------------- reading


def review_appeal(session: Session, actor: Actor, appeal_id: int) -> Appeal:
    """A submitted appeal for platform reviewers; drafts do not exist for them."""
    require(actor, Permission.REVIEW_QUEUE_READ)
    appeal = session.get(Appeal, appeal_id)
    if appeal is None or not appeal.versions:
        raise NotFound(N_("No such appeal."))
    return appeal


def queue_query(
    actor: Actor,
    *,
    category: MaliciousCategory | None = None,
    shop_id: int | None = None,
    clock: str | None = None,
    mine: bool = False,
    unclaimed: bool = False,
    search: str = "",
    now: datetime | None = None,
) -> Select[Appeal]:
    """Appeals waiting on the platform, soonest due first (second instances for seniors);
    `unclaimed`: only those no reviewer has taken yet."""
    require(actor, Permission.REVIEW_QUEUE_READ)
    now = now or utcnow()
    states = [S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED]
    if actor.role is Role.SENIOR_REVIEWER:
        states.append(S.SECOND_REVIEW)
    query = select(Appeal).where(Appeal.state.in_(states))
    if category is not None:
        query = query.where(Appeal.category == category)
    if shop_id is not None:
        query = query.where(Appeal.shop_id == shop_id)
    if mine:
        query = query.where(Appeal.reviewer_id == getattr(actor, "id", None))
    if unclaimed:
        query = query.where(Appeal.reviewer_id.is_(None))
    if term := search_term(search):
        # Checked on the open appeals only (the queue's hundreds), each by its complaint's key.
        number = select(Complaint.id).where(
            Complaint.id == Appeal.complaint_id, contains(Complaint.external_id, term)
        )
        query = query.where(or_(contains(Appeal.number, term), number.exists()))
    if clock == "past_due":
        query = query.where(Appeal.review_due_at <= now)
    elif clock == "under_24_hours":
        query = query.where(
            Appeal.review_due_at > now, Appeal.review_due_at <= now + timedelta(days=1)
        )
    elif clock == "paused":
        query = query.where(Appeal.state == S.INFO_REQUESTED)
    return query.order_by(Appeal.review_due_at.asc().nulls_last(), Appeal.id)


def queue_page(
    session: Session, actor: Actor, *, page: int = 1, per_page: int = 50, **filters: Any
) -> Page[Appeal]:
    """One page of the queue, each appeal with its complaint, shop and version numbers."""
    query = queue_query(actor, **filters).options(
        selectinload(Appeal.complaint).selectinload(Complaint.shop),
        selectinload(Appeal.versions).load_only(AppealVersion.number),
    )
    return paginate(session, query, page, per_page)


def workload(session: Session) -> list[tuple[User, int]]:
    """Open cases per reviewer."""
    counts = (
        select(Appeal.reviewer_id, func.count())
        .where(Appeal.state.in_([S.IN_REVIEW, S.INFO_REQUESTED, S.SECOND_REVIEW]))
        .where(Appeal.reviewer_id.is_not(None))
        .group_by(Appeal.reviewer_id)
    )
    found = {row[0]: row[1] for row in session.execute(counts) if row[0] is not None}
    reviewers = session.scalars(
        select(User)
        .where(User.role.in_([Role.REVIEWER, Role.SENIOR_REVIEWER]), User.disabled_at.is_(None))
        .order_by(User.email)
    )
    return [(user, found.get(user.id, 0)) for user in reviewers]


def changes_since(appeal: Appeal) -> dict[str, Any]:
    """What the latest version adds or changes against the one before."""
    versions = appeal.versions
    if len(versions) < 2:
        return {"new": [], "changed": [], "rows": [], "previous": None}
    before = {e["label"]: e for e in versions[-2].content["exhibits"]}
    after = {e["label"]: e for e in versions[-1].content["exhibits"]}
    old_rows, new_rows = versions[-2].content["rows"], versions[-1].content["rows"]
    return {
        "new": [label for label in after if label not in before],
        "changed": [label for label in after
                    if label in before and after[label]["sha256"] != before[label]["sha256"]],
        "rows": [row_label(i) for i, row in enumerate(new_rows)
                 if i >= len(old_rows) or row != old_rows[i]],
        "previous": versions[-2].number,
    }  # fmt: skip


# -------------------------------------------------------------------- acting


def _reviewer(actor: Actor) -> int:
    require(actor, Permission.REVIEW_QUEUE_READ)
    user_id = getattr(actor, "id", None)
    if user_id is None or actor.role not in (Role.REVIEWER, Role.SENIOR_REVIEWER):
        raise PermissionDenied(N_("Only reviewers can do this."))
    return int(user_id)


def can_reappeal(appeal: Appeal, first: Ruling | None, now: datetime | None = None) -> bool:
    """Whether the shop may appeal a first ruling once more: decided, and the window open."""
    return _reappealable(appeal, first) and _window_open(first, now or utcnow())


def _reappealable(appeal: Appeal, first: Ruling | None) -> bool:
    return appeal.state is S.DECIDED and first is not None and first.instance == 1


def _window_open(first: Ruling | None, now: datetime) -> bool:
    return first is not None and first.window_ends_at is not None and now <= first.window_ends_at


def can_claim(actor: Actor, appeal: Appeal) -> bool:
    """Whether the actor may take this appeal now: a free first instance for any reviewer, a
    free second instance for a senior reviewer who did not rule first."""
    if not has_permission(actor, Permission.REVIEW_QUEUE_READ) or appeal.reviewer_id is not None:
        return False
    if appeal.state is S.SUBMITTED:
        return True
    return appeal.state is S.SECOND_REVIEW and _may_rule_second(actor, appeal)


def can_assign(actor: Actor) -> bool:
    """Whether the actor hands appeals to reviewers (senior reviewers do)."""
    return has_permission(actor, Permission.REVIEW_SECOND_INSTANCE_RULE)


def _may_rule_second(actor: Actor, appeal: Appeal) -> bool:
    return has_permission(actor, Permission.REVIEW_SECOND_INSTANCE_RULE) and (
        getattr(actor, "id", None) != appeal.first_reviewer_id
    )


def claim(session: Session, actor: Actor, appeal: Appeal, *, now: datetime | None = None) -> None:
    """Take a submitted appeal (first instance) or a second instance (senior reviewers)."""
    user_id = _reviewer(actor)
    now = now or utcnow()
    if appeal.state is S.SECOND_REVIEW:
        if not _may_rule_second(actor, appeal):
            raise PermissionDenied(
                N_("A second instance goes to a senior reviewer who did not rule first.")
            )
        if appeal.reviewer_id is not None:
            raise Conflict(N_("Another reviewer has already taken this appeal."))
        appeal.reviewer_id = user_id
        flush_or_conflict(session)
        audit.record(session, actor, "appeal.claimed", appeal, after={"reviewer": user_id})
        return

    if appeal.reviewer_id is not None and appeal.reviewer_id != user_id:
        raise Conflict(N_("Another reviewer has already taken this appeal."))

    def take(changed: Appeal) -> None:
        changed.reviewer_id = changed.first_reviewer_id = user_id

    transition(session, actor, appeal, Action.ASSIGN, now=now, before_flush=take)


def assign(
    session: Session, actor: Actor, appeal: Appeal, reviewer_id: int, *, now: datetime | None = None
) -> None:
    """A senior reviewer hands an appeal to a reviewer (or a second instance to a senior)."""
    _reviewer(actor)
    if not can_assign(actor):
        raise PermissionDenied(N_("Only senior reviewers assign appeals."))
    target = session.get(User, reviewer_id)
    if target is None or target.disabled_at is not None or target.role not in (
        Role.REVIEWER, Role.SENIOR_REVIEWER,
    ):  # fmt: skip
        raise InvalidInput(N_("Choose an active reviewer."), field="reviewer")
    if appeal.state is S.SUBMITTED:

        def give(changed: Appeal) -> None:
            changed.reviewer_id = changed.first_reviewer_id = target.id

        transition(session, actor, appeal, Action.ASSIGN, now=now, before_flush=give)
        return
    if appeal.state is S.SECOND_REVIEW and (
        target.role is not Role.SENIOR_REVIEWER or target.id == appeal.first_reviewer_id
    ):
        raise InvalidInput(
            N_("A second instance goes to a senior reviewer who did not rule first."),
            field="reviewer",
        )
    if appeal.state not in (S.IN_REVIEW, S.INFO_REQUESTED, S.SECOND_REVIEW):
        raise Conflict(N_("This appeal is not waiting for a reviewer."))
    before = {"reviewer": appeal.reviewer_id}
    appeal.reviewer_id = target.id
    if appeal.state is not S.SECOND_REVIEW:
        appeal.first_reviewer_id = target.id
    flush_or_conflict(session)
    audit.record(session, actor, "appeal.reassigned", appeal, before=before,
                 after={"reviewer": target.id})  # fmt: skip


def add_note(session: Session, actor: Actor, appeal: Appeal, body: str) -> ReviewNote:
    user_id = _reviewer(actor)
    body = body.strip()
    if not 1 <= len(body) <= 4000:
        raise InvalidInput(N_("Write a note of 1 to %(max)d characters."), field="body", max=4000)
    note = ReviewNote(appeal_id=appeal.id, author_id=user_id, body=body, created_at=utcnow())
    session.add(note)
    session.flush()
    audit.record(session, actor, "appeal.noted", appeal, after={"note": note.id})
    return note


def _assigned(actor: Actor, appeal: Appeal) -> int:
    user_id = _reviewer(actor)
    if appeal.reviewer_id != user_id:
        raise PermissionDenied(N_("Only the reviewer assigned to this appeal can do this."))
    return user_id


def request_info(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    question: str,
    due_at: datetime | None,
    *,
    policy: ReviewPolicy,
    now: datetime | None = None,
) -> InfoRequest:
    """Ask the merchant; the reviewers' clock stands still until the answer."""
    user_id = _assigned(actor, appeal)
    now = now or utcnow()
    question = question.strip()
    if not 10 <= len(question) <= 4000:
        raise InvalidInput(N_("Ask in 10 to %(max)d characters."), field="question", max=4000)
    due_at = due_at or now + policy.answer_window
    if not now + timedelta(hours=1) <= due_at <= now + timedelta(days=30):
        raise InvalidInput(
            N_("The answer deadline must be between 1 hour and 30 days from now."), field="due_at"
        )
    request = InfoRequest(
        appeal_id=appeal.id, asked_by_id=user_id, question=question, asked_at=now,
        due_at=due_at, asked_on_version=appeal.versions[-1].number,
    )  # fmt: skip

    def ask(changed: Appeal) -> None:
        session.add(request)
        session.add(ClockPause(appeal_id=changed.id, clock="review", reason="info_requested",
                               started_at=now))  # fmt: skip

    transition(session, actor, appeal, Action.REQUEST_INFO, now=now, before_flush=ask)
    notify_shop(session, appeal, "info_requested", {"due_at": due_at.isoformat()}, now=now)
    return request


open_request = case.open_request


def _shop_actor(actor: Actor, appeal: Appeal) -> None:
    if actor.role not in MERCHANT_ROLES or actor.shop_id != appeal.shop_id:
        raise NotFound(N_("No such appeal."))


def _new_version(
    session: Session, appeal: Appeal, heading: str, text: str, evidence_ids: list[int],
    actor: Actor, now: datetime,
) -> AppealVersion:  # fmt: skip
    """Append the answer as a rebuttal row citing the new evidence, and freeze a version."""
    check_cited(session, appeal, evidence_ids, "evidence")
    if len(appeal.rows) >= 26:
        raise InvalidInput(N_("This appeal has no room for another answer."), field="answer")
    appeal.rows.append(
        RebuttalRow(
            position=len(appeal.rows),
            allegation=heading[:4000],
            answer=text[:4000],
            evidence_ids=list(dict.fromkeys(evidence_ids)),
        )
    )
    flush_or_conflict(session)  # the same answer sent twice at once: the second loses
    number = appeal.versions[-1].number + 1
    version = freeze_version(session, appeal, actor, number=number, late=False, now=now)
    session.add(version)
    appeal.submission_count += 1
    return version


def respond(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    answer: str,
    evidence_ids: list[int],
    *,
    now: datetime | None = None,
) -> AppealVersion:
    """The merchant's answer (text and new evidence): a new version, and the clock runs again."""
    _shop_actor(actor, appeal)
    now = now or utcnow()
    request = open_request(session, appeal)
    if appeal.state is not S.INFO_REQUESTED or request is None:
        raise Conflict(N_("No question is waiting for an answer."))
    answer = answer.strip()
    if not 10 <= len(answer) <= 4000:
        raise InvalidInput(N_("Answer in 10 to %(max)d characters."), field="answer", max=4000)
    version = _new_version(session, appeal, request.question, answer, evidence_ids, actor, now)

    def answered(changed: Appeal) -> None:
        request.answer, request.answered_at = answer, now
        request.answered_version = version.number
        _resume_review_clock(session, changed, now)

    transition(session, actor, appeal, Action.RESPOND, now=now, before_flush=answered)
    if appeal.reviewer_id:
        notify(session, [appeal.reviewer_id], appeal, "info_answered", {}, now=now)
    return version


def _resume_review_clock(session: Session, appeal: Appeal, now: datetime) -> None:
    pause = session.scalar(
        select(ClockPause).where(
            ClockPause.appeal_id == appeal.id, ClockPause.clock == "review",
            ClockPause.ended_at.is_(None),
        )
    )  # fmt: skip
    if pause is None:
        return
    pause.ended_at = now
    if appeal.review_due_at is not None:
        appeal.review_due_at += now - pause.started_at


@dataclass(frozen=True)
class RulingInput:
    outcome: Outcome | None  # None: not chosen (the check says so)
    findings: list[dict[str, Any]]  # {"row": "A", "accepted": bool | None, "reason": str}
    insufficient: list[dict[str, Any]]  # {"label": "B-2", "reason": str}
    rule_applied: str
    merchant_measures: list[dict[str, Any]]
    buyer_measures: list[dict[str, Any]]
    summary: str


def rule(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    ruling: RulingInput,
    *,
    policy: ReviewPolicy,
    now: datetime | None = None,
) -> Ruling:
    """Decide, with a reason for every rebuttal row; a second instance's ruling is final.

    While a question waits, the reviewer may rule only once its answer deadline has passed:
    on the record as it stands (the ruling then says so, see `case.unanswered_question`).
    """
    user_id = _assigned(actor, appeal)
    now = now or utcnow()
    instance = 2 if appeal.state is S.SECOND_REVIEW else 1
    version = appeal.versions[-1]
    checked = _check_ruling(version, ruling)
    assert ruling.outcome is not None  # the check refuses a ruling without one
    if appeal.state is S.INFO_REQUESTED and case.answer_overdue(appeal, now):
        _resume_review_clock(session, appeal, now)  # the pause ends with the deadline
    record = Ruling(
        appeal_id=appeal.id, instance=instance, version=version.number, reviewer_id=user_id,
        outcome=ruling.outcome, findings=checked["findings"], insufficient=checked["insufficient"],
        rule_applied=ruling.rule_applied.strip(), merchant_measures=checked["merchant"],
        buyer_measures=checked["buyer"], restore_points=ruling.outcome is not Outcome.REJECTED,
        summary=ruling.summary.strip(), decided_at=now, due_at=appeal.review_due_at,
        window_ends_at=now + policy.reappeal_window if instance == 1 else None,
    )  # fmt: skip

    def decide(changed: Appeal) -> None:
        session.add(record)
        changed.review_due_at = None

    transition(session, actor, appeal, Action.RULE, now=now, before_flush=decide)
    notify_shop(session, appeal, "ruled", {"outcome": record.outcome.value,
                                           "instance": instance}, now=now)  # fmt: skip
    return record


def _check_ruling(version: AppealVersion, ruling: RulingInput) -> dict[str, list[dict[str, Any]]]:
    """Every rule a ruling must meet, checked together so the reviewer sees all at once."""
    refusals: list[InvalidInput] = []

    def refuse(message: str, field: str, **params: Any) -> None:
        refusals.append(InvalidInput(message, field=field, **params))

    if ruling.outcome is None:
        refuse(N_("Choose the outcome."), "outcome")
    given = {f.get("row"): f for f in ruling.findings}
    findings = []
    for row in row_labels(len(version.content["rows"])):
        finding = given.get(row) or {}
        reason = str(finding.get("reason") or "").strip()
        if finding.get("accepted") is None:
            refuse(N_("Accept or reject row %(row)s."), f"row_{row}", row=row)
        if not reason:
            refuse(N_("Give a reason for row %(row)s."), f"reason_{row}", row=row)
        findings.append(
            {"row": row, "accepted": bool(finding.get("accepted")), "reason": reason[:2000]}
        )
    labels = {e["label"] for e in version.content["exhibits"]}
    insufficient = []
    for item in ruling.insufficient:
        label, reason = item.get("label"), str(item.get("reason") or "").strip()
        if label not in labels or not reason:
            refuse(N_("Name the exhibit and say why it is insufficient."), "insufficient")
            continue
        insufficient.append({"label": label, "reason": reason[:2000]})
    if len(ruling.rule_applied.strip()) < 5:
        refuse(N_("Name the rule applied."), "rule_applied")
    if len(ruling.summary.strip()) < 10:
        refuse(N_("Write what the merchant will read (10 characters or more)."), "summary")
    merchant: list[dict[str, Any]] = []
    buyer: list[dict[str, Any]] = []
    for measures, kinds, chosen in ((ruling.merchant_measures, MERCHANT_MEASURES, merchant),
                                    (ruling.buyer_measures, BUYER_MEASURES, buyer)):  # fmt: skip
        for measure in measures:
            try:
                chosen.append(_measure(measure, kinds))
            except InvalidInput as error:
                refusals.append(error)
    decided = [f for f, r in zip(findings, row_labels(len(findings)), strict=True)
               if (given.get(r) or {}).get("accepted") is not None]  # fmt: skip
    if ruling.outcome is Outcome.UPHELD and merchant:
        refuse(N_("An upheld appeal carries no measure against the merchant."),
               "merchant_measures")  # fmt: skip
    if ruling.outcome is Outcome.REJECTED and buyer:
        refuse(N_("A rejected appeal carries no measure against the buyer."), "buyer_measures")
    if ruling.outcome is Outcome.UPHELD and not all(f["accepted"] for f in decided):
        refuse(N_("An upheld appeal accepts every row; use partially upheld."), "outcome")
    if ruling.outcome is Outcome.REJECTED and any(f["accepted"] for f in decided):
        refuse(N_("A rejected appeal accepts no row; use partially upheld."), "outcome")
    refuse_all(refusals)
    return {
        "findings": findings,
        "insufficient": insufficient,
        "merchant": merchant,
        "buyer": buyer,
    }


def _measure(measure: dict[str, Any], kinds: tuple[str, ...]) -> dict[str, Any]:
    kind = measure.get("kind")
    if kind not in kinds:
        raise InvalidInput(N_("Unknown measure: %(value)s."), field="measures", value=str(kind))
    checked: dict[str, Any] = {"kind": kind}
    if kind in ("suspension", "buyer_restriction"):
        days = measure.get("days")
        if not isinstance(days, int) or not 1 <= days <= 365:
            raise InvalidInput(N_("Give the number of days (1 to 365)."), field="measures")
        checked["days"] = days
    if kind == "fine":
        try:
            amount = Decimal(str(measure.get("amount")))
        except InvalidOperation:
            amount = Decimal(0)
        if not amount.is_finite() or not Decimal("0.01") <= amount <= Decimal(1_000_000):
            raise InvalidInput(N_("Give the fine's amount."), field="measures")
        checked["amount"] = str(amount.quantize(Decimal("0.01")))
    return checked


def pauses(session: Session, appeal: Appeal) -> list[ClockPause]:
    """Every time the reviewers' clock stood still, and why."""
    return list(
        session.scalars(
            select(ClockPause).where(ClockPause.appeal_id == appeal.id).order_by(ClockPause.id)
        )
    )


# What both sides see on an appeal's timeline; draft saves and the reviewers' internal
# notes are audited too, but belong to one side.
TIMELINE_ACTIONS = (
    *(f"appeal.{name}"
      for name in ("started", "submit", "assign", "reassigned", "claimed", "request_info",
                   "respond", "rule", "reappeal", "close_window", "withdraw", "expire")),
    "bundle.requested",
)  # fmt: skip


def timeline(session: Session, appeal: Appeal) -> list[Any]:
    """What happened to the appeal, oldest first (from the audit trail)."""
    from appeals.models import AuditEvent

    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "appeal", AuditEvent.object_id == str(appeal.id))
            .where(AuditEvent.action.in_(TIMELINE_ACTIONS))
            .order_by(AuditEvent.id)
        )
    )


def current_ruling(session: Session, appeal: Appeal) -> Ruling | None:
    return session.scalar(
        select(Ruling).where(Ruling.appeal_id == appeal.id).order_by(Ruling.instance.desc())
    )


def reappeal(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    statement: str,
    evidence_ids: list[int],
    *,
    policy: ReviewPolicy,
    now: datetime | None = None,
) -> AppealVersion:
    """Appeal once more, with new information, while the window is open."""
    _shop_actor(actor, appeal)
    now = now or utcnow()
    first = current_ruling(session, appeal)
    if not _reappealable(appeal, first):
        raise Conflict(N_("This appeal cannot be appealed again."))
    if not _window_open(first, now):
        raise Conflict(N_("The window for a second appeal has closed."))
    statement = statement.strip()
    if not 20 <= len(statement) <= 4000:
        raise InvalidInput(N_("Explain in 20 to %(max)d characters what is new."),
                           field="statement", max=4000)  # fmt: skip
    heading = "Second instance: new information / 二审：新信息"
    version = _new_version(session, appeal, heading, statement, evidence_ids, actor, now)

    def second(changed: Appeal) -> None:
        changed.reviewer_id = None
        changed.review_due_at = now + policy.second_review

    transition(session, actor, appeal, Action.REAPPEAL, now=now, before_flush=second)
    seniors = session.scalars(
        select(User.id).where(
            User.role == Role.SENIOR_REVIEWER,
            User.disabled_at.is_(None),
            User.id != appeal.first_reviewer_id,
        )
    )
    notify(session, list(seniors), appeal, "second_instance", {}, now=now)
    return version


def close_windows(session: Session, actor: Actor, *, now: datetime | None = None) -> dict[str, int]:
    """The system's moves: unchallenged decisions become final, late drafts expire.

    Each move stands alone: one that someone else made first (another server's tick, a
    merchant appealing at the last second) is skipped, and the rest go on.
    """
    from appeals.models import Complaint

    now = now or utcnow()
    decided = session.scalars(
        select(Appeal)
        .join(Ruling, Ruling.appeal_id == Appeal.id)
        .where(Appeal.state == S.DECIDED, Ruling.instance == 1, Ruling.window_ends_at <= now)
    ).all()
    late = session.scalars(
        select(Appeal)
        .join(Complaint, Complaint.id == Appeal.complaint_id)
        .where(Appeal.state == S.DRAFT, Complaint.appeal_deadline <= now)
    ).all()
    done = {"final": 0, "expired": 0}
    for appeals, action, kind, key in ((decided, Action.CLOSE_WINDOW, "final", "final"),
                                       (late, Action.EXPIRE, "expired", "expired")):  # fmt: skip
        for appeal in appeals:
            try:
                with session.begin_nested():
                    transition(session, actor, appeal, action, now=now)
                    notify_shop(session, appeal, kind, {}, now=now)
            except Conflict:
                session.expire(appeal)
                continue
            done[key] += 1
    return done
