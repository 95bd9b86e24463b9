"""Stored copies made from an upload's own bytes: a JPEG's scans or a PNG's pixel data as
they came, every metadata segment or chunk left out (evidence.sandbox.images decides when).
"""

from __future__ import annotations

import zlib
from pathlib import Path

# Segments a JPEG needs to be decoded as it was: the rest (APP1-APP13, APP15, comments) is
# metadata. APP14 (Adobe) stays: it says whether the three components are RGB or YCbCr.
_JPEG_METADATA = frozenset({*range(0xE1, 0xEE), 0xEF, 0xFE})


def copy_jpeg_scans(source: Path, target: Path) -> bool:
    """Write `source` without its metadata segments; False (nothing written) if its
    structure is not the plain one this reads (the image is then encoded again)."""
    import re
    import struct

    data = source.read_bytes()
    if data[:2] != b"\xff\xd8":
        return False
    parts, position = [data[:2]], 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # a fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: what follows is image data (and later scans)
            # In scan data a 0xFF is stuffed or a restart marker: a metadata marker there is
            # a segment between progressive scans, which this copy does not take apart.
            if re.compile(rb"\xff[\xe1-\xed\xef\xfe]").search(data, position):
                return False
            parts.append(data[position:])
            target.write_bytes(b"".join(parts))
            return True
        end = position + 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
        if marker not in _JPEG_METADATA:
            parts.append(data[position:end])
        position = end
    return False


_PNG = b"\x89PNG\r\n\x1a\n"


def copy_png_pixels(source: Path, target: Path) -> bool:
    """Write `source` with its IHDR, IDAT and IEND chunks alone, if it is an 8-bit RGB,
    non-interlaced PNG whose IDAT inflates to exactly its rows and whose every chunk passes
    its CRC; False (nothing written) for any other file, which is then re-encoded.

    Dropping the ancillary chunks removes what re-encoding removes (text, EXIF, XMP, ICC,
    times) at a fraction of the cost. The copy is kept only once the pixels are decoded
    (inspect_image), so they are sound; it may be made while they are.
    """
    data = source.read_bytes()
    if not data.startswith(_PNG):
        return False
    chunks: dict[bytes, list[bytes]] = {b"IHDR": [], b"IDAT": []}
    position = len(_PNG)
    while True:
        length = int.from_bytes(data[position : position + 4], "big")
        kind, end = data[position + 4 : position + 8], position + 12 + length
        body = data[position + 8 : end - 4]
        if end > len(data) or zlib.crc32(body, zlib.crc32(kind)) != int.from_bytes(
            data[end - 4 : end], "big"
        ):
            return False
        if kind == b"IEND":
            break
        if kind in chunks:
            chunks[kind].append(body)
        elif not kind[0] & 0x20:  # a critical chunk other than these (PLTE...): re-encode
            return False
        position = end
    if len(chunks[b"IHDR"]) != 1 or len(header := chunks[b"IHDR"][0]) != 13:
        return False
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    if header[8:] != b"\x08\x02\x00\x00\x00":  # 8 bits, RGB, deflate, no interlace
        return False
    stream = b"".join(chunks[b"IDAT"])
    if not _inflates_to(stream, height * (1 + 3 * width)):
        return False
    with target.open("wb") as written:
        written.write(_PNG)
        for kind, body in ((b"IHDR", header), (b"IDAT", stream), (b"IEND", b"")):
            written.write(len(body).to_bytes(4, "big") + kind + body)
            written.write(zlib.crc32(body, zlib.crc32(kind)).to_bytes(4, "big"))
    return True


# The rows are inflated a slice at a time and only counted: the whole of them (8 MB for a
# phone screenshot, twice over while zlib's output is joined) would be fresh memory, which
# a forked child pays for page by page.
_SLICE = 256 * 1024


def _inflates_to(stream: bytes, rows: int) -> bool:
    """Whether `stream` is one zlib stream of exactly `rows` bytes, with nothing after it."""
    inflater = zlib.decompressobj()
    produced, pending = 0, stream
    while not inflater.eof:
        out = inflater.decompress(pending, _SLICE)
        produced += len(out)
        if produced > rows or (not out and not pending):  # too long, or cut short
            return False
        pending = inflater.unconsumed_tail
    return produced == rows and not inflater.unused_data
