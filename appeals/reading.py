"""Reading the text in a complaint's pictures and scanned PDFs, after intake.

Intake marks each picture and PDF `queued`; a background job (the same queue as bundle
builds) reads it in the sandbox (evidence.inspect.read_many) and stores the reading as a
blob with the reader's name. The file is in the locker and usable from the start: a slow,
failed or crashed reading leaves it as it was, marked `failed`, and can be redone.

Copies of one file in several complaints (attached, sharing blobs) share the reading.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from appeals.clock import utcnow
from appeals.models import EvidenceItem, Provenance, ReadingState
from evidence.inspect import ReadLimits, read_many
from evidence.storage import BlobStore

READABLE = ("image/png", "image/jpeg", "image/webp", "image/heic", "application/pdf")
# A reading left `reading` by a process that died is taken up again after this long.
STALE_SECONDS = 15 * 60


def readable(item: EvidenceItem) -> bool:
    return item.media_type in READABLE


def queue(item: EvidenceItem) -> bool:
    """Mark a new item to be read; True when it will be."""
    if readable(item) and item.reading_state is None:
        item.reading_state = ReadingState.QUEUED
        return True
    return False


def waiting(session: Session, *, include_failed: bool = False, limit: int = 500) -> list[int]:
    """Items waiting to be read (and those a dead process left half read), oldest first."""
    states = [ReadingState.QUEUED, ReadingState.READING]
    if include_failed:
        states.append(ReadingState.FAILED)
    query = (
        select(EvidenceItem.id)
        .where(EvidenceItem.reading_state.in_(states))
        .order_by(EvidenceItem.id)
        .limit(limit)
    )
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
) -> ReadOutcome:
    """Read the given items' files; each result is committed as soon as it is known.

    `time_zone` is the zone of times a chat screenshot writes without one (the platform's).
    """
    limits = limits or ReadLimits()
    ids = list(item_ids)
    outcome = ReadOutcome()
    folder = workdir / f"read-{secrets.token_hex(6)}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        jobs, items = _claim(sessions, ids, store, folder, time_zone)
        outcome.skipped = len(ids) - len(items)
        for index, answer in read_many(jobs, limits):
            item_id, blob_key = items[index]
            state = _store_answer(
                sessions, item_id, blob_key, answer, store, Path(jobs[index]["out"])
            )
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
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """Mark the items `reading` and copy what the child reads into `folder`."""
    jobs: list[dict[str, Any]] = []
    items: list[tuple[int, str]] = []
    with sessions() as session:
        found = session.scalars(
            select(EvidenceItem)
            .where(
                EvidenceItem.id.in_(item_ids),
                or_(
                    EvidenceItem.reading_state.in_(
                        [ReadingState.QUEUED, ReadingState.READING, ReadingState.FAILED]
                    ),
                    EvidenceItem.reading_state.is_(None),
                ),
            )
            .order_by(EvidenceItem.id)
        )
        for item in found:
            if not readable(item):
                continue
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
            item.reading_state = ReadingState.READING
            item.reading_error = None
            jobs.append(job)
            items.append((item.id, item.blob_key))
        session.commit()
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
    """The stored reading of an item, or None when it has none (or it cannot be parsed)."""
    if item.reading_state is not ReadingState.DONE or item.reading_key is None:
        return None
    try:
        with store.open(item.reading_key) as handle:
            reading = json.load(handle)
    except (OSError, ValueError):
        return None
    return reading if isinstance(reading, dict) and reading.get("format") == 1 else None


def _overlaps(a: list[float] | tuple[float, ...], b: list[float] | tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def visible_lines(item: EvidenceItem, reading: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """The lines of a reading per page, without any line a redaction box touches.

    What the merchant covered never leaves the shop as text either: not in the bundle's
    text layer, not in a reviewer's search.
    """
    covered = [list(box) for box in item.redaction or []] if item.is_image else []
    pages: dict[int, list[dict[str, Any]]] = {}
    for page in reading.get("pages", []):
        number = int(page.get("page", 1))
        pages[number] = [
            line
            for line in page.get("lines", [])
            if not any(_overlaps(line["box"], box) for box in covered)
        ]
    return pages
