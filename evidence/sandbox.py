"""The child process that decodes an untrusted file, under memory, CPU and time limits.

Run as ``python -m evidence.sandbox``: reads one JSON job on stdin, writes derived files
into the job's folder and one JSON result on stdout. A crafted file can crash or hang
only this process; the parent reads a missing or broken answer as a refusal.
"""

from __future__ import annotations

import json
import sys
import threading
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from evidence.errors import RejectedUpload


def N_(message: str) -> str:
    """Mark a message for translation (evidence.tables.N_, here so that a picture's child
    starts without the table readers' imports)."""
    return message


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
    copy = _copy_jpeg_scans if normalized.suffix == ".jpg" else _copy_png_pixels
    if original is not None and copy(original, normalized):
        try:
            _verify_clean(normalized)
            return
        except RejectedUpload:  # a segment the copy kept still says too much: encode instead
            normalized.unlink()
    _encode(clean, normalized)
    _verify_clean(normalized)


# Segments a JPEG needs to be decoded as it was: the rest (APP1-APP13, APP15, comments) is
# metadata. APP14 (Adobe) stays: it says whether the three components are RGB or YCbCr.
_JPEG_METADATA = frozenset({*range(0xE1, 0xEE), 0xEF, 0xFE})


def _copy_jpeg_scans(source: Path, target: Path) -> bool:
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


_PNG = b"\x89PNG\r\n\x1a\n"


def _copy_png_pixels(source: Path, target: Path) -> bool:
    """Write `source` with its IHDR, IDAT and IEND chunks alone, if it is an 8-bit RGB,
    non-interlaced PNG whose IDAT inflates to exactly its rows and whose every chunk passes
    its CRC; False (nothing written) for any other file, which is then re-encoded.

    Dropping the ancillary chunks removes what re-encoding removes (text, EXIF, XMP, ICC,
    times) at a fraction of the cost: the pixels were decoded above, so they are sound.
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
        if end > len(data) or zlib.crc32(kind + body) != int.from_bytes(data[end - 4 : end], "big"):
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
    stream, rows = b"".join(chunks[b"IDAT"]), height * (1 + 3 * width)
    inflater = zlib.decompressobj()
    pixels = inflater.decompress(stream, rows + 1)
    if len(pixels) != rows or not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        return False
    with target.open("wb") as written:
        written.write(_PNG)
        for kind, body in ((b"IHDR", header), (b"IDAT", stream), (b"IEND", b"")):
            written.write(len(body).to_bytes(4, "big") + kind + body)
            written.write(zlib.crc32(kind + body).to_bytes(4, "big"))
    return True


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


def inspect_pdf(path: Path, out: Path, limits: dict[str, Any]) -> dict[str, Any]:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    with path.open("rb") as handle:
        if not handle.read(5) == b"%PDF-":
            raise RejectedUpload("malformed_pdf", N_("The PDF file is damaged."))
    try:
        # No stream is longer than the file that holds it.
        with apply_configuration(maximum_declared_stream_length=path.stat().st_size):
            pages = _read_pdf(PdfReader(path, strict=False), limits)
    except RejectedUpload:
        raise
    except FileNotDecryptedError:
        raise RejectedUpload(
            "encrypted", N_("The PDF is password-protected; upload a copy without a password.")
        ) from None
    except LimitReachedError as error:
        if "declared stream length" in str(error).lower():
            raise RejectedUpload(
                "pdf_stream_too_large",
                N_("A part of the PDF claims to be longer than the whole file; the file is "
                   "damaged or crafted. Print it to a new PDF and upload that."),
            ) from None  # fmt: skip
        raise RejectedUpload(
            "pdf_too_complex",
            N_("The PDF is too complex to be processed safely; print it to a new PDF first."),
        ) from None
    except (PyPdfError, DependencyError, RecursionError, ValueError, KeyError, TypeError,
            AttributeError, IndexError, zlib.error, MemoryError, OSError):  # fmt: skip
        raise RejectedUpload("malformed_pdf", N_("The PDF file is damaged.")) from None
    return {"pages": pages, "derived": {}}


def _read_pdf(reader: Any, limits: dict[str, Any]) -> int:
    """The page count, once the page tree, the catalog and every stream drawn pass."""
    from pypdf.generic import DictionaryObject

    from evidence.pdfstreams import StreamBudget, check_streams

    if reader.is_encrypted:
        raise RejectedUpload(
            "encrypted", N_("The PDF is password-protected; upload a copy without a password.")
        )
    pages = len(reader.pages)
    if pages > limits["max_pages"]:
        raise RejectedUpload(
            "too_many_pages", N_("The PDF has %(pages)d pages; the limit is %(max)d."),
            pages=pages, max=limits["max_pages"],
        )  # fmt: skip
    for page in reader.pages:
        page.mediabox  # noqa: B018 (touch every page object so broken trees fail here)
    root = cast(DictionaryObject, reader.trailer["/Root"].get_object())
    names = cast(DictionaryObject, root.get("/Names", DictionaryObject()))
    if "/OpenAction" in root or "/AA" in root or "/JavaScript" in names:
        raise RejectedUpload(
            "active_content",
            N_("The PDF contains scripts or automatic actions; print it to a new PDF first."),
        )
    check_streams(
        reader,
        StreamBudget(
            content_bytes=limits["pdf_content_bytes"], stream_bytes=limits["pdf_stream_bytes"],
            max_pixels=limits["max_pixels"], seconds=limits["pdf_seconds"],
        ),
    )  # fmt: skip
    return pages


def inspect_table(path: Path, out: Path, limits: dict[str, int]) -> dict[str, Any]:
    from evidence.tables import TableLimits, read_table

    table = read_table(path, TableLimits(max_bytes=limits["max_bytes"]))
    (out / "table.json").write_text(
        json.dumps({"header": table.header, "rows": table.rows[:5000]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return {"rows": len(table.rows), "derived": {"table": "table.json"}}


def inspect_text(path: Path, out: Path, limits: dict[str, int]) -> dict[str, Any]:
    from evidence.tables import decode_text

    text = decode_text(path.read_bytes())
    lines = text.splitlines()
    if len(lines) > limits["max_lines"]:
        raise RejectedUpload(
            "too_many_rows", N_("The file has more than %(max)d rows."), max=limits["max_lines"]
        )
    if any(len(line) > 20_000 for line in lines):
        raise RejectedUpload(
            "cell_too_long", N_("A line is longer than %(max)d characters."), max=20_000
        )
    (out / "text.txt").write_text("\n".join(lines), encoding="utf-8")
    return {"rows": len(lines), "derived": {"text": "text.txt"}}


# Reading text (evidence.ocr) runs here too, after intake, under its own budget: pages of a
# PDF are read when they carry no text of their own (scans), up to READ_PAGES of them.
READ_PAGES = 20
SCANNED_TEXT = 20  # fewer extractable characters than this: the page is a picture


def read_file(job: dict[str, Any]) -> dict[str, Any]:
    """Text with positions of a picture (its normalized copy) or of a PDF's scanned pages."""
    from PIL import Image

    from evidence import ocr

    path, out, media_type, limits = (
        Path(job["path"]),
        Path(job["out"]),
        job["media_type"],
        job["limits"],
    )
    Image.MAX_IMAGE_PIXELS = limits["max_pixels"]
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    pages: list[dict[str, Any]] = []
    answer: dict[str, Any] = {}
    try:
        if media_type == "application/pdf":
            pages = _read_scans(path, limits)
        else:
            with Image.open(path) as picture:
                picture.load()
                lines = ocr.read_picture(picture)
                pages = [ocr.page_json(1, picture, lines)]
                if job.get("time_zone"):
                    answer["chat"] = _chat(picture, lines, job["time_zone"])
                from evidence import photofacts

                answer["phash"] = photofacts.perceptual_hash(picture)
                if job.get("original"):  # the neutral check of a complainant's photo
                    answer["facts"] = photofacts.facts(Path(job["original"]), job["original_type"])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RejectedUpload(
            "too_many_pixels", N_("The image has too many pixels to be read.")
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise RejectedUpload("unreadable", N_("The file could not be read.")) from None
    extra = {name: answer.pop(name) for name in ("facts", "chat") if name in answer}
    reading = ocr.reading_json(pages, **extra)
    (out / "reading.json").write_text(json.dumps(reading, ensure_ascii=False), encoding="utf-8")
    found = sum(len(page["lines"]) for page in pages)
    return {"derived": {"reading": "reading.json"}, "lines": found, **answer}


def _chat(picture: Any, lines: list[Any], time_zone: str) -> list[dict[str, Any]]:
    """The picture read as a chat screenshot: who said what, when (empty: not a chat)."""
    from zoneinfo import ZoneInfo

    from evidence.chatshot import read_chatshot

    return [
        {"line": m.line, "speaker": m.speaker, "text": m.text,
         "at": m.at.isoformat() if m.at else None, "kind": m.kind, "self_side": m.self_side,
         "box": [round(v, 5) for v in m.box]}
        for m in read_chatshot(picture, lines, ZoneInfo(time_zone))
    ]  # fmt: skip


def _read_scans(path: Path, limits: dict[str, int]) -> list[dict[str, Any]]:
    """Pages that are pictures: the largest image of each, read as if it filled the page."""
    from pypdf import PdfReader

    from evidence import ocr

    reader = PdfReader(path, strict=False)
    pages = []
    for number, page in enumerate(reader.pages[:READ_PAGES], start=1):
        if len((page.extract_text() or "").strip()) >= SCANNED_TEXT:
            continue
        pictures = []
        for found in page.images:
            picture = found.image
            if picture is not None and picture.width * picture.height <= limits["max_pixels"]:
                pictures.append(picture)
        if not pictures:
            continue
        picture = max(pictures, key=lambda p: p.width * p.height)
        rotate = int(page.get("/Rotate", 0) or 0) % 360
        if rotate:
            picture = picture.rotate(-rotate, expand=True)
        pages.append(ocr.page_json(number, picture, ocr.read_picture(picture)))
    return pages


def run(job: dict[str, Any]) -> dict[str, Any]:
    if job.get("task") == "read":
        return read_file(job)
    path, out, media_type, limits = (
        Path(job["path"]),
        Path(job["out"]),
        job["media_type"],
        job["limits"],
    )
    if media_type in IMAGE_FORMATS:
        return inspect_image(path, media_type, out, limits)
    if media_type == "application/pdf":
        return inspect_pdf(path, out, limits)
    if media_type == "text/plain":
        return inspect_text(path, out, limits)
    return inspect_table(path, out, limits)


def answer(job: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"ok": True, **run(job)}
    except RejectedUpload as refused:
        return {
            "ok": False,
            "code": refused.code,
            "message": refused.message,
            "params": refused.params,
        }


def limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    """The budget of one decode (evidence.inspect.InspectLimits), set by the child on itself
    before it reads its job, so that no byte of the file is decoded outside it."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# What a forking parent imports once, so that each child starts decoding at once: Pillow's
# common formats and pypdf. Never pillow_heif (a child imports it for a HEIC file alone).
PRELOAD = ("PIL.Image", "PIL.ImageOps", "PIL.PngImagePlugin", "PIL.JpegImagePlugin",
           "PIL.WebPImagePlugin", "pypdf", "evidence.pdfstreams")  # fmt: skip


def serve_forks() -> None:
    """One request per line in, one answer per line out; each request runs in a child forked
    from here, which limits itself before it opens the file and is gone when it answers.

    This process reads no uploaded byte: only the requests' paths and limits. A child that
    crashes, hangs past its wall time or answers nonsense costs only itself.
    """
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(_forked(json.loads(line))) + "\n")
            sys.stdout.flush()


def _forked(request: dict[str, Any]) -> dict[str, Any]:
    """The child's answer, or {"timeout": True} or {"crashed": True}."""
    import os
    import select
    import signal
    import time

    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        status = 1
        try:
            os.close(readable)
            limit_self(request["memory_bytes"], request["cpu_seconds"])
            data = json.dumps(answer(request["job"])).encode()
            while data:
                data = data[os.write(writable, data) :]
            status = 0
        finally:
            os._exit(status)
    os.close(writable)
    deadline = time.monotonic() + request["wall_seconds"]
    chunks: list[bytes] = []
    timed_out = False
    with os.fdopen(readable, "rb", buffering=0) as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([pipe], [], [], left)[0]:
                timed_out = True
                break
            chunk = pipe.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return {"timeout": True}
    try:
        found = json.loads(b"".join(chunks)) if status == 0 else None
    except json.JSONDecodeError:
        found = None
    return found if isinstance(found, dict) else {"crashed": True}


def main() -> None:
    args = sys.argv[1:]
    if args == ["--fork-server"]:
        serve_forks()
        return
    if args[:1] == ["--limits"]:
        memory_bytes, cpu_seconds = (int(value) for value in args[1].split(","))
        limit_self(memory_bytes, cpu_seconds)
        args = args[2:]
    if args == ["--many"]:
        # One job per line in, one answer per line out, flushed as each is done: the parent
        # gives each job its own time and reads progress as it comes.
        for line in sys.stdin:
            if line.strip():
                sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
                sys.stdout.flush()
        return
    sys.stdout.write(json.dumps(answer(json.loads(sys.stdin.read()))))


if __name__ == "__main__":
    main()
