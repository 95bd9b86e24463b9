"""A submitted appeal with one exhibit of every sort, taken in through the real locker."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy.orm import Session

from appeals import appeal, complaints, locker
from appeals.models import AppealVersion, Complaint, EvidenceItem, EvidenceKind, MaliciousCategory
from appeals.policies import DEFAULT_POLICIES
from evidence.storage import BlobStore
from tests.factories import jpeg_with_gps, pdf_bytes

CHAT = "买家：不给我全额退款，我就给差评，还要投诉到平台。\n卖家：商品已签收，我们按规定处理。\n"


def screenshot() -> bytes:
    image = Image.new("RGB", (540, 1200), "white")
    for y in range(0, 1200, 90):
        image.paste((40, 120, 200), (30, y + 10, 400, y + 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def transparent_png() -> bytes:
    image = Image.new("RGBA", (300, 200), (255, 0, 0, 128))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def photo(size: tuple[int, int] = (1600, 1200), orientation: int = 6) -> bytes:
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def orders_csv(rows: int = 120) -> bytes:
    lines = ["订单号,买家,商品,金额,签收时间"]
    lines += [
        f"ORD-{n:05d},buyer-x,蓝色保温杯 {n},{n}.50,2026-11-{1 + n % 27:02d} 10:00"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


FILES: list[tuple[str, bytes | None, EvidenceKind, str]] = [
    ("chat.png", None, EvidenceKind.CHAT_SCREENSHOT, "聊天截图：买家威胁差评"),
    ("photo.jpg", None, EvidenceKind.PRODUCT_PHOTO, "Product as shipped"),
    ("receipt.pdf", None, EvidenceKind.SHIPPING_RECEIPT, "Shipping receipt 快递单"),
    ("orders.csv", None, EvidenceKind.ORDER_HISTORY, "Buyer order history"),
    ("chat.txt", CHAT.encode(), EvidenceKind.CHAT_EXPORT, "Chat export 聊天记录"),
    ("overlay.png", None, EvidenceKind.REVIEW_CAPTURE, "Review capture"),
    ("tracking.jpg", None, EvidenceKind.DELIVERY_PROOF, "签收证明"),
]


def flagged(
    session: Session, owner: object, complaint_id: int, category: MaliciousCategory, reason: str
) -> Complaint:
    """The shop's complaint, flagged as malicious."""
    complaint = complaints.get_complaint(session, owner, complaint_id)  # type: ignore[arg-type]
    complaints.flag_complaint(session, owner, complaint, category, reason)  # type: ignore[arg-type]
    return complaint


def take_in(
    session: Session,
    owner: object,
    complaint: Complaint,
    files: list[tuple[str, bytes, EvidenceKind, str]],
    store: BlobStore,
    workdir: Path,
) -> list[EvidenceItem]:
    """Each (name, body, kind, caption) received through the locker and its sandbox."""
    return [
        locker.receive_file(
            session, owner, complaint, io.BytesIO(body),  # type: ignore[arg-type]
            filename=name, kind=kind, caption=caption, store=store, workdir=workdir,
            policy=DEFAULT_POLICIES.locker,
        )
        for name, body, kind, caption in files
    ]  # fmt: skip


def submit(
    session: Session,
    owner: object,
    complaint: Complaint,
    category: MaliciousCategory,
    statement: str,
    remedies: list[str],
    rows: list[tuple[str, str, list[int]]],
) -> AppealVersion:
    """A draft of these rows started, filled and submitted: its version 1."""
    draft = appeal.start_appeal(session, owner, complaint.id)  # type: ignore[arg-type]
    appeal.update_draft(session, owner, draft, category=category, statement=statement,  # type: ignore[arg-type]
                        remedies=remedies, rows=rows)  # fmt: skip
    return appeal.submit_appeal(
        session, owner, draft,  # type: ignore[arg-type]
        profile=DEFAULT_POLICIES.budget, review_policy=DEFAULT_POLICIES.review,
    )  # fmt: skip


def submitted_appeal(
    session: Session, owner: object, complaint_id: int, store: BlobStore, workdir: Path
) -> AppealVersion:
    """Flag, upload seven exhibits through the sandbox, cite them, submit: version 1."""
    contents = {
        "chat.png": screenshot(),
        "photo.jpg": photo(),
        "receipt.pdf": pdf_bytes(2),
        "orders.csv": orders_csv(),
        "overlay.png": transparent_png(),
        "tracking.jpg": jpeg_with_gps(),
    }
    complaint = flagged(session, owner, complaint_id, MaliciousCategory.EXTORTION,
                        "The buyer threatened a bad review unless refunded in full.")  # fmt: skip
    files = [(name, data if data is not None else contents[name], kind, caption)
             for name, data, kind, caption in FILES]  # fmt: skip
    ids = [item.id for item in take_in(session, owner, complaint, files, store, workdir)]
    return submit(
        session, owner, complaint, MaliciousCategory.EXTORTION,
        "买家以差评相威胁，要求全额退款。The buyer demanded a full refund under threat.",
        ["void_complaint", "remove_review"],
        [
            ("商品未收到 (not received)", "签收记录显示已签收。", [ids[6], ids[2], ids[3]]),
            ("Seller was rude", "聊天记录显示买家威胁差评。", [ids[0], ids[4], ids[5]]),
            ("Product damaged", "发货时的照片显示完好。", [ids[1]]),
        ],
    )  # fmt: skip
