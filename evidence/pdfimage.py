"""Images made ready to be placed on a PDF page, one at a time and without surprises.

Small JPEG and PNG copies go into the PDF as they are, without decoding: JPEG bytes
become a /DCTDecode stream (with any APPn and comment segments dropped), PNG image data
becomes a /FlateDecode stream with the PNG predictor. Everything else is decoded once:
large photos through JPEG draft mode at the target's aspect ratio, images with
transparency flattened on white. The prepared stream is written to a file, so that the
bundle's memory does not grow with the number of images.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from PIL import Image

from evidence.errors import RejectedUpload
from evidence.tables import N_

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Rung:
    """One step of the downscaling ladder: what passes through, and what large images become."""

    pass_side: int  # images at most this many pixels on each side pass through ...
    pass_bytes: int  # ... when they are also at most this large
    max_side: int  # the rest are scaled to fit this many pixels
    quality: int
    # An image already within max_side is only re-encoded when it cannot pass through
    # (transparency, a large PNG): it keeps at least this quality, as nothing else shrinks.
    unscaled_quality: int = 90

    @classmethod
    def exact(cls, max_side: int, quality: int) -> Rung:
        """Re-encode to exactly this size and quality: what the planned fit asks for."""
        return cls(pass_side=0, pass_bytes=0, max_side=max_side, quality=quality,
                   unscaled_quality=quality)  # fmt: skip


# The first rung matches the page copy made at upload (evidence.sandbox: 2000 px, q85),
# which therefore passes through; a JPEG decoded in draft mode at 1/2 scale lands there too.
LADDER = (
    Rung(pass_side=3200, pass_bytes=2_000_000, max_side=2000, quality=85),
    Rung(pass_side=1600, pass_bytes=600_000, max_side=1400, quality=75),
    Rung(pass_side=1200, pass_bytes=300_000, max_side=1200, quality=70),
    Rung(pass_side=0, pass_bytes=0, max_side=1000, quality=60),
)


@dataclass(frozen=True)
class PreparedImage:
    """An image stream on disk and what the PDF needs to know about it."""

    path: Path
    width: int
    height: int
    filter: str  # "/DCTDecode" or "/FlateDecode"
    colors: int  # 1 (gray) or 3 (RGB)
    predictor: bool  # PNG rows with a filter byte (FlateDecode only)
    source_width: int
    source_height: int
    passed_through: bool
    quality: int | None = None  # the JPEG quality it was encoded at here (None: passed through)

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def prepare_image(source: IO[bytes], size: int, out: Path, rung: Rung = LADDER[0]) -> PreparedImage:
    """Write `source` (a stored, upright, metadata-free JPEG or PNG) as a PDF image stream."""
    Image.MAX_IMAGE_PIXELS = 60_000_000
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(source, formats=["JPEG", "PNG"]) as image:
            width, height = image.size
            small = max(width, height) <= rung.pass_side and size <= rung.pass_bytes
            colors = 1 if image.mode == "L" else 3
            if small and image.format == "JPEG" and image.mode in ("RGB", "L"):
                source.seek(0)
                _write_jpeg_without_metadata(source, out)
                return PreparedImage(out, width, height, "/DCTDecode", colors, False, width,
                                     height, True)  # fmt: skip
            if small and image.format == "PNG" and _plain_png(image, source):
                source.seek(0)
                _write_png_idat(source, out)
                return PreparedImage(out, width, height, "/FlateDecode", colors, True, width,
                                     height, True)  # fmt: skip
            return _transcode(image, out, rung)
    except RejectedUpload:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, struct.error,
            zlib.error, Image.DecompressionBombWarning):  # fmt: skip
        raise RejectedUpload("malformed_image", N_("A stored image could not be read.")) from None


def _plain_png(image: Image.Image, source: IO[bytes]) -> bool:
    """8-bit gray or RGB, not interlaced, no transparency: the rows can go in unchanged."""
    source.seek(0)
    header = source.read(29)
    bit_depth, color_type, interlace = header[24], header[25], header[28]
    return (
        bit_depth == 8
        and color_type in (0, 2)
        and interlace == 0
        and "transparency" not in image.info
    )


def _transcode(image: Image.Image, out: Path, rung: Rung) -> PreparedImage:
    width, height = image.size
    scale = min(1.0, rung.max_side / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    if image.format == "JPEG" and scale < 1:
        # draft() only scales while both sides stay at least the request: ask at the
        # image's own aspect ratio, or a square box does nothing for a 4:3 photo.
        image.draft("RGB", target)
    image.load()
    # Converted only when the mode differs: Pillow's convert to the same mode copies the
    # pixels (36 MB for a 12-megapixel photo).
    if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        picture = flat
    else:
        mode = "L" if image.mode in ("L", "I", "I;16") else "RGB"
        picture = image if image.mode == mode else image.convert(mode)
    if max(picture.size) > rung.max_side:  # draft mode may already have got there
        picture = picture.resize(target, Image.Resampling.LANCZOS)
    quality = rung.quality if scale < 1 else max(rung.quality, rung.unscaled_quality)
    picture.save(out, "JPEG", quality=quality, optimize=False)
    return PreparedImage(out, picture.width, picture.height, "/DCTDecode",
                         1 if picture.mode == "L" else 3, False, width, height, False,
                         quality)  # fmt: skip


def _write_jpeg_without_metadata(source: IO[bytes], out: Path) -> None:
    """Copy a JPEG, leaving out APP1..APP15 and comment segments (EXIF, XMP, ICC, GPS)."""
    data = source.read()
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    view = memoryview(data)  # the scans are copied once, into the file
    parts: list[bytes | memoryview] = [data[:2]]
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("broken JPEG segment")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segment_end = position + 2 + length
        if marker == 0xDA:  # start of scan: the rest is image data
            parts.append(view[position:])
            break
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            parts.append(view[position:segment_end])
        position = segment_end
    else:
        raise ValueError("JPEG without image data")
    with out.open("wb") as written:
        written.writelines(parts)


def _png_chunks(source: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    if source.read(8) != PNG_SIGNATURE:
        raise ValueError("not a PNG")
    while True:
        header = source.read(8)
        if len(header) < 8:
            raise ValueError("PNG ends early")
        length, kind = struct.unpack(">I4s", header)
        body = source.read(length)
        source.read(4)  # CRC (Pillow checked the file when it was stored)
        if len(body) < length:
            raise ValueError("PNG ends early")
        yield kind, body
        if kind == b"IEND":
            return


def _write_png_idat(source: IO[bytes], out: Path) -> None:
    """The PNG's compressed rows, concatenated: exactly a FlateDecode stream with predictor."""
    with out.open("wb") as writer:
        for kind, body in _png_chunks(source):
            if kind == b"IDAT":
                writer.write(body)


@dataclass(frozen=True)
class Calibration:
    """How JPEG bytes follow size and quality for one sort of picture (see `predict_bytes`)."""

    quality_factor: dict[int, float]  # bytes at quality q / bytes at q85, same pixels
    # Bytes scale as (pixel ratio) ** exponent; the exponent grows with how busy the picture
    # is (its bytes per pixel at q85): from `exponent[0]` at `busy[0]` to `[1]` at `[1]`.
    busy: tuple[float, float]
    exponent: tuple[float, float]

    def factor(self, quality: int) -> float:
        """The bytes at `quality` against q85, between the measured qualities by line."""
        known = sorted(self.quality_factor)
        quality = min(known[-1], max(known[0], quality))
        above = next(q for q in known if q >= quality)
        below = max(q for q in known if q <= quality)
        if above == below:
            return self.quality_factor[above]
        share = (quality - below) / (above - below)
        low, high = self.quality_factor[below], self.quality_factor[above]
        return low + share * (high - low)

    def exponent_at(self, bpp85: float) -> float:
        low, high = self.busy
        share = min(1.0, max(0.0, (bpp85 - low) / (high - low)))
        return self.exponent[0] + share * (self.exponent[1] - self.exponent[0])


# Measured with Pillow 13 (LANCZOS, optimize off) on synthetic pictures like bench/bundle.py's:
# four 1080x2400 chat screenshots (flat bubbles of glyph marks, one with a noisy photo pasted
# in) and a flat 540x1200 one; 2000x1500 photos of a gradient blended with noise (sigma 10, 26,
# 50), the bench's 4000x3000 phone photo and a plain gradient. Each was encoded at long sides
# 2400..800 and qualities 90..50 and compared with its q85 copy. Flat text keeps its bytes
# when scaled (edges stay edges: exponent 0.45), busy photos lose more than their pixels
# (noise averages out: 1.35); real camera photos sit lower, and the second pass catches that.
TEXT = Calibration(
    {90: 1.18, 85: 1.0, 80: 0.90, 75: 0.82, 70: 0.77, 65: 0.73, 60: 0.69, 55: 0.66, 50: 0.63},
    busy=(0.06, 0.11),
    exponent=(0.45, 0.70),
)
PHOTO = Calibration(
    {90: 1.35, 85: 1.0, 80: 0.80, 75: 0.66, 70: 0.55, 65: 0.47, 60: 0.41, 55: 0.35, 50: 0.31},
    busy=(0.04, 0.12),
    exponent=(0.90, 1.35),
)
# A PNG's bytes per pixel tell a JPEG's at q85, same pixels: 0.06 + 0.28 x PNG bpp (within
# 20 % from 0.007 to 1.3 PNG bpp on the pictures above, and on 720x1600 screenshots with a
# noisy 400x300 photo pasted in; flat ones are smaller as PNG).
PNG_TO_JPEG85 = (0.06, 0.28)
JPEG_OVERHEAD = 700  # quantisation and Huffman tables, frame and scan headers


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The pixels an image of this size gets when fitted into `max_side`."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


class Encoded(Protocol):
    """What a prediction needs of a picture as it is: its pixels, stream filter and bytes."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def filter(self) -> str: ...
    @property
    def size(self) -> int: ...


def predict_bytes(
    image: Encoded, quality_now: int, text: bool, target: tuple[int, int], quality: int
) -> int:
    """What `image` (as prepared now, at `quality_now` if a JPEG) would weigh as a JPEG of
    `target` pixels at `quality`, from its size and bytes alone: nothing is decoded."""
    table = TEXT if text else PHOTO
    pixels = max(1, image.width * image.height)
    if image.filter == "/FlateDecode":
        q85 = pixels * (PNG_TO_JPEG85[0] + PNG_TO_JPEG85[1] * image.size / pixels)
    else:
        q85 = image.size / table.factor(quality_now)
    ratio = target[0] * target[1] / pixels
    exponent = table.exponent_at(q85 / pixels)
    return int(q85 * ratio**exponent * table.factor(quality)) + JPEG_OVERHEAD
