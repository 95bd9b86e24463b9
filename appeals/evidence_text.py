"""The text of a complaint's chats and courier traces, for the dossier to read.

Chat exports and pasted traces are text files; chat screenshots and pictures of traces
give the text read from them (appeals.reading): a screenshot's messages as the reader
found them (side, speaker, time), a trace picture's lines top to bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from appeals.models import EvidenceItem, EvidenceKind, ReadingState
from appeals.reading import hidden, reading_of, redaction_boxes, visible_lines
from evidence.chats import Message
from evidence.errors import RejectedUpload
from evidence.storage import BlobStore
from evidence.tables import decode_text

TEXT_KINDS = (EvidenceKind.CHAT_EXPORT, EvidenceKind.LOGISTICS_TRACKING)
PICTURE_KINDS = (EvidenceKind.CHAT_SCREENSHOT, EvidenceKind.LOGISTICS_TRACKING)
TEXT_TYPES = ("text/plain", "text/csv")
MAX_CHARS = 2_000_000


@dataclass(frozen=True)
class EvidenceText:
    item_id: int
    name: str
    kind: EvidenceKind
    text: str
    # A picture's messages as read (None: a text file, whose messages come from its text).
    messages: list[Message] | None = field(default=None)
    picture: bool = False

    @property
    def is_chat(self) -> bool:
        return self.kind in (EvidenceKind.CHAT_EXPORT, EvidenceKind.CHAT_SCREENSHOT)


def text_items(session: Session, complaint_id: int) -> list[EvidenceItem]:
    """The complaint's chats and traces stored as text or read from pictures, oldest first."""
    query = select(EvidenceItem).where(
        EvidenceItem.complaint_id == complaint_id,
        or_(
            EvidenceItem.kind.in_(TEXT_KINDS) & EvidenceItem.media_type.in_(TEXT_TYPES),
            EvidenceItem.kind.in_(PICTURE_KINDS)
            & (EvidenceItem.reading_state == ReadingState.DONE),
        ),
    )
    return list(session.scalars(query.order_by(EvidenceItem.id)))


def read_texts(session: Session, store: BlobStore, complaint_id: int) -> list[EvidenceText]:
    """Each text file of the complaint, decoded as intake decoded it (UTF-8, UTF-16, GB18030)."""
    texts = []
    for item in text_items(session, complaint_id):
        if item.media_type not in TEXT_TYPES:
            picture = _picture_text(item, store)
            if picture is not None:
                texts.append(picture)
            continue
        with store.open(item.content_key or item.blob_key) as handle:
            data = handle.read(MAX_CHARS * 2)
        try:
            text = decode_text(data)
        except RejectedUpload:  # a file intake took is text; a cut character is replaced
            text = data.decode("utf-8", errors="replace")
        texts.append(EvidenceText(item.id, item.display_name, item.kind, text[:MAX_CHARS]))
    return texts


def _picture_text(item: EvidenceItem, store: BlobStore) -> EvidenceText | None:
    reading = reading_of(item, store)
    covers = redaction_boxes(item)
    if reading is None or covers is None:
        return None
    text = "\n".join(
        line for page in visible_lines(item, store, reading).values() for line, _ in page
    )
    messages = None
    if item.kind is EvidenceKind.CHAT_SCREENSHOT:
        messages = []
        for found in reading.get("chat") or []:
            try:
                box = found["box"]
                message = Message(
                    line=int(found["line"]), speaker=str(found["speaker"]),
                    text=str(found["text"]),
                    at=datetime.fromisoformat(found["at"]) if found.get("at") else None,
                    kind=str(found.get("kind") or "text"), self_side=bool(found.get("self_side")),
                )  # fmt: skip
                left, top, width, height = (float(v) for v in box)
            except (KeyError, TypeError, ValueError):
                continue
            # A message the merchant covered, even in part, is not quoted.
            if not hidden((left, top, width, height), covers):
                messages.append(message)
    return EvidenceText(item.id, item.display_name, item.kind, text, messages, picture=True)
