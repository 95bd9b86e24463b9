"""Unpacking every stream an uploaded PDF's pages draw, within a budget, before it is kept.

Reading a PDF's page tree decodes nothing: a page whose content inflates to gigabytes, an
image of 60000 x 60000 pixels or a stream that claims a length of a terabyte all pass it,
and then break a bundle build or a reviewer's viewer. Here every stream reachable from the
pages (content, forms, images and their masks, patterns, fonts) is unpacked once, counting
bytes without keeping them; images are checked against the pixel limit and JPEGs decoded.
Runs in the sandbox child (evidence.sandbox), under its memory and CPU limits.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
import warnings
import zlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from evidence.errors import RejectedUpload
from evidence.tables import N_

MiB = 1024 * 1024
CHUNK = MiB
# Page keys the bundle drops (evidence.assemble.DROPPED_PAGE_KEYS): never drawn, not checked.
SKIPPED_KEYS = frozenset({"/Parent", "/Annots", "/AA", "/B", "/Trans", "/PresSteps"})
# Filters that only ever shrink their input, or whose output is bounded by an image's size.
PASSTHROUGH = frozenset({"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode",
                         "/CCF"})  # fmt: skip
WHITESPACE = b" \t\r\n\f\x00"
TEXT_FILTERS = {"/ASCII85Decode": True, "/A85": True, "/ASCIIHexDecode": False, "/AHx": False}
COMPONENTS = {"/DeviceGray": 1, "/G": 1, "/CalGray": 1, "/Indexed": 1, "/I": 1, "/DeviceRGB": 3,
              "/RGB": 3, "/CalRGB": 3, "/Lab": 3, "/DeviceCMYK": 4, "/CMYK": 4}  # fmt: skip


@dataclass(frozen=True)
class StreamBudget:
    """How much a PDF's streams may unpack to, and how long unpacking them may take."""

    content_bytes: int  # all content, form, pattern and font streams together
    stream_bytes: int  # any one of them
    max_pixels: int  # any one image
    seconds: float


def too_complex(message: str, **params: Any) -> RejectedUpload:
    return RejectedUpload("pdf_too_complex", message, **params)


class _Unpacking:
    def __init__(self, budget: StreamBudget) -> None:
        self.budget = budget
        self.content = 0
        self.deadline = time.monotonic() + budget.seconds
        self.seen: set[tuple[int, int]] = set()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise too_complex(
                N_("The PDF takes more than %(seconds)d seconds to unpack; it may be crafted. "
                   "Print it to a new PDF, or upload its pages as pictures."),
                seconds=self.budget.seconds,
            )  # fmt: skip

    def walk(self, root: Any) -> None:
        """Unpack every stream reachable from `root`, each once (shared fonts, loops)."""
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, IndirectObject):
                key = (node.idnum, node.generation)
                if key in self.seen:
                    continue
                self.seen.add(key)
                node = node.get_object()
            if isinstance(node, StreamObject):
                self.stream(node)
            if isinstance(node, DictionaryObject):
                stack.extend(v for k, v in node.items() if k not in SKIPPED_KEYS)
            elif isinstance(node, ArrayObject):
                stack.extend(node)

    def stream(self, stream: StreamObject) -> None:
        self.check_time()
        if stream.get("/Subtype") == "/Image" or ("/Width" in stream and "/Height" in stream):
            self.image(stream)
            return
        cap = min(self.budget.stream_bytes, self.budget.content_bytes - self.content)
        size = self.unpacked_size(stream, cap)
        if size > self.budget.stream_bytes:
            raise too_complex(
                N_("A page of the PDF unpacks to more than %(mb)d MB; it may be crafted. "
                   "Print it to a new PDF, or upload its pages as pictures."),
                mb=self.budget.stream_bytes // MiB,
            )  # fmt: skip
        self.content += size
        if self.content > self.budget.content_bytes:
            raise too_complex(
                N_("The PDF's page content unpacks to more than %(mb)d MB; it may be crafted. "
                   "Print it to a new PDF, or upload its pages as pictures."),
                mb=self.budget.content_bytes // MiB,
            )  # fmt: skip

    def image(self, stream: StreamObject) -> None:
        width, height = _dimension(stream, "/Width"), _dimension(stream, "/Height")
        if width * height > self.budget.max_pixels:
            raise_too_many_pixels(width * height, self.budget.max_pixels)
        bits = int(stream.get("/BitsPerComponent", 1 if stream.get("/ImageMask") else 8))
        expected = (width * _components(stream) * min(max(bits, 1), 16) + 7) // 8 * height
        # Predictors add a byte a row; anything far beyond the picture's own size is a bomb.
        cap = expected + height + MiB
        filters = _filters(stream)
        if filters and filters[-1] in ("/DCTDecode", "/DCT"):
            jpeg, rest = _undo_text_filters(_raw(stream), filters[:-1])
            if rest:  # pypdf undoes the rarer filters before DCT and passes the JPEG on
                with _capped(cap):
                    jpeg = stream.get_data()
            _decode_jpeg(jpeg, self.budget.max_pixels)
            return
        if any(name in PASSTHROUGH for name in filters):
            return  # JPEG 2000, JBIG2 and fax pictures: bounded by their pixels, checked above
        if self.unpacked_size(stream, cap) > cap:
            raise RejectedUpload(
                "malformed_pdf", N_("An image in the PDF unpacks to more than its size says.")
            )

    def unpacked_size(self, stream: StreamObject, cap: int) -> int:
        """The stream's unpacked length, or cap + 1 once it passes `cap` (nothing is kept)."""
        data, filters = _undo_text_filters(_raw(stream), _filters(stream))
        if all(name in PASSTHROUGH for name in filters):
            return len(data)
        if filters == ["/FlateDecode"] or filters == ["/Fl"]:
            return self.inflated_size(data, cap)
        # Chains and rarer filters: pypdf decodes them under its own caps, set to ours.
        try:
            with _capped(cap):
                return len(stream.get_data())
        except LimitReachedError:
            return cap + 1

    def inflated_size(self, data: bytes, cap: int) -> int:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a zlib or gzip header
        size, pending = 0, data
        while pending and not inflater.eof:
            size += len(inflater.decompress(pending, CHUNK))
            pending = inflater.unconsumed_tail
            if size > cap:
                return cap + 1
            self.check_time()
        return size


def check_streams(reader: PdfReader, budget: StreamBudget) -> None:
    """Refuse the PDF if any stream its pages draw is too big, too slow or undecodable."""
    unpacking = _Unpacking(budget)
    for page in reader.pages:
        unpacking.walk(page)


def _undo_text_filters(data: bytes, filters: list[str]) -> tuple[bytes, list[str]]:
    """Undo the leading ASCII85 and hex filters (reportlab writes them) with the standard
    library, a hundred times faster than pypdf; returns the data and the filters left."""
    rest = list(filters)
    while rest and rest[0] in TEXT_FILTERS:
        ascii85 = TEXT_FILTERS[rest.pop(0)]
        body = data.split(b"~>" if ascii85 else b">", 1)[0].translate(None, WHITESPACE)
        if ascii85:
            data = _a85decode(body.removeprefix(b"<~"))
        else:
            data = binascii.unhexlify(body + b"0" * (len(body) % 2))
    return data, rest


def _a85decode(body: bytes) -> bytes:
    """ASCII85 with numpy for large streams: the standard library's decoder is pure Python,
    and so is pypdf's (2 s for a 4 MB scan); small ones are not worth importing numpy for."""
    if len(body) < 256 * 1024:
        return base64.a85decode(body)
    import numpy as np

    body = body.replace(b"z", b"!!!!!")
    pad = -len(body) % 5
    digits = np.frombuffer(body + b"u" * pad, dtype=np.uint8).astype(np.uint64) - 33
    if digits.size and int(digits.max()) > 84:
        raise ValueError("not ASCII85")
    groups = digits.reshape(-1, 5)
    values = groups[:, 0]
    for column in range(1, 5):
        values = values * 85 + groups[:, column]
    if values.size and int(values.max()) > 0xFFFFFFFF:
        raise ValueError("ASCII85 group out of range")
    decoded = values.astype(">u4").tobytes()
    return decoded[: len(decoded) - pad]


def _capped(cap: int) -> AbstractContextManager[Any]:
    """pypdf's own decoders, stopped past `cap` bytes with a LimitReachedError."""
    from pypdf import apply_configuration

    return apply_configuration(
        zlib_maximum_output_length=cap + 1, lzw_maximum_output_length=cap + 1,
        run_length_maximum_output_length=cap + 1, brotli_maximum_output_length=cap + 1,
        array_based_stream_maximum_output_length=cap + 1, jbig2_maximum_output_length=cap + 1,
    )  # fmt: skip


def raise_too_many_pixels(pixels: int, limit: int) -> None:
    raise RejectedUpload(
        "too_many_pixels",
        N_("An image in the PDF is %(mp)d megapixels; the limit is %(max)d."),
        mp=pixels // 1_000_000,
        max=limit // 1_000_000,
    )


def _dimension(stream: StreamObject, key: str) -> int:
    value = stream.get(key)
    try:
        number = int(value.get_object() if value is not None else 0)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise RejectedUpload("malformed_pdf", N_("An image in the PDF has no size."))
    return number


def _filters(stream: StreamObject) -> list[str]:
    found = stream.get("/Filter")
    found = found.get_object() if found is not None else None
    if found is None:
        return []
    return [str(name) for name in found] if isinstance(found, ArrayObject) else [str(found)]


def _components(stream: StreamObject) -> int:
    if stream.get("/ImageMask"):
        return 1
    space = stream.get("/ColorSpace")
    space = space.get_object() if space is not None else None
    if isinstance(space, ArrayObject) and space:
        family = str(space[0])
        if family == "/ICCBased" and len(space) > 1:
            return int(space[1].get_object().get("/N", 4))
        if family in ("/Indexed", "/I", "/Separation"):
            return 1
        if family == "/DeviceN" and len(space) > 1:
            return len(space[1].get_object())
        return COMPONENTS.get(family, 4)
    return COMPONENTS.get(str(space), 4)


def _raw(stream: StreamObject) -> bytes:
    """The stream's bytes as stored (pypdf keeps them undecoded in `_data`)."""
    data: bytes = stream._data
    return data


def _decode_jpeg(data: bytes, max_pixels: int) -> None:
    """Decode a JPEG drawn in the PDF at an eighth of its size: every byte of it is read."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as picture:
                if picture.width * picture.height > max_pixels:
                    raise_too_many_pixels(picture.width * picture.height, max_pixels)
                picture.draft(picture.mode, (picture.width // 8, picture.height // 8))
                picture.load()
    except RejectedUpload:
        raise
    except Exception:
        raise RejectedUpload(
            "malformed_pdf", N_("An image in the PDF is damaged and cannot be shown.")
        ) from None
