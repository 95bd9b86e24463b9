"""Use cases for shops, users, sessions and API tokens. They flush and never commit."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals import audit, passwords
from appeals.clock import utcnow
from appeals.errors import N_, Conflict, InvalidInput, NotFound
from appeals.models import ApiToken, Shop, User
from appeals.permissions import Actor, Permission, Role, require
from appeals.policies import POLICY_DEFAULTS

SUPPORTED_LOCALES = ("zh_Hans_CN", "en")
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_PREFIX = "apd_"  # noqa: S105 (a public marker, not a secret)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SystemActor:
    """The operator at the command line: acts with admin rights, belongs to no shop."""

    role: Role = Role.ADMIN
    shop_id: int | None = None
    is_active: bool = True


SYSTEM = SystemActor()


def normalise_email(email: str) -> str:
    """Trim and lowercase an email address, refusing one that cannot be an address."""
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput(N_("Enter a valid email address."), field="email")
    return email


def check_time_zone(name: str) -> str:
    """Refuse a time zone name that the tz database does not know."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(N_("Choose a time zone from the list."), field="time_zone") from None
    return name


def check_locale(locale: str | None) -> str | None:
    """Refuse a language the portal does not speak; None means 'from the browser'."""
    if locale not in (None, *SUPPORTED_LOCALES):
        raise InvalidInput(N_("Choose a language from the list."), field="locale")
    return locale


def create_shop(session: Session, actor: Actor, name: str) -> Shop:
    """Open a new shop (tenant)."""
    require(actor, Permission.ADMIN_SHOP_MANAGE)
    name = " ".join(name.split())
    if not 2 <= len(name) <= 120:
        raise InvalidInput(N_("A shop name has 2 to 120 characters."), field="name")
    if session.scalar(select(Shop.id).where(func.lower(Shop.name) == name.lower())):
        raise Conflict(N_("A shop with this name already exists."), field="name")
    shop = Shop(name=name)
    session.add(shop)
    session.flush()
    audit.record(session, actor, "shop.created", shop, after={"name": name}, shop_id=shop.id)
    return shop


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: Role,
    password: str,
    shop: Shop | None = None,
    display_name: str = "",
    locale: str | None = None,
    time_zone: str = POLICY_DEFAULTS["DEFAULT_TIME_ZONE"],
) -> User:
    """Create an account; merchant roles need a shop and platform roles must have none."""
    require(actor, Permission.ADMIN_USER_MANAGE)
    email = normalise_email(email)
    check_role_and_shop(role, has_shop=shop is not None)
    passwords.check_policy(password, email=email)
    if session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(N_("An account with this email already exists."), field="email")
    user = User(
        email=email,
        display_name=(" ".join(display_name.split()) or email.split("@")[0])[:80],
        role=role,
        shop=shop,
        password_hash=passwords.hash_password(password),
        session_token=secrets.token_urlsafe(32),
        locale=check_locale(locale),
        time_zone=check_time_zone(time_zone),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.created", user,
                 after={"email": email, "role": role.value, "shop": user.shop_id})  # fmt: skip
    return user


def check_role_and_shop(role: Role, *, has_shop: bool) -> None:
    """Merchant roles belong to exactly one shop; platform roles to none."""
    if role.is_merchant and not has_shop:
        raise InvalidInput(N_("Merchant accounts belong to a shop: choose one."), field="shop")
    if role.is_platform and has_shop:
        raise InvalidInput(N_("Platform staff do not belong to a shop."), field="shop")


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None; upgrades old hashes."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        passwords.spend_verification_time(password)
        return None
    if not passwords.verify_password(user.password_hash, password) or not user.is_active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session of the user on the server side."""
    user.session_token = secrets.token_urlsafe(32)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """The user changes their own password; every session of theirs ends."""
    if not passwords.verify_password(user.password_hash, current):
        raise InvalidInput(N_("The current password is not correct."), field="current_password")
    passwords.check_policy(new, email=user.email, field="new_password")
    user.password_hash = passwords.hash_password(new)
    end_sessions(user)
    session.flush()
    audit.record(session, user, "user.password_changed", user)


def reset_password(session: Session, actor: Actor, user: User, new: str) -> None:
    """An admin sets a new password for a user; every session of theirs ends."""
    require(actor, Permission.ADMIN_USER_MANAGE)
    passwords.check_policy(new, email=user.email)
    user.password_hash = passwords.hash_password(new)
    end_sessions(user)
    session.flush()
    audit.record(session, actor, "user.password_reset", user)


def set_disabled(session: Session, actor: Actor, user: User, disabled: bool) -> None:
    """Disable (ending every session and token use) or re-enable an account."""
    require(actor, Permission.ADMIN_USER_MANAGE)
    if disabled and getattr(actor, "id", None) == user.id:
        raise InvalidInput(N_("You cannot disable your own account."))
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        end_sessions(user)
    session.flush()
    audit.record(session, actor, "user.disabled" if disabled else "user.enabled", user)


def update_preferences(session: Session, user: User, *, locale: str | None, time_zone: str) -> None:
    """Set the user's language (None: follow the browser) and time zone."""
    require(user, Permission.ACCOUNT_PROFILE_EDIT)
    user.locale = check_locale(locale)
    user.time_zone = check_time_zone(time_zone)
    session.flush()
    audit.record(session, user, "user.preferences_changed", user,
                 after={"locale": user.locale, "time_zone": user.time_zone})  # fmt: skip


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a bearer token; the secret is returned once and only its hash is kept."""
    require(user, Permission.ACCOUNT_TOKEN_MANAGE)
    name = " ".join(name.split())
    if not 1 <= len(name) <= 80:
        raise InvalidInput(N_("Give the token a name of 1 to 80 characters."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_token_digest(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    audit.record(session, user, "token.created", token, shop_id=user.shop_id,
                 after={"name": name, "prefix": token.prefix})  # fmt: skip
    return token, secret


def revoke_api_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens."""
    require(user, Permission.ACCOUNT_TOKEN_MANAGE)
    token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if token is None:
        raise NotFound(N_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(session, user, "token.revoked", token, after={"prefix": token.prefix},
                     shop_id=user.shop_id)  # fmt: skip
    return token


def user_for_token(session: Session, secret: str, now: datetime | None = None) -> User | None:
    """The active user owning an unrevoked token, recording when it was last used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(secret)))
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = now or utcnow()
    # Recorded to the minute: a busy integration does not write on every request.
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.user


def user_for_session(session: Session, session_token: str) -> User | None:
    """The active user whose current session token this is."""
    user = session.scalar(select(User).where(User.session_token == session_token))
    return user if user is not None and user.is_active else None


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """Load a user for administration."""
    require(actor, Permission.ADMIN_USER_MANAGE)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def get_shop(session: Session, actor: Actor, shop_id: int) -> Shop:
    """Load a shop for administration."""
    require(actor, Permission.ADMIN_SHOP_MANAGE)
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(N_("No such shop."))
    return shop


def find_shop_by_name(session: Session, actor: Actor, name: str) -> Shop:
    """Load a shop by its name (for the command line)."""
    require(actor, Permission.ADMIN_SHOP_MANAGE)
    shop = session.scalar(select(Shop).where(func.lower(Shop.name) == name.strip().lower()))
    if shop is None:
        raise NotFound(N_("No shop is called %(name)s."), field="shop", name=name)
    return shop


def find_user_by_email(session: Session, actor: Actor, email: str) -> User:
    """Load a user by email (for the command line)."""
    require(actor, Permission.ADMIN_USER_MANAGE)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(N_("No account uses %(email)s."), field="email", email=email)
    return user
