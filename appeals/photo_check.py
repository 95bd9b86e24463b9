"""A neutral check of the complainant's photos: facts, each saying how it was found.

For pictures the platform hands over (platform-native evidence) the reader notes what the
file's metadata says (evidence.photofacts: present or absent, editing software, an AI
label, content credentials) and this module adds near-identical copies found by
perceptual hash: a photo of another complaint, or a picture the shop itself has in its
evidence (a product photo the buyer may have reused). Nothing here is a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.models import Complaint, EvidenceItem, Provenance
from appeals.reading import reading_of
from evidence.photofacts import NEAR, near_copies
from evidence.storage import BlobStore

MAX_CANDIDATES = 20_000


@dataclass(frozen=True)
class Fact:
    code: str
    params: dict[str, Any]
    how: str


def photo_facts(
    session: Session, item: EvidenceItem, store: BlobStore, *, reviewer: bool
) -> list[Fact]:
    """What can be said of a platform-native photo; empty for the shop's own files.

    A merchant learns that a near-identical copy exists in another shop's complaint, not
    which: only a reviewer sees other shops' complaint numbers.
    """
    if item.provenance is not Provenance.PLATFORM_NATIVE or not item.is_image:
        return []
    reading = reading_of(item, store)
    facts = [
        Fact(str(f.get("code")), dict(f.get("params") or {}), str(f.get("how") or ""))
        for f in (reading or {}).get("facts", [])
        if isinstance(f, dict)
    ]
    if item.phash:
        facts += _copies(session, item, reviewer)
    return facts


def _copies(session: Session, item: EvidenceItem, reviewer: bool) -> list[Fact]:
    rows = session.execute(
        select(EvidenceItem.id, EvidenceItem.phash, EvidenceItem.shop_id, EvidenceItem.provenance,
               Complaint.external_id)
        .join(Complaint, Complaint.id == EvidenceItem.complaint_id)
        .where(EvidenceItem.phash.is_not(None), EvidenceItem.sha256 != item.sha256)
        .where((EvidenceItem.provenance == Provenance.PLATFORM_NATIVE)
               | (EvidenceItem.shop_id == item.shop_id))
        .order_by(EvidenceItem.id.desc())
        .limit(MAX_CANDIDATES)
    ).all()  # fmt: skip
    details = {row.id: row for row in rows}
    facts = []
    for found_id, distance in near_copies(item.phash or "", [(r.id, r.phash) for r in rows]):
        row = details[found_id]
        how = f"perceptual hash (pHash, 64 bits): {distance} of 64 bits differ (near: ≤ {NEAR})"
        if row.provenance is Provenance.PLATFORM_NATIVE:
            same_shop = row.shop_id == item.shop_id
            complaint = row.external_id if reviewer or same_shop else ""
            facts.append(Fact("copy_in_complaint", {"complaint": complaint, "distance": distance,
                                                    "same_shop": same_shop}, how))  # fmt: skip
        else:
            facts.append(Fact("copy_in_shop_evidence", {"complaint": row.external_id,
                                                        "distance": distance}, how))  # fmt: skip
    return facts
