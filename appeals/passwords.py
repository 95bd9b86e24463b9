"""Argon2id password hashing with a cost that deployments (and tests) can choose."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from appeals.errors import N_, InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 256

_PROFILES = {
    "default": profiles.RFC_9106_LOW_MEMORY,
    # Only for test suites: a hash in microseconds instead of ~0.1 s.
    "cheapest": profiles.CHEAPEST,
}
_hasher = PasswordHasher.from_parameters(_PROFILES["default"])
_dummy_hash: str | None = None


def use_profile(name: str) -> None:
    """Select the hashing cost for this process ('default' or 'cheapest')."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher.from_parameters(_PROFILES[name])
    _dummy_hash = None


def check_policy(password: str, *, email: str = "", field: str = "password") -> None:
    """Refuse a password that is too short, too long or equal to the email address."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(N_("Use at least %(min)d characters."), field=field, min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise InvalidInput(N_("Use at most %(max)d characters."), field=field, max=MAX_LENGTH)
    if email and password.strip().lower() == email.strip().lower():
        raise InvalidInput(N_("The password must not be your email address."), field=field)


def hash_password(password: str) -> str:
    """Hash a password with the current profile."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its hash without raising."""
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than the current ones."""
    return bool(_hasher.check_needs_rehash(password_hash))


def spend_verification_time(password: str) -> None:
    """Verify against a throwaway hash so an unknown email costs as much as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("appeal-desk-timing-equaliser")
    verify_password(_dummy_hash, password)
