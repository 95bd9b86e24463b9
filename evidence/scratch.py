"""Scratch a process leaves behind, and how to tell whether its owner is still alive.

Every process that writes scratch (a bundle's work folder, a blob being written, an
upload in quarantine, a reading's work folder) first takes a lease:
`<data folder>/.owners/<token>`, a file it keeps locked with flock(2) for as long as it
lives, and names its scratch `<prefix>~<token>~<random>`. The kernel drops the lock the
moment the process dies, kill -9 and power loss included, so anyone can prove an owner
dead by taking its lock; a pid or a heartbeat could only guess (pids are reused, clocks
and slow builds make heartbeats lie). The token is random per process (a forked child
gets its own), so a lease never names two processes.

What carries no token (older scratch, files named by code that does not take a lease) and
what names a lease this folder does not hold (an owner on a machine with another data
folder) falls back to its age: removed once nothing in it has changed for `min_age`.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

OWNERS = ".owners"
_TOKEN = re.compile(r"^[A-Za-z0-9-]{1,40}_\d{1,10}_[0-9a-f]{10}$")
_lock = threading.Lock()
_held: dict[Path, int] = {}  # lease folder -> the open, locked lease file of this process
_token: list[str] = []


class Liveness(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"  # no lease here: another machine's, or from before leases


@dataclass(frozen=True)
class Removed:
    """One thing a sweep removed: what kind of leftover, its path or key, how many bytes."""

    kind: str
    name: str
    size: int


def owner_token() -> str:
    """This process's owner token: its host, its pid and a random part."""
    with _lock:
        if not _token:
            # The host is only for people reading names; kept short so that a scratch name
            # fits where one is kept (an order export's stored name has 64 characters).
            host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:20] or "host"
            _token.append(f"{host}_{os.getpid()}_{secrets.token_hex(5)}")
        return _token[0]


def _forget_after_fork() -> None:
    # A child is another owner: its own token, its own leases. Closing the inherited
    # descriptors leaves the parent's locks in place (the parent still holds its own).
    for descriptor in _held.values():
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _held.clear()
    _token.clear()


def _release_at_exit() -> None:
    # A clean exit ends the lease: nothing of ours is left to prove dead. (A build this
    # process still had queued then falls to the stale timeout; shutdown drains them.)
    if _token:
        for owners in list(_held):
            with contextlib.suppress(OSError):
                (owners / _token[0]).unlink()
    _forget_after_fork()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(_release_at_exit)


def leases_beside(folder: Path) -> Path:
    """Where the leases of a work folder's owners are: `.owners` beside the folder."""
    return folder.parent / OWNERS


def hold(owners: Path) -> str:
    """Take this process's lease in the lease folder `owners` (once); its token."""
    token = owner_token()
    with _lock:
        if owners in _held:
            return token
        owners.mkdir(parents=True, exist_ok=True)
        # Locked before it has its name: nobody can ever find it unlocked while we live.
        partial = owners / f".{token}.{secrets.token_hex(4)}"
        descriptor = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        os.replace(partial, owners / token)
        _held[owners] = descriptor
        return token


def scratch_path(folder: Path, prefix: str, owners: Path | None = None) -> Path:
    """A new, unused name in `folder` that says this process owns it."""
    token = hold(owners or leases_beside(folder))
    return folder / f"{prefix}~{token}~{secrets.token_hex(4)}"


def make_scratch_dir(folder: Path, prefix: str) -> Path:
    """A new scratch folder in `folder`, owned by this process."""
    folder.mkdir(parents=True, exist_ok=True)
    path = scratch_path(folder, prefix)
    path.mkdir()
    return path


def owner_of(name: str) -> str | None:
    """The owner token in a scratch name, if it carries one."""
    parts = name.split("~")
    return parts[1] if len(parts) == 3 and _TOKEN.match(parts[1]) else None


def liveness(owners: Path, token: str) -> Liveness:
    """Whether the owner of `token` still lives, as its lease in `owners` proves."""
    if not _TOKEN.match(token):
        return Liveness.UNKNOWN
    if token == owner_token() and owners in _held:
        return Liveness.ALIVE
    try:
        descriptor = os.open(owners / token, os.O_RDONLY)
    except FileNotFoundError:
        return Liveness.UNKNOWN
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return Liveness.ALIVE
    finally:
        os.close(descriptor)  # releases the lock we may have just taken
    return Liveness.DEAD


def sweep(
    folder: Path, kind: str, min_age_seconds: float, owners: Path | None = None
) -> list[Removed]:
    """Remove the scratch in `folder` whose owner is dead, or that is old and unowned.

    A live owner's scratch always stays, however old; `owners` is the lease folder.
    """
    if not folder.is_dir():
        return []
    owners = owners or leases_beside(folder)
    cutoff = filesystem_now(folder) - min_age_seconds
    removed = []
    for path in sorted(folder.iterdir()):
        if path.name == OWNERS or path.name.startswith(".now-"):
            continue
        token = owner_of(path.name)
        verdict = liveness(owners, token) if token else Liveness.UNKNOWN
        with contextlib.suppress(FileNotFoundError):
            if verdict is Liveness.DEAD or (
                verdict is Liveness.UNKNOWN and _newest_change(path) <= cutoff
            ):
                removed.append(Removed(kind, str(path), _remove(path)))
    return removed


def filesystem_now(folder: Path) -> float:
    """Now, as the file system that stamps `folder`'s files tells it.

    A file's age is read against the clock that wrote its mtime, so that a file server's
    skew (or a process whose clock was moved) never makes a fresh file look old.
    """
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".now-") as probe:
        return os.fstat(probe.fileno()).st_mtime


def _newest_change(path: Path) -> float:
    """The latest mtime in a file or tree: a live writer keeps touching something."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def _remove(path: Path) -> int:
    """Delete a file or a tree; the bytes it held."""
    if path.is_dir() and not path.is_symlink():
        size = sum(
            os.lstat(os.path.join(root, name)).st_size
            for root, _dirs, files in os.walk(path)
            for name in files
        )
        shutil.rmtree(path)
        return size
    size = path.lstat().st_size
    path.unlink()
    return size


def drop_dead_leases(owners: Path, keep_owners: frozenset[str] = frozenset()) -> None:
    """Remove the leases of dead owners, once their scratch is swept, except `keep_owners`
    (still named by a row, for a takeover to find)."""
    if not owners.is_dir():
        return
    for lease in owners.iterdir():
        with contextlib.suppress(FileNotFoundError):
            # A lease that never got its name (killed while taking it) goes at a minute old.
            unnamed = lease.name.startswith(".") and time.time() - lease.stat().st_mtime > 60
            if lease.name not in keep_owners and (unnamed or _TOKEN.match(lease.name)):
                _unlink_if_unlocked(lease)


def _unlink_if_unlocked(lease: Path) -> None:
    descriptor = os.open(lease, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lease.unlink()  # dead, and we hold its lock: nobody can take it back
    except BlockingIOError:
        pass
    finally:
        os.close(descriptor)
