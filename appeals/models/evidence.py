"""Evidence items: one uploaded file each, its original kept unchanged by its hash."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.clock import utcnow
from appeals.columns import UTCDateTime, str_enum
from appeals.db import Base
from appeals.models.account import User

if TYPE_CHECKING:
    from appeals.models.complaint import Complaint


class EvidenceKind(StrEnum):
    """What the proof is, as the merchant files it."""

    SHIPPING_RECEIPT = "shipping_receipt"
    LOGISTICS_TRACKING = "logistics_tracking"
    DELIVERY_PROOF = "delivery_proof"
    CHAT_SCREENSHOT = "chat_screenshot"
    CHAT_EXPORT = "chat_export"
    ORDER_HISTORY = "order_history"
    PRODUCT_PHOTO = "product_photo"
    PAYMENT_RECORD = "payment_record"
    REVIEW_CAPTURE = "review_capture"
    OTHER = "other"


class Provenance(StrEnum):
    """Where the file came from: the platform's own records, or the merchant."""

    PLATFORM_NATIVE = "platform_native"
    MERCHANT_UPLOADED = "merchant_uploaded"


class ReadingState(StrEnum):
    """Where the reading of a picture or scanned PDF stands (None: nothing to read)."""

    QUEUED = "queued"
    READING = "reading"
    DONE = "done"
    FAILED = "failed"


class EvidenceItem(Base):
    """One file of proof attached to a complaint of a shop."""

    __tablename__ = "evidence_item"
    __table_args__ = (
        # The same file twice in one complaint is recognised by its hash; one file may
        # serve several complaints of the shop (attached, sharing its blobs).
        UniqueConstraint("complaint_id", "sha256", name="uq_evidence_item_complaint_sha256"),
        Index("ix_evidence_item_shop_sha256", "shop_id", "sha256"),
        Index("ix_evidence_item_complaint", "complaint_id", "id"),
        CheckConstraint(
            "(redacted_key IS NULL) = (redacted_at IS NULL)"
            " AND (redacted_key IS NULL) = (redaction IS NULL)",
            name="redaction_complete",
        ),
        # Ids are never handed out twice, even after the last file is removed (SQLite).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"))
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind, "evidence_kind"))
    caption: Mapped[str] = mapped_column(String(300))
    display_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(64), index=True)
    normalized_key: Mapped[str | None] = mapped_column(String(64), index=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(64), index=True)
    content_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # Images: a copy ready for bundle pages (at most 2000 px, opaque JPEG), made at upload.
    page_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # Images: smaller JPEG copies at the settings the bundle's fit is likely to take, made
    # in the background after intake (appeals.fit_copies): [{"side", "quality", "width",
    # "height", "bytes", "key"}]. NULL (never JSON null): none made yet; a build then encodes.
    fit_copies: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    rows: Mapped[int | None] = mapped_column(Integer)
    provenance: Mapped[Provenance] = mapped_column(str_enum(Provenance, "provenance"))
    # Redaction: boxes drawn over the normalized image; the redacted copy is what leaves
    # the shop in bundles, while the original and its hash stay for reviewers.
    redacted_key: Mapped[str | None] = mapped_column(String(64), index=True)
    redacted_thumbnail_key: Mapped[str | None] = mapped_column(String(64), index=True)
    redaction: Mapped[list[list[float]] | None] = mapped_column(JSON)
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redacted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # The text read from a picture or scanned PDF (evidence.ocr, JSON in a blob), read after
    # intake in the background; the file is usable whatever becomes of the reading.
    reading_key: Mapped[str | None] = mapped_column(String(64), index=True)
    reading_state: Mapped[ReadingState | None] = mapped_column(
        str_enum(ReadingState, "reading_state"), index=True
    )
    reading_error: Mapped[str | None] = mapped_column(String(200))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Photos: a 64-bit perceptual hash (hex), for near-identical copies elsewhere.
    phash: Mapped[str | None] = mapped_column(String(16), index=True)
    # The merchant's answers to suggested redactions: [{"id", "kind", "answer", "by", "at"}].
    suggestion_answers: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    # The merchant's choice to let reviewers' copies keep the camera and location data
    # (GPS, make, model, serial numbers); by default they are taken out of every copy.
    keep_metadata: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    complaint: Mapped[Complaint] = relationship()
    redacted_by: Mapped[User | None] = relationship(foreign_keys=[redacted_by_id])

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")

    # Every column that names a stored blob: what the item keeps alive in the store.
    BLOB_COLUMNS = (
        "blob_key",
        "normalized_key",
        "thumbnail_key",
        "content_key",
        "page_key",
        "redacted_key",
        "redacted_thumbnail_key",
        "reading_key",
    )

    def blob_keys(self) -> list[str]:
        """The keys of every blob this item refers to."""
        keys = [key for name in self.BLOB_COLUMNS if (key := getattr(self, name))]
        return keys + [str(copy["key"]) for copy in self.fit_copies or []]
