"""The complainant dossier: what the shop's own records say about the buyer behind a complaint.

Each signal is a sentence with its numbers. The history is counted as of the complaint
(`as_of` is when it was received): orders by when they were placed, complaints by when they
arrived, whenever they were imported. `known_at` (the submission, for a frozen dossier) only
leaves out rows that the portal learnt of later. The computation is fixed by these inputs and
versioned, and the ids it read are recorded with a digest, so that a dossier cited as an
exhibit can be recomputed and checked.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from appeals.complaints import get_complaint
from appeals.errors import N_
from appeals.evidence_text import EvidenceText
from appeals.extortion import Line, buyer_messages, extortion_lines
from appeals.models import Complaint, ComplaintType, EvidenceKind, Order
from appeals.permissions import Actor
from evidence.cells import is_masked
from evidence.chats import read_chat
from evidence.sensitive import suggest_text
from evidence.tracking import TrackEvent, TrackState, read_trace

ALGORITHM = "dossier/4"  # 4: chats read from screenshots; order numbers and phones in chats
WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Signal:
    """One finding: a stable code, how much it weighs, and its sentence with numbers."""

    code: str
    level: str  # "info", "warning" or "alert"
    message: str
    params: dict[str, Any]
    related_order_ids: list[int] = field(default_factory=list)
    related_complaint_ids: list[int] = field(default_factory=list)
    # The lines it rests on: file, line, speaker, time and text, to quote as found.
    quotes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Dossier:
    complaint_id: int
    buyer_ref: str
    as_of: datetime
    known_at: datetime | None
    signals: list[Signal]
    inputs: dict[str, list[int]]
    algorithm: str = ALGORITHM

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["known_at"] = self.known_at.isoformat() if self.known_at else None
        return data

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON: the same inputs always give the same digest."""
        canonical = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class Scope:
    """Which rows a dossier reads: one shop, 90 days up to the complaint, as known then."""

    shop: int
    as_of: datetime
    known_at: datetime | None

    @property
    def since(self) -> datetime:
        return self.as_of - WINDOW

    def orders(self, *where: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        """Orders of the shop placed by the complaint; one with no time is taken as older."""
        placed = func.coalesce(Order.ordered_at, Order.paid_at)
        return [
            Order.shop_id == self.shop,
            or_(placed.is_(None), placed <= self.as_of),
            *self._known(Order),
            *where,
        ]

    def complaints(self, *where: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        """Complaints against the shop received by the complaint's own time."""
        return [
            Complaint.shop_id == self.shop,
            Complaint.received_at <= self.as_of,
            *self._known(Complaint),
            *where,
        ]

    def _known(self, model: type[Order] | type[Complaint]) -> list[ColumnElement[bool]]:
        return [] if self.known_at is None else [model.created_at <= self.known_at]


def build_dossier(
    session: Session,
    actor: Actor,
    complaint_id: int,
    *,
    time_zone: str,
    known_at: datetime | None = None,
    evidence: list[EvidenceText] | None = None,
) -> Dossier:
    """Compute the dossier for a complaint of the actor's shop, as of the complaint.

    `known_at` leaves out rows recorded after it; `evidence` holds the text of the
    complaint's chat exports and courier traces; `time_zone` is the shop's, for times the
    files write without one.
    """
    complaint = get_complaint(session, actor, complaint_id)
    scope = Scope(complaint.shop_id, complaint.received_at, known_at)
    buyer = complaint.buyer_ref
    zone = ZoneInfo(time_zone)
    texts = evidence or []
    # A masked name (t**7) stands for many buyers: history is not counted by it.
    masked = is_masked(buyer)
    if masked:
        orders = [complaint.order] if complaint.order is not None else []
        complaints = [complaint]
    else:
        orders = list(
            session.scalars(
                select(Order).where(*scope.orders(Order.buyer_ref == buyer)).order_by(Order.id)
            )
        )
        complaints = list(
            session.scalars(
                select(Complaint)
                .where(*scope.complaints(Complaint.buyer_ref == buyer))
                .order_by(Complaint.id)
            )
        )
    shop_orders = _orders_in_window(session, scope)
    signals = [
        _masked(buyer) if masked else None,
        _history(session, scope, shop_orders, orders, complaints),
        _refunds(session, scope, shop_orders, orders),
        _after_confirmation(complaint, complaints),
        _delivery_gap(complaint),
        _tracking(complaint, texts, zone),
        _shared_fingerprints(session, scope, buyer, orders),
        _bulk_buying(scope, orders),
        _extortion(complaint, texts, zone),
        _chat_mentions(complaint, texts, zone),
    ]
    return Dossier(
        complaint_id=complaint.id,
        buyer_ref=buyer,
        as_of=scope.as_of,
        known_at=known_at,
        signals=[signal for signal in signals if signal is not None],
        inputs={
            "orders": [o.id for o in orders],
            "complaints": [c.id for c in complaints],
            "evidence": sorted(text.item_id for text in texts),
        },
    )


def _masked(buyer: str) -> Signal:
    return Signal(
        "masked_buyer",
        "info",
        N_("The platform masks this buyer's name (%(buyer)s): history by name is not counted."),
        {"buyer": buyer},
    )


def _orders_in_window(session: Session, scope: Scope) -> int:
    """The shop's orders placed in the 90 days up to the complaint, as known then.

    Counted from the (shop_id, ordered_at) index alone, which a million orders answer in
    milliseconds; orders with only a payment time and those recorded after `known_at`
    are few and counted apart.
    """
    since, until = scope.since, scope.as_of
    shop = Order.shop_id == scope.shop
    total = _count(session, Order, [shop, Order.ordered_at >= since, Order.ordered_at <= until])
    total += _count(
        session,
        Order,
        [shop, Order.ordered_at.is_(None), Order.paid_at >= since, Order.paid_at <= until],
    )
    if scope.known_at is not None:
        placed = func.coalesce(Order.ordered_at, Order.paid_at)
        total -= _count(
            session,
            Order,
            [shop, Order.created_at > scope.known_at, placed >= since, placed <= until],
        )
    return total


def _count(
    session: Session, model: type[Order] | type[Complaint], where: list[ColumnElement[bool]]
) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _in_window(moment: datetime | None, since: datetime, until: datetime | None = None) -> bool:
    return moment is not None and moment >= since and (until is None or moment <= until)


def _history(
    session: Session,
    scope: Scope,
    shop_orders: int,
    orders: list[Order],
    complaints: list[Complaint],
) -> Signal:
    since = scope.since
    recent_complaints = [c for c in complaints if c.received_at >= since]
    recent_orders = [o for o in orders if _in_window(o.ordered_at or o.paid_at, since)]
    shop_complaints = _count(session, Complaint, scope.complaints(Complaint.received_at >= since))
    buyer_rate = rate(len(recent_complaints), max(len(recent_orders), 1))
    shop_rate = rate(shop_complaints, shop_orders)
    ratio = buyer_rate / shop_rate if shop_rate else 0.0
    level = (
        "alert"
        if len(recent_complaints) >= 3 and ratio >= 3
        else ("warning" if len(recent_complaints) >= 2 else "info")
    )
    return Signal(
        "complaint_history",
        level,
        N_(
            "%(complaints)d complaints in the last 90 days on %(orders)d orders (%(rate)s); "
            "your shop's rate is %(shop_rate)s, so this buyer complains %(ratio)s times as often."
        ),
        {
            "complaints": len(recent_complaints),
            "orders": len(recent_orders),
            "rate": f"{buyer_rate:.0%}",
            "shop_rate": f"{shop_rate:.1%}",
            "ratio": f"{ratio:.1f}",
        },
        related_order_ids=[o.id for o in recent_orders],
        related_complaint_ids=[c.id for c in recent_complaints],
    )


def _refunds(session: Session, scope: Scope, shop_orders: int, orders: list[Order]) -> Signal:
    since = scope.since
    refunded = [o for o in orders if _in_window(o.refunded_at, since, scope.as_of)]
    shop_refunds = _count(
        session,
        Order,
        scope.orders(Order.refunded_at >= since, Order.refunded_at <= scope.as_of),
    )
    recent = [o for o in orders if _in_window(o.ordered_at or o.paid_at, since)]
    buyer_rate, shop_rate = (
        rate(len(refunded), max(len(recent), 1)),
        rate(shop_refunds, shop_orders),
    )
    level = "warning" if len(refunded) >= 2 and buyer_rate > 2 * shop_rate else "info"
    return Signal(
        "refund_history",
        level,
        N_(
            "%(refunds)d refunds in the last 90 days (%(rate)s of this buyer's orders); "
            "your shop refunds %(shop_rate)s of orders."
        ),
        {"refunds": len(refunded), "rate": f"{buyer_rate:.0%}", "shop_rate": f"{shop_rate:.1%}"},
        related_order_ids=[o.id for o in refunded],
    )


def _after_confirmation(complaint: Complaint, complaints: list[Complaint]) -> Signal:
    late = [
        c for c in complaints
        if c.order is not None and c.order.confirmed_at is not None
        and c.received_at > c.order.confirmed_at
    ]  # fmt: skip
    this_one = complaint in late
    return Signal(
        "after_confirmation",
        "warning" if this_one else "info",
        N_("This complaint was filed after the buyer confirmed receipt.")
        if this_one
        else N_("This complaint was not filed after a confirmed receipt."),
        {"all_after_confirmation": len(late), "complaints": len(complaints)},
        related_complaint_ids=[c.id for c in late],
    )


def _delivery_gap(complaint: Complaint) -> Signal | None:
    order = complaint.order
    if order is None or order.delivered_at is None:
        return None
    gap = complaint.received_at - order.delivered_at
    days = gap.total_seconds() / 86400
    if gap < timedelta(0):
        return Signal(
            "delivery_gap",
            "info",
            N_("The complaint was filed %(days)s days before delivery."),
            {"days": f"{-days:.1f}"},
            related_order_ids=[order.id],
        )
    return Signal(
        "delivery_gap",
        "warning" if days > 15 else "info",
        N_("The complaint was filed %(days)s days after delivery."),
        {"days": f"{days:.1f}"},
        related_order_ids=[order.id],
    )


def _shared_fingerprints(session: Session, scope: Scope, buyer: str, orders: list[Order]) -> Signal:
    contacts = {o.contact_fingerprint for o in orders if o.contact_fingerprint}
    addresses = {o.address_fingerprint for o in orders if o.address_fingerprint}
    others: dict[str, list[int]] = {}
    for column, values in (
        (Order.contact_fingerprint, contacts),
        (Order.address_fingerprint, addresses),
    ):
        if not values:
            continue
        rows = session.execute(
            select(Order.buyer_ref, Order.id).where(
                *scope.orders(column.in_(values), Order.buyer_ref != buyer)
            )
        )
        for other, order_id in rows:
            others.setdefault(other, []).append(order_id)
    complaints_by_others = (
        _count(session, Complaint, scope.complaints(Complaint.buyer_ref.in_(sorted(others))))
        if others
        else 0
    )
    return Signal(
        "shared_fingerprints",
        "alert" if others and complaints_by_others else ("warning" if others else "info"),
        N_(
            "%(buyers)d other buyer accounts share this buyer's phone or address; "
            "they filed %(complaints)d complaints."
        ),
        {
            "buyers": len(others),
            "complaints": complaints_by_others or 0,
            "accounts": sorted(others)[:20],
        },
        related_order_ids=sorted(i for ids in others.values() for i in ids)[:100],
    )


def _extortion(complaint: Complaint, texts: list[EvidenceText], zone: ZoneInfo) -> Signal:
    """A demand for money tied to a threat, in the buyer's own words, quoted as found."""
    lines = [
        Line("complaint", None, 1, complaint.buyer_ref, complaint.received_at.isoformat(),
             complaint.description)
    ]  # fmt: skip
    chats = [text for text in texts if text.is_chat]
    pictures = {text.item_id for text in chats if text.picture}
    for text in chats:
        messages = text.messages if text.messages is not None else read_chat(text.text, zone)
        for message in buyer_messages(messages, complaint.buyer_ref):
            lines.append(
                Line(text.name, text.item_id, message.line, message.speaker,
                     message.at.isoformat() if message.at else None, message.text)
            )  # fmt: skip
    found = extortion_lines(lines)
    # A screenshot's quote names the message (its place in the picture), a file's the line.
    quotes = [
        {"file": line.source, "evidence_id": line.item_id, "line": line.line,
         "speaker": line.speaker, "at": line.at, "text": line.text[:300],
         **({"picture": True} if line.item_id in pictures else {})}
        for line in found[:20]
    ]  # fmt: skip
    if found:
        return Signal(
            "extortion",
            "alert",
            N_("%(count)d of the buyer's messages tie a demand for money to a threat."),
            {"count": len(found), "files": len(chats)},
            quotes=quotes,
        )
    return Signal(
        "extortion",
        "info",
        N_("No demand tied to a threat in the complaint or the buyer's lines of %(files)d chat"
           " files."),
        {"count": 0, "files": len(chats)},
    )  # fmt: skip


# An order number as platforms write them (Taobao 16-19 digits, JD 11-12, Pinduoduo's
# 6-15 with a dash); an 11-digit run starting 1[3-9] is a phone number instead.
_ORDER_NUMBER = re.compile(r"(?<![\dA-Za-z])(?:\d{6}-\d{15}|\d{11,20})(?![\dA-Za-z])")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _chat_mentions(
    complaint: Complaint, texts: list[EvidenceText], zone: ZoneInfo
) -> Signal | None:
    """Order numbers the buyer names and phone numbers the buyer offers, in the chats.

    Another order than the complaint's, or a phone number to talk off the platform
    ("加我电话私了"), is what a reviewer asks about; both are quoted as found.
    """
    chats = [text for text in texts if text.is_chat]
    if not chats:
        return None
    own = unicodedata.normalize("NFKC", complaint.order_number or "")
    orders: dict[str, bool] = {}
    phones: set[str] = set()
    quotes: list[dict[str, Any]] = []
    for text in chats:
        messages = text.messages if text.messages is not None else read_chat(text.text, zone)
        for message in buyer_messages(messages, complaint.buyer_ref):
            words = unicodedata.normalize("NFKC", message.text)
            found_orders = [n for n in _ORDER_NUMBER.findall(words) if not _MOBILE.match(n)]
            found_phones = [found for kind, found in suggest_text(words) if kind == "phone"]
            for number in found_orders:
                orders[number] = number == own
            phones.update("".join(c for c in p if c.isdigit())[-11:] for p in found_phones)
            if (found_orders or found_phones) and len(quotes) < 10:
                quotes.append(
                    {"file": text.name, "evidence_id": text.item_id, "line": message.line,
                     "speaker": message.speaker, "at": message.at.isoformat() if message.at
                     else None, "text": message.text[:300],
                     **({"picture": True} if text.picture else {})}
                )  # fmt: skip
    if not orders and not phones:
        return None
    others = sorted(number for number, same in orders.items() if not same)
    return Signal(
        "chat_mentions",
        "warning" if others or phones else "info",
        N_("In the buyer's messages: order numbers %(orders)d (not this complaint's order:"
           " %(others)d); phone numbers offered: %(phones)d."),
        {"orders": len(orders), "others": len(others), "phones": len(phones),
         "other_orders": others[:20]},
        quotes=quotes,
    )  # fmt: skip


def _tracking(complaint: Complaint, texts: list[EvidenceText], zone: ZoneInfo) -> Signal | None:
    """What the courier's trace says happened before the complaint, quoted."""
    traces = [t for t in texts if t.kind is EvidenceKind.LOGISTICS_TRACKING]
    if not traces:
        return None
    order = complaint.order
    waybill = order.tracking_number if order is not None else None
    year = complaint.received_at.astimezone(zone).year
    handed: list[tuple[EvidenceText, TrackEvent]] = []
    other_parcels = []
    for text in traces:
        trace = read_trace(text.text, zone, year=year)
        if waybill and trace.waybills and waybill not in trace.waybills:
            other_parcels.append(text.name)
            continue
        for event in trace.events:
            if (
                event.at is not None
                and event.at <= complaint.received_at
                and event.state in (TrackState.SIGNED, TrackState.AT_STATION)
            ):
                handed.append((text, event))
                break
    if not handed:
        return Signal(
            "tracking",
            "warning" if other_parcels else "info",
            N_("The courier traces show no delivery before the complaint.")
            if not other_parcels
            else N_("The courier traces are of another waybill than the order's (%(waybill)s)."),
            {"waybill": waybill or "", "files": len(traces)},
        )
    text, event = handed[0]
    signed = event.state is TrackState.SIGNED
    contradicts = complaint.type is ComplaintType.NOT_RECEIVED
    quote = {"file": text.name, "evidence_id": text.item_id, "line": event.line,
             "speaker": event.signer or "", "at": event.at.isoformat() if event.at else None,
             "text": event.text[:300], **({"picture": True} if text.picture else {})}  # fmt: skip
    when = event.at.strftime("%Y-%m-%d %H:%M UTC") if event.at else ""
    if signed:
        message = (
            N_("The courier trace says the parcel was signed for at %(when)s (%(signer)s),"
               " before this complaint that it was not received.")
            if contradicts
            else N_("The courier trace says the parcel was signed for at %(when)s (%(signer)s).")
        )  # fmt: skip
    else:
        message = (
            N_("The courier trace says the parcel was left at a station or locker at %(when)s,"
               " before this complaint that it was not received.")
            if contradicts
            else N_("The courier trace says the parcel was left at a station or locker at"
                    " %(when)s.")
        )  # fmt: skip
    return Signal(
        "tracking",
        "alert" if contradicts and signed else ("warning" if contradicts else "info"),
        message,
        {"when": when, "signer": event.signer or "—", "state": event.state.value},
        quotes=[quote],
    )


# What ordinary buying looks like: past these, quantity or frequency is a professional's.
BULK_QUANTITY = 10
REPEAT_ORDERS = 5


def _bulk_buying(scope: Scope, orders: list[Order]) -> Signal:
    """Quantity and frequency beyond ordinary consumption: the professional claimant's sign."""
    recent = [o for o in orders if _in_window(o.ordered_at or o.paid_at, scope.since)]
    most = max(
        (int(item.get("quantity") or 1) for o in recent for item in (o.items or [])), default=0
    )
    by_item: dict[str, set[int]] = {}
    for order in recent:
        for item in order.items or []:
            if item.get("name"):
                by_item.setdefault(str(item["name"]), set()).add(order.id)
    repeated = max(by_item.items(), key=lambda pair: len(pair[1]), default=("", set()))
    bulk = most >= BULK_QUANTITY or len(repeated[1]) >= REPEAT_ORDERS
    return Signal(
        "bulk_buying",
        "warning" if bulk else "info",
        N_("In the last 90 days this buyer bought at most %(most)d of one item in an order, and"
           " the same item in %(repeat)d orders (%(item)s)."),
        {"most": most, "repeat": len(repeated[1]), "item": repeated[0][:60] or "—"},
        related_order_ids=sorted(repeated[1]),
    )  # fmt: skip
