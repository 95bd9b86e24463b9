"""The bundle's plan: what each exhibit becomes (an image page at some size, or a rendered
document), how many pages it takes, and the downscaling that fits the platform's limit."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.errors import N_, Conflict
from appeals.fit_copies import TEXT_KINDS
from appeals.models import AppealVersion, EvidenceItem
from appeals.permissions import Role
from appeals.policies import BudgetProfile
from appeals.reading import visible_lines
from evidence.names import sanitize_display_name
from evidence.pdfimage import (
    LADDER,
    PreparedImage,
    Rung,
    predict_bytes,
    prepare_image,
    scaled_size,
)
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


# The planned fit: each image's bytes are predicted at every setting below (long side, JPEG
# quality) from what is known without decoding, the settings are chosen per image so that
# the PDF lands just under the limit, and only the images whose setting changed are encoded.
# A setting made after intake (EvidenceItem.fit_copies) has its exact bytes and is copied.
FIT_SIDES = (2400, 2000, 1800, 1600, 1400, 1200, 1000, 800, 640)
FIT_QUALITIES = (85, 80, 75, 70, 65, 60, 55, 50)
# Pictures read as text: what was filed as a screenshot or a receipt (TEXT_KINDS), or what
# the reading found many lines in. They keep their legibility floor unless nothing else is left.
TEXT_LINES = 8
LEGIBLE_SIDE, LEGIBLE_QUALITY = 1400, 70
PHOTO_WEIGHT = 0.5  # a photo's loss counts half: photos give way first
BELOW_FLOOR = 1e6  # the loss of illegible text: chosen only when no other step is left
TARGET, LOWEST = 0.95, 0.91  # of the limit: aim here, and try not to land below this
MAX_PASSES = 6  # the third and later aim 4 % lower each: the limit is never given up early
# Cover, matrix, index, dossier and font subsets, then each exhibit's caption, text layer and
# page objects (measured: the PDF against streams plus documents, 9 to 185 exhibits).
FRONT_BYTES, EXHIBIT_BYTES = 110_000, 3_000
# A copy prepared after intake (appeals.fit_copies) is taken over the steepest step down when
# it saves at least this share of that step's bytes per quality lost: copying its bytes costs
# nothing at build time, encoding a 12-megapixel photo's step 100 to 235 ms.
PREPARED_SHARE = 0.6


@dataclass(frozen=True)
class Setting:
    """A long side and quality an image may be given, its loss of quality and its bytes."""

    side: int
    quality: int
    loss: float
    bytes: int  # predicted, or exact for a prepared copy
    key: str | None = None  # the prepared copy's blob (appeals.fit_copies), taken as it is


@dataclass
class Choice:
    """One image: the settings worth taking in order (first: as it is now), and where it is."""

    exhibit: Exhibit
    text: bool
    path: list[Setting]
    at: int = 0
    predicted: int = 0  # what the encoding at `at` was expected to weigh
    encoded: bool = False  # whether the fit's own encoding replaced the picture
    prepared: bool = False  # whether that picture is a copy prepared after intake
    page_side: int = 0  # the long side of intake's page copy, if it is what was prepared

    def source(self) -> str | None:
        """Intake's page copy when the picture only gets smaller than it: decoding it costs a
        fraction of a 12-megapixel photo, and a step down from 2000 px q85 shows nothing of
        the difference. Otherwise the full upright copy, the best picture there is."""
        if self.setting.side < self.page_side:
            return self.exhibit.image_source
        return self.exhibit.source_for(LADDER[-1])

    @property
    def setting(self) -> Setting:
        return self.path[self.at]

    def saved(self) -> int:
        """Bytes the next step saves."""
        return self.setting.bytes - self.path[self.at + 1].bytes

    def saving(self) -> float:
        """Bytes saved per quality lost by the next step (0: no step left)."""
        if self.at + 1 >= len(self.path):
            return 0.0
        here, there = self.path[self.at], self.path[self.at + 1]
        return (here.bytes - there.bytes) / max(there.loss - here.loss, 0.01)


def _is_text(exhibit: Exhibit) -> bool:
    return exhibit.kind in TEXT_KINDS or len(exhibit.lines.get(1, [])) >= TEXT_LINES


def _quality_now(exhibit: Exhibit) -> int:
    """The JPEG quality the image has now: encoded here, or intake's page copy (q85) or
    upright copy (q90) passed through."""
    assert exhibit.image is not None
    if exhibit.image.quality is not None:
        return exhibit.image.quality
    return 85 if exhibit.item.page_key and not exhibit.redacted else 90


def _loss(text: bool, full_side: int, side: int, quality: int) -> float:
    """How much worse a picture reads (a judgement, not a measurement). Both terms grow
    faster than their step, so that two small steps beat one large one: a side of 1400 from
    2000 costs about what q75 from q90 does."""
    octaves = math.log2(full_side / side)
    coarser = (90 - quality) / 10
    loss = 3 * octaves + 2 * octaves**2 + 0.8 * coarser**2
    if text and (side < min(LEGIBLE_SIDE, full_side) or quality < LEGIBLE_QUALITY):
        return loss + BELOW_FLOOR
    return loss if text else loss * PHOTO_WEIGHT


def _choice(exhibit: Exhibit) -> Choice:
    """The image's settings along the steepest way down: each step saves the most bytes
    per quality lost of all the settings below the one before."""
    image = exhibit.image
    assert image is not None
    text = _is_text(exhibit)
    width = exhibit.item.width or image.source_width
    height = exhibit.item.height or image.source_height
    full, now_side = max(width, height), max(image.width, image.height)
    quality_now = _quality_now(exhibit) if image.filter == "/DCTDecode" else 90
    here = Setting(now_side, quality_now, _loss(text, full, now_side, quality_now), image.size)
    settings = []
    # A photo's JPEG encoded again at its own pixels keeps most of its bytes (at q85 from
    # q90, 92 % where a fresh encoding gives 74 %): it only gets smaller ones.
    same_pixels_too = text or image.filter != "/DCTDecode"
    for side in sorted({min(side, full) for side in FIT_SIDES}, reverse=True):
        if side > now_side or (side == now_side and not same_pixels_too):
            continue
        target = scaled_size(width, height, side)
        for quality in FIT_QUALITIES:
            predicted = predict_bytes(image, quality_now, text, target, quality)
            if predicted < image.size and (side, quality) != (now_side, quality_now):
                settings.append(Setting(side, quality, _loss(text, full, side, quality), predicted))
    prepared = _prepared(exhibit, text, full, now_side, image.size)
    made = {(s.side, s.quality) for s in prepared}
    settings = [*prepared, *(s for s in settings if (s.side, s.quality) not in made)]
    path = [here]
    while (step := _next_step(path[-1], settings)) is not None:
        path.append(step)
    page = exhibit.item.page_key is not None and exhibit.image_source == exhibit.item.page_key
    return Choice(exhibit, text, path, predicted=image.size, page_side=now_side if page else 0)


def _prepared(exhibit: Exhibit, text: bool, full: int, now_side: int, size: int) -> list[Setting]:
    """The copies prepared after intake that are smaller than the picture now, as settings
    whose bytes are known. A redacted picture has none: they show what the redaction hides."""
    if exhibit.redacted:
        return []
    found = []
    for copy in exhibit.item.fit_copies or []:
        side, quality = max(int(copy["width"]), int(copy["height"])), int(copy["quality"])
        if side <= now_side and int(copy["bytes"]) < size:
            loss = _loss(text, full, side, quality)
            found.append(Setting(side, quality, loss, int(copy["bytes"]), str(copy["key"])))
    return found


def _next_step(last: Setting, settings: list[Setting]) -> Setting | None:
    """The setting below `last` that saves the most bytes per quality lost, or a prepared
    copy that saves nearly as much (PREPARED_SHARE)."""
    lower = [s for s in settings if s.bytes < last.bytes and s.loss >= last.loss]
    if not lower:
        return None

    def rate(s: Setting) -> float:
        return (last.bytes - s.bytes) / max(s.loss - last.loss, 0.01)

    best = max(lower, key=rate)
    near = [s for s in lower if s.key and rate(s) >= PREPARED_SHARE * rate(best)]
    return max(near, key=rate) if near else best


def _reserved(exhibits: list[Exhibit]) -> int:
    """What the PDF holds besides its images: documents, front matter, page furniture."""
    documents = sum(e.document.stat().st_size for e in exhibits if e.image is None and e.document)
    return documents + FRONT_BYTES + EXHIBIT_BYTES * len(exhibits)


def _estimate(exhibits: list[Exhibit]) -> int:
    return _reserved(exhibits) + sum(e.image.size for e in exhibits if e.image is not None)


def _step_down(choices: list[Choice], total: int, budget: int, lowest: int) -> int:
    """Step images down, best saving per quality lost first, until `total` fits `budget`.

    The last step is taken where it lands between `lowest` and `budget` if one does, so
    that a large photo's step does not throw away more than needed.
    """
    while total > budget:
        ready = [c for c in choices if c.saving() > 0]
        if not ready:
            break
        best = max(ready, key=Choice.saving)

        if total - best.saved() < lowest:
            landing = [c for c in ready if lowest <= total - c.saved() <= budget]
            best = max(landing, key=Choice.saving) if landing else best
        total -= best.saved()
        best.at += 1
    return total


def _encode(choices: list[Choice], store: BlobStore, workdir: Path, threads: int) -> None:
    """Encode each image at its chosen setting from its best copy; keep the smaller."""

    def encode(choice: Choice) -> PreparedImage:
        exhibit, setting = choice.exhibit, choice.setting
        earlier = exhibit.image
        assert earlier is not None
        out = workdir / f"image-{exhibit.label}-{setting.side}-q{setting.quality}.bin"
        prepared = _copy_prepared(setting, store, out) if setting.key else None
        if prepared is None:
            key = choice.source()
            assert key is not None
            with store.open(key) as handle:
                source = _seekable(handle)
                prepared = prepare_image(
                    source, _size(source), out, Rung.exact(setting.side, setting.quality)
                )
        if prepared.size >= earlier.size:  # the fit only ever makes things smaller
            prepared.path.unlink()
            return earlier
        earlier.path.unlink()
        return prepared

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for choice, prepared in zip(choices, pool.map(encode, choices), strict=True):
            if prepared is not choice.exhibit.image:
                choice.encoded = True
                choice.prepared = prepared.passed_through
            choice.exhibit.image = prepared
            choice.predicted = choice.setting.bytes


def _copy_prepared(setting: Setting, store: BlobStore, out: Path) -> PreparedImage | None:
    """The prepared copy's JPEG as a PDF stream, its bytes as they are (None: it cannot be
    read, and the setting is encoded instead)."""
    assert setting.key is not None
    as_it_is = Rung(pass_side=setting.side, pass_bytes=setting.bytes, max_side=setting.side,
                    quality=setting.quality)  # fmt: skip
    try:
        with store.open(setting.key) as handle:
            source = _seekable(handle)
            prepared = prepare_image(source, _size(source), out, as_it_is)
    except Exception:
        log.warning("prepared copy %s unreadable; encoding instead", setting.key, exc_info=True)
        return None
    if not prepared.passed_through:
        prepared.path.unlink()
        return None
    return replace(prepared, quality=setting.quality)


def _correct(choices: list[Choice], moved: list[Choice]) -> None:
    """After a pass, scale each image's remaining predictions by how far the pass missed:
    its own miss if it was just encoded, else the median miss of its sort (text or photo)."""
    misses: dict[bool, list[float]] = {True: [], False: []}
    own: dict[int, float] = {}
    for choice in moved:
        assert choice.exhibit.image is not None
        own[id(choice)] = choice.exhibit.image.size / max(choice.predicted, 1)
        if not choice.setting.key:  # a prepared copy's bytes were known: no miss to learn
            misses[choice.text].append(own[id(choice)])
    for choice in choices:
        assert choice.exhibit.image is not None
        ratios = sorted(misses[choice.text]) or [1.0]
        miss = own.get(id(choice), ratios[len(ratios) // 2])
        now = choice.exhibit.image.size
        rest = [s if s.key else replace(s, bytes=int(s.bytes * miss))
                for s in choice.path[choice.at + 1 :]]  # fmt: skip
        here = replace(choice.setting, bytes=now)
        choice.path = [*choice.path[: choice.at], here, *(s for s in rest if s.bytes < now)]


def fit(
    images: list[Exhibit],
    exhibits: list[Exhibit],
    store: BlobStore,
    workdir: Path,
    profile: BudgetProfile,
    threads: int,
    report: dict[str, Any],
) -> None:
    """Choose each image's size and quality so the PDF lands just under the platform's limit,
    then encode only the images that must shrink; a second pass only if a prediction missed."""
    before = _estimate(exhibits)
    if before <= profile.max_bytes or not images:
        return
    reserved = _reserved(exhibits)
    budget = int(profile.max_bytes * TARGET) - reserved
    lowest = int(profile.max_bytes * LOWEST) - reserved
    choices = [_choice(e) for e in images]
    passes: list[dict[str, int]] = []
    predicted = 0
    total = before - reserved
    while total + reserved > profile.max_bytes and len(passes) < MAX_PASSES:
        start = [c.at for c in choices]
        lower = max(0, len(passes) - 1) * profile.max_bytes // 25  # after two misses, aim lower
        total = _step_down(choices, total, budget - lower, lowest - lower)
        predicted = predicted or total + reserved
        moved = [c for c, at in zip(choices, start, strict=True) if c.at != at]
        if not moved:
            break
        planned = total + reserved
        _encode(moved, store, workdir, threads)
        total = _estimate(exhibits) - reserved
        passes.append({"images": len(moved), "predicted_bytes": planned,
                       "actual_bytes": total + reserved})  # fmt: skip
        _correct(choices, moved)
    after = total + reserved
    if passes:  # the portal says what was made smaller; with nothing to shrink, only by how much
        entry = _fit_entry(choices, profile.max_bytes, budget + reserved, predicted, before, after)
        report["fit"].append({**entry, "passes": len(passes), "encoded": passes})
    if after > profile.max_bytes:
        report["over_bytes"] = after - profile.max_bytes


def _fit_entry(
    choices: list[Choice], limit: int, target: int, predicted: int, before: int, after: int
) -> dict[str, Any]:
    """What the fit did, as the portal shows it and the manifest records it."""
    kinds: dict[str, dict[str, Any]] = {}
    for choice in choices:
        counts = kinds.setdefault(
            choice.exhibit.kind, {"kept": 0, "downscaled": 0, "prepared": 0, "settings": {}}
        )
        image = choice.exhibit.image
        if not choice.encoded or image is None:
            counts["kept"] += 1
            continue
        counts["downscaled"] += 1
        counts["prepared"] += choice.prepared
        named = f"{max(image.width, image.height)} px q{image.quality}"
        counts["settings"][named] = counts["settings"].get(named, 0) + 1
    changed = [c.exhibit.image for c in choices if c.encoded and c.exhibit.image]
    return {
        "images": len(changed),
        "prepared": sum(1 for c in choices if c.encoded and c.prepared),
        "max_side": max((max(i.width, i.height) for i in changed), default=0),
        "quality": min((i.quality or 0 for i in changed), default=0),
        "before_bytes": before,
        "after_bytes": after,
        "limit_bytes": limit,
        "target_bytes": target,
        "predicted_bytes": predicted,
        "percent_of_limit": round(100 * after / limit, 1),
        "kinds": kinds,
    }
