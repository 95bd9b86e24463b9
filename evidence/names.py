"""Display names of uploaded files: kept for people, never used as a path."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255
# Controls, format characters (bidi overrides, zero widths), surrogates, private, unassigned.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def sanitize_display_name(name: str, fallback: str = "file") -> str:
    """A name safe to show and to put in a header: no controls, separators or bidi tricks."""
    cleaned = "".join(
        " " if char in "/\\" else char for char in name if unicodedata.category(char) not in _HIDDEN
    )
    # Composed after the removals: a mark that followed a removed character would otherwise
    # compose only on a second pass, and the name would change each time it is cleaned.
    cleaned = " ".join(unicodedata.normalize("NFC", cleaned).split()).strip(". ")
    while len(cleaned.encode()) > MAX_NAME_BYTES:
        cleaned = cleaned[:-1]
    return cleaned.rstrip(". ") or fallback


# Slashes NFKC leaves as they are, which some systems still read as one.
_SLASHES = re.compile(r"[/\\\u2044\u2215\u29f8\u29f9]")
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._()\- ]+")


def download_name(name: str, fallback: str = "file") -> str:
    """A name to save a download under: one file name, never a path, in whatever form its
    slashes and dots were written (full-width ／ and ．, a division slash, a two-dot leader)."""
    shown = "".join(c for c in name if unicodedata.category(c) not in _HIDDEN)
    segments = _SLASHES.split(unicodedata.normalize("NFKC", shown))
    kept = [part for part in (s.strip() for s in segments) if part.strip(".")]
    return sanitize_display_name("_".join(kept), fallback)


def ascii_download_name(name: str, fallback: str = "file") -> str:
    """The plain-ASCII form of `download_name` for clients that ignore filename*."""
    plain = unicodedata.normalize("NFKD", download_name(name, fallback))
    plain = _ASCII_UNSAFE.sub("_", plain.encode("ascii", "ignore").decode())
    stem, dot, suffix = plain.rpartition(".")
    if dot and not stem.strip("._ "):  # only the extension survived: 照片.png -> file.png
        plain = f"{fallback}.{suffix}"
    return download_name(plain, fallback)


def content_disposition(name: str, attachment: bool = True) -> str:
    """A Content-Disposition header whose every form of the name is a bare file name."""
    kind = "attachment" if attachment else "inline"
    safe, plain = download_name(name), ascii_download_name(name)
    header = f'{kind}; filename="{plain}"'
    if safe != plain:
        header += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return header
