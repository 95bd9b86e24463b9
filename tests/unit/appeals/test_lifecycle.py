"""Every state against every action and every kind of actor; concurrent moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals import accounts, complaints
from appeals.accounts import SYSTEM
from appeals.appeal import start_appeal
from appeals.db import make_session_factory
from appeals.errors import Conflict, NotFound, PermissionDenied
from appeals.lifecycle import Action, InvalidTransition, allowed_actions, transition
from appeals.models import (
    Appeal,
    AppealState,
    AuditEvent,
    ComplaintChannel,
    ComplaintType,
    InfoRequest,
    User,
)
from appeals.permissions import Role
from appeals.policies import DEFAULT_POLICIES

S = AppealState
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)

# The lifecycle as DESIGN.md draws it, written out independently of the code's table.
LEGAL = {
    (S.DRAFT, Action.SUBMIT): S.SUBMITTED,
    (S.DRAFT, Action.WITHDRAW): S.WITHDRAWN,
    (S.DRAFT, Action.EXPIRE): S.EXPIRED,
    (S.SUBMITTED, Action.ASSIGN): S.IN_REVIEW,
    (S.SUBMITTED, Action.WITHDRAW): S.WITHDRAWN,
    (S.IN_REVIEW, Action.REQUEST_INFO): S.INFO_REQUESTED,
    (S.IN_REVIEW, Action.RULE): S.DECIDED,
    (S.INFO_REQUESTED, Action.RESPOND): S.IN_REVIEW,
    # Once the question's answer deadline has passed: a ruling on the record.
    (S.INFO_REQUESTED, Action.RULE): S.DECIDED,
    (S.DECIDED, Action.REAPPEAL): S.SECOND_REVIEW,
    (S.DECIDED, Action.CLOSE_WINDOW): S.FINAL,
    (S.SECOND_REVIEW, Action.RULE): S.FINAL,
}
SHOP_ACTIONS = {Action.SUBMIT, Action.WITHDRAW, Action.RESPOND, Action.REAPPEAL}
SYSTEM_ACTIONS = {Action.EXPIRE, Action.CLOSE_WINDOW}
ACTORS = [
    "owner",
    "staff",
    "other_shop",
    "reviewer",
    "senior",
    "first_reviewer",
    "admin",
    "platform",
    "system",
]


def may(actor: str, state: AppealState, action: Action) -> bool:
    if action in SHOP_ACTIONS:
        return actor in ("owner", "staff")
    if action in SYSTEM_ACTIONS:
        return actor == "system"
    if state is S.SECOND_REVIEW:  # the second-instance ruling
        return actor == "senior"
    return actor in ("reviewer", "senior", "first_reviewer")


@pytest.fixture
def case(session: Session):  # type: ignore[no-untyped-def]
    from appeals import passwords

    passwords.use_profile("cheapest")
    shop = accounts.create_shop(session, SYSTEM, "Lifecycle Shop")
    other = accounts.create_shop(session, SYSTEM, "Other Shop")
    people = {}
    for name, role, home in [
        ("owner", Role.MERCHANT_OWNER, shop), ("staff", Role.MERCHANT_STAFF, shop),
        ("other_shop", Role.MERCHANT_OWNER, other), ("reviewer", Role.REVIEWER, None),
        ("senior", Role.SENIOR_REVIEWER, None), ("first_reviewer", Role.SENIOR_REVIEWER, None),
        ("admin", Role.ADMIN, None), ("platform", Role.PLATFORM, None),
    ]:  # fmt: skip
        people[name] = accounts.create_user(
            session,
            SYSTEM,
            email=f"{name}@life.example",
            role=role,
            password="long password 1",
            shop=home,
        )
    people["system"] = SYSTEM
    complaint = complaints.record_complaint(
        session, shop, external_id="CP-LIFE-1", type=ComplaintType.OTHER,
        channel=ComplaintChannel.ONLINE, description="x", buyer_ref="b", received_at=NOW,
        policy=DEFAULT_POLICIES.deadlines,
    )  # fmt: skip
    appeal = start_appeal(session, people["owner"], complaint.id, now=NOW)
    appeal.first_reviewer_id = people["first_reviewer"].id
    session.flush()
    return appeal, people


CASES = [(state, action, actor) for state in S for action in Action for actor in ACTORS]


@pytest.mark.parametrize(
    ("state", "action", "actor"), CASES, ids=[f"{s.value}-{a.value}-{p}" for s, a, p in CASES]
)
def test_every_state_action_and_actor(
    session: Session, case, state: AppealState, action: Action, actor: str
) -> None:  # type: ignore[no-untyped-def]
    appeal, people = case
    appeal.state = state
    appeal.submitted_at = None if state is S.DRAFT else NOW
    if state is S.INFO_REQUESTED:  # a question whose answer deadline has passed
        session.add(overdue_question(appeal, people["reviewer"]))
    session.flush()
    events_before = len(session.scalars(select(AuditEvent.id)).all())
    legal = (state, action) in LEGAL
    if not legal:
        with pytest.raises(InvalidTransition):
            transition(session, people[actor], appeal, action, now=NOW)
        assert appeal.state is state
        return
    if not may(actor, state, action):
        expected = (
            NotFound if action in SHOP_ACTIONS and actor == "other_shop" else PermissionDenied
        )
        with pytest.raises(expected):
            transition(session, people[actor], appeal, action, now=NOW)
        assert appeal.state is state
        assert len(session.scalars(select(AuditEvent.id)).all()) == events_before
        return
    if action is Action.SUBMIT:
        appeal.submitted_at = NOW
    assert transition(session, people[actor], appeal, action, now=NOW) is LEGAL[(state, action)]
    assert appeal.state is LEGAL[(state, action)]
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-1] == f"appeal.{action.value}" and len(actions) == events_before + 1


def overdue_question(appeal: Appeal, asker: User) -> InfoRequest:
    return InfoRequest(
        appeal_id=appeal.id, asked_by_id=asker.id, question="Send the photo.",
        asked_at=NOW - timedelta(days=4), due_at=NOW - timedelta(days=1), asked_on_version=1,
    )  # fmt: skip


def test_a_question_not_yet_due_holds_the_ruling(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    appeal, people = case
    appeal.state, appeal.submitted_at = S.INFO_REQUESTED, NOW
    question = overdue_question(appeal, people["reviewer"])
    question.due_at = NOW + timedelta(hours=5)
    session.add(question)
    session.flush()
    assert Action.RULE not in allowed_actions(appeal, people["reviewer"], NOW)
    with pytest.raises(Conflict):
        transition(session, people["reviewer"], appeal, Action.RULE, now=NOW)
    assert appeal.state is S.INFO_REQUESTED
    later = NOW + timedelta(hours=6)
    assert Action.RULE in allowed_actions(appeal, people["reviewer"], later)
    assert transition(session, people["reviewer"], appeal, Action.RULE, now=later) is S.DECIDED


def test_allowed_actions_tell_each_actor_what_they_can_do(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    appeal, people = case
    assert allowed_actions(appeal, people["owner"]) == [Action.SUBMIT, Action.WITHDRAW]
    assert allowed_actions(appeal, people["reviewer"]) == []
    assert allowed_actions(appeal, people["other_shop"]) == []


def test_two_people_acting_at_once_end_with_one_result(session: Session, case) -> None:  # type: ignore[no-untyped-def]
    """Both load the appeal; the first to save wins, the second is told to reload."""
    appeal, people = case
    appeal.state, appeal.submitted_at = S.IN_REVIEW, NOW
    session.commit()
    factory = make_session_factory(session.get_bind())
    second = factory()
    theirs = second.get(Appeal, appeal.id)  # the second reviewer opens the appeal...
    second.commit()  # ...and their copy (version included) stays in their hands
    first = factory()
    try:
        mine = first.get(Appeal, appeal.id)
        assert mine is not None and theirs is not None
        transition(first, people["reviewer"], mine, Action.RULE, now=NOW)
        first.commit()
        with pytest.raises(Conflict, match="changed by someone else"):
            transition(second, people["senior"], theirs, Action.REQUEST_INFO, now=NOW)
        second.rollback()
        fresh = first.get(Appeal, appeal.id)
        assert fresh is not None and fresh.state is S.DECIDED
    finally:
        first.close()
        second.close()
