"""The audit trail is append-only in the database, and tampering breaks the chain."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from appeals import audit
from appeals.accounts import SYSTEM
from appeals.models import AuditEvent
from tests.conftest import SERVER_URL


class Thing:
    def __init__(self, ident: int) -> None:
        self.id = ident
        self.shop_id = None


def chain(session: Session, length: int = 4) -> list[AuditEvent]:
    return [
        audit.record(session, SYSTEM, "thing.changed", Thing(i), after={"n": i})
        for i in range(length)
    ]


def test_a_fresh_chain_verifies(session: Session) -> None:
    chain(session)
    report = audit.verify(session)
    assert report.intact and report.checked >= 4


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"]
)
def test_the_database_refuses_updates_and_deletes(session: Session, statement: str) -> None:
    chain(session, 1)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    nested.rollback()


def without_guard(session: Session) -> None:
    """Remove the triggers inside the test's transaction, as an attacker with DDL rights could."""
    if SERVER_URL:
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))


def tamper_edit(session: Session, events: list[AuditEvent]) -> int:
    session.execute(
        text("UPDATE audit_event SET after = :v WHERE id = :id"),
        {"v": '{"n": 99}', "id": events[1].id},
    )
    return events[1].id


def tamper_delete(session: Session, events: list[AuditEvent]) -> int:
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[1].id})
    return events[2].id


def tamper_swap(session: Session, events: list[AuditEvent]) -> int:
    """Exchange the content of two entries (their order in the trail), keeping each hash."""
    a, b = events[1], events[2]
    statement = text("UPDATE audit_event SET object_id = :o, after = :v WHERE id = :id")
    session.execute(statement, {"o": b.object_id, "v": json.dumps(b.after), "id": a.id})
    session.execute(statement, {"o": a.object_id, "v": json.dumps(a.after), "id": b.id})
    return a.id


def tamper_insert(session: Session, events: list[AuditEvent]) -> int:
    forged = AuditEvent(
        occurred_at=events[1].occurred_at, actor_id=None, actor_label="system", shop_id=None,
        action="thing.forged", object_type="thing", object_id="x", before=None, after=None,
        prev_hash=events[1].entry_hash, entry_hash="",
    )  # fmt: skip
    forged.entry_hash = audit.entry_hash(forged.prev_hash, forged)
    session.add(forged)
    session.flush()
    return forged.id


@pytest.mark.parametrize("tamper", [tamper_edit, tamper_delete, tamper_swap, tamper_insert])
def test_every_kind_of_tampering_is_found(session: Session, tamper) -> None:  # type: ignore[no-untyped-def]
    events = chain(session)
    session.expunge_all()
    without_guard(session)
    tamper(session, [session.get(AuditEvent, e.id) or e for e in events])
    session.expire_all()
    report = audit.verify(session)
    assert not report.intact and report.event_id is not None
    assert session.scalar(select(AuditEvent).where(AuditEvent.id == report.event_id)) is not None
