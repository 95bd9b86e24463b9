"""Pictures in the child: decoded under a pixel limit, stored upright without metadata,
with a thumbnail and, when a bundle page needs one, a page copy."""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

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
T = TypeVar("T")


def inspect_image(path: Path, media_type: str, out: Path, limits: dict[str, int]) -> dict[str, Any]:
    lossless = media_type in ("image/png", "image/webp")
    normalized = out / ("normalized.png" if lossless else "normalized.jpg")
    early = _EarlyCopy(path, media_type, normalized)
    try:
        image, turned = _decoded(path, media_type, limits, early.start)
    except BaseException:
        early.discard()
        raise
    clean = _without_metadata(image)
    copied = early.kept(clean is image and not turned)
    derived = {"normalized": normalized.name, "thumbnail": "thumbnail.jpg"}
    # The stored copy encodes on one core while the page copy and the thumbnail are made on
    # the other (Pillow lets go of the GIL while it encodes and resizes); none changes `clean`.
    saving = None if copied else _Background(lambda: _encode_verified(clean, normalized))
    page = _page_copy(clean, out) if max(clean.size) > PASS_SIDE or clean.mode != "RGB" else None
    thumb = _thumbnail(page[1] if page is not None else clean)  # from the smaller picture
    if saving is not None:
        saving.result()
    if page is None and normalized.stat().st_size > PASS_BYTES:
        page = _page_copy(clean, out)
    thumb.save(out / "thumbnail.jpg", "JPEG", quality=80)
    if page is not None:
        derived["page"] = page[0].name
    return {"width": image.width, "height": image.height, "derived": derived}


class _EarlyCopy:
    """The stored copy made from the file's own pixel data, on one core while the pixels are
    decoded on the other (zlib and Pillow let go of the GIL); kept only once they are
    decoded, and only if it is still the picture they make.

    An RGB PNG as phones write it keeps its pixel data as it came (checked to hold the
    image and nothing else) and loses every other chunk; anything else is re-encoded.
    So does an upright RGB JPEG: its scan data as it came, its APPn and comment segments
    (EXIF, GPS, XMP, ICC, maker notes) left out: no second generation of JPEG loss, and
    no 12-megapixel encoding while the merchant waits.
    """

    def __init__(self, original: Path, media_type: str, normalized: Path) -> None:
        self._original, self._media_type, self._normalized = original, media_type, normalized
        self._work: _Background[bool] | None = None

    def start(self, image: Any) -> None:
        """Begin if the header promises a copy (`image` opened, its pixels not yet read)."""
        copyable = self._media_type in ("image/png", "image/jpeg") and image.mode == "RGB"
        if copyable and _upright(image):
            self._work = _Background(lambda: _copied(self._original, self._normalized))

    def kept(self, fits: bool) -> bool:
        """Whether the copy is made and is the stored one; if it does not `fit` the decoded
        picture (turned, converted), it is removed."""
        if self._work is None:
            return False
        if fits:
            return self._work.result()
        self.discard()
        return False

    def discard(self) -> None:
        if self._work is not None:
            self._work.wait()
            self._normalized.unlink(missing_ok=True)


def _decoded(
    path: Path, media_type: str, limits: dict[str, int], on_open: Callable[[Any], None]
) -> tuple[Any, bool]:
    """The picture fully decoded under the pixel limit and turned upright, and whether it
    had to be turned; `on_open` is given it once its header is read and its size allowed."""
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
            on_open(image)
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
    return image, turned


def _upright(image: Any) -> bool:
    """Whether the header leaves the picture as it is, as far as it tells before the pixels
    are decoded: a JPEG's EXIF; a PNG's is looked at once it is (getexif() would decode it
    now, to look for an EXIF chunk after the pixels)."""
    return image.format == "PNG" or image.getexif().get(0x0112, 1) in (0, 1)


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


def _copied(original: Path, normalized: Path) -> bool:
    """The stored copy from the `original`'s own pixel data (a PNG's IDAT, a JPEG's scans),
    checked clean; False, and nothing written, when it cannot be made so."""
    copy = copy_jpeg_scans if normalized.suffix == ".jpg" else copy_png_pixels
    if not copy(original, normalized):
        return False
    try:
        _verify_clean(normalized)
    except RejectedUpload:  # a segment the copy kept still says too much: encode instead
        normalized.unlink()
        return False
    return True


def _encode_verified(clean: Any, normalized: Path) -> None:
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


def _thumbnail(picture: Any) -> Any:
    """`picture` at Image.thumbnail(THUMBNAIL)'s size, in RGB, without copying it first
    (thumbnail() works in place, and `picture` is the stored one). Averaged down by the
    whole factor first, as the page copy is (reducing_gap=1.0, not thumbnail()'s 2.0): a
    third of the time on a phone screenshot (5 against 14 ms), and on average within one
    level in 255 of what thumbnail() makes."""
    from PIL import Image

    rgb = picture if picture.mode == "RGB" else picture.convert("RGB")
    size = _thumbnail_size(rgb.size)
    if size is None:
        return rgb
    return rgb.resize(size, Image.Resampling.BICUBIC, reducing_gap=1.0)


def _thumbnail_size(size: tuple[int, int]) -> tuple[int, int] | None:
    """Image.thumbnail's own size for THUMBNAIL (None: small enough already)."""
    width, height = size
    x, y = THUMBNAIL
    if x >= width and y >= height:
        return None
    aspect = width / height
    if x / y >= aspect:
        x = max(min(math.floor(y * aspect), math.ceil(y * aspect),
                    key=lambda n: abs(aspect - n / y)), 1)  # fmt: skip
    else:
        y = max(min(math.floor(x / aspect), math.ceil(x / aspect),
                    key=lambda n: 0 if n == 0 else abs(aspect - x / n)), 1)  # fmt: skip
    return None if (x, y) == size else (x, y)


class _Background(Generic[T]):
    """One call on another thread; `result()` waits for it and returns what it returned, or
    raises what it raised."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
        except BaseException as error:  # handed to the caller in result()
            self._error = error

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def wait(self) -> None:
        """Wait for it, whatever it does: its work is not wanted after all."""
        self._thread.join()


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
        if written.format == "PNG":
            # Pillow reads a PNG's chunks after its pixels only by decoding them (getexif()
            # would): the file's own chunk list says more, for the cost of reading it.
            found = not _png_holds_pixels_alone(path)
        else:
            found = bool(written.getexif())
        if found or any(
            key in written.info for key in ("xmp", "exif", "icc_profile", "XML:com.adobe.xmp")
        ):
            raise RejectedUpload("metadata", N_("Metadata could not be removed from the image."))


_PNG = b"\x89PNG\r\n\x1a\n"
# What a stored PNG may hold: its header, palette and transparency, pixels and end. Any
# other chunk (text, EXIF, XMP, ICC, times, one of no known kind), wherever it is, and any
# byte after the end, fail the check.
_PNG_PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})


def _png_holds_pixels_alone(path: Path) -> bool:
    data = path.read_bytes()
    if not data.startswith(_PNG):
        return False
    position = len(_PNG)
    while position + 8 <= len(data):
        kind = data[position + 4 : position + 8]
        if kind not in _PNG_PIXEL_CHUNKS:
            return False
        position += 12 + int.from_bytes(data[position : position + 4], "big")
        if kind == b"IEND":
            return position == len(data)
    return False
