"""Reading the text in a complaint's pictures and scanned PDFs, after intake.

Intake marks each picture and PDF `queued`; a background job (the same queue as bundle
builds) reads it in the sandbox (evidence.inspect.read_many) and stores the reading as a
blob with the reader's name. The file is in the locker and usable from the start: a slow,
failed or crashed reading leaves it as it was, marked `failed`, and can be redone.

Copies of one file in several complaints (attached, sharing blobs) share the reading.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import shutil
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from appeals.clock import utcnow
from appeals.models import EvidenceItem, Provenance, ReadingState
from evidence.inspect import ReadLimits, read_many
from evidence.ocr import FORMAT
from evidence.storage import BlobStore

log = logging.getLogger("appeals.reading")
READABLE = ("image/png", "image/jpeg", "image/webp", "image/heic", "application/pdf")
# A reading still marked `reading` after this long was left by a process that died.
STALE = timedelta(minutes=30)


def readable(item: EvidenceItem) -> bool:
    return item.media_type in READABLE


def queue(item: EvidenceItem) -> bool:
    """Mark a new item to be read; True when it will be."""
    if readable(item) and item.reading_state is None:
        item.reading_state = ReadingState.QUEUED
        return True
    return False


def waiting(
    session: Session, *, include_failed: bool = False, retake: bool = False, limit: int = 500
) -> list[int]:
    """Items waiting to be read, oldest first; `retake`: also those a process left half read
    (marked `reading` longer ago than any batch takes)."""
    states = [ReadingState.QUEUED]
    if include_failed:
        states.append(ReadingState.FAILED)
    waits: ColumnElement[bool] = EvidenceItem.reading_state.in_(states)
    if retake:
        stale = utcnow() - STALE
        waits = or_(
            waits,
            (EvidenceItem.reading_state == ReadingState.READING) & (EvidenceItem.read_at < stale),
        )
    query = select(EvidenceItem.id).where(waits).order_by(EvidenceItem.id).limit(limit)
    return list(session.scalars(query))


@dataclass
class ReadOutcome:
    read: int = 0
    failed: int = 0
    skipped: int = 0


def read_items(
    sessions: sessionmaker[Session],
    item_ids: Iterable[int],
    store: BlobStore,
    workdir: Path,
    limits: ReadLimits | None = None,
    progress: Callable[[int, str], None] | None = None,
    *,
    time_zone: str = "Asia/Shanghai",
    retake: bool = False,
) -> ReadOutcome:
    """Read the given items' files; each result is committed as soon as it is known.

    `time_zone` is the zone of times a chat screenshot writes without one (the platform's).
    """
    limits = limits or ReadLimits()
    ids = list(item_ids)
    outcome = ReadOutcome()
    # A batch at a time: one child reads it, and only its files are copied out meanwhile.
    for start in range(0, len(ids), limits.batch):
        chunk = ids[start : start + limits.batch]
        folder = workdir / f"read-{secrets.token_hex(6)}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            jobs, items = _claim(sessions, chunk, store, folder, time_zone, retake)
            outcome.skipped += len(chunk) - len(items)
            for index, answer in read_many(jobs, limits):
                item_id, blob_key = items[index]
                out = Path(jobs[index]["out"])
                state = _store_answer(sessions, item_id, blob_key, answer, store, out)
                if state is ReadingState.DONE:
                    outcome.read += 1
                else:
                    outcome.failed += 1
                if progress:
                    progress(item_id, state.value)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return outcome


def _claim(
    sessions: sessionmaker[Session],
    item_ids: list[int],
    store: BlobStore,
    folder: Path,
    time_zone: str,
    retake: bool,
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Mark the items `reading` and copy what the child reads into `folder`.

    `retake`: also take items another process marked `reading` (it died: a worker's start,
    `read-evidence`); otherwise those are left to the process reading them.
    """
    jobs: list[dict[str, Any]] = []
    items: list[tuple[int, str]] = []
    takeable = [ReadingState.QUEUED, ReadingState.FAILED]
    if retake:
        takeable.append(ReadingState.READING)
    with sessions() as session:
        # Taken in one statement: of two processes offered the same item, one reads it.
        claimed = list(
            session.scalars(
                update(EvidenceItem)
                .where(
                    EvidenceItem.id.in_(item_ids),
                    EvidenceItem.media_type.in_(READABLE),
                    or_(
                        EvidenceItem.reading_state.in_(takeable),
                        EvidenceItem.reading_state.is_(None),
                    ),
                )
                .values(reading_state=ReadingState.READING, reading_error=None, read_at=utcnow())
                .returning(EvidenceItem.id)
                .execution_options(synchronize_session=False)
            )
        )
        session.commit()
        found = session.scalars(
            select(EvidenceItem).where(EvidenceItem.id.in_(claimed)).order_by(EvidenceItem.id)
        )
        for item in found:
            key = item.normalized_key if item.is_image else item.blob_key
            if key is None:
                continue
            here = folder / f"{item.id}"
            here.mkdir()
            source = here / ("source.pdf" if not item.is_image else "source")
            _copy(store, key, source)
            job: dict[str, Any] = {
                "path": str(source),
                "out": str(here),
                "media_type": item.media_type,
                "time_zone": time_zone,
            }
            if item.is_image and item.provenance is Provenance.PLATFORM_NATIVE:
                original = here / "original"
                _copy(store, item.blob_key, original)
                job.update(original=str(original), original_type=item.media_type)
            jobs.append(job)
            items.append((item.id, item.blob_key))
    return jobs, items


def _copy(store: BlobStore, key: str, path: Path) -> None:
    with store.open(key) as reader, path.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)


def _store_answer(
    sessions: sessionmaker[Session],
    item_id: int,
    blob_key: str,
    answer: dict[str, Any],
    store: BlobStore,
    out: Path,
) -> ReadingState:
    values: dict[str, Any] = {"read_at": utcnow()}
    if answer.get("ok") and answer.get("derived", {}).get("reading"):
        values.update(
            reading_key=store.put(out / answer["derived"]["reading"]),
            reading_state=ReadingState.DONE,
            reading_error=None,
        )
        if answer.get("phash"):
            values["phash"] = str(answer["phash"])[:16]
    else:
        values.update(
            reading_state=ReadingState.FAILED,
            reading_error=str(answer.get("code") or "processing_failed")[:200],
        )
    with sessions() as session:
        # Every copy of the file (attached to other complaints) gets the same reading.
        session.execute(
            update(EvidenceItem)
            .where(EvidenceItem.blob_key == blob_key, EvidenceItem.reading_state.is_not(None))
            .values(**values)
        )
        session.commit()
    return ReadingState(values["reading_state"])


def reading_of(item: EvidenceItem, store: BlobStore) -> dict[str, Any] | None:
    """The item's finished reading, if it is stored and in the format this code knows."""
    key = item.reading_key
    if item.reading_state is not ReadingState.DONE or not key:
        return None
    try:
        with store.open(key) as handle:
            reading = json.load(handle)
    except (OSError, ValueError):  # gone, not JSON, or not UTF-8
        log.warning("reading %s of evidence %s cannot be read", key, item.id)
        return None
    return reading if isinstance(reading, dict) and reading.get("format") == FORMAT else None


Box = tuple[float, float, float, float]
PlacedLine = tuple[str, Box]  # a line's words and its box (fractions of the page)


def visible_lines(
    item: EvidenceItem, store: BlobStore, reading: dict[str, Any] | None = None
) -> dict[int, list[PlacedLine]]:
    """The lines of an item's finished reading by page, without any line a redaction box
    touches: what the merchant covered never leaves the shop as text either (the bundle's
    text layer, a reviewer's search, the dossier). Empty when there is no usable reading.
    `reading`: the item's reading when the caller has read it already."""
    reading = reading if reading is not None else reading_of(item, store)
    covers = redaction_boxes(item)
    if reading is None or covers is None:
        return {}  # a box that cannot be read: no text rather than text under it
    pages: dict[int, list[PlacedLine]] = {}
    try:
        for entry in reading["pages"]:
            lines = [line for line in map(_line, entry["lines"]) if line]
            kept = [(t, box) for t, box in lines if not hidden(box, covers)]
            if kept and isinstance(entry["page"], int) and entry["page"] >= 1:
                pages[entry["page"]] = kept
    except (KeyError, TypeError, AttributeError):
        log.warning("reading %s of evidence %s is malformed", item.reading_key, item.id)
        return {}
    return pages


def redaction_boxes(item: EvidenceItem) -> list[Box] | None:
    """The item's redaction boxes; None when one of them cannot be read."""
    boxes = [_box(box) for box in item.redaction or []] if item.is_image else []
    found = [box for box in boxes if box is not None]
    return found if len(found) == len(boxes) else None


def hidden(box: Box, covers: list[Box]) -> bool:
    """Whether a box meets a redaction box; boxes that only share an edge count, to be safe."""
    return any(
        box[0] <= c[0] + c[2] and c[0] <= box[0] + box[2]
        and box[1] <= c[1] + c[3] and c[1] <= box[1] + box[3]
        for c in covers
    )  # fmt: skip


def _line(line: Any) -> PlacedLine | None:
    # Controls and lone surrogates have no place in a PDF string or a page.
    text = "".join(c for c in str(line["text"]) if unicodedata.category(c) not in ("Cc", "Cs"))
    text = " ".join(text.split())
    box = _box(line["box"])
    return (text, box) if text and box else None


def _box(values: Any) -> Box | None:
    """[left, top, width, height] as fractions, cut to the picture; None if not one."""
    if not isinstance(values, list | tuple) or len(values) != 4:
        return None
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        return None
    left, top = max(0.0, float(values[0])), max(0.0, float(values[1]))
    right = min(1.0, float(values[0]) + float(values[2]))
    bottom = min(1.0, float(values[1]) + float(values[3]))
    if right <= left or bottom <= top:
        return None
    return left, top, right - left, bottom - top
