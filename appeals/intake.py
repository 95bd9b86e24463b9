"""Complaints arriving from the platform: by API, by file import, or by an admin's form.

Intake is idempotent on the platform's external id: sending the same complaint twice
returns the one already stored.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appeals import audit
from appeals.errors import N_, Conflict, DomainError, InvalidInput, NotFound
from appeals.feed_vocabulary import complaint_channel, complaint_type
from appeals.models import Complaint, ComplaintChannel, ComplaintStatus, ComplaintType, Order, Shop
from appeals.permissions import Actor, Permission, require
from appeals.platforms import normalise_header
from appeals.policies import DeadlinePolicy
from evidence.cells import clean_id, moment, unguard
from evidence.errors import RejectedUpload
from evidence.tables import TableLimits, read_table

FIELDS = (
    "external_id", "shop", "type", "channel", "description", "buyer_ref",
    "received_at", "order_number", "penalty_points",
)  # fmt: skip


@dataclass(frozen=True)
class Received:
    complaint: Complaint
    created: bool


def _text(report: dict[str, Any], name: str, limit: int, required: bool = True) -> str:
    value = report.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(N_("This field is required."), field=name)
    if len(text) > limit:
        raise InvalidInput(N_("Longer than %(max)d characters."), field=name, max=limit)
    return text


def _choice(
    report: dict[str, Any], name: str, enum: type[ComplaintType] | type[ComplaintChannel]
) -> Any:
    """Our value or the platform's own word for it (未收到货, 在线客服, 12315)."""
    value = _text(report, name, 64)
    reader = complaint_type if enum is ComplaintType else complaint_channel
    found = reader(value)
    if found is None:
        raise InvalidInput(
            N_("Unknown value %(value)s; use one of: %(choices)s."),
            field=name,
            value=value,
            choices=", ".join(member.value for member in enum),
        )
    return found


def _received_at(report: dict[str, Any], zone: ZoneInfo) -> datetime:
    value = report.get("received_at")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    try:
        parsed = moment(_text(report, "received_at", 40), zone)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(
            N_("Give the time as ISO 8601, e.g. 2026-11-28T09:30:00+08:00."),
            field="received_at",
        )
    return parsed


def _points(report: dict[str, Any]) -> int:
    value = report.get("penalty_points") or 0
    try:
        points = int(value)
    except (TypeError, ValueError):
        points = -1
    if not 0 <= points <= 1000:
        raise InvalidInput(N_("Give a whole number from 0 to 1000."), field="penalty_points")
    return points


def _shop(session: Session, report: dict[str, Any]) -> Shop:
    ref = report.get("shop_id") or report.get("shop")
    if ref is None or str(ref).strip() == "":
        raise InvalidInput(N_("This field is required."), field="shop")
    if isinstance(ref, int) or str(ref).isdigit():
        shop = session.get(Shop, int(ref))
    else:
        shop = session.scalar(select(Shop).where(Shop.name == str(ref).strip()))
    if shop is None:
        raise NotFound(N_("No shop is called %(name)s."), field="shop", name=str(ref))
    return shop


def receive_complaint(
    session: Session,
    actor: Actor,
    report: dict[str, Any],
    *,
    policy: DeadlinePolicy,
    time_zone: str,
) -> Received:
    """Store a complaint the platform reports, or return the one stored under its id."""
    require(actor, Permission.PLATFORM_COMPLAINT_RECORD)
    external_id = unicodedata.normalize("NFKC", unguard(_text(report, "external_id", 64)))
    shop = _shop(session, report)
    existing = session.scalar(select(Complaint).where(Complaint.external_id == external_id))
    if existing is not None:
        if existing.shop_id != shop.id:
            raise Conflict(
                N_("Complaint %(id)s is already recorded for another shop."),
                field="external_id",
                id=external_id,
            )
        return Received(existing, created=False)
    received_at = _received_at(report, ZoneInfo(time_zone))
    try:  # as the order import reads it, whatever guard the platform's export put on it
        order_number = clean_id(_text(report, "order_number", 64, required=False)) or None
    except ValueError as error:
        raise InvalidInput(str(error.args[0]), field="order_number", **error.args[1]) from None
    order = (
        session.scalar(select(Order).where(Order.shop_id == shop.id, Order.number == order_number))
        if order_number
        else None
    )
    complaint = Complaint(
        shop_id=shop.id,
        order_id=order.id if order else None,
        order_number=order_number,
        external_id=external_id,
        type=_choice(report, "type", ComplaintType),
        channel=_choice(report, "channel", ComplaintChannel),
        description=_text(report, "description", 10_000),
        buyer_ref=_text(report, "buyer_ref", 120),
        received_at=received_at,
        appeal_deadline=policy.appeal_deadline(received_at),
        penalty_points=_points(report),
        status=ComplaintStatus.OPEN,
    )
    session.add(complaint)
    session.flush()
    audit.record(
        session, actor, "complaint.received", complaint, after={"external_id": external_id}
    )
    return Received(complaint, created=True)


def link_orders(session: Session, shop_id: int) -> int:
    """Attach the shop's unlinked complaints to orders imported since they arrived."""
    matching = (
        select(Order.id)
        .where(Order.shop_id == shop_id, Order.number == Complaint.order_number)
        .scalar_subquery()
    )
    result = session.execute(
        update(Complaint)
        .where(Complaint.shop_id == shop_id, Complaint.order_id.is_(None))
        .where(Complaint.order_number.is_not(None))
        .where(
            select(Order.id)
            .where(Order.shop_id == shop_id, Order.number == Complaint.order_number)
            .exists()
        )
        .values(order_id=matching)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class FileImportResult:
    created: int
    existing: int
    errors: list[tuple[int, str]]


def read_complaint_file(path: Path, limits: TableLimits) -> list[dict[str, Any]]:
    """Complaint reports from a JSON list (or {"complaints": [...]}) or a CSV with a header."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RejectedUpload("malformed_json", N_("The JSON file is not valid.")) from error
        records = data.get("complaints") if isinstance(data, dict) else data
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise RejectedUpload("malformed_json", N_("Expected a list of complaint objects."))
        return records
    table = read_table(path, limits)
    header = [
        _FEED_HEADERS.get(normalise_header(name), name.strip().lower()) for name in table.header
    ]
    return [dict(zip(header, row, strict=False)) for row in table.rows]


# A complaint CSV's columns may carry the platform's Chinese names.
_FEED_HEADERS = {
    normalise_header(spelling): name
    for name, spellings in {
        "external_id": ("投诉编号", "投诉单号", "投诉id", "工单号", "external id"),
        "shop": ("店铺", "店铺名称", "商家"),
        "type": ("投诉类型", "投诉原因", "问题类型"),
        "channel": ("投诉渠道", "渠道", "来源"),
        "description": ("投诉内容", "投诉描述", "描述", "问题描述"),
        "buyer_ref": ("买家", "买家昵称", "买家账号", "投诉人", "buyer ref"),
        "received_at": ("投诉时间", "受理时间", "创建时间", "received at"),
        "order_number": ("订单号", "订单编号", "order number"),
        "penalty_points": ("扣分", "处罚分", "penalty points"),
    }.items()
    for spelling in (name, *spellings)
}


def import_complaints(
    session: Session, actor: Actor, records: list[dict[str, Any]], **options: Any
) -> FileImportResult:
    """Receive each record; a bad record is reported by its number and does not stop the rest."""
    created = existing = 0
    errors: list[tuple[int, str]] = []
    for number, record in enumerate(records, start=1):
        try:
            with session.begin_nested():
                received = receive_complaint(session, actor, record, **options)
        except DomainError as error:
            errors.append((number, f"{error.field or 'record'}: {error}"))
            continue
        created += received.created
        existing += not received.created
    return FileImportResult(created, existing, errors)
