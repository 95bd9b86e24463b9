"""Account rules enforced by the domain, whoever calls it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from appeals import accounts
from appeals.accounts import SYSTEM
from appeals.errors import Conflict, InvalidInput, PermissionDenied
from appeals.permissions import ROLE_PERMISSIONS, Permission, Role, has_permission
from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def cheap_hashing() -> None:
    from appeals import passwords

    passwords.use_profile("cheapest")


def test_merchant_needs_a_shop_and_staff_must_have_none(session: Session) -> None:
    shop = accounts.create_shop(session, SYSTEM, "Unit Shop")
    with pytest.raises(InvalidInput) as missing:
        accounts.create_user(
            session, SYSTEM, email="m@x.example", role=Role.MERCHANT_OWNER, password=PASSWORD
        )
    assert missing.value.field == "shop"
    with pytest.raises(InvalidInput):
        accounts.create_user(
            session, SYSTEM, email="r@x.example", role=Role.REVIEWER, password=PASSWORD, shop=shop
        )


def test_database_refuses_a_merchant_without_shop_even_past_the_domain(session: Session) -> None:
    from sqlalchemy.exc import IntegrityError

    from appeals.models import User

    session.add(
        User(
            email="raw@x.example",
            display_name="raw",
            role=Role.MERCHANT_STAFF,
            password_hash="x",
            session_token="t",
            time_zone="UTC",
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_email_is_normalised_and_unique(session: Session) -> None:
    user = accounts.create_user(
        session, SYSTEM, email="  Mixed@Case.Example ", role=Role.ADMIN, password=PASSWORD
    )
    assert user.email == "mixed@case.example"
    with pytest.raises(Conflict):
        accounts.create_user(
            session, SYSTEM, email="MIXED@case.example", role=Role.ADMIN, password=PASSWORD
        )


@pytest.mark.parametrize("bad", ["short", "x" * 257, "same@x.example"])
def test_password_policy(session: Session, bad: str) -> None:
    with pytest.raises(InvalidInput):
        accounts.create_user(session, SYSTEM, email="same@x.example", role=Role.ADMIN, password=bad)


def test_authenticate_checks_password_and_active_state(session: Session) -> None:
    user = accounts.create_user(
        session, SYSTEM, email="a@x.example", role=Role.REVIEWER, password=PASSWORD
    )
    assert accounts.authenticate(session, "A@x.example", PASSWORD) is user
    assert accounts.authenticate(session, "a@x.example", "wrong password") is None
    assert accounts.authenticate(session, "nobody@x.example", PASSWORD) is None
    accounts.set_disabled(session, SYSTEM, user, True)
    assert accounts.authenticate(session, "a@x.example", PASSWORD) is None


def test_old_hashes_are_upgraded_at_login(session: Session) -> None:
    from appeals import passwords

    passwords.use_profile("default")
    user = accounts.create_user(
        session, SYSTEM, email="old@x.example", role=Role.ADMIN, password=PASSWORD
    )
    strong = user.password_hash
    passwords.use_profile("cheapest")
    accounts.authenticate(session, "old@x.example", PASSWORD)
    assert user.password_hash != strong and passwords.verify_password(user.password_hash, PASSWORD)


def test_only_admins_manage_accounts(session: Session) -> None:
    shop = accounts.create_shop(session, SYSTEM, "Perm Shop")
    owner = accounts.create_user(
        session, SYSTEM, email="o@x.example", role=Role.MERCHANT_OWNER, password=PASSWORD, shop=shop
    )
    with pytest.raises(PermissionDenied):
        accounts.create_shop(session, owner, "Sneaky Shop")
    with pytest.raises(PermissionDenied):
        accounts.create_user(
            session, owner, email="n@x.example", role=Role.ADMIN, password=PASSWORD
        )


def test_tokens_are_stored_hashed_and_stop_when_revoked(session: Session) -> None:
    user = accounts.create_user(
        session, SYSTEM, email="t@x.example", role=Role.REVIEWER, password=PASSWORD
    )
    token, secret = accounts.create_api_token(session, user, "sync")
    assert secret not in token.token_hash and secret.startswith("apd_")
    assert accounts.user_for_token(session, secret) is user
    assert token.last_used_at is not None
    accounts.revoke_api_token(session, user, token.id)
    assert accounts.user_for_token(session, secret) is None


def test_session_tokens_rotate(session: Session) -> None:
    user = accounts.create_user(
        session, SYSTEM, email="s@x.example", role=Role.REVIEWER, password=PASSWORD
    )
    old = user.get_id()
    accounts.end_sessions(user)
    assert user.get_id() != old
    assert accounts.user_for_session(session, old) is None
    assert accounts.user_for_session(session, user.get_id()) is user


def test_every_role_has_its_permissions_and_disabled_users_none() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert has_permission(SYSTEM, Permission.ADMIN_USER_MANAGE)
    assert not has_permission(None, Permission.ACCOUNT_PROFILE_EDIT)

    class Disabled:
        role = Role.ADMIN
        shop_id = None
        is_active = False

    assert not has_permission(Disabled(), Permission.ADMIN_USER_MANAGE)
    merchant_only = {Permission.MERCHANT_COMPLAINT_READ, Permission.MERCHANT_ORDER_READ}
    for role, granted in ROLE_PERMISSIONS.items():
        assert bool(granted & merchant_only) == role.is_merchant
