"""Writing the audit trail and proving it untouched."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from appeals.clock import utcnow
from appeals.models import AuditEvent
from appeals.permissions import Actor

GENESIS = "0" * 64
# Any constant shared by all writers: on PostgreSQL they queue on it to extend the chain.
_CHAIN_LOCK = 0x41_55_44_49_54


def _canonical(event: AuditEvent) -> bytes:
    content = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "shop_id": event.shop_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()


def entry_hash(prev_hash: str, event: AuditEvent) -> str:
    """sha256 over the previous entry's hash and this entry's canonical content."""
    return hashlib.sha256(prev_hash.encode() + _canonical(event)).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    shop_id: int | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain (within the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    prev = session.scalar(select(AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=(now or utcnow()).replace(microsecond=0),
        actor_id=getattr(actor, "id", None),
        actor_label=str(getattr(actor, "email", "system")),
        shop_id=shop_id if shop_id is not None else getattr(obj, "shop_id", None),
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(getattr(obj, "id", "")),
        before=before,
        after=after,
        prev_hash=prev or GENESIS,
        entry_hash="",
    )
    event.entry_hash = entry_hash(event.prev_hash, event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditReport:
    """The outcome of walking the chain: intact, or where and how it breaks."""

    checked: int
    problem: str | None = None
    event_id: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(session: Session) -> AuditReport:
    """Walk the chain in order; an edit, deletion, swap or insertion breaks it."""
    prev = GENESIS
    checked = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev:
            return AuditReport(
                checked, "an entry before this one was removed, moved or inserted", event.id
            )
        if entry_hash(prev, event) != event.entry_hash:
            return AuditReport(checked, "this entry was changed after it was written", event.id)
        prev = event.entry_hash
        checked += 1
    return AuditReport(checked)
