"""Signed checkpoints of the audit chain's head, kept outside the database.

The hash chain shows an edited, deleted or inserted entry, but someone who can write the
database could recompute every hash after an edit. A checkpoint is the chain's head (the
last entry's id and hash, and how many entries it covers) signed with the platform's
Ed25519 key, which the database does not hold, and appended to a file outside it: the
database's writer can neither forge a checkpoint nor make an old one disappear unnoticed
(each checkpoint names the one before it). `verify` checks the chain against every
checkpoint: a recomputed chain no longer ends in the hash a checkpoint signed, so the
entries up to the last checkpoint are proven, and the report says since when.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals import audit
from appeals.bundle.keys import SigningKey
from appeals.bundle.verify_offline import canonical
from appeals.clock import utcnow
from appeals.models import AuditEvent

FORMAT = "appeal-desk-audit-checkpoint/1"
FILE = "audit-checkpoints.jsonl"


def head(session: Session) -> dict[str, Any] | None:
    """The chain's last entry and how many entries it closes, or None for an empty chain."""
    last = session.execute(
        select(AuditEvent.id, AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if last is None:
        return None
    count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return {"head_id": last.id, "head_hash": last.entry_hash, "entries": int(count)}


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def latest(folder: Path) -> dict[str, Any] | None:
    """The newest checkpoint in the folder, as written."""
    records = read(folder)
    return records[-1] if records else None


def read(folder: Path) -> list[dict[str, Any]]:
    path = folder / FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def checkpoint(
    session: Session, key: SigningKey, folder: Path, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """Sign the chain's head and append it, unless the last checkpoint already holds it."""
    found = head(session)
    if found is None:
        return None
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / FILE, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # one writer at a time, across processes
        handle.seek(0)
        lines = [line for line in handle.read().splitlines() if line.strip()]
        before: dict[str, Any] | None = json.loads(lines[-1]) if lines else None
        if before is not None and before["head_id"] == found["head_id"]:
            return before
        body = {
            "format": FORMAT, **found,
            "at": (now or utcnow()).isoformat(),
            "previous": _digest(before) if before else None,
            "key_id": key.key_id,
        }  # fmt: skip
        signature = key.manifest_key.sign(canonical(body))
        record = {**body, "signature": base64.b64encode(signature).decode()}
        handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return record


@dataclass(frozen=True)
class Proof:
    """How far the chain is proven by signed checkpoints, or what contradicts them."""

    checked: int  # checkpoints checked
    proven_through: int | None  # the last entry a checkpoint vouches for
    proven_at: str | None  # when that checkpoint was made
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(session: Session, folder: Path, public_keys: dict[str, Ed25519PublicKey]) -> Proof:
    """Check every checkpoint's signature and link, and that the chain still ends in it."""
    records = read(folder)
    report = audit.verify(session)
    if not report.intact:
        return Proof(0, None, None, f"the chain is broken at entry {report.event_id}")
    previous: dict[str, Any] | None = None
    for number, record in enumerate(records, start=1):
        body = {name: value for name, value in record.items() if name != "signature"}
        key = public_keys.get(str(record.get("key_id")))
        if key is None:
            return Proof(number - 1, *_through(previous), f"checkpoint {number}: unknown key")
        try:
            key.verify(base64.b64decode(record["signature"]), canonical(body))
        except (InvalidSignature, ValueError, KeyError):
            return Proof(number - 1, *_through(previous),
                         f"checkpoint {number}: the signature does not match")  # fmt: skip
        if record.get("previous") != (_digest(previous) if previous else None):
            problem = f"checkpoint {number}: the one before it is missing or changed"
            return Proof(number - 1, *_through(previous), problem)
        entry = session.scalar(
            select(AuditEvent.entry_hash).where(AuditEvent.id == record["head_id"])
        )
        if entry != record["head_hash"]:
            return Proof(number - 1, *_through(previous),
                         f"entry {record['head_id']} is not the one checkpoint {number} "
                         "signed: the chain was rewritten")  # fmt: skip
        before = session.scalar(
            select(func.count()).select_from(AuditEvent)
            .where(AuditEvent.id <= record["head_id"])
        )  # fmt: skip
        if before != record["entries"]:
            return Proof(number - 1, *_through(previous),
                         f"checkpoint {number} covered {record['entries']} entries; "
                         f"{before} are there now")  # fmt: skip
        previous = record
    return Proof(len(records), *_through(previous))


def _through(record: dict[str, Any] | None) -> tuple[int | None, str | None]:
    return (record["head_id"], record["at"]) if record else (None, None)
