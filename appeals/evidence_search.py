"""Searching the words of an appeal's exhibits: read pictures, scans, chats and tables.

A reviewer types a phrase and gets every line that holds it, with the exhibit's label and,
for pictures, where on the picture it is, so the screen can jump there. Redacted lines are
never found (appeals.reading.visible_lines).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

from appeals.models import EvidenceItem
from appeals.reading import visible_lines
from evidence.errors import RejectedUpload
from evidence.storage import BlobStore
from evidence.tables import decode_text

MAX_HITS = 100
MAX_QUERY = 100
_TEXT_BYTES = 2_000_000


@dataclass(frozen=True)
class Hit:
    label: str
    item_id: int
    page: int | None  # pictures and PDFs
    line: int  # 1-based, within the page or the file
    text: str
    start: int  # where the match starts and ends in `text`
    end: int
    box: tuple[float, float, float, float] | None  # fractions of the picture


def fold(text: str) -> str:
    """Text compared as a reader means it: full-width as half-width, case and spaces aside."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _find(text: str, wanted: str) -> tuple[int, int]:
    """Where in `text` the folded `wanted` starts and ends, or (-1, -1)."""
    folded, positions = [], []
    for index, char in enumerate(text):
        for part in fold(char):
            folded.append(part)
            positions.append(index)
    found = "".join(folded).find(wanted)
    if found < 0:
        return -1, -1
    return positions[found], positions[found + len(wanted) - 1] + 1


def search(store: BlobStore, exhibits: list[tuple[str, EvidenceItem]], query: str) -> list[Hit]:
    """Every line of the exhibits holding `query`, in exhibit order (at most MAX_HITS)."""
    wanted = fold(query[:MAX_QUERY])
    if not wanted:
        return []
    hits: list[Hit] = []
    for label, item in exhibits:
        for hit in _search_item(store, label, item, wanted):
            hits.append(hit)
            if len(hits) >= MAX_HITS:
                return hits
    return hits


def _search_item(store: BlobStore, label: str, item: EvidenceItem, wanted: str) -> list[Hit]:
    hits = []
    pages = visible_lines(item, store)
    if pages:
        for page, lines in pages.items():
            for number, (text, box) in enumerate(lines, start=1):
                start, end = _find(text, wanted)
                if start >= 0:
                    hits.append(Hit(label, item.id, page, number, text, start, end, box))
        return hits
    if item.content_key is None:
        return hits
    with store.open(item.content_key) as handle:
        raw = handle.read(_TEXT_BYTES)
    texts: list[str]
    if item.rows is not None and item.media_type != "text/plain":
        try:
            table = json.loads(raw)
            texts = [" · ".join(str(c) for c in row) for row in table.get("rows", [])]
        except ValueError:
            texts = []
    else:
        try:
            texts = decode_text(raw).splitlines()
        except RejectedUpload:  # a cut multi-byte character at the end
            texts = raw.decode("utf-8", errors="replace").splitlines()
    for number, text in enumerate(texts, start=1):
        start, end = _find(text[:300], wanted)
        if start >= 0:
            hits.append(Hit(label, item.id, None, number, text[:300], start, end, None))
    return hits
