"""Demonstration data: two shops, an account of every role, orders and complaints."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals import accounts, appeal, complaints
from appeals.accounts import SYSTEM
from appeals.clock import utcnow
from appeals.models import (
    Complaint,
    ComplaintChannel,
    ComplaintType,
    MaliciousCategory,
    Shop,
    User,
)
from appeals.order_import import fingerprint
from appeals.permissions import Role
from appeals.policies import Policies
from evidence.storage import BlobStore

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (printed for demo users on purpose)

SHOPS = {
    "bloom": ("上海花语服饰 Shanghai Bloom Apparel", "zh_Hans_CN", "Asia/Shanghai"),
    "volt": ("Shenzhen Volt Electronics 深圳伏特电子", "en", "Asia/Shanghai"),
}
PRODUCTS = {
    "bloom": [
        ("真丝连衣裙 Silk dress", "459.00"),
        ("羊毛围巾 Wool scarf", "129.00"),
        ("亚麻衬衫 Linen shirt", "219.00"),
        ("刺绣外套 Embroidered jacket", "699.00"),
    ],
    "volt": [
        ("USB-C charger 65W", "139.00"),
        ("Wireless earbuds", "299.00"),
        ("Power bank 20000mAh", "169.00"),
        ("Smart watch strap", "59.00"),
    ],
}
CARRIERS = ["顺丰速运 SF Express", "中通快递 ZTO", "京东物流 JD Logistics", "圆通速递 YTO"]
DESCRIPTIONS = {
    ComplaintType.PRODUCT_QUALITY: "收到的商品有明显瑕疵，要求全额退款。 The item arrived damaged.",
    ComplaintType.NOT_AS_DESCRIBED: "颜色和图片不一致。 Colour differs from the listing photos.",
    ComplaintType.NOT_RECEIVED: (
        "物流显示已签收，但我没有收到包裹。 Tracking says delivered; nothing arrived."
    ),
    ComplaintType.SERVICE_ATTITUDE: (
        "客服态度恶劣，不给退款就给差评。 Refund me or I leave a bad review."
    ),
    ComplaintType.LATE_SHIPMENT: (
        "承诺48小时发货，实际5天才发。 Promised 48h dispatch, shipped after 5 days."
    ),
    ComplaintType.COUNTERFEIT: (
        "怀疑是假货，要求三倍赔偿。 Suspect counterfeit; demand triple compensation."
    ),
    ComplaintType.OTHER: "发票信息有误。 The invoice details are wrong.",
}
# Days before now that each demo complaint was received: deadlines in every state.
RECEIVED_DAYS_AGO = [0.2, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 6.5, 6.8, 7.5, 9]


def load_demo(
    session: Session,
    policies: Policies,
    fingerprint_key: bytes = b"demo",
    seed: int = 2026,
    *,
    store: BlobStore | None = None,
    workdir: Path | None = None,
) -> list[User]:
    """Create the demo shops, users, orders and complaints; returns the users.

    With a blob store, each shop also has an appeal submitted with evidence, so that the
    reviewers' queue, the bundle and the dashboards have something to show.
    """
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not security)
    users: list[User] = []
    for key, (name, locale, zone) in SHOPS.items():
        shop = accounts.create_shop(session, SYSTEM, name)
        for role in (Role.MERCHANT_OWNER, Role.MERCHANT_STAFF):
            local = "owner" if role is Role.MERCHANT_OWNER else "staff"
            users.append(_user(session, f"{local}@{key}.example", role, shop, locale, zone))
        _orders_and_complaints(session, shop, key, rng, fingerprint_key, policies)
        _flag_one(session, shop, users[-2])
        if store is not None and workdir is not None:
            _submitted_one(session, shop, users[-2], store, workdir, policies)
    for local, role in (
        ("reviewer", Role.REVIEWER),
        ("senior", Role.SENIOR_REVIEWER),
        ("admin", Role.ADMIN),
    ):
        users.append(_user(session, f"{local}@platform.example", role, None, None, "Asia/Shanghai"))
    return users


def _user(
    session: Session, email: str, role: Role, shop: Shop | None, locale: str | None, zone: str
) -> User:
    return accounts.create_user(
        session,
        SYSTEM,
        email=email,
        role=role,
        password=DEMO_PASSWORD,
        shop=shop,
        display_name=email.split("@")[0].title(),
        locale=locale,
        time_zone=zone,
    )


def _flag_one(session: Session, shop: Shop, owner: User) -> None:
    """The serial complainer's threat, already flagged, so the flag and its audit show."""
    threat = session.scalar(
        select(Complaint)
        .where(Complaint.shop_id == shop.id, Complaint.type == ComplaintType.SERVICE_ATTITUDE)
        .order_by(Complaint.id)
    )
    if threat is not None:
        complaints.flag_complaint(
            session, owner, threat, MaliciousCategory.EXTORTION,
            "买家在聊天中威胁：不退款就给差评。The buyer threatened a bad review unless refunded.",
        )  # fmt: skip
        # A draft appeal in progress, waiting for its evidence.
        draft = appeal.start_appeal(session, owner, threat.id)
        appeal.update_draft(
            session, owner, draft, category=MaliciousCategory.EXTORTION,
            statement="买家收货后要求全额退款，并威胁不退款就给差评。"
            "The buyer asked for a full refund after delivery and threatened a bad review.",
            remedies=["void_complaint", "remove_review"],
            rows=[("客服态度恶劣 / The shop was rude",
                   "聊天记录显示客服 10 分钟内回复。The chat shows a reply within minutes.", [])],
        )  # fmt: skip


def _chat_picture(lines: list[tuple[bool, str]], size: tuple[int, int]) -> bytes:
    """A phone chat screenshot: bubbles left and right, with text-like strokes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 70), fill=(18, 140, 126))
    for index, (mine, text) in enumerate(lines):
        top = 100 + index * 90
        left = size[0] - 40 - 12 * len(text) if mine else 30
        draw.rounded_rectangle((left, top, left + 12 * len(text) + 20, top + 60), 14,
                               fill=(220, 248, 198) if mine else (240, 240, 240))  # fmt: skip
        draw.text((left + 10, top + 22), text, fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _submitted_one(
    session: Session, shop: Shop, owner: User, store: BlobStore, workdir: Path, policies: Policies
) -> None:
    """The shop's most recent complaint, flagged, with two exhibits, submitted for review."""
    from appeals import locker
    from appeals.models import EvidenceKind

    recent = session.scalar(
        select(Complaint)
        .where(Complaint.shop_id == shop.id, Complaint.flag_category.is_(None))
        .order_by(Complaint.received_at.desc())
    )
    if recent is None:
        return
    complaints.flag_complaint(
        session, owner, recent, MaliciousCategory.EXTORTION,
        "买家以差评威胁索要全额退款。The buyer demanded a full refund under threat of a review.",
    )  # fmt: skip
    chat = _chat_picture(
        [(False, "Refund everything or I post 1 star"), (True, "The parcel arrived intact"),
         (False, "Then enjoy your 1-star review")], (720, 480),
    )  # fmt: skip
    review = _chat_picture([(False, "1 star: terrible shop, avoid!!")], (720, 240))
    items = []
    for name, data, kind, caption in (
        ("chat.png", chat, EvidenceKind.CHAT_SCREENSHOT, "买家威胁差评 The buyer's threat"),
        ("review.png", review, EvidenceKind.REVIEW_CAPTURE, "差评截图 The review as posted"),
    ):
        items.append(
            locker.receive_file(
                session,
                owner,
                recent,
                io.BytesIO(data),
                filename=name,
                kind=kind,
                caption=caption,
                store=store,
                workdir=workdir,
                policy=policies.locker,
                read=True,  # read by the web process at its first request, or a worker
            )
        )
    draft = appeal.start_appeal(session, owner, recent.id)
    appeal.update_draft(
        session, owner, draft, category=MaliciousCategory.EXTORTION,
        statement="买家签收后以差评相威胁索要全额退款，随后发布了一星差评。"
        "After delivery the buyer demanded a full refund under threat, then posted 1 star.",
        remedies=["void_complaint", "remove_review"],
        rows=[("商品质量差 / Poor quality", "聊天记录显示买家的目的是退款而非质量问题。"
               "The chat shows the aim was a refund, not a quality problem.",
               [items[0].id, items[1].id])],
    )  # fmt: skip
    appeal.submit_appeal(
        session, owner, draft, profile=policies.budget, review_policy=policies.review
    )


def _orders_and_complaints(
    session: Session,
    shop: Shop,
    key: str,
    rng: random.Random,
    fingerprint_key: bytes,
    policies: Policies,
) -> None:
    now = utcnow()
    orders = []
    # buyer-003 and buyer-013 are one person with two accounts: same phone, same address.
    phones = {f"buyer-{n:03d}": f"1380013{n:04d}" for n in range(1, 19)} | {
        "buyer-013": "13800130003"
    }
    for index in range(40):
        product, price = rng.choice(PRODUCTS[key])
        quantity = rng.randint(1, 3)
        buyer = "buyer-003" if index % 5 == 0 else f"buyer-{rng.randint(1, 18):03d}"
        paid = now - timedelta(days=rng.uniform(10, 60))
        shipped = paid + timedelta(hours=rng.uniform(6, 72))
        delivered = shipped + timedelta(days=rng.uniform(1, 4))
        orders.append(
            complaints.record_order(
                session,
                shop,
                number=f"{key.upper()}{20261000 + index}",
                buyer_ref=buyer,
                items=[{"name": product, "quantity": quantity, "unit_price": price}],
                total_amount=Decimal(price) * quantity,
                ordered_at=paid - timedelta(minutes=5),
                paid_at=paid,
                shipped_at=shipped,
                delivered_at=delivered,
                refunded_at=delivered + timedelta(days=2) if buyer == "buyer-003" else None,
                refund_amount=Decimal(price) if buyer == "buyer-003" else None,
                contact_fingerprint=fingerprint(fingerprint_key, "contact", phones[buyer]),
                confirmed_at=delivered + timedelta(days=1) if rng.random() < 0.6 else None,
                carrier=rng.choice(CARRIERS),
                tracking_number=f"SF{rng.randint(10**11, 10**12 - 1)}",
            )
        )
    types = list(ComplaintType)
    for index, days_ago in enumerate(RECEIVED_DAYS_AGO):
        # Every third complaint comes from buyer-003, the serial complainer.
        order = orders[(index // 3) * 5] if index % 3 == 0 else orders[index * 2 + 1]
        kind = types[index % len(types)]
        complaints.record_complaint(
            session,
            shop,
            external_id=f"CP-{key.upper()}-{2026000 + index}",
            type=kind,
            channel=list(ComplaintChannel)[index % 3],
            description=DESCRIPTIONS[kind],
            buyer_ref=order.buyer_ref,
            received_at=now - timedelta(days=days_ago),
            order=order,
            penalty_points=rng.choice([2, 4, 6, 12]),
            policy=policies.deadlines,
        )
