"""Taking a file in: streamed to quarantine with a size cap and a hash, then sniffed."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from evidence import scratch
from evidence.errors import RejectedUpload
from evidence.tables import N_, decode_text

CHUNK = 1024 * 1024

IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
TEXT = "text/plain"
ALLOWED = IMAGE_TYPES | {PDF, XLSX, CSV, TEXT}
EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/heic": "heic",
    "image/heif": "heif", PDF: "pdf", XLSX: "xlsx", CSV: "csv", TEXT: "txt",
}  # fmt: skip
_MARKUP = (b"<html", b"<!doctype", b"<svg", b"<script", b"<?xml", b"<body", b"<iframe")


@dataclass(frozen=True)
class Quarantined:
    """A received file, not yet trusted: where it is, how big, and its SHA-256."""

    path: Path
    size: int
    sha256: str


def quarantine(stream: BinaryIO, folder: Path, max_bytes: int) -> Quarantined:
    """Copy a stream into `folder` under a new name, hashing it and enforcing the cap.

    The name says which process owns the file (evidence.scratch): if it is killed midway,
    `sweep-orphans` removes the file at once, and never a living process's file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = scratch.scratch_path(folder, "q")
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("xb") as handle:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise RejectedUpload(
                        "too_large", N_("The file is larger than %(mb)d MB."), mb=max_bytes // 2**20
                    )
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise RejectedUpload("empty", N_("The file is empty."))
    return Quarantined(path, size, digest.hexdigest())


def sniff(path: Path) -> str:
    """The media type decided from the content alone; anything off the allow-list is refused."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    kind = filetype.guess(head)
    if kind is not None:
        mime = "image/heic" if kind.mime in {"image/heic", "image/heif"} else kind.mime
        if mime == "application/zip" or mime == XLSX:
            return _xlsx_or_refuse(path)
        if mime in ALLOWED:
            return str(mime)
        raise RejectedUpload(
            "unsupported_type",
            N_("Files of this type (%(type)s) are not accepted."),
            type=kind.extension,
        )
    return _text_kind(path, head)


def _xlsx_or_refuse(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise RejectedUpload("malformed_xlsx", N_("The XLSX file is damaged.")) from None
    if "xl/workbook.xml" in names:
        return XLSX
    raise RejectedUpload("unsupported_type", N_("ZIP archives are not accepted."))


def _text_kind(path: Path, head: bytes) -> str:
    if head.lstrip()[:1] == b"<" and any(mark in head.lower() for mark in _MARKUP):
        raise RejectedUpload(
            "unsupported_type",
            N_("Web pages and SVG images are not accepted; upload a screenshot."),
        )
    text = decode_text(head if len(head) < 8192 else _cut_at_character(head))
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) >= 2:
        try:
            dialect = csv.Sniffer().sniff("\n".join(lines), ",;\t")
            widths = {len(row) for row in csv.reader(lines, dialect)}
            if len(widths) == 1 and widths.pop() >= 2:
                return CSV
        except csv.Error:
            pass
    return TEXT


def _cut_at_character(head: bytes) -> bytes:
    """Trim a partial multi-byte character off the end of a sniffed head."""
    for cut in range(4):
        candidate = head[: len(head) - cut]
        for encoding in ("utf-8", "gb18030"):
            try:
                candidate.decode(encoding)
                return candidate
            except UnicodeDecodeError:
                continue
    return head


def discard(quarantined: Quarantined) -> None:
    """Remove a quarantined file (refused, or published elsewhere)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quarantined.path)


def sweep_quarantine(folder: Path, min_age_seconds: float = 3600) -> int:
    """Remove what interrupted intakes left in quarantine (a killed worker, a crash).

    A dead owner's files go at once, a living one's never; unowned ones by their age.
    """
    return len(scratch.sweep(folder, "quarantine", min_age_seconds))
