"""Signed checkpoints of the audit chain's head catch a forger who recomputes the chain."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from appeals import audit, checkpoints
from appeals.bundle.keys import KeyFolder
from appeals.clock import utcnow
from appeals.models import AuditEvent
from tests.unit.appeals.test_audit import chain, without_guard


def _keys(tmp_path: Path) -> KeyFolder:
    return KeyFolder(tmp_path / "keys")


def rechain(session: Session, start: int) -> None:
    """What a forger with write access does after an edit: recompute every later hash."""
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    prev = audit.GENESIS
    for event in events:
        if event.id >= start:
            session.refresh(event)
            new = audit.entry_hash(prev, event)
            session.execute(
                text("UPDATE audit_event SET prev_hash = :p, entry_hash = :h WHERE id = :id"),
                {"p": prev, "h": new, "id": event.id},
            )
            prev = new
        else:
            prev = event.entry_hash
    session.expire_all()


def test_checkpoints_prove_the_chain_up_to_the_last_one(session: Session, tmp_path: Path) -> None:
    keys, folder = _keys(tmp_path), tmp_path / "checkpoints"
    chain(session, 3)
    first = checkpoints.checkpoint(session, keys.signer(), folder, now=utcnow())
    assert checkpoints.checkpoint(session, keys.signer(), folder) == first  # nothing new
    chain(session, 2)
    second = checkpoints.checkpoint(session, keys.signer(), folder, now=utcnow())
    assert first and second and second["head_id"] > first["head_id"]
    proof = checkpoints.verify(session, folder, keys.public_keys())
    assert proof.intact and proof.checked == 2 and proof.proven_through == second["head_id"]


def test_a_recomputed_chain_is_caught(session: Session, tmp_path: Path) -> None:
    keys, folder = _keys(tmp_path), tmp_path / "checkpoints"
    events = chain(session, 5)
    checkpoints.checkpoint(session, keys.signer(), folder)
    without_guard(session)
    session.execute(text("UPDATE audit_event SET after = :v WHERE id = :id"),
                    {"v": '{"n": 99}', "id": events[1].id})  # fmt: skip
    rechain(session, events[1].id)
    assert audit.verify(session).intact, "the forger's chain hashes fine on its own"
    proof = checkpoints.verify(session, folder, keys.public_keys())
    assert not proof.intact and "rewritten" in (proof.problem or "")


def test_a_forged_or_dropped_checkpoint_is_caught(session: Session, tmp_path: Path) -> None:
    keys, folder = _keys(tmp_path), tmp_path / "checkpoints"
    chain(session, 2)
    checkpoints.checkpoint(session, keys.signer(), folder)
    chain(session, 2)
    checkpoints.checkpoint(session, keys.signer(), folder, now=utcnow() + timedelta(minutes=1))
    chain(session, 2)
    checkpoints.checkpoint(session, keys.signer(), folder, now=utcnow() + timedelta(minutes=2))
    path = folder / checkpoints.FILE
    lines = path.read_text().splitlines()
    # Someone edits the head a checkpoint signed: its signature no longer matches.
    forged = json.loads(lines[1])
    forged["entries"] += 1
    path.write_text("\n".join([lines[0], json.dumps(forged), lines[2]]) + "\n")
    proof = checkpoints.verify(session, folder, keys.public_keys())
    assert not proof.intact and "signature" in (proof.problem or "")
    assert proof.proven_through == json.loads(lines[0])["head_id"]
    # Someone removes a checkpoint from the middle: the next one names it.
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    proof = checkpoints.verify(session, folder, keys.public_keys())
    assert not proof.intact and "before it" in (proof.problem or "")
    # A key the portal never published proves nothing.
    other = _keys(tmp_path / "other")
    assert not checkpoints.verify(session, folder, other.public_keys()).intact
