"""The bundle's plan: what each exhibit becomes (an image page at some size, or a rendered
document) and how many pages it takes; the downscaling that fits the platform's limit is
appeals.bundle.fit's."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.errors import N_, Conflict
from appeals.models import AppealVersion, EvidenceItem
from appeals.permissions import Role
from appeals.reading import visible_lines
from evidence.names import sanitize_display_name
from evidence.pdfimage import LADDER, PreparedImage, Rung, prepare_image
from evidence.pdfpages import PlacedLine, TextLayer, image_frame
from evidence.storage import BlobStore

log = logging.getLogger(__name__)


class Wording(Protocol):
    """Translations for the bundle's variable text: messages and enum labels, (en, zh)."""

    def text(self, msgid: str, **params: Any) -> tuple[str, str]: ...

    def label(self, value: str) -> tuple[str, str]: ...

    def plural(self, singular: str, plural: str, num: int, **params: Any) -> tuple[str, str]: ...

    def signal(self, code: str, message: str, params: Mapping[str, Any]) -> tuple[str, str]: ...


class PlainWording:
    """English only: what tools without the portal's catalogue use."""

    def text(self, msgid: str, **params: Any) -> tuple[str, str]:
        english = msgid % params if params else msgid
        return english, english

    def label(self, value: str) -> tuple[str, str]:
        english = value.replace("_", " ").capitalize()
        return english, english

    def plural(self, singular: str, plural: str, num: int, **params: Any) -> tuple[str, str]:
        english = (singular if num == 1 else plural) % {"num": num, **params}
        return english, english

    def signal(self, code: str, message: str, params: Mapping[str, Any]) -> tuple[str, str]:
        return self.text(message, **params)


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
    # The text read from the picture or the scanned pages, by page number (1 for images).
    lines: dict[int, list[PlacedLine]] = field(default_factory=dict)

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

    def image_layer(self) -> TextLayer | None:
        """The read text of an image exhibit, over where its prepared image is drawn."""
        if self.image is None or not self.lines.get(1):
            return None
        return TextLayer(image_frame(self.image.width, self.image.height), self.lines[1])


@dataclass
class Built:
    pdf: Path
    zip: Path
    pages: int
    manifest: dict[str, Any]
    report: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[int, int], None]


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


def reading_lines(item: EvidenceItem, store: BlobStore) -> dict[int, list[PlacedLine]]:
    """The lines an exhibit's text layer carries: its reading without what was redacted."""
    return visible_lines(item, store)


def file_entries(exhibits: list[Exhibit]) -> list[dict[str, Any]]:
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


def prepare_images(
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
        with open_seekable(store, key) as (source, size):
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


@contextmanager
def open_seekable(store: BlobStore, key: str) -> Iterator[tuple[IO[bytes], int]]:
    """A stored blob opened for reading with seeks (an S3 body is read into memory), and
    its size."""
    with store.open(key) as handle:
        source = handle if handle.seekable() else io.BytesIO(handle.read())
        source.seek(0, 2)
        size = source.tell()
        source.seek(0)
        yield source, size
