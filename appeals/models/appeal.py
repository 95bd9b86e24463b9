"""Appeals against complaints, and the states they pass through."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.clock import utcnow
from appeals.columns import UTCDateTime, str_enum
from appeals.db import Base
from appeals.models.complaint import Complaint, MaliciousCategory


class AppealState(StrEnum):
    """Where an appeal stands (DESIGN.md, "Appeal lifecycle")."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    INFO_REQUESTED = "info_requested"
    DECIDED = "decided"
    SECOND_REVIEW = "second_review"
    FINAL = "final"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Appeal(Base):
    """A merchant's appeal against one complaint."""

    __tablename__ = "appeal"
    __table_args__ = (
        CheckConstraint(
            "state IN ('draft', 'withdrawn', 'expired') OR submitted_at IS NOT NULL",
            name="submitted_has_time",
        ),
        # The review queue: a few states, soonest due first (review.queue_query).
        Index("ix_appeal_queue", "state", "review_due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[AppealState] = mapped_column(str_enum(AppealState, "appeal_state"))
    category: Mapped[MaliciousCategory | None] = mapped_column(
        str_enum(MaliciousCategory, "appeal_category")
    )
    statement: Mapped[str] = mapped_column(Text, default="")
    remedies: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    submission_count: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reviewers' service-level deadline; pushed back by every pause of their clock.
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Optimistic locking: every ORM update checks and bumps it, so that two people
    # acting at once end with exactly one result (StaleDataError for the other).
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    complaint: Mapped[Complaint] = relationship()
    rows: Mapped[list[RebuttalRow]] = relationship(
        order_by="RebuttalRow.position", cascade="all, delete-orphan"
    )
    versions: Mapped[list[AppealVersion]] = relationship(order_by="AppealVersion.number")

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012 (SQLAlchemy's own hook)


class RebuttalRow(Base):
    """One allegation of the complaint and the merchant's answer to it."""

    __tablename__ = "rebuttal_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    allegation: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    evidence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class AppealVersion(Base):
    """What was submitted, frozen: statement, remedies, rows and exhibits with their hashes."""

    __tablename__ = "appeal_version"
    __table_args__ = (UniqueConstraint("appeal_id", "number", name="uq_appeal_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    late: Mapped[bool] = mapped_column(default=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
