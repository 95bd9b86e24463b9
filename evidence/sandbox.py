"""The child process that decodes an untrusted file, under memory, CPU and time limits.

Run as ``python -m evidence.sandbox``: reads one JSON job on stdin, writes derived files
into the job's folder and one JSON result on stdout. A crafted file can crash or hang
only this process; the parent reads a missing or broken answer as a refusal.
"""

from __future__ import annotations

import json
import sys
import warnings
import zlib
from pathlib import Path
from typing import Any, cast

from evidence.errors import RejectedUpload
from evidence.tables import N_, TableLimits, decode_text, read_table

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
            upright = ImageOps.exif_transpose(image)
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
    # A converted copy with its info emptied is saved with no EXIF, GPS, XMP or ICC data
    # (Pillow writes those only from info or explicit arguments); _verify_clean checks it.
    mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB"
    clean = upright.convert(mode) if upright.mode != mode else upright.copy()
    if mode == "RGBA" and clean.getchannel("A").getextrema() == (255, 255):
        clean = clean.convert("RGB")  # phones save screenshots with an alpha that hides nothing
    clean.info = {}
    lossless = media_type in ("image/png", "image/webp")
    normalized = out / ("normalized.png" if lossless else "normalized.jpg")
    if lossless:
        clean.save(normalized, "PNG", optimize=False)
    else:
        clean.convert("RGB").save(normalized, "JPEG", quality=90)
    thumb = clean.convert("RGB")
    thumb.thumbnail(THUMBNAIL)
    thumb.save(out / "thumbnail.jpg", "JPEG", quality=80)
    _verify_clean(normalized)
    derived = {"normalized": normalized.name, "thumbnail": "thumbnail.jpg"}
    page = _page_copy(clean, normalized, out)
    if page is not None:
        derived["page"] = page.name
    return {"width": upright.width, "height": upright.height, "derived": derived}


# A copy made for bundle pages, here where the image is decoded anyway, so that building a
# bundle only copies bytes. Copies that go into a PDF as they are (at most PASS_SIDE pixels
# and PASS_BYTES, opaque: phone screenshots) need none; photos become at most PAGE_SIDE
# pixels, and transparency is flattened on white. evidence.pdfimage.LADDER[0] matches.
PASS_SIDE = 3200
PASS_BYTES = 2_000_000
PAGE_SIDE = 2000
PAGE_QUALITY = 85


def _page_copy(clean: Any, normalized: Path, out: Path) -> Path | None:
    from PIL import Image

    large = max(clean.size) > PASS_SIDE or normalized.stat().st_size > PASS_BYTES
    if not large and clean.mode == "RGB":
        return None
    picture = clean
    if picture.mode == "RGBA":
        flat = Image.new("RGB", picture.size, "white")
        flat.paste(picture, mask=picture.getchannel("A"))
        picture = flat
    if max(picture.size) > PAGE_SIDE:
        picture = picture.copy()
        picture.thumbnail((PAGE_SIDE, PAGE_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    page = out / "page.jpg"
    picture.convert("RGB").save(page, "JPEG", quality=PAGE_QUALITY)
    _verify_clean(page)
    return page


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
    table = read_table(path, TableLimits(max_bytes=limits["max_bytes"]))
    (out / "table.json").write_text(
        json.dumps({"header": table.header, "rows": table.rows[:5000]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return {"rows": len(table.rows), "derived": {"table": "table.json"}}


def inspect_text(path: Path, out: Path, limits: dict[str, int]) -> dict[str, Any]:
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


def main() -> None:
    if sys.argv[1:] == ["--many"]:
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
