"""Display names of uploaded files: kept for people, never used as a path."""

from __future__ import annotations

import unicodedata

MAX_NAME_BYTES = 255


def sanitize_display_name(name: str, fallback: str = "file") -> str:
    """A name safe to show and to put in a header: no controls, separators or bidi tricks."""
    cleaned = "".join(
        " " if char in "/\\" else char
        for char in name
        if unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    # Composed after the removals: a mark that followed a removed character would otherwise
    # compose only on a second pass, and the name would change each time it is cleaned.
    cleaned = " ".join(unicodedata.normalize("NFC", cleaned).split()).strip(". ")
    while len(cleaned.encode()) > MAX_NAME_BYTES:
        cleaned = cleaned[:-1]
    return cleaned.rstrip(". ") or fallback
