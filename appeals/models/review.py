"""The platform's review: information requests, internal notes, rulings, paused clocks and
notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.columns import UTCDateTime, str_enum
from appeals.db import Base
from appeals.models.account import User


class Outcome(StrEnum):
    """What the ruling says of the merchant's appeal."""

    UPHELD = "upheld"  # the appeal wins: the complaint was malicious
    PARTIALLY_UPHELD = "partially_upheld"
    REJECTED = "rejected"  # the complaint stands


class InfoRequest(Base):
    """A reviewer's question to the merchant, with an answer deadline."""

    __tablename__ = "info_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    asked_on_version: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_version: Mapped[int | None] = mapped_column(Integer)

    asked_by: Mapped[User] = relationship()


class ReviewNote(Base):
    """A reviewer's internal note: never shown to the merchant."""

    __tablename__ = "review_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()


class Ruling(Base):
    """A decision with its reasons: per rebuttal row, on evidence, the rule, the measures."""

    __tablename__ = "ruling"
    __table_args__ = (UniqueConstraint("appeal_id", "instance", name="uq_ruling_instance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    instance: Mapped[int] = mapped_column(Integer)  # 1 first, 2 second (final)
    version: Mapped[int] = mapped_column(Integer)  # the appeal version judged
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "ruling_outcome"))
    # [{"row": "A", "accepted": true, "reason": "..."}], one per rebuttal row
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"label": "B-2", "reason": "..."}]: exhibits found insufficient, and why
    insufficient: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rule_applied: Mapped[str] = mapped_column(Text)
    # [{"kind": "suspension", "days": 7}, {"kind": "fine", "amount": "500.00"}]
    merchant_measures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    buyer_measures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    restore_points: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime
    )  # the service level it met or missed
    window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reviewer: Mapped[User] = relationship()


class ClockPause(Base):
    """A time a clock stood still while the case waited on the other side, and why."""

    __tablename__ = "clock_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    clock: Mapped[str] = mapped_column(String(32))  # "review"
    reason: Mapped[str] = mapped_column(String(64))  # "info_requested"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """Something a user should know, in the portal and (through the outbox) by email."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeal.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # One reminder per deadline and user: the key makes a second one impossible.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
