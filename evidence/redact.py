"""Covering parts of an image (phone numbers, addresses, names) with opaque boxes."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from evidence.errors import RejectedUpload
from evidence.tables import N_

Box = tuple[float, float, float, float]  # left, top, width, height as fractions of the image
MAX_BOXES = 50
THUMBNAIL = (480, 480)


def check_boxes(boxes: list[list[float]]) -> list[Box]:
    """Boxes inside the image, at least one and at most MAX_BOXES."""
    if not 1 <= len(boxes) <= MAX_BOXES:
        raise RejectedUpload(
            "redaction_boxes", N_("Draw between 1 and %(max)d boxes."), max=MAX_BOXES
        )
    checked = []
    for box in boxes:
        if len(box) != 4 or not all(isinstance(v, int | float) for v in box):
            raise RejectedUpload("redaction_boxes", N_("A box is not four numbers."))
        left, top, width, height = (float(v) for v in box)
        if not (
            0 <= left < 1
            and 0 <= top < 1
            and 0 < width <= 1 - left + 1e-9
            and 0 < height <= 1 - top + 1e-9
        ):
            raise RejectedUpload("redaction_boxes", N_("A box lies outside the image."))
        checked.append((left, top, width, height))
    return checked


def redact_image(source: Path, boxes: list[Box], out: Path) -> tuple[Path, Path]:
    """Write a redacted copy (same format as the source copy) and its thumbnail."""
    out.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.load()
        canvas = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    for left, top, box_width, box_height in boxes:
        # Rounded outwards, so that a box never leaves a sliver of what it covers.
        x0, y0 = int(left * width), int(top * height)
        x1 = min(width, int((left + box_width) * width + 0.999))
        y1 = min(height, int((top + box_height) * height + 0.999))
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill="black")
    lossless = source.suffix.lower() == ".png"
    redacted = out / ("redacted.png" if lossless else "redacted.jpg")
    if lossless:
        canvas.save(redacted, "PNG")
    else:
        canvas.convert("RGB").save(redacted, "JPEG", quality=90)
    thumb = canvas.convert("RGB")
    thumb.thumbnail(THUMBNAIL)
    thumbnail = out / "redacted-thumbnail.jpg"
    thumb.save(thumbnail, "JPEG", quality=80)
    return redacted, thumbnail
