"""Copies of a picture without where it was taken or with what: GPS and device fields removed.

Lossless: only metadata blocks are rewritten or left out, never the picture data, so the
copy decodes to exactly the same pixels. A block that names a place or a device and cannot
be read is left out whole, since it cannot be shown to be clean. Orientation and capture
time stay: they say how to show the picture and when, not where or on what.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from io import BytesIO

import defusedxml.ElementTree as SafeElementTree  # type: ignore[import-untyped]
from PIL import Image

# The APP1 identifiers of XMP packets (Adobe XMP, part 3), as evidence.photofacts reads
# them; named here so that stripping does not import photofacts (imagehash, numpy: 0.15 s).
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"

EXIF_HEADER = b"Exif\x00\x00"
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
# Device and owner fields, wherever a writer put them (IFD0 or the Exif IFD).
DEVICE_TAGS = {
    0x010F: "Make",
    0x0110: "Model",
    0x013B: "Artist",
    0x013C: "HostComputer",
    0x9C9D: "XPAuthor",
    0x927C: "MakerNote",
    0xA430: "CameraOwnerName",
    0xA431: "BodySerialNumber",
    0xA433: "LensMake",
    0xA434: "LensModel",
    0xA435: "LensSerialNumber",
    0xC614: "UniqueCameraModel",
    0xC62F: "CameraSerialNumber",
}
# XMP properties that name a place or a device, by namespace; any property whose name
# starts with GPS or holds a latitude, longitude or serial number counts in every namespace
# (drone and phone makers write their own).
XMP_IDENTIFYING = {
    "http://ns.adobe.com/tiff/1.0/": {"Make", "Model"},
    "http://ns.adobe.com/exif/1.0/aux/": {"SerialNumber", "LensSerialNumber", "OwnerName",
                                          "Lens", "LensID"},
    "http://cipa.jp/exif/1.0/": {"BodySerialNumber", "LensSerialNumber", "CameraOwnerName",
                                 "LensMake", "LensModel"},
    "http://ns.adobe.com/photoshop/1.0/": {"City", "State", "Country"},
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": {"Location", "CountryCode"},
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": {"LocationCreated", "LocationShown"},
}  # fmt: skip
XMP_IDENTIFYING_NAME = re.compile(r"(?i)^gps|latitude|longitude|serialnumber|altitude")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
# Text chunks under names that say what they hold: ImageMagick's raw EXIF and XMP
# profiles, and plain place or device notes.
PNG_IDENTIFYING_KEYWORD = re.compile(
    rb"(?i)^raw profile type (?:exif|app1|xmp)$|gps|location|latitude|longitude|"
    rb"make|model|serial|owner|device|camera"
)
EMPTY_XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
)
XMP_END = b'<?xpacket end="w"?>'

STRIPPABLE = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})


class MetadataError(ValueError):
    """The file's metadata cannot be taken out without touching the picture."""


Piece = bytes | memoryview  # a part of a file, often a view of the file as it came


def strip_identifying(data: bytes, media_type: str) -> tuple[bytes, list[str]]:
    """The file without location and device metadata, and the names of what was taken out.

    Returns `data` itself when there is nothing to take out, and for files that are not
    pictures.
    """
    pieces, removed = identifying_removed(data, media_type)
    return (b"".join(pieces), removed) if removed else (data, [])


def identifying_removed(data: bytes, media_type: str) -> tuple[list[Piece], list[str]]:
    """`strip_identifying` as pieces to write one after another: views of `data` where it
    is unchanged, so that a 12-megapixel photo is not copied whole."""
    strippers: dict[str, Callable[[bytes], tuple[list[Piece], list[str]]]] = {
        "image/jpeg": _strip_jpeg,
        "image/png": _strip_png,
        "image/webp": lambda data: _whole(_strip_webp(data)),
        "image/heic": lambda data: _whole(_strip_heic(data)),
    }
    stripper = strippers.get(media_type)
    if stripper is None:
        return [data], []
    try:
        pieces, removed = stripper(data)
    except (struct.error, IndexError, zlib.error) as broken:
        raise MetadataError(f"broken {media_type} container") from broken
    return (pieces, _unique(removed)) if removed else ([data], [])


def _whole(stripped: tuple[bytes, list[str]]) -> tuple[list[Piece], list[str]]:
    return [stripped[0]], stripped[1]


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def strip_exif(block: bytes) -> tuple[bytes | None, list[str]]:
    """An EXIF block (with or without its `Exif\\0\\0` header) without GPS and device fields.

    None: the whole block is to be left out (it could not be read). The header is kept as
    it came.
    """
    headed = block.startswith(EXIF_HEADER)
    exif = Image.Exif()
    try:
        exif.load(block)
        sub = exif.get_ifd(EXIF_IFD) if EXIF_IFD in exif else {}
        gps = exif.get_ifd(GPS_IFD) if GPS_IFD in exif else {}
    except Exception:  # Pillow raises many kinds on a damaged TIFF structure
        return None, ["EXIF"]
    removed = ["GPSInfo"] if GPS_IFD in exif else []
    for ifd in (exif, sub):
        removed += [name for tag, name in DEVICE_TAGS.items() if tag in ifd]
    if not removed:
        return block, []
    gps.clear()
    exif.pop(GPS_IFD, None)
    for ifd in (exif, sub):
        for tag in DEVICE_TAGS:
            ifd.pop(tag, None)
    try:
        written = exif.tobytes()
    except Exception:
        return None, ["EXIF"]
    return (written if headed else written[len(EXIF_HEADER) :]), removed


def xmp_identifies(packet: bytes) -> bool:
    """Whether an XMP packet names a place or a device (or cannot be read to tell)."""
    try:
        root = SafeElementTree.fromstring(packet.strip(b"\x00 \r\n\t"))
    except Exception:  # defusedxml refuses entities with its own errors
        return True
    for element in root.iter():
        for name in (element.tag, *element.attrib):
            if not isinstance(name, str) or not name.startswith("{"):
                continue
            namespace, _, local = name[1:].partition("}")
            if local in XMP_IDENTIFYING.get(namespace, ()) or XMP_IDENTIFYING_NAME.search(local):
                return True
    return False


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The segments before the first scan as (marker, payload), and where the scan starts."""
    if data[:2] != b"\xff\xd8":
        raise MetadataError("not a JPEG")
    segments: list[tuple[int, bytes]] = []
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise MetadataError("broken JPEG segment")
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker == 0xDA:
            return segments, position
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            segments.append((marker, b""))
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if length < 2 or position + 2 + length > len(data):
            raise MetadataError("JPEG segment runs past the file")
        segments.append((marker, data[position + 4 : position + 2 + length]))
        position += 2 + length
    raise MetadataError("JPEG without image data")


def _strip_jpeg(data: bytes) -> tuple[list[Piece], list[str]]:
    segments, scan = _jpeg_segments(data)
    removed: list[str] = []
    xmp_dropped = any(
        marker == 0xE1 and payload.startswith(XMP_ID) and xmp_identifies(payload[len(XMP_ID) :])
        for marker, payload in segments
    )
    extended = b"".join(
        payload[75:] for marker, payload in segments
        if marker == 0xE1 and payload.startswith(XMP_EXTENSION_ID)
    )  # fmt: skip
    xmp_dropped = xmp_dropped or bool(extended and xmp_identifies(extended))
    # The scans on, as a view: a 12-megapixel photo is copied once, into the result.
    tail = memoryview(data)[scan:]
    end = data.find(b"\xff\xd9", scan)
    # Phones append further pictures (depth maps, previews) after the first one ends, each
    # with its own EXIF; the multi-picture index (APP2 MPF) points at them.
    drop_trailing = end >= 0 and (
        data.find(EXIF_HEADER, end + 2) >= 0 or data.find(XMP_ID, end + 2) >= 0
    )
    if drop_trailing:
        tail, removed = tail[: end + 2 - scan], ["embedded pictures"]
    kept: list[bytes] = []
    for marker, payload in segments:
        if marker == 0xE1 and payload.startswith(EXIF_HEADER):
            stripped, names = strip_exif(payload)
            removed += names
            payload = stripped if stripped is not None else b""
            if not payload:
                continue
        elif marker == 0xE1 and payload.startswith((XMP_ID, XMP_EXTENSION_ID)) and xmp_dropped:
            removed.append("XMP")
            continue
        elif marker == 0xE2 and payload.startswith(b"MPF\x00") and drop_trailing:
            continue
        standalone = marker == 0x01 or 0xD0 <= marker <= 0xD7
        kept.append(bytes([0xFF, marker]) + (b"" if standalone else _jpeg_length(payload)))
        kept.append(payload)
    return [b"\xff\xd8", *kept, tail], removed


def _jpeg_length(payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise MetadataError("JPEG segment too long")
    return struct.pack(">H", len(payload) + 2)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_text_identifies(kind: bytes, body: bytes) -> bool:
    keyword, _, rest = body.partition(b"\x00")
    if kind == b"iTXt" and keyword == PNG_XMP_KEYWORD:
        compressed, _method, rest = rest[0], rest[1], rest[2:]
        _language, _, rest = rest.partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        return xmp_identifies(zlib.decompress(text) if compressed else text)
    return bool(PNG_IDENTIFYING_KEYWORD.search(keyword))


def _strip_png(data: bytes) -> tuple[list[Piece], list[str]]:
    if not data.startswith(PNG_SIGNATURE):
        raise MetadataError("not a PNG")
    # Chunks as views of `data`: the picture is copied once, into the result.
    view = memoryview(data)
    parts: list[Piece] = [PNG_SIGNATURE]
    removed: list[str] = []
    position = len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        body = bytes(view[position + 8 : position + 8 + length]) if kind != b"IDAT" else b""
        chunk: Piece = view[position:end]
        position = end
        if kind == b"eXIf":
            stripped, names = strip_exif(body)
            removed += names
            if stripped is None:
                continue
            chunk = _png_chunk(kind, stripped) if names else chunk
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and _png_text_identifies(kind, body):
            keyword = body.partition(b"\x00")[0].decode("latin-1")
            removed.append("XMP" if keyword == PNG_XMP_KEYWORD.decode() else f"PNG text {keyword}")
            continue
        parts.append(chunk)
        if kind == b"IEND":
            break
    return [*parts, view[position:]], removed


def _strip_webp(data: bytes) -> tuple[bytes, list[str]]:
    riff, size, webp = struct.unpack("<4sI4s", data[:12])
    if riff != b"RIFF" or webp != b"WEBP":
        raise MetadataError("not a WebP")
    chunks: list[tuple[bytes, bytes]] = []
    removed: list[str] = []
    position = 12
    while position + 8 <= min(len(data), 8 + size):
        kind, length = struct.unpack("<4sI", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 8 + length + length % 2
        if kind == b"EXIF":
            stripped, names = strip_exif(body)
            removed += names
            if stripped is None:
                continue
            body = stripped
        elif kind == b"XMP " and xmp_identifies(body):
            removed.append("XMP")
            continue
        chunks.append((kind, body))
    if not removed:
        return data, []
    kinds = {kind for kind, _ in chunks}
    out = bytearray()
    for kind, body in chunks:
        if kind == b"VP8X":  # its flags say whether EXIF (0x08) and XMP (0x04) follow
            flags = body[0]
            flags &= ~0x08 if b"EXIF" not in kinds else 0xFF
            flags &= ~0x04 if b"XMP " not in kinds else 0xFF
            body = bytes([flags]) + body[1:]
        out += struct.pack("<4sI", kind, len(body)) + body + b"\x00" * (len(body) % 2)
    return b"RIFF" + struct.pack("<I", len(out) + 4) + b"WEBP" + bytes(out), removed


def _strip_heic(data: bytes) -> tuple[bytes, list[str]]:
    """In place, each block padded to its old length, so no offset in the file moves."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    try:
        with Image.open(BytesIO(data), formats=["HEIF"]) as image:
            info = dict(image.info)
    except Exception as broken:  # libheif's errors have no common type
        raise MetadataError("unreadable HEIC") from broken
    copy, removed = data, []
    exif, xmp = info.get("exif"), info.get("xmp")
    if isinstance(exif, bytes) and exif:
        # libheif hands the EXIF over with its orientation already applied (set to 1), so
        # the block is found by its header and read from the file itself.
        at = _find_once(copy, exif[: len(EXIF_HEADER) + 8])
        stored = copy[at : at + len(exif)]
        stripped, names = strip_exif(stored)
        if names:
            replacement = stripped if stripped is not None and len(stripped) <= len(exif) else b""
            copy = copy[:at] + replacement.ljust(len(stored), b"\x00") + copy[at + len(stored) :]
            removed += names
    if isinstance(xmp, bytes) and xmp and xmp_identifies(xmp):
        if len(xmp) < len(EMPTY_XMP) + len(XMP_END):
            raise MetadataError("XMP too short to blank in place")
        blank = EMPTY_XMP.ljust(len(xmp) - len(XMP_END), b" ") + XMP_END
        copy = _replace_once(copy, xmp, blank)
        removed.append("XMP")
    return copy, removed


def _find_once(data: bytes, block: bytes) -> int:
    at = data.find(block)
    if at < 0 or data.find(block, at + 1) >= 0:
        raise MetadataError("metadata block not found once in the file")
    return at


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    at = _find_once(data, old)
    return data[:at] + new + data[at + len(old) :]
