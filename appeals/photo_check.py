"""A neutral check of the complainant's photos: facts, each saying how it was found.

For pictures the platform hands over (platform-native evidence) the reader notes what the
file's metadata says (evidence.photofacts: present or absent, editing software, an AI
label, content credentials) and this module adds near-identical copies found by
perceptual hash: a photo of another complaint, or a picture the shop itself has in its
evidence (a product photo the buyer may have reused). Nothing here is a verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.models import Complaint, EvidenceItem, Provenance
from appeals.reading import reading_of, visible_lines
from evidence.photofacts import NEAR, near_copies
from evidence.storage import BlobStore

MAX_CANDIDATES = 20_000


@dataclass(frozen=True)
class Fact:
    """One fact and how it was found: `method` names the way ("file": read from the file's
    own blocks, `how` then says where in the file; "ocr": read from the text on the picture;
    "phash": compared by visual fingerprint), with its numbers in `how_params`."""

    code: str
    params: dict[str, Any]
    how: str
    method: str = "file"
    how_params: dict[str, Any] = field(default_factory=dict)


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
    facts += _visible_labels(item, store, reading)
    if item.phash:
        facts += _copies(session, item, reviewer)
    return facts


# Labels generators and apps draw on the picture itself (China's 2025 labelling rules ask
# for a visible one): found in the text the reader read, never in the pixels' style.
VISIBLE_LABEL = re.compile(
    r"(?:内容)?(?:由\s*)?(?:AI|人工智能)\s*(?:生成|合成|创作)|AIGC|Generated (?:by|with) AI|"
    r"AI[- ]generated|Made with AI|Created with AI|Imagined with AI|即梦|豆包\s*AI|文心一格|"
    r"通义万相|可灵|Midjourney|DALL[·.\- ]?E|Stable Diffusion|Firefly",
    re.IGNORECASE,
)


def _visible_labels(
    item: EvidenceItem, store: BlobStore, reading: dict[str, Any] | None
) -> list[Fact]:
    facts = []
    for page, lines in visible_lines(item, store, reading).items() if reading else ():
        for number, (text, _box) in enumerate(lines, start=1):
            found = VISIBLE_LABEL.search(text)
            if found:
                how = f"OCR, page {page}, line {number}: “{text[:80]}”"
                where = {"page": page, "line": number, "text": text[:80]}
                facts.append(Fact("ai_label_visible", {"label": found.group(0)}, how, "ocr", where))
    return facts[:5]


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
        how = f"pHash, 64 bits: {distance} differ (near: ≤ {NEAR})"
        measured = {"distance": distance, "bits": 64, "near": NEAR}
        if row.provenance is Provenance.PLATFORM_NATIVE:
            same_shop = row.shop_id == item.shop_id
            complaint = row.external_id if reviewer or same_shop else ""
            facts.append(Fact("copy_in_complaint", {"complaint": complaint, "distance": distance,
                                                    "same_shop": same_shop}, how, "phash",
                              measured))  # fmt: skip
        else:
            facts.append(Fact("copy_in_shop_evidence", {"complaint": row.external_id,
                                                        "distance": distance}, how, "phash",
                              measured))  # fmt: skip
    return facts
