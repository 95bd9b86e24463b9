"""Reading text in the child, after intake: a picture's lines (and, for a chat screenshot,
its messages) or those of a PDF's scanned pages, written as reading.json."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from evidence.errors import RejectedUpload
from evidence.sandbox.messages import N_

# Reading text (evidence.ocr) runs in the child too, after intake, under its own budget:
# pages of a PDF are read when they carry no text of their own (scans), up to READ_PAGES.
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
