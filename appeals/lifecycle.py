"""The appeal lifecycle: one transition table, and one function that moves an appeal.

Who may do what is part of the table, so that the web, the API, the CLI and workers all
meet the same rule; every move writes an audit event, and a move made on a stale copy
(someone else acted first) is refused as a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from appeals import audit, case
from appeals.clock import utcnow
from appeals.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from appeals.models.appeal import Appeal, AppealState
from appeals.permissions import Actor, Role

S = AppealState


class Action(StrEnum):
    SUBMIT = "submit"
    ASSIGN = "assign"
    REQUEST_INFO = "request_info"
    RESPOND = "respond"
    RULE = "rule"
    REAPPEAL = "reappeal"
    CLOSE_WINDOW = "close_window"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


class Party(StrEnum):
    """Who may take an action: the appeal's own shop, platform reviewers, or the system."""

    SHOP = "shop"
    REVIEWER = "reviewer"
    SENIOR_REVIEWER = "senior_reviewer"
    SYSTEM = "system"


@dataclass(frozen=True)
class Move:
    target: AppealState
    party: Party
    # A condition on the appeal at the time (None: always), and the refusal when it fails.
    when: Callable[[Appeal, datetime], bool] | None = None
    refusal: str = ""


TRANSITIONS: dict[tuple[AppealState, Action], Move] = {
    (S.DRAFT, Action.SUBMIT): Move(S.SUBMITTED, Party.SHOP),
    (S.DRAFT, Action.WITHDRAW): Move(S.WITHDRAWN, Party.SHOP),
    (S.DRAFT, Action.EXPIRE): Move(S.EXPIRED, Party.SYSTEM),
    (S.SUBMITTED, Action.ASSIGN): Move(S.IN_REVIEW, Party.REVIEWER),
    (S.SUBMITTED, Action.WITHDRAW): Move(S.WITHDRAWN, Party.SHOP),
    (S.IN_REVIEW, Action.REQUEST_INFO): Move(S.INFO_REQUESTED, Party.REVIEWER),
    (S.IN_REVIEW, Action.RULE): Move(S.DECIDED, Party.REVIEWER),
    (S.INFO_REQUESTED, Action.RESPOND): Move(S.IN_REVIEW, Party.SHOP),
    # An unanswered question does not hold the case for ever: past its deadline the reviewer
    # rules on the record (the merchant's banner and reminder say so beforehand).
    (S.INFO_REQUESTED, Action.RULE): Move(
        S.DECIDED,
        Party.REVIEWER,
        when=case.answer_overdue,
        refusal=N_(
            "The merchant may still answer the question; you can rule on the record "
            "once its answer deadline has passed."
        ),
    ),
    (S.DECIDED, Action.REAPPEAL): Move(S.SECOND_REVIEW, Party.SHOP),
    (S.DECIDED, Action.CLOSE_WINDOW): Move(S.FINAL, Party.SYSTEM),
    (S.SECOND_REVIEW, Action.RULE): Move(S.FINAL, Party.SENIOR_REVIEWER),
}

_PARTY_ROLES: dict[Party, frozenset[Role]] = {
    Party.SHOP: frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_STAFF}),
    Party.REVIEWER: frozenset({Role.REVIEWER, Role.SENIOR_REVIEWER}),
    Party.SENIOR_REVIEWER: frozenset({Role.SENIOR_REVIEWER}),
    Party.SYSTEM: frozenset(),
}


class InvalidTransition(Conflict):
    """The move is not allowed from the appeal's current state."""

    code = "invalid_transition"


def allowed_actions(appeal: Appeal, actor: Actor, now: datetime | None = None) -> list[Action]:
    """The actions this actor may take on the appeal now (for buttons and API hints)."""
    actions = []
    for (state, action), move in TRANSITIONS.items():
        if (
            state is appeal.state
            and _may(actor, appeal, move.party)
            and (move.when is None or move.when(appeal, now or utcnow()))
        ):
            actions.append(action)
    return actions


def _may(actor: Actor, appeal: Appeal, party: Party) -> bool:
    if not actor.is_active:
        return False
    if party is Party.SYSTEM:
        return getattr(actor, "id", None) is None and actor.role is Role.ADMIN
    if actor.role not in _PARTY_ROLES[party]:
        return False
    if party is Party.SHOP:
        return actor.shop_id == appeal.shop_id
    if party is Party.SENIOR_REVIEWER:
        # The second instance is never judged by the reviewer who ruled first.
        return getattr(actor, "id", None) != appeal.first_reviewer_id
    return True


def flush_or_conflict(session: Session) -> None:
    """Write the appeal's change, or tell the user someone else changed it first.

    A stale version (optimistic lock) or a duplicate that a concurrent request inserted
    first (a second ruling, version or row) is the same conflict. The transaction is rolled
    back, so nothing of the loser is written and its session can show the winner's state;
    inside a savepoint only the savepoint is, by its own context manager.
    """
    try:
        session.flush()
    except (StaleDataError, IntegrityError):
        if not session.in_nested_transaction():
            session.rollback()
        raise Conflict(
            N_("This appeal was changed by someone else. Reload it to see the latest version.")
        ) from None


def transition(
    session: Session,
    actor: Actor,
    appeal: Appeal,
    action: Action,
    *,
    now: datetime | None = None,
    before_flush: Callable[[Appeal], None] | None = None,
) -> AppealState:
    """Move the appeal by `action`, or refuse; the audit event is written in the same flush."""
    move = TRANSITIONS.get((appeal.state, action))
    if move is None:
        raise InvalidTransition(
            N_("This can no longer be done: the appeal has moved on. Reload it to see where it "
               "stands."),
            state=appeal.state.value, action=action.value,
        )  # fmt: skip
    if not _may(actor, appeal, move.party):
        if move.party is Party.SHOP and actor.role.is_merchant and actor.shop_id != appeal.shop_id:
            raise NotFound(N_("No such appeal."))  # another shop's appeal: no existence oracle
        raise PermissionDenied(N_("You do not have permission to do this."))
    if move.when is not None and not move.when(appeal, now or utcnow()):
        raise Conflict(move.refusal)
    previous = appeal.state
    appeal.state = move.target
    appeal.state_changed_at = now or utcnow()
    with session.no_autoflush:  # loading the complaint must not write the appeal early
        case.follow(appeal)  # the complaint follows its appeal
    if before_flush is not None:
        before_flush(appeal)
    flush_or_conflict(session)
    audit.record(
        session, actor, f"appeal.{action.value}", appeal,
        before={"state": previous.value}, after={"state": move.target.value},
    )  # fmt: skip
    return move.target


def check_editable(appeal: Appeal) -> None:
    """Drafts are editable; anything submitted is frozen."""
    if appeal.state is not S.DRAFT:
        raise InvalidInput(N_("Only a draft can be changed; this appeal is %(state)s."),
                           state=appeal.state.value)  # fmt: skip
