"""The build of a bundle: the plan, the fit, the PDF, the ZIP and their signatures (see
appeals.bundle)."""

from __future__ import annotations

import gc
import hashlib
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

from pypdf import PdfReader
from sqlalchemy.orm import Session

from appeals.bundle.archive import PDF_NAME, files_digest, manifest_of, write_zip
from appeals.bundle.fit import fit
from appeals.bundle.keys import SigningKey
from appeals.bundle.pdf import (
    TITLES,
    UNAVAILABLE,
    bi,
    dossier_document,
    exhibit_title,
    front_label,
    front_matter,
    placeholder_document,
    prepare_document,
    scanned_layers,
)
from appeals.bundle.plan import (
    Built,
    Exhibit,
    PlainWording,
    Progress,
    Wording,
    exhibits_of,
    file_entries,
    prepare_images,
    reading_lines,
)
from appeals.clock import utcnow
from appeals.models import Appeal, AppealVersion
from appeals.policies import BudgetProfile
from evidence import memory, pdfpages
from evidence.assemble import Assembler
from evidence.pdfimage import LADDER
from evidence.storage import CHUNK, BlobStore

log = logging.getLogger(__name__)


def _prepare_pictures(
    images: list[Exhibit],
    store: BlobStore,
    workdir: Path,
    threads: int,
    step: Callable[[], None],
) -> list[Exhibit]:
    """Prepare the pictures at the first rung; those that fail, one by one, are returned."""
    try:
        prepare_images(images, store, workdir, LADDER[0], threads, step)
        return []
    except Exception:
        log.warning("a picture failed; preparing them one at a time", exc_info=True)
    failed = []
    for exhibit in images:
        if exhibit.image is not None:
            continue
        try:
            prepare_images([exhibit], store, workdir, LADDER[0], 1, None)
        except Exception:  # one bad file gets a placeholder page, not a failed bundle
            log.warning("exhibit %s left out of the bundle", exhibit.label, exc_info=True)
            failed.append(exhibit)
    return failed


def _left_out(
    exhibits: list[Exhibit],
    files: list[dict[str, Any]],
    left_out: set[str],
    store: BlobStore,
    workdir: Path,
    wording: Wording,
    report: dict[str, Any],
) -> BlobStore:
    """Give each exhibit that failed its placeholder page and say so in the report.

    Its original still goes into the ZIP when it reads back intact; otherwise a note takes
    its place there, under its own name and hash (the cover's digest is over the hashes the
    version cites, which stay). The store returned serves those notes to `write_zip`.
    """
    notes: dict[str, bytes] = {}
    report["unavailable"] = []
    for exhibit, entry in zip(exhibits, files, strict=True):
        if exhibit.label not in left_out:
            continue
        intact = _reads_back(store, exhibit.source_key, entry["sha256"])
        placeholder_document(exhibit, workdir, wording, original_shipped=intact)
        entry["placeholder"] = True
        report["unavailable"].append(
            {"label": exhibit.label, "name": exhibit.item.display_name, "original": intact}
        )
        if not intact:
            named = f"Exhibit {exhibit.label}: {exhibit.item.display_name}"
            note = "\n".join((named, f"SHA-256 {entry['sha256']}", "", *UNAVAILABLE, "")).encode()
            key = hashlib.sha256(note).hexdigest()
            notes[key] = note
            exhibit.source_key = key
            entry.update(path=f"{entry['path']} (unavailable).txt", media_type="text/plain",
                         sha256=key, unavailable=True)  # fmt: skip
    if not report["unavailable"]:
        del report["unavailable"]
    return cast(BlobStore, _WithNotes(store, notes))


def _reads_back(store: BlobStore, key: str, sha256: str) -> bool:
    digest = hashlib.sha256()
    try:
        with store.open(key) as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except (OSError, ValueError):
        return False
    return digest.hexdigest() == sha256


class _WithNotes:
    """The blob store, also serving a few notes made while the bundle is built."""

    def __init__(self, store: BlobStore, notes: dict[str, bytes]) -> None:
        self.store, self.notes = store, notes

    def open(self, key: str) -> IO[bytes]:
        return io.BytesIO(self.notes[key]) if key in self.notes else self.store.open(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def build(
    session: Session,
    version: AppealVersion,
    store: BlobStore,
    workdir: Path,
    *,
    key: SigningKey,
    wording: Wording | None = None,
    profile: BudgetProfile,
    font: str | None,
    time_zone: str,
    progress: Progress | None = None,
    threads: int = 2,
    audit_checkpoint: dict[str, Any] | None = None,
) -> Built:
    """Build the PDF and ZIP of a submitted version into `workdir` (which must be empty).

    `font` is the CJK TrueType font to embed (None: the first one installed).
    """
    memory.return_large_buffers()  # a build's peak is what it holds (evidence.memory)
    wording = wording or PlainWording()
    pdfpages.use_font(font)
    appeal = session.get_one(Appeal, version.appeal_id)
    exhibits = exhibits_of(session, version)
    steps = len(exhibits) + 3
    done = 0

    def step(count: int = 1) -> None:
        nonlocal done
        done += count
        if progress:
            progress(min(done, steps), steps)

    workdir.mkdir(parents=True, exist_ok=True)
    for exhibit in exhibits:
        exhibit.lines = reading_lines(exhibit.item, store)
    images = [e for e in exhibits if e.image_source]
    report: dict[str, Any] = {"fit": []}
    failed = _prepare_pictures(images, store, workdir, threads, step)
    for exhibit in exhibits:
        if not exhibit.image_source:
            try:
                prepare_document(exhibit, store, workdir, wording)
            except Exception:  # one bad file gets a placeholder page, not a failed bundle
                log.warning("exhibit %s left out of the bundle", exhibit.label, exc_info=True)
                failed.append(exhibit)
            step()
    left_out = {e.label for e in failed}
    images = [e for e in images if e.label not in left_out]
    fit(images, exhibits, store, workdir, profile, threads, report)

    files = file_entries(exhibits)
    notes = _left_out(exhibits, files, left_out, store, workdir, wording, report)
    dossier = dossier_document(session, appeal, version, store, wording, time_zone)
    dossier_path = workdir / "dossier.pdf"
    dossier_pages = pdfpages.render(dossier, dossier_path)
    front = front_matter(
        appeal, version, exhibits, files, wording, dossier_pages, workdir, time_zone
    )
    step()

    assembler = Assembler()
    for title, path in front:
        first = assembler.add_pdf(path, front_label(title), shrink=False)
        assembler.bookmark(bi(title), first)
    group = assembler.bookmark(bi(TITLES["exhibits"]), assembler.page_count)
    captions = workdir / "captions.pdf"
    pdfpages.render_captions(
        [exhibit_title(e, wording) for e in images], captions, [e.image_layer() for e in images]
    )
    caption_pages = iter(PdfReader(captions).pages)
    layers = scanned_layers(exhibits, workdir)
    for exhibit in exhibits:
        named = f"Exhibit {exhibit.label} · {wording.label(exhibit.kind)[0]}"
        if exhibit.image is not None:
            first = assembler.add_image_page(
                next(caption_pages), exhibit.image, exhibit.label, named
            )
        else:
            assert exhibit.document is not None
            shrink = exhibit.item.media_type == "application/pdf" and exhibit.label not in left_out
            first = assembler.add_pdf(
                exhibit.document, exhibit.label, shrink=shrink,
                layers=layers.get(exhibit.label), title=named,
            )  # fmt: skip
        heading, caption = exhibit_title(exhibit, wording)
        assembler.bookmark(f"{heading} {caption}".strip()[:200], first, group)
    first = assembler.add_pdf(dossier_path, "Dossier", shrink=False)
    assembler.bookmark(bi(TITLES["dossier"]), first)
    pdf = workdir / PDF_NAME
    assembler.write(
        pdf,
        prefix=appeal.number,
        metadata={
            "/Title": f"{appeal.number} v{version.number} · {bi(TITLES['cover'])}",
            "/Author": appeal.complaint.shop.name if appeal.complaint.shop else "",
            "/Subject": f"{appeal.complaint.external_id} · {version.content_sha256}",
            "/Creator": "Appeal Desk",
            "/Producer": "Appeal Desk",
            "/Keywords": files_digest(files),
        },
    )
    pages = assembler.page_count
    del assembler  # its page tree, before signing and the ZIP take their share of memory
    gc.collect()
    key.sign_pdf(pdf, utcnow())  # before the manifest takes the PDF's hash
    step()
    size = pdf.stat().st_size  # the file as it came out, not the fit's estimate
    if report["fit"]:
        report["fit"][-1]["pdf_bytes"] = size
    if size > profile.max_bytes:
        report["over_bytes"] = size - profile.max_bytes
    else:
        report.pop("over_bytes", None)
    manifest = manifest_of(appeal, version, files, pdf, pages, report)
    if audit_checkpoint is not None:
        # The audit chain's head as last signed: whoever holds the bundle can later show
        # that the trail the platform keeps still ends in it (appeals.checkpoints).
        manifest["audit_checkpoint"] = audit_checkpoint
    archive = workdir / "bundle.zip"
    write_zip(archive, pdf, exhibits, files, manifest, notes, version.submitted_at, key)
    step()
    report["pages"] = pages
    return Built(pdf, archive, pages, manifest, report)
