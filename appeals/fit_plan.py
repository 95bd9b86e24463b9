"""The planned fit of a bundle's pictures to the platform's size limit: one rule for the
builder's preview (`appeals.appeal.budget_for`) and the build (`appeals.bundle.fit`).

Each picture's bytes are predicted at every setting below (long side, JPEG quality) from what
is known without decoding (evidence.pdfimage.predict_bytes). The settings are chosen per
picture along its steepest way down, most bytes saved per quality lost first, so that the PDF
lands just under the limit. A copy made after intake (EvidenceItem.fit_copies) is a setting
whose bytes are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from appeals.fit_copies import PAGE_SIDE, TEXT_KINDS
from appeals.models import EvidenceItem
from evidence.pdfimage import LADDER, predict_bytes, scaled_size

FIT_SIDES = (2400, 2000, 1800, 1600, 1400, 1200, 1000, 800, 640)
FIT_QUALITIES = (85, 80, 75, 70, 65, 60, 55, 50)
# Pictures read as text: what was filed as a screenshot or a receipt (TEXT_KINDS), or what
# the reading found many lines in. They keep their legibility floor unless nothing else is left.
TEXT_LINES = 8
LEGIBLE_SIDE, LEGIBLE_QUALITY = 1400, 70
PHOTO_WEIGHT = 0.5  # a photo's loss counts half: photos give way first
BELOW_FLOOR = 1e6  # the loss of illegible text: chosen only when no other step is left
TARGET, LOWEST = 0.95, 0.91  # of the limit: aim here, and try not to land below this
# Cover, matrix, index, dossier and font subsets, then each exhibit's caption, text layer and
# page objects (measured: the PDF against streams plus documents, 9 to 185 exhibits).
FRONT_BYTES, EXHIBIT_BYTES = 110_000, 3_000
# A copy prepared after intake (appeals.fit_copies) is taken over the steepest step down when
# it saves at least this share of that step's bytes per quality lost: copying its bytes costs
# nothing at build time, encoding a 12-megapixel photo's step 100 to 235 ms.
PREPARED_SHARE = 0.6
UPLOAD_QUALITY = 90  # what a phone's JPEG, or intake's upright copy of one, is taken to be


@dataclass(frozen=True)
class Setting:
    """A long side and quality a picture may be given, its loss of quality and its bytes."""

    side: int
    quality: int
    loss: float
    bytes: int  # predicted, or exact for a prepared copy
    key: str | None = None  # the prepared copy's blob (appeals.fit_copies), taken as it is


@dataclass(frozen=True)
class Picture:
    """A picture as the plan sees it: as it is now (pixels, stream filter, bytes and JPEG
    quality), its full pixels, whether it reads as text, and the copies it may take."""

    width: int
    height: int
    filter: str  # "/DCTDecode" or "/FlateDecode"
    size: int
    quality: int
    full_side: int
    full_width: int
    full_height: int
    text: bool
    copies: tuple[dict[str, Any], ...] = ()


@dataclass
class Steps:
    """One picture's settings worth taking, in order (first: as it is now), and where it is."""

    text: bool
    path: list[Setting]
    at: int = 0

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


def is_text(kind: str, lines: int = 0) -> bool:
    return kind in TEXT_KINDS or lines >= TEXT_LINES


def loss(text: bool, full_side: int, side: int, quality: int) -> float:
    """How much worse a picture reads (a judgement, not a measurement). Both terms grow
    faster than their step, so that two small steps beat one large one: a side of 1400 from
    2000 costs about what q75 from q90 does."""
    octaves = math.log2(full_side / side)
    coarser = (90 - quality) / 10
    lost = 3 * octaves + 2 * octaves**2 + 0.8 * coarser**2
    if text and (side < min(LEGIBLE_SIDE, full_side) or quality < LEGIBLE_QUALITY):
        return lost + BELOW_FLOOR
    return lost if text else lost * PHOTO_WEIGHT


def steps_for(picture: Picture) -> list[Setting]:
    """The picture's settings along the steepest way down: each step saves the most bytes
    per quality lost of all the settings below the one before."""
    text, full = picture.text, picture.full_side
    now_side = max(picture.width, picture.height)
    quality_now = picture.quality if picture.filter == "/DCTDecode" else UPLOAD_QUALITY
    here = Setting(now_side, quality_now, loss(text, full, now_side, quality_now), picture.size)
    settings = []
    # A photo's JPEG encoded again at its own pixels keeps most of its bytes (at q85 from
    # q90, 92 % where a fresh encoding gives 74 %): it only gets smaller ones.
    same_pixels_too = text or picture.filter != "/DCTDecode"
    for side in sorted({min(side, full) for side in FIT_SIDES}, reverse=True):
        if side > now_side or (side == now_side and not same_pixels_too):
            continue
        target = scaled_size(picture.full_width, picture.full_height, side)
        for quality in FIT_QUALITIES:
            predicted = predict_bytes(picture, quality_now, text, target, quality)
            if predicted < picture.size and (side, quality) != (now_side, quality_now):
                settings.append(Setting(side, quality, loss(text, full, side, quality), predicted))
    prepared = _prepared(picture, now_side)
    made = {(s.side, s.quality) for s in prepared}
    settings = [*prepared, *(s for s in settings if (s.side, s.quality) not in made)]
    path = [here]
    while (step := _next_step(path[-1], settings)) is not None:
        path.append(step)
    return path


def _prepared(picture: Picture, now_side: int) -> list[Setting]:
    """The copies prepared after intake that are smaller than the picture now, as settings
    whose bytes are known."""
    found = []
    for copy in picture.copies:
        side, quality = max(int(copy["width"]), int(copy["height"])), int(copy["quality"])
        if side <= now_side and int(copy["bytes"]) < picture.size:
            lost = loss(picture.text, picture.full_side, side, quality)
            found.append(Setting(side, quality, lost, int(copy["bytes"]), str(copy["key"])))
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


def step_down(choices: Sequence[Steps], total: int, budget: int, lowest: int) -> int:
    """Step pictures down, best saving per quality lost first, until `total` fits `budget`.

    The last step is taken where it lands between `lowest` and `budget` if one does, so
    that a large photo's step does not throw away more than needed.
    """
    while total > budget:
        ready = [c for c in choices if c.saving() > 0]
        if not ready:
            break
        best = max(ready, key=Steps.saving)
        if total - best.saved() < lowest:
            landing = [c for c in ready if lowest <= total - c.saved() <= budget]
            best = max(landing, key=Steps.saving) if landing else best
        total -= best.saved()
        best.at += 1
    return total


def reserve(documents: int, exhibits: int) -> int:
    """What the PDF holds besides its pictures: documents, front matter, page furniture."""
    return documents + FRONT_BYTES + EXHIBIT_BYTES * exhibits


def budgets(limit: int, reserved: int) -> tuple[int, int]:
    """The pictures' bytes to aim at, and to try not to land below."""
    return int(limit * TARGET) - reserved, int(limit * LOWEST) - reserved


@dataclass(frozen=True)
class Planned:
    """What the fit would make of a bundle: the PDF's predicted bytes, and the pictures with
    fewer pixels in it than uploaded (intake's page copy, or the fit), to at most this side."""

    bytes: int
    images: int
    max_side: int


def plan(pictures: list[Picture], reserved: int, limit: int) -> Planned:
    """The fit the build would make of these pictures, predicted without encoding any."""
    steps = [Steps(p.text, [Setting(max(p.width, p.height), p.quality, 0.0, p.size)])
             for p in pictures]  # fmt: skip
    total = sum(picture.size for picture in pictures)
    if total + reserved > limit:
        steps = [Steps(picture.text, steps_for(picture)) for picture in pictures]
        total = step_down(steps, total, *budgets(limit, reserved))
    sides = [
        step.setting.side
        for picture, step in zip(pictures, steps, strict=True)
        if step.setting.side < picture.full_side
    ]
    return Planned(total + reserved, len(sides), max(sides, default=0))


def picture_of(item: EvidenceItem) -> Picture | None:
    """What the build will start from for a picture not yet built: intake's page copy (a
    q85 JPEG of at most PAGE_SIDE px) or its upright copy, as the build's first rung takes
    them; the bytes are the upload's, or predicted from them for a page copy. Its reading is
    not looked at: only its kind says whether it reads as text."""
    if not item.is_image or not item.width or not item.height:
        return None
    full = max(item.width, item.height)
    text = is_text(item.kind.value)
    lossless = item.media_type in ("image/png", "image/webp", "image/gif", "image/bmp")
    upload = Picture(item.width, item.height, "/FlateDecode" if lossless else "/DCTDecode",
                     item.size, UPLOAD_QUALITY, full, item.width, item.height, text)  # fmt: skip
    first = LADDER[0]
    passes = full <= first.pass_side and item.size <= first.pass_bytes
    if item.redacted_key is not None:  # the redacted copy, at the upload's pixels; no copies
        shrinks = not passes and full > first.max_side
        return _page_picture(upload, first.max_side) if shrinks else upload
    copies = tuple(item.fit_copies or ())
    if item.page_key is not None:
        return replace(_page_picture(upload, PAGE_SIDE), copies=copies)
    return replace(upload, copies=copies)


def _page_picture(upload: Picture, side: int) -> Picture:
    """The upload as a q85 JPEG of at most `side` px, its bytes predicted."""
    width, height = scaled_size(upload.full_width, upload.full_height, side)
    size = predict_bytes(upload, UPLOAD_QUALITY, upload.text, (width, height), 85)
    return Picture(width, height, "/DCTDecode", size, 85, upload.full_side, upload.full_width,
                   upload.full_height, upload.text)  # fmt: skip
