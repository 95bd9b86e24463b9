"""Evidence by API: one multipart file into a complaint's locker, and how an item is shown."""

from __future__ import annotations

from flask import request
from pydantic import BaseModel, Field

from appeals import locker
from appeals.errors import N_, InvalidInput, RefusedFile
from appeals.models import Complaint, EvidenceItem, EvidenceKind
from evidence.errors import RejectedUpload
from merchant_portal import jobs
from merchant_portal.api.frame import current_api_user
from merchant_portal.context import context, policies
from merchant_portal.database import db
from merchant_portal.locker import blob_store


class EvidenceOut(BaseModel):
    id: int
    complaint_id: int
    kind: str
    caption: str
    name: str
    media_type: str
    size: int
    sha256: str
    pages: int | None
    rows: int | None
    provenance: str
    # The reading of a picture or scanned PDF: queued, reading, done, failed (None: none).
    reading: str | None = None


class EvidenceIn(BaseModel):
    kind: EvidenceKind
    caption: str = Field("", max_length=300)


def receive_api_file(complaint: Complaint, form: EvidenceIn) -> EvidenceOut:
    """Take the request's multipart `file` into the complaint's locker.

    A refused file is a 422 whose `code` (and `reason`) is intake's own, the one the upload
    form shows: `malformed_pdf`, `pdf_too_complex`, `too_many_pixels`...
    """
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput(N_("This field is required."), field="file")
    actor = current_api_user()
    db().rollback()  # only reads so far: hold no lock while the file decodes
    try:
        item = locker.receive_file(
            db(), actor, complaint, upload.stream, filename=upload.filename or "file",
            kind=form.kind, caption=form.caption, store=blob_store(),
            workdir=context().quarantine, policy=policies().locker, read=context().reads,
        )  # fmt: skip
    except RejectedUpload as refused:
        raise RefusedFile(refused.code, refused.message, **refused.params) from None
    db().commit()
    out = evidence_out(item)
    if item.reading_state is not None:
        jobs.enqueue_reading([item.id])
    if item.is_image:
        jobs.enqueue_copies([item.id])
    return out


def evidence_out(item: EvidenceItem) -> EvidenceOut:
    return EvidenceOut(
        id=item.id, complaint_id=item.complaint_id, kind=item.kind.value, caption=item.caption,
        name=item.display_name, media_type=item.media_type, size=item.size, sha256=item.sha256,
        pages=item.pages, rows=item.rows, provenance=item.provenance.value,
        reading=item.reading_state.value if item.reading_state else None,
    )  # fmt: skip
