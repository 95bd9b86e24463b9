"""Bundle builds: one per submitted version, with its progress and the published files."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.columns import UTCDateTime, str_enum
from appeals.db import Base
from appeals.models.appeal import AppealVersion


class BuildState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class BundleBuild(Base):
    """The PDF and ZIP of one submitted version, once built; cached for every later download.

    The files are published to blob storage by rename before the row says READY, so a
    half-built bundle is never downloadable.
    """

    __tablename__ = "bundle_build"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("appeal_version.id"), unique=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    state: Mapped[BuildState] = mapped_column(str_enum(BuildState, "build_state"))
    done: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    pdf_key: Mapped[str | None] = mapped_column(String(64), index=True)
    zip_key: Mapped[str | None] = mapped_column(String(64), index=True)
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    zip_size: Mapped[int | None] = mapped_column(BigInteger)
    pages: Mapped[int | None] = mapped_column(Integer)
    # What the automatic fit changed, and any other remark for the people downloading.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The process that is building it, or has it queued in its own threads: a token of
    # evidence.scratch, whose lease proves at once whether that process still lives.
    owner: Mapped[str | None] = mapped_column(String(80))

    version: Mapped[AppealVersion] = relationship()

    @property
    def percent(self) -> int:
        if self.state is BuildState.READY:
            return 100
        return int(100 * self.done / self.steps) if self.steps else 0
