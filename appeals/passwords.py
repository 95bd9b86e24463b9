"""Argon2id password hashing with a cost that deployments (and tests) can choose."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from appeals import priority
from appeals.errors import N_, InvalidInput

T = TypeVar("T")

MIN_LENGTH = 10
MAX_LENGTH = 256

_PROFILES = {
    "default": profiles.RFC_9106_LOW_MEMORY,
    # Only for test suites: a hash in microseconds instead of ~0.1 s.
    "cheapest": profiles.CHEAPEST,
}
_hasher = PasswordHasher.from_parameters(_PROFILES["default"])
_dummy_hash: str | None = None
# Hashing threads of this process, made on first use (and again in a forked child).
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


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


def politely(work: Callable[[], T]) -> T:
    """Run `work` on one of this process's hashing threads, below the priority of pages.

    A burst of sign-ins (a shift starting) ran argon2 beside the pages at the same
    priority: eight at once kept both cores busy for about a second, and every page served
    meanwhile took 5-10 times as long. Lowered, the hashes take the cycles the pages leave
    and a sign-in under load waits a little longer instead. One thread per `parallelism`
    cores, since each hash already spreads over that many lanes.
    """
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            lanes = max(1, (os.cpu_count() or 1) // _hasher.parallelism)
            executor = ThreadPoolExecutor(
                max_workers=lanes, thread_name_prefix="hashing",
                initializer=priority.lower_this_thread, initargs=(priority.HASHING,),
            )  # fmt: skip
            _pool = (os.getpid(), executor)
        executor = _pool[1]
    return executor.submit(work).result()


def hash_password(password: str) -> str:
    """Hash a password with the current profile."""
    hasher = _hasher
    return politely(lambda: hasher.hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its hash without raising."""
    hasher = _hasher

    def verify() -> bool:
        try:
            return bool(hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    return politely(verify)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than the current ones."""
    return bool(_hasher.check_needs_rehash(password_hash))


def spend_verification_time(password: str) -> None:
    """Verify against a throwaway hash so an unknown email costs as much as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("appeal-desk-timing-equaliser")
    verify_password(_dummy_hash, password)
