"""The audit trail: an append-only, hash-chained record of every action."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from appeals.columns import UTCDateTime
from appeals.db import Base


class AuditEvent(Base):
    """One action: who, when, what, on which object, and the state before and after.

    The database refuses to update or delete these rows (triggers in the migration);
    entry_hash = sha256(prev_hash + canonical content) makes any edit detectable.
    """

    __tablename__ = "audit_event"
    # The audit screen's filters (migration 0014).
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id", "id"),
        Index("ix_audit_event_actor", "actor_id", "id"),
        Index("ix_audit_event_action", "action", "id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
