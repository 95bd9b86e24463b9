"""Orders of a shop and the complaints filed against it on the platform."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.clock import utcnow
from appeals.columns import UTCDateTime, str_enum
from appeals.db import Base
from appeals.models.account import Shop, User


class ComplaintType(StrEnum):
    """What the buyer complained about, as the platform records it."""

    PRODUCT_QUALITY = "product_quality"
    NOT_AS_DESCRIBED = "not_as_described"
    NOT_RECEIVED = "not_received"
    SERVICE_ATTITUDE = "service_attitude"
    LATE_SHIPMENT = "late_shipment"
    COUNTERFEIT = "counterfeit"
    OTHER = "other"


class ComplaintChannel(StrEnum):
    """How the complaint reached the platform."""

    ONLINE = "online"
    HOTLINE = "hotline"
    EMAIL = "email"


class ComplaintStatus(StrEnum):
    """Where the complaint stands for the merchant."""

    OPEN = "open"
    APPEALED = "appealed"
    CLOSED = "closed"


class MaliciousCategory(StrEnum):
    """Why the merchant believes a complaint is malicious."""

    RETURN_ABUSE = "return_abuse"
    EXTORTION = "extortion"
    FAKE_TRANSACTION = "fake_transaction"
    PROFESSIONAL_CLAIMANT = "professional_claimant"
    COMPETITOR_SABOTAGE = "competitor_sabotage"
    OTHER = "other"


class Order(Base):
    """One order of a shop, as the platform's export describes it."""

    __tablename__ = "shop_order"
    __table_args__ = (
        UniqueConstraint("shop_id", "number", name="uq_shop_order_shop_number"),
        # Lets complaints reference (shop, order) so an order of another shop cannot be cited.
        UniqueConstraint("shop_id", "id", name="uq_shop_order_shop_id_id"),
        Index("ix_shop_order_shop_buyer", "shop_id", "buyer_ref"),
        Index("ix_shop_order_shop_ordered", "shop_id", "ordered_at"),
        Index("ix_shop_order_shop_refunded", "shop_id", "refunded_at"),
        # Shared phones and addresses are looked up within the shop; a lone fingerprint
        # index lost to (shop_id, ...) ones, and the dossier scanned the shop's orders.
        Index("ix_shop_order_shop_contact", "shop_id", "contact_fingerprint"),
        Index("ix_shop_order_shop_address", "shop_id", "address_fingerprint"),
        # The dossier's baseline counts a window of orders from (shop_id, ordered_at) alone
        # and takes off the few recorded after a submission, found by this one.
        Index("ix_shop_order_shop_created", "shop_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the (shop_id, ...) indexes serve it, and a lone one misled
    # PostgreSQL into scanning a whole shop for order-number lookups.
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    number: Mapped[str] = mapped_column(String(64))
    buyer_ref: Mapped[str] = mapped_column(String(120))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    carrier: Mapped[str | None] = mapped_column(String(80))
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the export says, as it says it: the platform's own status words beside the
    # state they stand for, the receiver as written (masked values stay masked).
    platform: Mapped[str | None] = mapped_column(String(16))
    status_text: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(20))
    postage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    receiver: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(500))
    buyer_message: Mapped[str | None] = mapped_column(Text)
    seller_note: Mapped[str | None] = mapped_column(Text)
    # Keyed fingerprints of the buyer's phone and address: comparable, never readable.
    contact_fingerprint: Mapped[str | None] = mapped_column(String(32))
    address_fingerprint: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    shop: Mapped[Shop] = relationship()


class Complaint(Base):
    """A complaint against a shop, as recorded by the platform."""

    __tablename__ = "complaint"
    __table_args__ = (
        ForeignKeyConstraint(
            ["shop_id", "order_id"],
            ["shop_order.shop_id", "shop_order.id"],
            name="fk_complaint_shop_order",
        ),
        CheckConstraint(
            "(flag_category IS NULL) = (flagged_at IS NULL)"
            " AND (flag_category IS NULL) = (flag_rationale IS NULL)"
            " AND (flag_category IS NULL) = (flagged_by_id IS NULL)",
            name="flag_complete",
        ),
        # The inbox: by deadline, by status then deadline (also counts per status), flagged.
        Index("ix_complaint_inbox", "shop_id", "appeal_deadline", "id"),
        Index("ix_complaint_shop_status", "shop_id", "status", "appeal_deadline", "id"),
        Index("ix_complaint_shop_flag", "shop_id", "flag_category"),
        Index("ix_complaint_shop_order_number", "shop_id", "order_number"),
        Index("ix_complaint_shop_buyer", "shop_id", "buyer_ref"),
        Index("ix_complaint_shop_received", "shop_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # As the platform reported it; linked to order_id once the shop's orders are imported.
    order_number: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[ComplaintType] = mapped_column(str_enum(ComplaintType, "complaint_type"))
    channel: Mapped[ComplaintChannel] = mapped_column(
        str_enum(ComplaintChannel, "complaint_channel")
    )
    description: Mapped[str] = mapped_column(Text)
    buyer_ref: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    appeal_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    penalty_points: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus, "complaint_status"), default=ComplaintStatus.OPEN
    )
    flag_category: Mapped[MaliciousCategory | None] = mapped_column(
        str_enum(MaliciousCategory, "malicious_category")
    )
    flag_rationale: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    shop: Mapped[Shop] = relationship()
    flagged_by: Mapped[User | None] = relationship()
    order: Mapped[Order | None] = relationship(
        primaryjoin="and_(Complaint.order_id == Order.id, Complaint.shop_id == Order.shop_id)",
        foreign_keys=[order_id],
        viewonly=True,
    )
