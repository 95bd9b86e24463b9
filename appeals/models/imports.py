"""Order imports: an uploaded export waiting for confirmation, then its outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.clock import utcnow
from appeals.columns import UTCDateTime, str_enum
from appeals.db import Base
from appeals.models.account import Shop, User


class ImportStatus(StrEnum):
    PREVIEWED = "previewed"
    APPLIED = "applied"


class OrderImport(Base):
    """One uploaded order export of a shop; the file is kept under a server-made name."""

    __tablename__ = "order_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus, "import_status"))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    platform: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User] = relationship()
    shop: Mapped[Shop] = relationship()
