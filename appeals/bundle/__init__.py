"""Evidence bundles of a submitted version: a PDF, a ZIP with a signed manifest, and their check.

The PDF (A4) holds a cover, the rebuttal matrix, an exhibit index, every exhibit and the
complainant dossier; every page carries a header, `AP-2026-000123 · Exhibit B-2 · Shipping
receipt` and `Page 7 of 40`, and the footer `AP-2026-000123 · B-2 · 7/40`. Every time in it
is the shop's (`time_zone`), with the zone named. The ZIP holds the
PDF, the exhibits' files under originals/ and manifest.json, whose HMAC signature lets
anyone holding the key tell an intact bundle from a changed one.

The plan comes first (what each exhibit becomes and how many pages it takes), so the
index and the footers are written in one pass; images are prepared two at a time and
kept on disk until the PDF is written, so memory does not grow with the bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy.orm import Session

from appeals.bundle.archive import PDF_NAME, files_digest, manifest_of, signing_key, write_zip
from appeals.bundle.pdf import (
    TITLES,
    bi,
    dossier_document,
    exhibit_title,
    front_label,
    front_matter,
    prepare_document,
    scanned_layers,
)
from appeals.bundle.plan import (
    Built,
    Exhibit,
    PlainWording,
    Progress,
    ShopReader,
    Wording,
    exhibits_of,
    file_entries,
    fit,
    prepare_images,
    reading_lines,
)
from appeals.bundle.verification import Verification, verify
from appeals.models import Appeal, AppealVersion
from appeals.policies import BudgetProfile
from evidence import pdfpages
from evidence.assemble import Assembler
from evidence.pdfimage import LADDER
from evidence.storage import BlobStore

__all__ = [
    "Built",
    "Exhibit",
    "PlainWording",
    "ShopReader",
    "Verification",
    "Wording",
    "build",
    "exhibits_of",
    "signing_key",
    "verify",
]


def build(
    session: Session,
    version: AppealVersion,
    store: BlobStore,
    workdir: Path,
    *,
    key: bytes,
    wording: Wording | None = None,
    profile: BudgetProfile,
    font: str | None,
    time_zone: str,
    progress: Progress | None = None,
    threads: int = 2,
) -> Built:
    """Build the PDF and ZIP of a submitted version into `workdir` (which must be empty).

    `font` is the CJK TrueType font to embed (None: the first one installed).
    """
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
    prepare_images(images, store, workdir, LADDER[0], threads, step)
    for exhibit in exhibits:
        if not exhibit.image_source:
            prepare_document(exhibit, store, workdir, wording)
            step()
    fit(images, exhibits, store, workdir, profile, threads, report)

    files = file_entries(exhibits)
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
            shrink = exhibit.item.media_type == "application/pdf"
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
    step()
    manifest = manifest_of(appeal, version, files, pdf, assembler.page_count, report)
    archive = workdir / "bundle.zip"
    write_zip(archive, pdf, exhibits, files, manifest, store, version.submitted_at, key)
    step()
    report["pages"] = assembler.page_count
    return Built(pdf, archive, assembler.page_count, manifest, report)
