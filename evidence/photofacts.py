"""What a photo's own bytes say about where it came from, and hashes to find its near copies.

Facts, never verdicts: each fact says what is written in the file and where it was found.
Labels can be forged, and stripping them takes one re-save, so a label proves little and
its absence proves nothing. C2PA signatures are not verified here; a manifest is reported
as present, not as genuine.
"""

from __future__ import annotations

import contextlib
import html
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, TypeVar

import defusedxml.ElementTree as SafeElementTree  # type: ignore[import-untyped]
import imagehash
from PIL import Image

from evidence.metadata import XMP_EXTENSION_ID, XMP_ID

if TYPE_CHECKING:
    from pathlib import Path
    from xml.etree.ElementTree import Element

Fact = dict[str, Any]
K = TypeVar("K")

# Bits apart that still count as the same picture. Measured on real and drawn photos: a
# copy re-saved at q60 or halved moves 0 to 2 bits, one cropped by 5% mostly 4 to 10 and
# at worst 16; unrelated photos were 18 or more apart, chats about different things 24 or
# more. Screenshots of one app screen can be closer than that whatever they show.
NEAR = 12

MAX_PARTS = 100_000  # segments, chunks or boxes walked in one file
MAX_TEXT = 1024 * 1024  # one XMP packet, EXIF block or text chunk
MAX_MANIFEST = 8 * 1024 * 1024  # one C2PA manifest store
MAX_KEPT = 32 * 1024 * 1024  # everything kept from one file
MAX_FACTS = 50
MAX_SCAN = 64 * 1024  # of one text value searched for labels

C2PA_BMFF_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
PREFIXES = {
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://www.tc260.org.cn/ns/AIGC/1.0/": "TC260",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
}
XMP_SOFTWARE = {"xmp:CreatorTool", "stEvt:softwareAgent", "photoshop:History"}
XMP_AI_PROPERTIES = {"Iptc4xmpExt:AISystemUsed", "Iptc4xmpExt:AIPromptInformation"}
AI_SOURCE_TYPES = {
    "trainedalgorithmicmedia",
    "compositewithtrainedalgorithmicmedia",
    "algorithmicmedia",
}
EXIF_SOFTWARE = ((0x0131, "Software"), (0x000B, "ProcessingSoftware"))
EXIF_TEXT = (
    (0x010E, "ImageDescription"), (0x010F, "Make"), (0x0110, "Model"), (0x0131, "Software"),
    (0x000B, "ProcessingSoftware"), (0x013B, "Artist"), (0x8298, "Copyright"),
    (0x9C9B, "XPTitle"), (0x9C9C, "XPComment"), (0x9C9E, "XPKeywords"), (0x9C9F, "XPSubject"),
)  # fmt: skip
IPTC_TEXT = {
    (2, 25): "Keywords", (2, 80): "By-line", (2, 105): "Headline", (2, 110): "Credit",
    (2, 115): "Source", (2, 120): "Caption-Abstract",
}  # fmt: skip
# Text chunks that image generators write under their own names (Stable Diffusion web UIs,
# InvokeAI); ComfyUI's "prompt" and "workflow" count only when they hold its JSON.
GENERATOR_CHUNKS = {"parameters", "invokeai_metadata", "invokeai_graph", "sd-metadata", "Dream"}
# Generator names and labels as written in free text. Names that are also ordinary words
# (Imagen, Gemini, 豆包, 可灵) are left out: a description of a bun is not a label.
GENERATOR_TEXT = re.compile(
    r"(?i)\b(?:dall[-·‧ ]?e|midjourney|firefly|stable[ _-]?diffusion|sdxl|comfyui|automatic1111"
    r"|invokeai|novelai|leonardo\.ai|ideogram|flux\.1|gpt-image-\d"
    r"|ai[ -]generated|generated (?:by|with) ai|made with ai|aigc)\b"
    r"|人工智能生成|人工智能合成|AI生成|AI合成|通义万相|文心一格|即梦"
    r"|\bSteps: \d+, Sampler: |^(?:prompt|workflow):\s*\{"
)
XMP_ATTRIBUTE = re.compile(r'([\w.-]+:[\w.-]+)\s*=\s*"([^"]*)"')
XMP_ELEMENT = re.compile(r"<([\w.-]+:[\w.-]+)(?:\s[^>]*)?>([^<]+)</\1>")
SOURCE_TYPE_IN_MANIFEST = re.compile(
    rb"(?:https?://cv\.iptc\.org/newscodes/)?digitalsourcetype/(\w+)", re.IGNORECASE
)


class _Damage(ValueError):
    """The container is broken here; its message is safe to show."""


@dataclass
class _Walk:
    """Metadata blocks as cut from the container, before any of them is read."""

    blocks: list[tuple[str, bytes, str]] = field(default_factory=list)  # kind, data, where
    jumbf: dict[int, list[bytes]] = field(default_factory=dict)  # APP11 pieces by box
    extended_xmp: dict[int, bytes] = field(default_factory=dict)  # pieces by offset
    kept: int = 0
    stopped: str = ""

    def keep(self, kind: str, data: bytes, where: str) -> None:
        self.kept += len(data)
        if self.kept > MAX_KEPT:
            raise _Damage("more metadata than the cap")
        self.blocks.append((kind, data, where))


@dataclass
class _Findings:
    facts: list[Fact] = field(default_factory=list)
    present: dict[str, list[str]] = field(default_factory=dict)  # block kind -> where
    camera: dict[str, str] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)

    def add(self, code: str, params: dict[str, Any], how: str) -> None:
        fact = {"code": code, "params": params, "how": how}
        if fact not in self.facts and len(self.facts) < MAX_FACTS:
            self.facts.append(fact)

    def saw(self, kind: str, where: str) -> None:
        wheres = self.present.setdefault(kind, [])
        if where not in wheres:
            wheres.append(where)


def facts(path: Path, media_type: str) -> list[Fact]:
    """Neutral facts about an original upload's metadata; a damaged file gives what was read."""
    walker = WALKERS.get(media_type)
    if walker is None:
        return []
    walk = _Walk()
    with path.open("rb") as file:
        try:
            walker(file, walk)
        except Exception as error:  # damage ends the walk; what came before it still counts
            reason = str(error) if isinstance(error, _Damage) else type(error).__name__
            walk.stopped = f"reading stopped at byte {file.tell()} ({reason})"
    _assemble_jpeg_pieces(walk)
    found = _Findings()
    for kind, data, where in walk.blocks:
        try:
            READERS[kind](data, where, found)
        except Exception:  # one damaged block says nothing; the others still count
            found.unreadable.append(where)
    return [_presence(found, media_type, walk.stopped), *found.facts]


def perceptual_hash(picture: Image.Image) -> str:
    """The 64-bit DCT hash of an upright picture, as 16 hex digits."""
    return str(imagehash.phash(picture))


def hash_distance(a: str, b: str) -> int:
    """How many of the bits of two hex hashes differ."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_copies(
    target: str, candidates: Iterable[tuple[K, str]], limit: int = 10
) -> list[tuple[K, int]]:
    """The candidates within NEAR of the target hash, nearest first."""
    near = [(key, hash_distance(target, value)) for key, value in candidates]
    return sorted((pair for pair in near if pair[1] <= NEAR), key=lambda pair: pair[1])[:limit]


# Walking containers: cut metadata blocks out, skip the picture data, stop at damage.


def _exact(file: IO[bytes], size: int) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise _Damage("file ends inside a block")
    return data


def _walk_jpeg(file: IO[bytes], walk: _Walk) -> None:
    if file.read(2) != b"\xff\xd8":
        raise _Damage("no JPEG start marker")
    for _ in range(MAX_PARTS):
        marker = _exact(file, 2)
        while marker == b"\xff\xff":  # fill bytes before a marker
            marker = b"\xff" + _exact(file, 1)
        if marker[0] != 0xFF:
            raise _Damage("segment marker expected")
        code = marker[1]
        if code in (0xD9, 0xDA):  # metadata comes before the scan; the rest is picture
            return
        if code == 0x01 or 0xD0 <= code <= 0xD7:
            continue
        (length,) = struct.unpack(">H", _exact(file, 2))
        if length < 2:
            raise _Damage("segment shorter than its length field")
        if 0xE0 <= code <= 0xEF or code == 0xFE:
            _jpeg_segment(code, _exact(file, length - 2), walk)
        else:
            file.seek(length - 2, 1)


def _jpeg_segment(code: int, payload: bytes, walk: _Walk) -> None:
    if code == 0xE1 and payload.startswith(b"Exif\x00\x00"):
        walk.keep("exif", payload, "JPEG APP1 Exif")
    elif code == 0xE1 and payload.startswith(XMP_ID):
        walk.keep("xmp", payload[len(XMP_ID) :], "JPEG APP1 XMP")
    elif code == 0xE1 and payload.startswith(XMP_EXTENSION_ID) and len(payload) > 75:
        (offset,) = struct.unpack(">I", payload[71:75])  # after the GUID and the full length
        walk.extended_xmp[offset] = payload[75:]
    elif code == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"):
        walk.keep("icc", b"", "JPEG APP2 ICC_PROFILE")
    elif code == 0xED and payload.startswith(b"Photoshop 3.0\x00"):
        walk.keep("8bim", payload[14:], "JPEG APP13 Photoshop IPTC-NAA")
    elif code == 0xEB and payload.startswith(b"JP") and len(payload) > 16:
        instance, sequence = struct.unpack(">HI", payload[2:8])
        # Every packet after the first repeats the box header (LBox, TBox) before its data.
        walk.jumbf.setdefault(instance, []).append(payload[8:] if sequence <= 1 else payload[16:])
    elif code == 0xFE:
        walk.keep("comment", payload, "JPEG COM segment")


def _assemble_jpeg_pieces(walk: _Walk) -> None:
    if walk.extended_xmp:
        whole = b"".join(walk.extended_xmp[offset] for offset in sorted(walk.extended_xmp))
        walk.blocks.append(("xmp", whole[:MAX_TEXT], "JPEG APP1 extended XMP"))
    for pieces in walk.jumbf.values():
        box = b"".join(pieces)[:MAX_MANIFEST]
        # A JUMBF superbox: LBox, "jumb", then its description box: LBox, "jumd", a 16-byte
        # type, a toggles byte and the label, ended by NUL.
        if box[4:8] == b"jumb" and box[12:16] == b"jumd" and box[33:38] == b"c2pa\x00":
            walk.blocks.append(("c2pa", box, "JUMBF box labelled c2pa in APP11"))


def _walk_png(file: IO[bytes], walk: _Walk) -> None:
    if file.read(8) != b"\x89PNG\r\n\x1a\n":
        raise _Damage("no PNG signature")
    for _ in range(MAX_PARTS):
        length, kind = struct.unpack(">I4s", _exact(file, 8))
        if kind == b"IEND":
            return
        if kind in (b"tEXt", b"zTXt", b"iTXt", b"eXIf") and length <= MAX_TEXT:
            where = "PNG eXIf chunk" if kind == b"eXIf" else f"PNG {kind.decode()} chunk"
            walk.keep("exif" if kind == b"eXIf" else "png-text", _exact(file, length), where)
        elif kind == b"caBX" and length <= MAX_MANIFEST:
            walk.keep("c2pa", _exact(file, length), "PNG caBX chunk")
        else:
            if kind == b"iCCP":
                walk.keep("icc", b"", "PNG iCCP chunk")
            file.seek(length, 1)
        _exact(file, 4)  # the CRC, read so that a file cut short is noticed


def _walk_webp(file: IO[bytes], walk: _Walk) -> None:
    riff, size, webp = struct.unpack("<4sI4s", _exact(file, 12))
    if riff != b"RIFF" or webp != b"WEBP":
        raise _Damage("no WebP header")
    known = {b"EXIF": "exif", b"XMP ": "xmp", b"C2PA": "c2pa"}
    for _ in range(MAX_PARTS):
        if file.tell() >= 8 + size:
            return
        kind, length = struct.unpack("<4sI", _exact(file, 8))
        cap = MAX_MANIFEST if kind == b"C2PA" else MAX_TEXT
        if kind in known and length <= cap:
            walk.keep(known[kind], _exact(file, length), f"WebP {kind.decode().strip()} chunk")
            file.seek(length % 2, 1)
        else:
            if kind == b"ICCP":
                walk.keep("icc", b"", "WebP ICCP chunk")
            file.seek(length + length % 2, 1)


def _walk_heic(file: IO[bytes], walk: _Walk) -> None:
    for _ in range(MAX_PARTS):  # top-level ISO BMFF boxes, for a C2PA manifest
        header = file.read(8)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header)
        start = 8
        if size == 1:  # a 64-bit size follows the type
            size, start = int.from_bytes(_exact(file, 8), "big"), 16
        if size == 0:  # the box runs to the end of the file
            break
        if size < start:
            raise _Damage("box shorter than its header")
        if kind == b"uuid" and size - start <= MAX_MANIFEST:
            body = _exact(file, size - start)
            if body[:16] == C2PA_BMFF_UUID:
                walk.keep("c2pa", body[16:], "ISO BMFF uuid box for C2PA")
        else:
            file.seek(size - start, 1)
    from pillow_heif import register_heif_opener

    register_heif_opener()
    file.seek(0)
    with Image.open(file, formats=["HEIF"]) as image:
        info = dict(image.info)
    for key, kind, where in (("exif", "exif", "HEIF Exif item"), ("xmp", "xmp", "HEIF XMP item")):
        if isinstance(info.get(key), bytes):
            walk.keep(kind, info[key][:MAX_TEXT], where)
    if info.get("icc_profile"):
        walk.keep("icc", b"", "HEIF ICC profile")


WALKERS: dict[str, Callable[[IO[bytes], _Walk], None]] = {
    "image/jpeg": _walk_jpeg,
    "image/png": _walk_png,
    "image/webp": _walk_webp,
    "image/heic": _walk_heic,
    "image/heif": _walk_heic,
}


# Reading blocks: each adds what it says to the findings, and may fail alone.


def _read_exif(data: bytes, where: str, found: _Findings) -> None:
    found.saw("exif", where)
    exif = Image.Exif()
    exif.load(data[:MAX_TEXT])
    for tag, name in EXIF_SOFTWARE:
        if software := _exif_text(exif.get(tag), tag):
            found.add("editing_software", {"software": _trim(software)}, _tag(tag, name, where))
    for key, tag in (("make", 0x010F), ("model", 0x0110)):
        if value := _exif_text(exif.get(tag), tag):
            found.camera.setdefault(key, _trim(value))
    values = [(tag, name, exif.get(tag)) for tag, name in EXIF_TEXT]
    details = exif.get_ifd(0x8769)
    if taken := _exif_text(details.get(0x9003), 0x9003):
        found.camera.setdefault("date_time_original", _trim(taken))
    values.append((0x9286, "UserComment", details.get(0x9286)))
    for tag, name, raw in values:
        if label := _generator_label(_exif_text(raw, tag)):
            found.add("ai_label", {"label": label}, _tag(tag, name, where))
    gps = exif.get_ifd(0x8825)
    if 2 in gps or 4 in gps:  # a latitude or a longitude
        found.saw("gps", where)


def _tag(tag: int, name: str, where: str) -> str:
    return f"EXIF tag 0x{tag:04X} {name} ({where})"


def _exif_text(value: object, tag: int) -> str:
    if isinstance(value, tuple) and all(isinstance(item, int) for item in value):
        value = bytes(value)
    if isinstance(value, str):  # Pillow reads ASCII tags as Latin-1; phones write UTF-8
        with contextlib.suppress(UnicodeError):
            value = value.encode("latin-1").decode("utf-8")
        return value.strip("\x00 \t\r\n")
    if not isinstance(value, bytes):
        return ""
    if 0x9C9B <= tag <= 0x9C9F:  # Windows XP tags: UTF-16LE
        return value.decode("utf-16-le", "replace").strip("\x00 \t\r\n")
    charset, body = value[:8], value[8:]  # UserComment: an 8-byte charset, then the text
    if charset.startswith(b"UNICODE"):
        big = body[0:200:2].count(0) >= body[1:200:2].count(0)  # ASCII text in UTF-16BE
        return body.decode("utf-16-be" if big else "utf-16-le", "replace").strip("\x00 \t\r\n")
    return body.decode("utf-8", "replace").strip("\x00 \t\r\n")


def _read_xmp(data: bytes, where: str, found: _Findings) -> None:
    found.saw("xmp", where)
    for top, name, value in _xmp_values(data[:MAX_TEXT]):
        how = f"XMP {top}" if top == name else f"XMP {top} {name}"
        how = f"{how} ({where})"
        if name in XMP_SOFTWARE:
            found.add("editing_software", {"software": _trim(value)}, how)
        if name.endswith(":DigitalSourceType"):
            if value.strip().rsplit("/", 1)[-1].lower() in AI_SOURCE_TYPES:
                found.add("ai_label", {"label": _trim(value)}, how)
        elif name in XMP_AI_PROPERTIES or name.endswith(":AIGC"):  # TC260:AIGC, GB 45438-2025
            found.add("ai_label", {"label": _trim(value)}, how)
        elif label := _generator_label(value):
            found.add("ai_label", {"label": label}, how)


def _xmp_values(packet: bytes) -> Iterator[tuple[str, str, str]]:
    """(top-level property, property, value) for every value in an XMP packet."""
    try:
        root = SafeElementTree.fromstring(packet.strip(b"\x00 \t\r\n"), forbid_dtd=True)
    except (SyntaxError, ValueError):  # damaged, or with a DTD: read the names by pattern
        text = packet.decode("utf-8", "replace")
        for match in [*XMP_ATTRIBUTE.finditer(text), *XMP_ELEMENT.finditer(text)]:
            if not match[1].startswith(("xmlns:", "rdf:", "x:")):
                yield match[1], match[1], html.unescape(match[2])
        return
    rdf = root if root.tag == f"{RDF}RDF" else root.find(f"{RDF}RDF")
    for description in rdf if rdf is not None else [root]:
        yield from _xmp_element(description, "", 0)


def _xmp_element(element: Element, top: str, depth: int) -> Iterator[tuple[str, str, str]]:
    for key, value in element.attrib.items():
        name = _qualified(key)
        if not name.startswith(("rdf:", "xml:")):
            yield top or name, name, value
    children = list(element)
    if top and not children:
        value = (element.text or "").strip() or element.attrib.get(f"{RDF}resource", "")
        name = _qualified(element.tag)
        if value:
            yield top, top if name.startswith("rdf:") else name, value
    for child in children if depth < 16 else []:
        yield from _xmp_element(child, top or _qualified(child.tag), depth + 1)


def _qualified(tag: str) -> str:
    uri, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return f"{PREFIXES.get(uri, uri)}:{local}" if uri else local


def _read_8bim(data: bytes, where: str, found: _Findings) -> None:
    if data[:1] == b"\x1c":  # bare IIM records, as some writers put them
        _read_iptc(data, where, found)
    at = 0  # Photoshop image resources: "8BIM", id, padded Pascal name, size, padded data
    while at + 12 <= len(data) and data[at : at + 4] == b"8BIM":
        (resource,) = struct.unpack(">H", data[at + 4 : at + 6])
        at += 7 + data[at + 6] + (data[at + 6] + 1) % 2
        (size,) = struct.unpack(">I", data[at : at + 4])
        if resource == 0x0404:
            _read_iptc(data[at + 4 : at + 4 + size], where, found)
        at += 4 + size + size % 2


def _read_iptc(data: bytes, where: str, found: _Findings) -> None:
    at = 0  # IIM records: 0x1C, record, dataset, 2-byte length, value
    while at + 5 <= len(data) and data[at] == 0x1C:
        record, dataset, length = data[at + 1], data[at + 2], data[at + 3] << 8 | data[at + 4]
        if length & 0x8000:  # an extended length, never used for text
            break
        found.saw("iptc", where)
        value = data[at + 5 : at + 5 + length].decode("utf-8", "replace")
        if (record, dataset) == (2, 65):
            found.add("editing_software", {"software": _trim(value)}, f"IPTC 2:65 ({where})")
        elif (name := IPTC_TEXT.get((record, dataset))) and (label := _generator_label(value)):
            found.add("ai_label", {"label": label}, f"IPTC {record}:{dataset} {name} ({where})")
        at += 5 + length


def _read_png_text(data: bytes, where: str, found: _Findings) -> None:
    keyword, _, rest = data.partition(b"\x00")
    key = keyword.decode("latin-1")
    if where.startswith("PNG iTXt"):
        compressed, rest = rest[:1] == b"\x01", rest[2:]
        rest = rest.split(b"\x00", 2)[-1]  # after the language tag and the translated keyword
        text = (_inflate(rest) if compressed else rest).decode("utf-8", "replace")
    else:
        text = _decode(_inflate(rest[1:]) if where.startswith("PNG zTXt") else rest)
    chunk = f"PNG text chunk '{key}'"
    if key == "XML:com.adobe.xmp":
        _read_xmp(text.encode(), chunk, found)
    elif key.startswith("Raw profile type "):  # ImageMagick: a name, a length, then hex
        name, _, hexdigits = text.strip().partition("\n")
        raw = bytes.fromhex(hexdigits.partition("\n")[2].replace("\n", ""))
        kind = {"exif": "exif", "app1": "exif", "iptc": "8bim", "8bim": "8bim", "xmp": "xmp"}
        kind |= {"icc": "icc", "icm": "icc"}
        reader = READERS.get(kind.get(name.strip().lower(), ""))
        if reader is None:
            found.saw("text", chunk)
        else:
            reader(raw, chunk, found)
    else:
        _read_text(key, text, chunk, found)


def _read_text(key: str, text: str, where: str, found: _Findings) -> None:
    found.saw("text", where)
    if key == "Software":
        found.add("editing_software", {"software": _trim(text)}, where)
    generator_json = key in ("prompt", "workflow") and text.lstrip().startswith("{")
    label = _generator_label(text)
    if key in GENERATOR_CHUNKS or generator_json:
        found.add("ai_label", {"label": label or _trim(text)}, where)
    elif label:
        found.add("ai_label", {"label": label}, where)


def _read_c2pa(data: bytes, where: str, found: _Findings) -> None:
    found.saw("c2pa", where)
    how = f"C2PA manifest ({where})"
    generator = _claim_generator(data)
    found.add("content_credentials", {"claim_generator": generator} if generator else {}, how)
    for match in SOURCE_TYPE_IN_MANIFEST.finditer(data):
        if match[1].decode().lower() in AI_SOURCE_TYPES:
            label = match[0].decode()
            found.add("ai_label", {"label": label}, f"C2PA manifest digitalSourceType ({where})")


def _claim_generator(manifest: bytes) -> str | None:
    """The active (last) claim's generator, read from its CBOR text string."""
    at = manifest.rfind(b"\x6fclaim_generator")  # CBOR: a text of 15 bytes
    if at >= 0:
        return _cbor_text(manifest, at + 16)
    at = manifest.rfind(b"\x74claim_generator_info")  # C2PA 2: a list of maps with "name"
    name = manifest.find(b"\x64name", at, at + 48) if at >= 0 else -1
    return _cbor_text(manifest, name + 5) if name >= 0 else None


def _cbor_text(data: bytes, at: int) -> str | None:
    head = data[at] if at < len(data) else 0
    if 0x60 <= head <= 0x77:
        length, at = head - 0x60, at + 1
    elif head == 0x78 and at + 1 < len(data):
        length, at = data[at + 1], at + 2
    else:
        return None
    return _trim(data[at : at + length].decode("utf-8", "replace")) or None


def _read_icc(data: bytes, where: str, found: _Findings) -> None:
    found.saw("icc", where)


def _read_comment(data: bytes, where: str, found: _Findings) -> None:
    _read_text("Comment", _decode(data), where, found)


READERS: dict[str, Callable[[bytes, str, _Findings], None]] = {
    "exif": _read_exif,
    "xmp": _read_xmp,
    "8bim": _read_8bim,
    "png-text": _read_png_text,
    "comment": _read_comment,
    "c2pa": _read_c2pa,
    "icc": _read_icc,
}


def _presence(found: _Findings, media_type: str, stopped: str) -> Fact:
    kinds = ("exif", "gps", "xmp", "iptc", "icc", "text", "c2pa")
    blocks = [kind for kind in kinds if kind in found.present]
    if {"exif", "xmp", "iptc", "text", "c2pa"} & set(blocks):
        code, params = "metadata_present", {"blocks": blocks, **found.camera}
        how = "; ".join(dict.fromkeys(where for kind in blocks for where in found.present[kind]))
    else:
        code, params = "metadata_absent", {"blocks": blocks}
        container = media_type.removeprefix("image/").upper()
        how = f"no EXIF, XMP, IPTC, text or C2PA block in the {container} structure"
    if found.unreadable:
        how += f"; unreadable: {', '.join(dict.fromkeys(found.unreadable))}"
    if stopped:
        how += f"; {stopped}"
    return {"code": code, "params": params, "how": how}


def _generator_label(text: str) -> str | None:
    match = GENERATOR_TEXT.search(text[:MAX_SCAN]) if text else None
    if match is None:
        return None
    return _trim(text if len(text) <= 100 else text[match.start() :])


def _trim(text: str) -> str:
    return " ".join(text.split())[:100]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _inflate(data: bytes) -> bytes:
    return zlib.decompressobj().decompress(data, MAX_TEXT)
