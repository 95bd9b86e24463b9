"""Evidence bundles of a submitted version: a PDF, a ZIP with a signed manifest, and their check.

The PDF (A4) holds a cover, the rebuttal matrix, an exhibit index, every exhibit and the
complainant dossier; every page carries `AP-2026-000123 · B-2 · 7/40`. The ZIP holds the
PDF, the exhibits' files under originals/ and manifest.json, whose HMAC signature lets
anyone holding the key tell an intact bundle from a changed one.

The plan comes first (what each exhibit becomes and how many pages it takes), so the
index and the footers are written in one pass; images are prepared two at a time and
kept on disk until the PDF is written, so memory does not grow with the bundle.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.dossier import build_dossier
from appeals.errors import N_, Conflict
from appeals.locker import text_items
from appeals.models import Appeal, AppealVersion, EvidenceItem
from appeals.permissions import Role
from appeals.policies import BudgetProfile
from appeals.rebuttal import row_label
from evidence import pdfpages
from evidence.assemble import Assembler
from evidence.names import sanitize_display_name
from evidence.pdfimage import LADDER, PreparedImage, Rung, prepare_image
from evidence.pdfpages import Document, Fields, Gap, Grid, Heading, Lines, Text
from evidence.storage import CHUNK, BlobStore

FORMAT = "appeal-desk-bundle/1"
MANIFEST = "manifest.json"
PDF_NAME = "bundle.pdf"
MAX_TABLE_ROWS = 5000
# Media types already compressed: stored in the ZIP as they are (deflating them costs
# 14x the time and saves about 2%).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STORED_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/webp", "image/heic", "application/pdf", XLSX}
)
TITLES = {
    "cover": ("Appeal evidence bundle", "申诉证据包"),
    "statement": ("Statement of facts", "事实陈述"),
    "matrix": ("Rebuttal matrix", "逐项反驳"),
    "index": ("Exhibit index", "证据目录"),
    "exhibits": ("Exhibits", "证据"),
    "dossier": ("Complainant dossier", "投诉人档案"),
}
FIELDS = {
    "appeal": ("Appeal", "申诉编号"),
    "shop": ("Shop", "店铺"),
    "complaint": ("Complaint", "投诉"),
    "order": ("Order", "订单"),
    "category": ("Category", "恶意类型"),
    "remedies": ("Remedies requested", "申请的处理"),
    "version": ("Version", "版本"),
    "submitted": ("Submitted", "提交时间"),
    "late": ("late submission", "逾期提交"),
    "exhibits": ("Exhibits", "证据数量"),
    "manifest": ("Exhibit manifest SHA-256", "证据清单 SHA-256"),
    "content": ("Version content SHA-256", "版本内容 SHA-256"),
    "allegation": ("Allegation", "投诉主张"),
    "answer": ("Answer", "商家答复"),
    "cited": ("Exhibits", "证据"),
    "label": ("Label", "编号"),
    "kind": ("Kind", "类型"),
    "caption": ("Caption", "说明"),
    "pages": ("Pages", "页码"),
    "sha": ("SHA-256", "SHA-256"),
    "none": ("none", "无"),
}


def bi(pair: tuple[str, str]) -> str:
    """English and Chinese together, once when they are the same."""
    english, chinese = pair
    return english if english == chinese else f"{english} / {chinese}"


class Wording(Protocol):
    """Translations for the bundle's variable text: messages and enum labels, (en, zh)."""

    def text(self, msgid: str, **params: Any) -> tuple[str, str]: ...

    def label(self, value: str) -> tuple[str, str]: ...


class PlainWording:
    """English only: what tools without the portal's catalogue use."""

    def text(self, msgid: str, **params: Any) -> tuple[str, str]:
        english = msgid % params if params else msgid
        return english, english

    def label(self, value: str) -> tuple[str, str]:
        english = value.replace("_", " ").capitalize()
        return english, english


@dataclass(frozen=True)
class ShopReader:
    """Reads the shop's own records for its bundle (the dossier), and nothing else."""

    shop_id: int
    role: Role = Role.MERCHANT_STAFF
    is_active: bool = True
    id: int | None = None


@dataclass
class Exhibit:
    label: str
    item: EvidenceItem
    entry: dict[str, Any]
    source_key: str  # the redacted copy if there is one, else the original
    redacted: bool
    pages: int = 1
    image: PreparedImage | None = None
    document: Path | None = None  # rendered table or text, or the PDF itself
    first_page: int = 0

    @property
    def kind(self) -> str:
        return str(self.entry["kind"])

    @property
    def image_source(self) -> str | None:
        if not self.item.is_image:
            return None
        return self.item.redacted_key or self.item.page_key or self.item.normalized_key

    def source_for(self, rung: Rung) -> str | None:
        """The upload-time page copy serves the first rung; lower rungs start from the full
        upright copy, so that each step down is taken from the best picture."""
        if rung is LADDER[0]:
            return self.image_source
        return self.item.redacted_key or self.item.normalized_key


@dataclass
class Built:
    pdf: Path
    zip: Path
    pages: int
    manifest: dict[str, Any]
    report: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[int, int], None]


def signing_key(secret: str | bytes) -> bytes:
    """The bundle signing key, derived from the portal's secret key."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"appeal-desk bundle signature v1", hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"key-id:" + key).hexdigest()[:16]


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign(manifest: dict[str, Any], key: bytes) -> dict[str, str]:
    body = {name: value for name, value in manifest.items() if name != "signature"}
    digest = hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()
    return {"algorithm": "HMAC-SHA256", "key_id": key_id(key), "value": digest}


def files_digest(files: list[dict[str, Any]]) -> str:
    """The exhibit manifest's own digest, printed on the cover."""
    rows = [[f["label"], f["kind"], f["sha256"]] for f in files]
    return hashlib.sha256(_canonical(rows)).hexdigest()


def safe_member_name(label: str, name: str) -> str:
    """`originals/A-1 receipt.pdf`: letters of any script, digits and a few marks only."""
    clean = sanitize_display_name(name)
    clean = unicodedata.normalize("NFC", clean)
    clean = re.sub(r"[^\w.\-() ]", "_", clean).strip(" ._") or "file"
    stem, dot, suffix = clean.rpartition(".")
    if not dot or len(suffix) > 8:
        stem, suffix = clean, ""
    stem = stem[:80].rstrip(" ._") or "file"
    return f"originals/{label} {stem}" + (f".{suffix.lower()}" if suffix else "")


def exhibits_of(session: Session, version: AppealVersion) -> list[Exhibit]:
    """The version's exhibits with their items, refusing any whose file changed since."""
    entries = version.content["exhibits"]
    ids = [entry["evidence_id"] for entry in entries]
    items = {i.id: i for i in session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(ids)))}
    exhibits = []
    for entry in entries:
        item = items.get(entry["evidence_id"])
        if (
            item is None
            or item.sha256 != entry["sha256"]
            or (item.redacted_key != entry.get("redacted_sha256"))
        ):
            raise Conflict(
                N_("Exhibit %(label)s changed after submission; the bundle cannot be built."),
                label=entry["label"],
            )
        exhibits.append(
            Exhibit(
                entry["label"],
                item,
                entry,
                item.redacted_key or item.blob_key,
                item.redacted_key is not None,
            )
        )
    return exhibits


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
    images = [e for e in exhibits if e.image_source]
    report: dict[str, Any] = {"fit": []}
    _prepare_images(images, store, workdir, LADDER[0], threads, step)
    for exhibit in exhibits:
        if not exhibit.image_source:
            _prepare_document(exhibit, store, workdir, wording)
            step()
    _fit(images, exhibits, store, workdir, profile, threads, report)

    files = _file_entries(exhibits)
    dossier = _dossier_document(session, appeal, version, store, wording)
    dossier_path = workdir / "dossier.pdf"
    dossier_pages = pdfpages.render(dossier, dossier_path)
    front = _front_matter(appeal, version, exhibits, files, wording, dossier_pages, workdir)
    step()

    assembler = Assembler()
    for title, path in front:
        first = assembler.add_pdf(path, _front_label(title), shrink=False)
        assembler.bookmark(bi(title), first)
    group = assembler.bookmark(bi(TITLES["exhibits"]), assembler.page_count)
    captions = workdir / "captions.pdf"
    pdfpages.render_captions([_exhibit_title(e, wording) for e in images], captions)
    caption_pages = iter(PdfReader(captions).pages)
    for exhibit in exhibits:
        if exhibit.image is not None:
            first = assembler.add_image_page(next(caption_pages), exhibit.image, exhibit.label)
        else:
            assert exhibit.document is not None
            shrink = exhibit.item.media_type == "application/pdf"
            first = assembler.add_pdf(exhibit.document, exhibit.label, shrink=shrink)
        heading, caption = _exhibit_title(exhibit, wording)
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
    manifest = _manifest(appeal, version, files, pdf, assembler.page_count, report)
    archive = workdir / "bundle.zip"
    _write_zip(archive, pdf, exhibits, files, manifest, store, version.submitted_at, key)
    step()
    report["pages"] = assembler.page_count
    return Built(pdf, archive, assembler.page_count, manifest, report)


def _front_label(title: tuple[str, str]) -> str:
    return {"Appeal evidence bundle": "Cover", "Rebuttal matrix": "Matrix",
            "Exhibit index": "Index"}.get(title[0], title[0])  # fmt: skip


def _prepare_images(
    images: list[Exhibit],
    store: BlobStore,
    workdir: Path,
    rung: Rung,
    threads: int,
    step: Callable[[], None] | None,
) -> None:
    """Prepare each image stream on disk; Pillow lets go of the GIL, so two run at once."""

    def prepare(exhibit: Exhibit) -> PreparedImage:
        key = exhibit.source_for(rung)
        assert key is not None
        out = workdir / f"image-{exhibit.label}-{rung.max_side}.bin"
        with store.open(key) as handle:
            source = _seekable(handle)
            size = _size(source)
            prepared = prepare_image(source, size, out, rung)
        earlier = exhibit.image
        if earlier is not None and earlier.size <= prepared.size:
            # A flat screenshot can grow as a JPEG: the fit only ever makes things smaller.
            prepared.path.unlink()
            return earlier
        if earlier is not None:
            earlier.path.unlink()
        return prepared

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for exhibit, prepared in zip(images, pool.map(prepare, images), strict=True):
            exhibit.image = prepared
            exhibit.pages = 1
            if step:
                step()


def _seekable(handle: IO[bytes]) -> IO[bytes]:
    if handle.seekable():
        return handle
    import io

    return io.BytesIO(handle.read())


def _size(handle: IO[bytes]) -> int:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    return size


def _estimate(exhibits: list[Exhibit]) -> int:
    total = 0
    for exhibit in exhibits:
        if exhibit.image is not None:
            total += exhibit.image.size
        elif exhibit.document is not None:
            total += exhibit.document.stat().st_size
    return total + 200_000  # cover, matrix, index, dossier, font subset


def _fit(
    images: list[Exhibit],
    exhibits: list[Exhibit],
    store: BlobStore,
    workdir: Path,
    profile: BudgetProfile,
    threads: int,
    report: dict[str, Any],
) -> None:
    """Step down the downscaling ladder until the PDF fits the platform's size limit."""
    estimate = _estimate(exhibits)
    for rung in LADDER[1:]:
        if estimate <= profile.max_bytes or not images:
            return
        before = estimate
        _prepare_images(images, store, workdir, rung, threads, None)
        estimate = _estimate(exhibits)
        scaled = sum(1 for e in images if e.image and e.image.width < e.image.source_width)
        report["fit"].append(
            {
                "max_side": rung.max_side,
                "quality": rung.quality,
                "images": scaled,
                "before_bytes": before,
                "after_bytes": estimate,
            }
        )
    if estimate > profile.max_bytes:
        report["over_bytes"] = estimate - profile.max_bytes


def _prepare_document(exhibit: Exhibit, store: BlobStore, workdir: Path, wording: Wording) -> None:
    item = exhibit.item
    title, caption = _exhibit_title(exhibit, wording)
    if item.media_type == "application/pdf":
        path = workdir / f"exhibit-{exhibit.label}.pdf"
        _copy_blob(store, item.blob_key, path)
        exhibit.document = path
        exhibit.pages = len(PdfReader(path).pages)
        return
    document = Document(title, [Heading(title, 2)])
    if caption:
        document.blocks.append(Text(caption, muted=True))
    document.blocks.append(Gap())
    if item.content_key and item.rows is not None and item.media_type != "text/plain":
        with store.open(item.content_key) as handle:
            table = json.load(handle)
        header = [str(cell) for cell in table["header"]]
        rows = table["rows"][:MAX_TABLE_ROWS]
        document.blocks.append(Grid(header, [[str(c) for c in row] for row in rows], wrap=False))
        if (item.rows or 0) > len(rows):
            more = wording.text(
                N_("%(shown)d of %(rows)d rows shown; the full file is in the ZIP's originals."),
                shown=len(rows), rows=item.rows or 0,
            )  # fmt: skip
            document.blocks.append(Text(bi(more), muted=True))
    else:
        with store.open(item.content_key or item.blob_key) as handle:
            text = handle.read(2_000_000).decode("utf-8", errors="replace")
        document.blocks.append(Lines(text.splitlines()))
    path = workdir / f"exhibit-{exhibit.label}.pdf"
    exhibit.pages = pdfpages.render(document, path)
    exhibit.document = path


def _copy_blob(store: BlobStore, key: str, path: Path) -> None:
    with store.open(key) as reader, path.open("wb") as writer:
        shutil.copyfileobj(reader, writer, CHUNK)


def _exhibit_title(exhibit: Exhibit, wording: Wording) -> tuple[str, str]:
    kind = bi(wording.label(exhibit.kind))
    return f"{exhibit.label} · {kind}", exhibit.item.caption or exhibit.item.display_name


def _file_entries(exhibits: list[Exhibit]) -> list[dict[str, Any]]:
    files = []
    for exhibit in exhibits:
        item = exhibit.item
        name = item.display_name
        if exhibit.redacted:
            stem = name.rpartition(".")[0] or name
            lossless = item.media_type in ("image/png", "image/webp")
            name = f"{stem} (redacted).{'png' if lossless else 'jpg'}"
        files.append(
            {
                "label": exhibit.label,
                "kind": exhibit.kind,
                "caption": item.caption,
                "path": safe_member_name(exhibit.label, name),
                "media_type": item.media_type,
                "sha256": exhibit.source_key if exhibit.redacted else item.sha256,
                "size": None,  # filled in while the ZIP is written
                "pages": exhibit.pages,
                "first_page": None,
                "redacted": exhibit.redacted,
                "original_sha256": item.sha256,
                "provenance": item.provenance.value,
            }
        )
    return files


def _front_matter(
    appeal: Appeal,
    version: AppealVersion,
    exhibits: list[Exhibit],
    files: list[dict[str, Any]],
    wording: Wording,
    dossier_pages: int,
    workdir: Path,
) -> list[tuple[tuple[str, str], Path]]:
    """Cover, matrix and index; the index is laid out twice so its own length is known."""
    content = version.content
    complaint = appeal.complaint
    remedies = [bi(wording.label(r)) for r in content["remedies"]] or [bi(FIELDS["none"])]
    submitted = version.submitted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    late = f" ({bi(FIELDS['late'])})" if version.late else ""
    cover = Document(
        f"{appeal.number} v{version.number}",
        [
            Heading(bi(TITLES["cover"])),
            Text(appeal.number, size=14),
            Gap(),
            Fields(
                [
                    (bi(FIELDS["appeal"]), appeal.number),
                    (bi(FIELDS["shop"]), complaint.shop.name if complaint.shop else ""),
                    (
                        bi(FIELDS["complaint"]),
                        f"{complaint.external_id} · " + bi(wording.label(complaint.type.value)),
                    ),
                    (bi(FIELDS["order"]), complaint.order.number if complaint.order else "—"),
                    (
                        bi(FIELDS["category"]),
                        bi(wording.label(content["category"])) if content["category"] else "—",
                    ),
                    (bi(FIELDS["remedies"]), "\n".join(remedies)),
                    (bi(FIELDS["version"]), f"{version.number}"),
                    (bi(FIELDS["submitted"]), submitted + late),
                    (bi(FIELDS["exhibits"]), str(len(exhibits))),
                    (bi(FIELDS["manifest"]), files_digest(files)),
                    (bi(FIELDS["content"]), version.content_sha256),
                ]
            ),
            Heading(bi(TITLES["statement"]), 2),
            Text(content["statement"] or "—"),
        ],
    )
    matrix = Document(
        bi(TITLES["matrix"]),
        [
            Heading(bi(TITLES["matrix"])),
            Grid(
                ["#", bi(FIELDS["allegation"]), bi(FIELDS["answer"]), bi(FIELDS["cited"])],
                [
                    [
                        row_label(i),
                        row["allegation"],
                        row["answer"],
                        ", ".join(row["exhibits"]) or "—",
                    ]
                    for i, row in enumerate(content["rows"])
                ],
                widths=[0.06, 0.37, 0.42, 0.15],
            ),
        ],
    )
    cover_path, matrix_path, index_path = (
        workdir / n for n in ("cover.pdf", "matrix.pdf", "index.pdf")
    )
    before = pdfpages.render(cover, cover_path) + pdfpages.render(matrix, matrix_path)
    index_pages = 1
    for _attempt in range(3):
        first = before + index_pages
        page = first
        for exhibit, entry in zip(exhibits, files, strict=True):
            exhibit.first_page = page
            entry["first_page"] = page + 1
            page += exhibit.pages
        index = Document(
            bi(TITLES["index"]),
            [
                Heading(bi(TITLES["index"])),
                Grid(
                    [bi(FIELDS[n]) for n in ("label", "kind", "caption", "pages", "sha")],
                    [
                        [
                            e.label,
                            bi(wording.label(e.kind)),
                            e.item.caption or e.item.display_name,
                            _page_range(e.first_page + 1, e.pages),
                            f["sha256"][:12],
                        ]
                        for e, f in zip(exhibits, files, strict=True)
                    ],
                    widths=[0.08, 0.24, 0.4, 0.12, 0.16],
                ),
                Gap(),
                Text(
                    bi(TITLES["dossier"]) + f": {_page_range(page + 1, dossier_pages)}",
                    muted=True,
                ),
            ],
        )
        laid_out = pdfpages.render(index, index_path)
        if laid_out == index_pages:
            break
        index_pages = laid_out
    return [(TITLES["cover"], cover_path), (TITLES["matrix"], matrix_path),
            (TITLES["index"], index_path)]  # fmt: skip


def _page_range(first: int, count: int) -> str:
    return str(first) if count <= 1 else f"{first}–{first + count - 1}"


def _dossier_document(
    session: Session, appeal: Appeal, version: AppealVersion, store: BlobStore, wording: Wording
) -> Document:
    chats = {}
    for item in text_items(session, appeal.complaint_id):
        with store.open(item.content_key or item.blob_key) as handle:
            chats[item.id] = handle.read(2_000_000).decode("utf-8", errors="replace")
    dossier = build_dossier(
        session, ShopReader(appeal.shop_id), appeal.complaint_id,
        known_at=version.submitted_at, chats=chats,
    )  # fmt: skip
    as_of = dossier.as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    intro = wording.text(
        N_("What the shop's own orders and complaints say about buyer %(buyer)s, as of %(when)s."),
        buyer=dossier.buyer_ref, when=as_of,
    )  # fmt: skip
    blocks: list[Any] = [Heading(bi(TITLES["dossier"])), Text(intro[0]), Text(intro[1]), Gap()]
    marks = {"alert": "▲", "warning": "△", "info": "·"}
    for signal in dossier.signals:
        english, chinese = wording.text(signal.message, **signal.params)
        blocks.append(Text(f"{marks.get(signal.level, '·')} {english}"))
        if chinese != english:
            blocks.append(Text(f"   {chinese}", muted=True))
    footnote = (
        f"{dossier.algorithm} · {len(dossier.inputs.get('orders', []))} orders · "
        f"{len(dossier.inputs.get('complaints', []))} complaints · SHA-256 {dossier.digest}"
    )
    blocks.extend([Gap(), Text(footnote, muted=True, size=7.5)])
    return Document(bi(TITLES["dossier"]), blocks)


def _manifest(
    appeal: Appeal,
    version: AppealVersion,
    files: list[dict[str, Any]],
    pdf: Path,
    pages: int,
    report: dict[str, Any],
) -> dict[str, Any]:
    digest = hashlib.sha256()
    with pdf.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return {
        "format": FORMAT,
        "appeal": appeal.number,
        "appeal_id": appeal.id,
        "complaint": appeal.complaint.external_id,
        "version": version.number,
        "content_sha256": version.content_sha256,
        "submitted_at": version.submitted_at.astimezone(UTC).isoformat(),
        "files_sha256": files_digest(files),
        "bundle_pdf": {
            "path": PDF_NAME,
            "size": pdf.stat().st_size,
            "sha256": digest.hexdigest(),
            "pages": pages,
        },
        "files": files,
        "fit": report["fit"],
    }


def _write_zip(
    archive: Path,
    pdf: Path,
    exhibits: list[Exhibit],
    files: list[dict[str, Any]],
    manifest: dict[str, Any],
    store: BlobStore,
    when: datetime,
    key: bytes,
) -> None:
    """PDF and originals stored, text deflated; every original hashed as it is written."""
    stamp = when.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(archive, "w", allowZip64=True) as bundle:
        bundle.write(pdf, PDF_NAME, compress_type=zipfile.ZIP_STORED)
        for exhibit, entry in zip(exhibits, files, strict=True):
            info = zipfile.ZipInfo(entry["path"], date_time=stamp)
            info.compress_type = (
                zipfile.ZIP_STORED if entry["media_type"] in STORED_TYPES else zipfile.ZIP_DEFLATED
            )
            digest, size = hashlib.sha256(), 0
            with (
                store.open(exhibit.source_key) as reader,
                bundle.open(info, "w", force_zip64=True) as writer,
            ):
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    writer.write(chunk)
            if digest.hexdigest() != entry["sha256"]:
                raise Conflict(
                    N_("The stored file of exhibit %(label)s no longer matches its hash."),
                    label=exhibit.label,
                )
            entry["size"] = size
        manifest["signature"] = sign(manifest, key)
        info = zipfile.ZipInfo(MANIFEST, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        bundle.writestr(info, json.dumps(manifest, ensure_ascii=False, indent=2))


MAX_MEMBERS = 10_000
MAX_MANIFEST_BYTES = 5_000_000
MAX_READ_BYTES = 8 * 1024**3


@dataclass
class Verification:
    """What verify-bundle found: intact, or exactly what changed and whether the seal holds."""

    signature: str  # "valid", "invalid", "unknown_key" or "missing"
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    @property
    def intact(self) -> bool:
        return self.signature == "valid" and not (
            self.changed or self.missing or self.added or self.problems
        )

    def to_json(self) -> dict[str, Any]:
        manifest = self.manifest or {}
        return {
            "intact": self.intact,
            "signature": self.signature,
            "changed": self.changed,
            "missing": self.missing,
            "added": self.added,
            "problems": self.problems,
            "appeal": manifest.get("appeal"),
            "version": manifest.get("version"),
        }


def verify(archive: Path | IO[bytes], key: bytes) -> Verification:
    """Check a bundle ZIP against its manifest and the manifest against its signature."""
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        return Verification("missing", problems=["not_a_zip"])
    with bundle:
        members = bundle.infolist()
        if len(members) > MAX_MEMBERS:
            return Verification("missing", problems=["too_many_files"])
        manifest = _read_manifest(bundle)
        if manifest is None:
            return Verification("missing", problems=["manifest_unreadable"])
        result = Verification(_check_signature(manifest, key), manifest=manifest)
        if result.signature == "invalid":
            result.changed.append(MANIFEST)
        expected = _expected_hashes(manifest, result)
        seen: set[str] = set()
        budget = MAX_READ_BYTES
        for member in members:
            name = member.filename
            if name == MANIFEST and name not in seen:
                seen.add(name)
                continue
            if member.is_dir():
                continue
            if name not in expected or name in seen:
                result.added.append(name)
                continue
            seen.add(name)
            digest, budget = _member_sha256(bundle, member, budget)
            if digest != expected[name]:
                result.changed.append(name)
        result.missing.extend(name for name in expected if name not in seen)
        if manifest.get("files_sha256") != files_digest(
            [f for f in manifest.get("files", []) if isinstance(f, dict) and _has_fields(f)]
        ):
            result.problems.append("manifest_inconsistent")
        return result


def _read_manifest(bundle: zipfile.ZipFile) -> dict[str, Any] | None:
    try:
        info = bundle.getinfo(MANIFEST)
        if info.file_size > MAX_MANIFEST_BYTES:
            return None
        with bundle.open(info) as handle:
            data = json.loads(handle.read(MAX_MANIFEST_BYTES + 1))
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        return None
    return data if isinstance(data, dict) else None


def _check_signature(manifest: dict[str, Any], key: bytes) -> str:
    signature = manifest.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        return "missing"
    if signature.get("key_id") != key_id(key):
        return "unknown_key"
    expected = sign(manifest, key)["value"]
    return "valid" if hmac.compare_digest(expected, signature["value"]) else "invalid"


def _has_fields(entry: dict[str, Any]) -> bool:
    return all(isinstance(entry.get(name), str) for name in ("label", "kind", "sha256", "path"))


def _expected_hashes(manifest: dict[str, Any], result: Verification) -> dict[str, str]:
    expected: dict[str, str] = {}
    pdf = manifest.get("bundle_pdf")
    if isinstance(pdf, dict) and isinstance(pdf.get("sha256"), str):
        expected[PDF_NAME] = pdf["sha256"]
    else:
        result.problems.append("manifest_without_pdf")
    for entry in manifest.get("files", []):
        if isinstance(entry, dict) and _has_fields(entry):
            expected[entry["path"]] = entry["sha256"]
        else:
            result.problems.append("manifest_entry_unreadable")
    return expected


def _member_sha256(
    bundle: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int
) -> tuple[str, int]:
    """The member's SHA-256, reading at most `budget` bytes in all; None-like on damage."""
    digest = hashlib.sha256()
    try:
        with bundle.open(member) as handle:
            while chunk := handle.read(CHUNK):
                budget -= len(chunk)
                if budget < 0:
                    return "too_large", budget
                digest.update(chunk)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return "unreadable", budget
    return digest.hexdigest(), budget
