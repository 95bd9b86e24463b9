"""Shops (the tenants), users and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.clock import utcnow
from appeals.columns import UTCDateTime, str_enum
from appeals.db import Base
from appeals.permissions import MERCHANT_ROLES, Role

_MERCHANT_ROLE_LIST = ", ".join(f"'{role.value}'" for role in sorted(MERCHANT_ROLES))


class Shop(Base):
    """A merchant's shop on the platform: the unit of tenancy."""

    __tablename__ = "shop"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # The merchant's own reading of export columns no layout knows: header -> field.
    import_columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    users: Mapped[list[User]] = relationship(back_populates="shop", order_by="User.email")


class User(Base):
    """A person who signs in: merchant users belong to one shop, platform staff to none."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(
            f"(role IN ({_MERCHANT_ROLE_LIST})) = (shop_id IS NOT NULL)",
            name="merchant_has_shop",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # The alternative id the session cookie carries; replacing it ends every session.
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    time_zone: Mapped[str] = mapped_column(String(64))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    shop: Mapped[Shop | None] = relationship(back_populates="users")
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", order_by="ApiToken.id.desc()"
    )

    # A signed-in person, as web session managers expect one to look.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def get_id(self) -> str:
        """The session's id for this user: the rotating token, never the primary key."""
        return self.session_token


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
