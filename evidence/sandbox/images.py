"""Pictures in the child: decoded under a pixel limit, stored upright without metadata,
with a thumbnail and, when a bundle page needs one, a page copy."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence.errors import RejectedUpload
from evidence.sandbox.messages import N_
from evidence.sandbox.rawcopy import copy_jpeg_scans, copy_png_pixels

IMAGE_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
}
THUMBNAIL = (480, 480)


def inspect_image(path: Path, media_type: str, out: Path, limits: dict[str, int]) -> dict[str, Any]:
    from PIL import Image, ImageOps

    if media_type == "image/heic":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    Image.MAX_IMAGE_PIXELS = limits["max_pixels"]
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(path, formats=[IMAGE_FORMATS[media_type]]) as image:
            width, height = image.size
            if width * height > limits["max_pixels"]:
                raise RejectedUpload(
                    "too_many_pixels",
                    N_("The image is %(mp)d megapixels; the limit is %(max)d."),
                    mp=width * height // 1_000_000,
                    max=limits["max_pixels"] // 1_000_000,
                )
            image.load()
            turned = image.getexif().get(0x0112, 1) not in (0, 1)  # EXIF orientation
            ImageOps.exif_transpose(image, in_place=True)  # upright, and no copy when it is
    except RejectedUpload:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RejectedUpload(
            "too_many_pixels", N_("The image has too many pixels to be processed safely.")
        ) from None
    except Exception:
        raise RejectedUpload(
            "malformed_image",
            N_(
                "The image is damaged or is not really a %(type)s.",
            ),
            type=IMAGE_FORMATS[media_type],
        ) from None
    clean = _without_metadata(image)
    lossless = media_type in ("image/png", "image/webp")
    normalized = out / ("normalized.png" if lossless else "normalized.jpg")
    derived = {"normalized": normalized.name, "thumbnail": "thumbnail.jpg"}
    # The stored copy encodes on one core while the page copy is made on the other (Pillow
    # lets go of the GIL while it encodes and resizes); neither changes `clean`.
    # An RGB PNG as phones write it keeps its pixel data as it came (checked to hold the
    # image and nothing else) and loses every other chunk; anything else is re-encoded.
    # So does an upright RGB JPEG: its scan data as it came, its APPn and comment segments
    # (EXIF, GPS, XMP, ICC, maker notes) left out: no second generation of JPEG loss, and
    # no 12-megapixel encoding while the merchant waits.
    copyable = media_type in ("image/png", "image/jpeg") and clean is image and not turned
    saving = _Background(lambda: _save_normalized(clean, normalized, path if copyable else None))
    page = _page_copy(clean, out) if max(clean.size) > PASS_SIDE or clean.mode != "RGB" else None
    saving.result()
    if page is None and normalized.stat().st_size > PASS_BYTES:
        page = _page_copy(clean, out)
    source = page[1] if page is not None else clean  # the thumbnail from the smaller picture
    thumb = source.convert("RGB") if source.mode != "RGB" else source.copy()
    thumb.thumbnail(THUMBNAIL)
    thumb.save(out / "thumbnail.jpg", "JPEG", quality=80)
    if page is not None:
        derived["page"] = page[0].name
    return {"width": image.width, "height": image.height, "derived": derived}


def _without_metadata(image: Any) -> Any:
    """The decoded image in the mode it is stored in (itself when it already is), info emptied.

    An image with its info emptied is saved with no EXIF, GPS, XMP or ICC data (Pillow
    writes those only from info or explicit arguments); _verify_clean checks it.
    """
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
    clean = image.convert(mode) if image.mode != mode else image
    if mode == "RGBA" and clean.getchannel("A").getextrema() == (255, 255):
        clean = clean.convert("RGB")  # phones save screenshots with an alpha that hides nothing
    clean.info = {}
    return clean


def _save_normalized(clean: Any, normalized: Path, original: Path | None) -> None:
    """The stored copy: the `original`'s pixel data as it is when it can be (a PNG's IDAT,
    a JPEG's scans), else `clean` encoded."""
    copy = copy_jpeg_scans if normalized.suffix == ".jpg" else copy_png_pixels
    if original is not None and copy(original, normalized):
        try:
            _verify_clean(normalized)
            return
        except RejectedUpload:  # a segment the copy kept still says too much: encode instead
            normalized.unlink()
    _encode(clean, normalized)
    _verify_clean(normalized)


def _encode(clean: Any, normalized: Path) -> None:
    if normalized.suffix == ".png":
        # zlib's fast level: on phone screenshots (anti-aliased text, avatars) the file is
        # smaller than at the default level 6 (375 KB against 495 KB) and takes 40-60 ms
        # less; Pillow's per-row filter choice, which is what makes PNGs small, stays.
        clean.save(normalized, "PNG", compress_level=1)
    else:
        (clean if clean.mode == "RGB" else clean.convert("RGB")).save(
            normalized, "JPEG", quality=90
        )


class _Background:
    """One call on another thread; `result()` waits for it and raises what it raised."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as error:  # handed to the caller in result()
            self._error = error

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


# A copy made for bundle pages, here where the image is decoded anyway, so that building a
# bundle only copies bytes. Copies that go into a PDF as they are (at most PASS_SIDE pixels
# and PASS_BYTES, opaque: phone screenshots) need none; photos become at most PAGE_SIDE
# pixels, and transparency is flattened on white. evidence.pdfimage.LADDER[0] matches.
PASS_SIDE = 3200
PASS_BYTES = 2_000_000
PAGE_SIDE = 2000
PAGE_QUALITY = 85


def _page_copy(clean: Any, out: Path) -> tuple[Path, Any]:
    """The page copy's file and picture (which the thumbnail is then made from)."""
    from PIL import Image

    picture = clean
    if picture.mode == "RGBA":
        flat = Image.new("RGB", picture.size, "white")
        flat.paste(picture, mask=picture.getchannel("A"))
        picture = flat
    picture = _shrunk(picture, PAGE_SIDE)
    page = out / "page.jpg"
    picture.save(page, "JPEG", quality=PAGE_QUALITY)  # RGB: flattened above if it was not
    _verify_clean(page)
    return page, picture


def _shrunk(picture: Any, side: int) -> Any:
    """At most `side` pixels: first averaged down by a whole factor (a 12 MP photo halves in
    a tenth of the time Lanczos takes), then Lanczos for what remains (Pillow's
    reducing_gap=1.0)."""
    from PIL import Image

    factor = max(picture.size) // side
    if factor >= 2:
        picture = picture.reduce(factor)
    width, height = picture.size
    if max(width, height) > side:  # resize, not thumbnail: `picture` may be the caller's
        scale = side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    return picture


def _verify_clean(path: Path) -> None:
    """Metadata removal is checked on the output, not assumed."""
    from PIL import Image

    with Image.open(path) as written:
        if written.getexif() or any(
            key in written.info for key in ("xmp", "exif", "icc_profile", "XML:com.adobe.xmp")
        ):
            raise RejectedUpload("metadata", N_("Metadata could not be removed from the image."))
