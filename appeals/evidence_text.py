"""The text of a complaint's chat exports and courier traces, for the dossier to read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals.models import EvidenceItem, EvidenceKind
from evidence.errors import RejectedUpload
from evidence.storage import BlobStore
from evidence.tables import decode_text

TEXT_KINDS = (EvidenceKind.CHAT_EXPORT, EvidenceKind.LOGISTICS_TRACKING)
TEXT_TYPES = ("text/plain", "text/csv")
MAX_CHARS = 2_000_000


@dataclass(frozen=True)
class EvidenceText:
    item_id: int
    name: str
    kind: EvidenceKind
    text: str


def text_items(session: Session, complaint_id: int) -> list[EvidenceItem]:
    """The complaint's chat exports and courier traces stored as text, oldest first."""
    query = select(EvidenceItem).where(
        EvidenceItem.complaint_id == complaint_id,
        EvidenceItem.kind.in_(TEXT_KINDS),
        EvidenceItem.media_type.in_(TEXT_TYPES),
    )
    return list(session.scalars(query.order_by(EvidenceItem.id)))


def read_texts(session: Session, store: BlobStore, complaint_id: int) -> list[EvidenceText]:
    """Each text file of the complaint, decoded as intake decoded it (UTF-8, UTF-16, GB18030)."""
    texts = []
    for item in text_items(session, complaint_id):
        with store.open(item.content_key or item.blob_key) as handle:
            data = handle.read(MAX_CHARS * 2)
        try:
            text = decode_text(data)
        except RejectedUpload:  # a file intake took is text; a cut character is replaced
            text = data.decode("utf-8", errors="replace")
        texts.append(EvidenceText(item.id, item.display_name, item.kind, text[:MAX_CHARS]))
    return texts
