"""Smaller copies of a picture made after intake, at the settings the bundle's fit is likely
to take, so that a build at the platform's size limit copies bytes instead of encoding.

Each copy costs intake-time CPU (70 to 235 ms), so an item gets only a few: photos, which
give way first, three steps down from intake's page copy; pictures read as text, two: a JPEG
at their own pixels (a PNG screenshot's usual first step) and the next step the fit takes
(2000 px q85, or the legibility floor for a picture not larger than that). Chosen from what
the fit took on the bench's corpus at the default limit: screenshots at 2400 and 2000 px q85,
photos at 1600 and 1400 px q80.
A copy goes where the fit would find its own encoding: `EvidenceItem.fit_copies` lists
them, and the fit (`appeals.fit_plan`) takes one as it is when it chooses that setting.
"""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from appeals.db import READ_ONLY
from appeals.models import EvidenceItem
from evidence.pdfimage import PreparedImage, Rung, prepare_image
from evidence.storage import BlobStore

log = logging.getLogger(__name__)

# Pictures read as text: what was filed as a screenshot or a receipt (the bundle's plan also
# counts pictures its reading found many lines in; intake does not know that yet).
TEXT_KINDS = frozenset(
    {"chat_screenshot", "review_capture", "shipping_receipt", "logistics_tracking",
     "payment_record", "order_history"}
)  # fmt: skip
# (long side, JPEG quality); a side of 0 is the picture's own.
PHOTO_COPIES = ((1600, 80), (1400, 80), (1200, 70))
TEXT_COPIES = ((0, 85), (2000, 85), (1400, 75))
TEXT_COPIES_EACH = 2
PAGE_SIDE = 2000  # intake's page copy (evidence.sandbox): at most this long side, q85


@dataclass(frozen=True)
class Wanted:
    """One copy to make: its setting and the stored copy it is made from."""

    side: int
    quality: int
    source: str


def wanted_copies(item: EvidenceItem) -> list[Wanted]:
    """The copies worth making for `item`: only settings smaller than what it has, from the
    smallest stored copy that is still larger than the setting (decoding costs pixels)."""
    if not item.is_image or item.normalized_key is None or not item.width or not item.height:
        return []
    if item.redacted_key is not None:  # the redacted copy is what bundles show
        return []
    full = max(item.width, item.height)
    page_side = min(full, PAGE_SIDE) if item.page_key else 0
    now = page_side or full  # the long side the bundle starts from
    text = item.kind.value in TEXT_KINDS
    wanted = []
    for side, quality in TEXT_COPIES if text else PHOTO_COPIES:
        # At its own pixels: what the fit takes first for text, a PNG's or a phone's q90
        # JPEG's (a page copy is q85 already; copies not smaller than the source are dropped).
        if (side == 0 and item.page_key is not None) or side >= now:
            continue
        side = side or now
        source = item.page_key if item.page_key and side < page_side else item.normalized_key
        wanted.append(Wanted(side, quality, source))
    return wanted[:TEXT_COPIES_EACH] if text else wanted


def waiting(session: Session, limit: int = 500) -> list[int]:
    """Pictures still without their copies (a process died before making them, or the
    copies were off), newest first: what a start queues again. One whose copies would all be
    larger than what it has is marked with none, and so is not asked again."""
    query = (
        select(EvidenceItem.id)
        .where(EvidenceItem.fit_copies.is_(None), EvidenceItem.normalized_key.is_not(None),
               EvidenceItem.redacted_key.is_(None), EvidenceItem.media_type.like("image/%"))
        .order_by(EvidenceItem.id.desc())
        .limit(limit)
    )  # fmt: skip
    return list(session.scalars(query))


def prepare_copies(
    session: Session, store: BlobStore, item_ids: Iterable[int], workdir: Path
) -> int:
    """Make and record the fit copies of these items; how many items got them.

    Idempotent: an item that has its copies is left alone. An item removed, redacted or
    changed meanwhile is skipped (its new blobs are orphans for `sweep-orphans`). A copy that
    cannot be made leaves the item without copies, logged: the build encodes it as before.
    """
    done = 0
    for item_id in item_ids:
        item = session.get(EvidenceItem, item_id)
        plan = _plan(item)
        copies = None if plan is None else _made(store, plan, item_id, workdir)
        if item is not None and plan is not None and copies is not None:
            done += _record(session, item_id, plan, copies)
            session.expire(item, ["fit_copies"])
    return done


def make_copies(
    sessions: sessionmaker[Session], store: BlobStore, item_ids: Iterable[int], workdir: Path
) -> int:
    """`prepare_copies` in the background, each item's copies committed as they are made;
    how many items got them.

    The item is read in a transaction that takes no write lock (on SQLite a writing one
    would keep every upload and form waiting while the copies encode, 100-150 ms an item),
    and the copies are written in one short transaction after.
    """
    done = 0
    for item_id in item_ids:
        with sessions() as session:
            session.connection(execution_options=READ_ONLY)
            plan = _plan(session.get(EvidenceItem, item_id))
        if plan is None:
            continue
        copies = _made(store, plan, item_id, workdir)
        if copies is not None:
            with sessions() as session:
                done += _record(session, item_id, plan, copies)
                session.commit()
    return done


@dataclass(frozen=True)
class _Plan:
    """What one item needs: its copies, and the stored copy they are made for."""

    wanted: list[Wanted]
    normalized: str | None


def _plan(item: EvidenceItem | None) -> _Plan | None:
    """What to make for `item`: nothing at all (None) once it is gone or copied; no copy, to
    be recorded as such, for a picture too small for any."""
    if item is None or item.fit_copies is not None:
        return None
    wanted = wanted_copies(item)
    if not wanted and not (item.is_image and item.redacted_key is None):
        return None
    return _Plan(wanted, item.normalized_key)


def _made(
    store: BlobStore, plan: _Plan, item_id: int, workdir: Path
) -> list[dict[str, Any]] | None:
    """The plan's copies, or None (logged) when one cannot be made."""
    try:
        return _make(store, plan.wanted, workdir / f"item-{item_id}") if plan.wanted else []
    except Exception:
        log.exception("fit copies of evidence %s could not be made", item_id)
        return None


def _make(store: BlobStore, wanted: list[Wanted], folder: Path) -> list[dict[str, Any]]:
    """Encode and store each copy; only copies smaller than their source are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        copies = []
        for copy in wanted:
            out = folder / f"{copy.side}-q{copy.quality}.jpg"
            with store.open(copy.source) as handle:
                prepared = _encode(handle.read(), out, copy)
            if prepared.size >= store.size(copy.source):
                continue
            copies.append({"side": copy.side, "quality": copy.quality, "width": prepared.width,
                           "height": prepared.height, "bytes": prepared.size,
                           "key": store.put(out)})  # fmt: skip
        return copies
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _encode(data: bytes, out: Path, copy: Wanted) -> PreparedImage:
    return prepare_image(io.BytesIO(data), len(data), out, Rung.exact(copy.side, copy.quality))


def _record(session: Session, item_id: int, plan: _Plan, copies: list[dict[str, Any]]) -> int:
    """Write the copies only onto the row as it was when they were planned (one statement,
    so that a removal or redaction in the meantime wins); 1 if copies were wanted and are
    recorded, else 0 (a picture marked as needing none is not counted)."""
    found = session.execute(
        update(EvidenceItem)
        .where(EvidenceItem.id == item_id, EvidenceItem.fit_copies.is_(None),
               EvidenceItem.normalized_key == plan.normalized,
               EvidenceItem.redacted_key.is_(None))
        .values(fit_copies=copies)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return 1 if plan.wanted and getattr(found, "rowcount", 0) == 1 else 0
