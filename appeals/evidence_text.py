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
from appeals.reading import reading_of, visible_lines
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
    if reading is None:
        return None
    lines = [line for page in visible_lines(item, reading).values() for line in page]
    text = "\n".join(str(line["text"]) for line in lines)
    messages = None
    if item.kind is EvidenceKind.CHAT_SCREENSHOT:
        messages = [
            Message(
                line=int(m["line"]), speaker=str(m["speaker"]), text=str(m["text"]),
                at=datetime.fromisoformat(m["at"]) if m.get("at") else None,
                kind=str(m.get("kind") or "text"), self_side=bool(m.get("self_side")),
            )
            for m in reading.get("chat", [])
            if not any(_covers(box, m["box"]) for box in item.redaction or [])
        ]  # fmt: skip
    return EvidenceText(item.id, item.display_name, item.kind, text, messages, picture=True)


def _covers(box: list[float], other: list[float]) -> bool:
    """A redaction box over a message: the merchant hid it, so it is not quoted."""
    return (box[0] < other[0] + other[2] and other[0] < box[0] + box[2]
            and box[1] < other[1] + other[3] and other[1] < box[1] + box[3])  # fmt: skip
