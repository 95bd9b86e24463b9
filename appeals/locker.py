"""The evidence locker of a complaint: taking files in safely, listing, removing.

Order of work for every file: quarantine (size cap, hash), sniff the type from the
content, decode fully in a limited child process, publish the blobs, then write the row.
A failure at any step stores nothing; a crash between blob and row leaves only an
orphan blob, which `sweep-orphans` removes.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from appeals import audit, reading
from appeals.clock import utcnow
from appeals.complaints import get_complaint
from appeals.errors import N_, Conflict, InvalidInput, NotFound
from appeals.models import (
    Appeal,
    AppealState,
    Complaint,
    ComplaintStatus,
    EvidenceItem,
    EvidenceKind,
    Provenance,
)
from appeals.permissions import Actor, Permission, has_permission, require
from appeals.policies import LockerPolicy
from evidence import scratch
from evidence.cells import is_masked
from evidence.errors import RejectedUpload
from evidence.inspect import inspect
from evidence.intake import discard, quarantine, sniff
from evidence.names import sanitize_display_name
from evidence.ocr import lines_of
from evidence.redact import MAX_BOXES, check_boxes, redact_image
from evidence.sensitive import Suggestion, suggest
from evidence.storage import BlobStore


def locker_complaint(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    """The complaint whose locker the actor may use: the shop's own, or any for the platform."""
    if has_permission(actor, Permission.PLATFORM_EVIDENCE_RECORD):
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFound(N_("No such complaint."))
        return complaint
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    return get_complaint(session, actor, complaint_id)


def receive_file(
    session: Session,
    actor: Actor,
    complaint: Complaint,
    stream: BinaryIO,
    *,
    filename: str,
    kind: EvidenceKind,
    caption: str,
    store: BlobStore,
    workdir: Path,
    policy: LockerPolicy,
    read: bool = False,
) -> EvidenceItem:
    """Take one file into a complaint's locker, or refuse it with a RejectedUpload.

    `read`: mark pictures and PDFs to be read after intake (appeals.reading); the caller
    starts the reading once the row is committed.

    The file is copied, typed and decoded before the database is touched: on SQLite the
    first statement of a writing transaction takes the write lock, and decoding a large
    photo must not keep every other writer waiting. Callers that read before calling
    end their transaction first (see merchant_portal.locker.upload).
    """
    caption = " ".join(caption.split())
    if len(caption) > 300:
        raise InvalidInput(N_("Longer than %(max)d characters."), field="caption", max=300)
    received = quarantine(stream, workdir, policy.max_file_bytes)
    derived_dir = workdir / f"{received.path.name}.out"
    try:
        media_type = sniff(received.path)
        inspection = inspect(received.path, media_type, derived_dir, policy.limits)
        _check_open(complaint)
        _check_capacity(session, complaint, policy)
        duplicates = list(
            session.scalars(
                select(EvidenceItem).where(
                    EvidenceItem.shop_id == complaint.shop_id,
                    EvidenceItem.sha256 == received.sha256,
                )
            )
        )
        here = next((d for d in duplicates if d.complaint_id == complaint.id), None)
        if here is not None:
            raise RejectedUpload(
                "duplicate",
                N_("This file is already in the locker as “%(name)s”."),
                name=here.display_name,
            )
        if duplicates:  # in another complaint of the shop: filed here too, blobs shared
            return attach_existing(session, actor, complaint, duplicates[0].id, policy)
        if _shop_bytes(session, complaint.shop_id) + received.size > policy.shop_quota_bytes:
            raise RejectedUpload("quota", N_("The shop's evidence storage is full."))
        # Blobs first, then the row that refers to them.
        keys = _put_all(store, {"original": received.path} | {
            name: path for name in inspection.derived
            if (path := inspection.derived_path(name)) is not None
        })  # fmt: skip
        item = EvidenceItem(
            shop_id=complaint.shop_id,
            complaint_id=complaint.id,
            kind=kind,
            caption=caption,
            display_name=sanitize_display_name(filename),
            media_type=media_type,
            size=received.size,
            sha256=received.sha256,
            blob_key=keys["original"],
            normalized_key=keys.get("normalized"),
            thumbnail_key=keys.get("thumbnail"),
            content_key=keys.get("text") or keys.get("table"),
            page_key=keys.get("page"),
            width=inspection.width,
            height=inspection.height,
            pages=inspection.pages,
            rows=inspection.rows,
            provenance=Provenance.PLATFORM_NATIVE
            if has_permission(actor, Permission.PLATFORM_EVIDENCE_RECORD)
            else Provenance.MERCHANT_UPLOADED,
            uploaded_by_id=getattr(actor, "id", None),
        )
        if read:
            reading.queue(item)
        session.add(item)
        session.flush()
        after = {"sha256": item.sha256, "kind": kind.value, "name": item.display_name}
        audit.record(session, actor, "evidence.added", item, after=after)
        return item
    finally:
        discard(received)
        shutil.rmtree(derived_dir, ignore_errors=True)


def _put_all(store: BlobStore, paths: dict[str, Path]) -> dict[str, str]:
    """Store the files at once: each put waits mostly on its fsyncs (or on the object store),
    so the original and its derived copies overlap instead of queueing."""
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        futures = {name: pool.submit(store.put, path) for name, path in paths.items()}
    return {name: future.result() for name, future in futures.items()}


# What a file attached to a second complaint shares with the first: the stored blobs.
_SHARED = (
    "kind", "caption", "display_name", "media_type", "size", "sha256", "blob_key",
    "normalized_key", "thumbnail_key", "content_key", "page_key", "width", "height", "pages",
    "rows", "provenance", "reading_key", "reading_state", "reading_error", "read_at", "phash",
    "fit_copies",
)  # fmt: skip


def attach_existing(
    session: Session, actor: Actor, complaint: Complaint, item_id: int, policy: LockerPolicy
) -> EvidenceItem:
    """File evidence of another complaint of the shop here too, without a second upload.

    One courier trace or chat often proves two complaints (the same waybill, the same
    buyer). The new row refers to the same stored blobs; removing either leaves the other.
    """
    source = session.scalar(
        select(EvidenceItem).where(
            EvidenceItem.id == item_id, EvidenceItem.shop_id == complaint.shop_id
        )
    )
    if source is None:
        raise NotFound(N_("No such evidence."), field="item_id")
    _check_open(complaint)
    already = session.scalar(
        select(EvidenceItem).where(
            EvidenceItem.complaint_id == complaint.id, EvidenceItem.sha256 == source.sha256
        )
    )
    if already is not None:
        raise Conflict(
            N_("This file is already in the locker as “%(name)s”."),
            field="item_id",
            name=already.display_name,
        )
    _check_capacity(session, complaint, policy)
    item = EvidenceItem(
        shop_id=complaint.shop_id,
        complaint_id=complaint.id,
        uploaded_by_id=getattr(actor, "id", None),
        **{name: getattr(source, name) for name in _SHARED},
    )
    session.add(item)
    session.flush()
    after = {"sha256": item.sha256, "kind": item.kind.value, "name": item.display_name,
             "from_evidence": source.id, "from_complaint": source.complaint_id}  # fmt: skip
    audit.record(session, actor, "evidence.attached", item, after=after)
    return item


def reusable_items(session: Session, complaint: Complaint, limit: int = 50) -> list[EvidenceItem]:
    """The shop's evidence in other complaints that could serve this one, newest first."""
    here = select(EvidenceItem.sha256).where(EvidenceItem.complaint_id == complaint.id)
    query = (
        select(EvidenceItem)
        .where(
            EvidenceItem.shop_id == complaint.shop_id,
            EvidenceItem.complaint_id != complaint.id,
            EvidenceItem.sha256.not_in(here),
        )
        .order_by(EvidenceItem.id.desc())
        .limit(limit)
    )
    seen: set[str] = set()
    found = []
    for item in session.scalars(query):
        if item.sha256 not in seen:
            seen.add(item.sha256)
            found.append(item)
    return found


# While the platform asks for more, or a first ruling may be appealed, new evidence can
# be added; what a submitted version cites never changes.
OPEN_FOR_ANSWERS = (AppealState.INFO_REQUESTED, AppealState.DECIDED)


def _check_open(complaint: Complaint, item: EvidenceItem | None = None) -> None:
    if complaint.status is ComplaintStatus.CLOSED:
        raise Conflict(N_("This complaint is closed; its evidence can no longer change."))
    session = object_session(complaint)
    appeal = session.scalar(
        select(Appeal).where(Appeal.complaint_id == complaint.id)
    ) if session is not None else None  # fmt: skip
    if appeal is None or appeal.state is AppealState.DRAFT:
        return
    if appeal.state not in OPEN_FOR_ANSWERS:
        raise Conflict(N_("The appeal has been submitted; its evidence can no longer change."))
    if item is not None and any(
        entry["evidence_id"] == item.id for v in appeal.versions for entry in v.content["exhibits"]
    ):
        raise Conflict(N_("This file is part of a submitted version; it can no longer change."))


def _check_capacity(session: Session, complaint: Complaint, policy: LockerPolicy) -> None:
    count = session.scalar(
        select(func.count())
        .select_from(EvidenceItem)
        .where(EvidenceItem.complaint_id == complaint.id)
    )
    if (count or 0) >= policy.max_files_per_complaint:
        raise RejectedUpload(
            "too_many_files",
            N_("A complaint can hold at most %(max)d files."),
            max=policy.max_files_per_complaint,
        )


def _shop_bytes(session: Session, shop_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(EvidenceItem.size), 0)).where(EvidenceItem.shop_id == shop_id)
    )
    return int(total or 0)


def list_items(session: Session, complaint: Complaint) -> list[EvidenceItem]:
    """The complaint's evidence, oldest first."""
    query = select(EvidenceItem).where(EvidenceItem.complaint_id == complaint.id)
    return list(session.scalars(query.order_by(EvidenceItem.id)))


def get_item(session: Session, actor: Actor, item_id: int) -> EvidenceItem:
    """One evidence item of the actor's shop; another shop's answers NotFound."""
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    item = session.scalar(
        select(EvidenceItem).where(
            EvidenceItem.id == item_id, EvidenceItem.shop_id == actor.shop_id
        )
    )
    if item is None:
        raise NotFound(N_("No such evidence."))
    return item


def remove_item(session: Session, actor: Actor, item: EvidenceItem) -> None:
    """Remove an item while its complaint is open; its blobs go with the next sweep."""
    complaint = get_complaint(session, actor, item.complaint_id)
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    if item.provenance is Provenance.PLATFORM_NATIVE:
        raise Conflict(N_("This file is the platform's own record; the shop cannot remove it."))
    _check_open(complaint, item)
    # The complaint is named so the entry keeps its case once the row is gone.
    before = {"sha256": item.sha256, "kind": item.kind.value, "name": item.display_name,
              "complaint": item.complaint_id}  # fmt: skip
    audit.record(session, actor, "evidence.removed", item, before=before)
    session.delete(item)
    session.flush()


def edit_item(
    session: Session,
    actor: Actor,
    item: EvidenceItem,
    *,
    kind: EvidenceKind,
    caption: str,
    keep_metadata: bool | None = None,
) -> None:
    """Change what a file shows, its caption and whether reviewers' copies keep its camera
    and location data, while no submitted version cites it.

    The kind decides how the file is read (a chat screenshot's messages reach the
    dossier), so a file filed under the wrong kind can be put right. `keep_metadata`
    None leaves the choice as it is.
    """
    complaint = get_complaint(session, actor, item.complaint_id)
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    if item.provenance is Provenance.PLATFORM_NATIVE:
        raise Conflict(N_("This file is the platform's own record; the shop cannot change it."))
    _check_open(complaint, item)
    caption = " ".join(caption.split())
    if len(caption) > 300:
        raise InvalidInput(N_("Longer than %(max)d characters."), field="caption", max=300)
    keep = item.keep_metadata if keep_metadata is None else keep_metadata
    before = {"kind": item.kind.value, "caption": item.caption, "keep_metadata": item.keep_metadata}
    item.kind, item.caption, item.keep_metadata = kind, caption, keep
    session.flush()
    audit.record(session, actor, "evidence.edited", item, before=before,
                 after={"kind": kind.value, "caption": caption, "keep_metadata": keep})  # fmt: skip


def referenced_keys(session: Session) -> set[str]:
    """Every blob key some row refers to (for the orphan sweep)."""
    keys: set[str] = set()
    for name in EvidenceItem.BLOB_COLUMNS:
        column = getattr(EvidenceItem, name)
        keys.update(key for key in session.scalars(select(column).distinct()) if key)
    listed = select(EvidenceItem.fit_copies).where(EvidenceItem.fit_copies.is_not(None))
    for copies in session.scalars(listed):
        keys.update(str(copy["key"]) for copy in copies or [])
    return keys


ANSWERS = ("accepted", "moved", "rejected")


def redaction_suggestions(
    session: Session, item: EvidenceItem, store: BlobStore
) -> list[Suggestion]:
    """Personal data found in the item's read text, as boxes offered for redaction.

    Phone, ID-card and bank-card numbers, addresses, e-mail addresses, and the buyer's and
    receiver's names from the complaint and its order. Never applied without the merchant.
    """
    found = reading.reading_of(item, store) if item.is_image else None
    if found is None:
        return []
    complaint = session.get_one(Complaint, item.complaint_id)
    names = [complaint.buyer_ref]
    if complaint.order is not None:
        names += [complaint.order.receiver or "", complaint.order.buyer_ref]
    lines = lines_of(found)
    return suggest(lines, names=[name for name in names if name and not is_masked(name)])


def redact_item(
    session: Session,
    actor: Actor,
    item: EvidenceItem,
    boxes: list[list[float]],
    *,
    store: BlobStore,
    workdir: Path,
    answers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    """Cover parts of an image; the redacted copy replaces the previous one, the original stays.

    `answers` are the merchant's answers to suggested redactions (id: accepted, moved or
    rejected): accepted boxes are covered as suggested, moved ones as the merchant drew
    them (in `boxes`), and every answer is recorded with who gave it. With no box at all,
    only the answers are recorded; False then, True when a redacted copy was made.
    """
    complaint = get_complaint(session, actor, item.complaint_id)
    require(actor, Permission.MERCHANT_EVIDENCE_MANAGE)
    _check_open(complaint, item)
    if not item.is_image or item.normalized_key is None:
        raise InvalidInput(N_("Only images can be redacted."), field="boxes")
    answers = answers or {}
    offered = {
        suggestion.id: suggestion for suggestion in redaction_suggestions(session, item, store)
    }
    unknown = [key for key in answers if key not in offered or answers[key] not in ANSWERS]
    if unknown:
        raise InvalidInput(N_("A suggestion is no longer offered; reload the page."), field="boxes")
    covered = [list(offered[key].box) for key, answer in answers.items() if answer == "accepted"]
    when = now or utcnow()
    if answers:
        recorded = {entry["id"]: entry for entry in item.suggestion_answers or []}
        for key, answer in answers.items():
            recorded[key] = {"id": key, "kind": offered[key].kind, "answer": answer,
                             "box": [round(v, 5) for v in offered[key].box],
                             "by": getattr(actor, "id", None), "at": when.isoformat()}  # fmt: skip
        item.suggestion_answers = list(recorded.values())
    if not boxes and not covered:
        if not answers:
            raise RejectedUpload(
                "redaction_boxes", N_("Draw between 1 and %(max)d boxes."), max=MAX_BOXES
            )
        session.flush()
        audit.record(session, actor, "evidence.suggestions_answered", item,
                     after={"answers": answers})  # fmt: skip
        return False
    checked = check_boxes([*boxes, *covered])
    # Named for this process (evidence.scratch): swept at once if it is killed midway.
    folder = scratch.make_scratch_dir(workdir, "redact")
    try:
        source = folder / (
            "source.png" if item.media_type in ("image/png", "image/webp") else "source.jpg"
        )
        with store.open(item.normalized_key) as reader, source.open("wb") as writer:
            shutil.copyfileobj(reader, writer)
        redacted, thumbnail = redact_image(source, checked, folder / "out")
        before = {"boxes": item.redaction}
        item.redacted_key = store.put(redacted)
        item.redacted_thumbnail_key = store.put(thumbnail)
        item.redaction = [list(box) for box in checked]
        item.redacted_at = when
        item.redacted_by_id = getattr(actor, "id", None)
        session.flush()
        after: dict[str, object] = {"boxes": item.redaction, "redacted_sha256": item.redacted_key}
        if answers:
            after["answers"] = answers
        audit.record(session, actor, "evidence.redacted", item, before=before, after=after)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return True
