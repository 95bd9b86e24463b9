"""Importing a shop's orders from platform exports (CSV or XLSX, Chinese or English headers).

The file is read by evidence.tables; here each column is mapped to an order field, every
row is checked, and good rows are written as one upsert per order number (re-importing
the same export updates, never duplicates). Bad rows are reported with row, column and
reason, and do not stop the good ones.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from appeals import audit
from appeals.clock import utcnow
from appeals.complaints import own_shop_id
from appeals.errors import N_, Conflict, InvalidInput, NotFound
from appeals.intake import link_orders
from appeals.models import ImportStatus, Order, OrderImport, Shop
from appeals.permissions import Actor, Permission, require
from evidence.names import sanitize_display_name
from evidence.tables import Table

# Header spellings seen in platform exports, normalised (lower case, no spaces or marks).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": (
        "订单号",
        "订单编号",
        "订单id",
        "主订单编号",
        "ordernumber",
        "orderno",
        "orderid",
        "order",
    ),
    "buyer_ref": (
        "买家",
        "买家昵称",
        "买家账号",
        "买家会员名",
        "买家id",
        "buyer",
        "buyerid",
        "buyername",
        "buyerref",
    ),
    "item": (
        "商品",
        "商品名称",
        "宝贝标题",
        "商品标题",
        "item",
        "items",
        "product",
        "productname",
        "title",
    ),
    "quantity": ("数量", "购买数量", "宝贝数量", "quantity", "qty"),
    "unit_price": ("单价", "商品单价", "unitprice", "price"),
    "total_amount": (
        "金额",
        "实付金额",
        "订单金额",
        "实收款",
        "买家实际支付金额",
        "amount",
        "total",
        "totalamount",
        "paidamount",
    ),
    "currency": ("币种", "货币", "currency"),
    "ordered_at": (
        "下单时间",
        "订单创建时间",
        "创建时间",
        "orderedat",
        "ordertime",
        "createdat",
        "orderdate",
    ),
    "paid_at": ("付款时间", "支付时间", "paidat", "paymenttime", "paytime"),
    "shipped_at": ("发货时间", "shippedat", "shiptime", "shippingtime"),
    "delivered_at": ("签收时间", "送达时间", "deliveredat", "deliverytime"),
    "confirmed_at": ("确认收货时间", "确认时间", "confirmedat", "receiptconfirmed", "confirmtime"),
    "carrier": ("物流公司", "快递公司", "承运商", "carrier", "logisticscompany", "courier"),
    "tracking_number": (
        "物流单号",
        "运单号",
        "快递单号",
        "trackingnumber",
        "trackingno",
        "waybill",
        "waybillno",
    ),
    "refund_amount": ("退款金额", "refundamount", "refunded", "refund"),
    "refunded_at": ("退款时间", "refundedat", "refundtime"),
    "contact": (
        "收货人电话",
        "联系电话",
        "联系手机",
        "手机",
        "电话",
        "phone",
        "contactphone",
        "mobile",
    ),
    "address": ("收货地址", "收货人地址", "地址", "shippingaddress", "address", "deliveryaddress"),
}
REQUIRED = ("number", "buyer_ref")
TIME_FIELDS = ("ordered_at", "paid_at", "shipped_at", "delivered_at", "confirmed_at", "refunded_at")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日",
)


def normalise_header(text: str) -> str:
    return re.sub(r"[\s_\-:：()（）/.·]+", "", text).lower()


_LOOKUP = {normalise_header(name): key for key, names in SYNONYMS.items() for name in names}


@dataclass(frozen=True)
class RowError:
    """Why one row (or one cell) could not be imported, in words for the merchant."""

    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportPlan:
    """What an import would do: the column mapping, the orders it read, the rows it refused."""

    mapping: dict[str, str]  # field -> column header as written in the file
    ignored_columns: list[str]
    missing_required: list[str]
    orders: dict[str, dict[str, Any]]
    errors: list[RowError]
    rows_read: int

    @property
    def can_apply(self) -> bool:
        return not self.missing_required and bool(self.orders)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    failed: int

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }


def fingerprint(key: bytes, kind: str, value: str) -> str | None:
    """A keyed fingerprint of a phone number or address; equal inputs match, none is stored."""
    if kind == "contact":
        value = re.sub(r"\D", "", value)[-11:]
    else:
        value = re.sub(r"[\s,，。.#\-]+", "", value).lower()
    if len(value) < 5:
        return None
    return hmac.new(key, f"{kind}:{value}".encode(), sha256).hexdigest()[:32]


def plan_import(table: Table, *, time_zone: str, fingerprint_key: bytes) -> ImportPlan:
    """Map the columns and check every row, without touching the database."""
    mapping: dict[str, int] = {}
    ignored = []
    for index, header in enumerate(table.header):
        key = _LOOKUP.get(normalise_header(header))
        if key and key not in mapping:
            mapping[key] = index
        elif header.strip():
            ignored.append(header)
    plan = ImportPlan(
        mapping={key: table.header[index] for key, index in mapping.items()},
        ignored_columns=ignored,
        missing_required=[key for key in REQUIRED if key not in mapping],
        orders={},
        errors=[],
        rows_read=len(table.rows),
    )
    if plan.missing_required:
        return plan
    reader = _RowReader(mapping, table.header, ZoneInfo(time_zone), fingerprint_key)
    for offset, row in enumerate(table.rows):
        line = table.first_row + offset
        fields, errors = reader.read(row, line)
        if errors:
            plan.errors.extend(errors)
        elif fields["number"] in plan.orders:
            plan.orders[fields["number"]]["items"].extend(fields["items"])
        else:
            plan.orders[fields["number"]] = fields
    return plan


class _RowReader:
    def __init__(self, mapping: dict[str, int], header: list[str], zone: ZoneInfo, key: bytes):
        self.mapping = mapping
        self.header = header
        self.zone = zone
        self.key = key

    def cell(self, row: list[str], name: str) -> str:
        index = self.mapping.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    def read(self, row: list[str], line: int) -> tuple[dict[str, Any], list[RowError]]:
        errors: list[RowError] = []

        def check(name: str, parse: Callable[[str], Any]) -> Any:
            raw = self.cell(row, name)
            if not raw:
                return None
            try:
                return parse(raw)
            except ValueError as error:
                errors.append(
                    RowError(
                        line,
                        self.header[self.mapping[name]],
                        str(error.args[0]),
                        error.args[1] if len(error.args) > 1 else {},
                    )
                )
                return None

        number, buyer = self.cell(row, "number"), self.cell(row, "buyer_ref")
        for name, value, limit in (("number", number, 64), ("buyer_ref", buyer, 120)):
            if not value:
                errors.append(
                    RowError(line, self.header[self.mapping[name]], N_("This cell is empty."))
                )
            elif len(value) > limit:
                errors.append(
                    RowError(
                        line,
                        self.header[self.mapping[name]],
                        N_("Longer than %(max)d characters."),
                        {"max": limit},
                    )
                )
        fields: dict[str, Any] = {"number": number, "buyer_ref": buyer}
        quantity = check("quantity", _quantity) or 1
        unit_price = check("unit_price", _money)
        item = self.cell(row, "item")[:200]
        fields["items"] = (
            [
                {
                    "name": item,
                    "quantity": quantity,
                    "unit_price": str(unit_price) if unit_price is not None else None,
                }
            ]
            if item
            else []
        )
        total = check("total_amount", _money)
        fields["total_amount"] = (
            total if total is not None else (unit_price or Decimal(0)) * quantity
        )
        fields["currency"] = (self.cell(row, "currency") or "CNY").upper()[:3]
        fields["refund_amount"] = check("refund_amount", _money)
        for name in TIME_FIELDS:
            fields[name] = check(name, lambda raw: _time(raw, self.zone))
        fields["carrier"] = self.cell(row, "carrier")[:80] or None
        fields["tracking_number"] = self.cell(row, "tracking_number")[:80] or None
        fields["contact_fingerprint"] = fingerprint(self.key, "contact", self.cell(row, "contact"))
        fields["address_fingerprint"] = fingerprint(self.key, "address", self.cell(row, "address"))
        return fields, errors


def _money(raw: str) -> Decimal:
    cleaned = re.sub(r"[¥￥,，\s]|CNY|RMB|元", "", raw, flags=re.IGNORECASE)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(N_("Not an amount: %(value)s"), {"value": raw[:40]}) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
        raise ValueError(N_("Not an amount: %(value)s"), {"value": raw[:40]})
    return value.quantize(Decimal("0.01"))


def _quantity(raw: str) -> int:
    try:
        value = int(Decimal(raw))
    except (InvalidOperation, ValueError):
        raise ValueError(N_("Not a whole number: %(value)s"), {"value": raw[:40]}) from None
    if not 1 <= value <= 100_000:
        raise ValueError(N_("Not a whole number: %(value)s"), {"value": raw[:40]})
    return value


def _time(raw: str, zone: ZoneInfo) -> datetime:
    """A time as written in the export, read in the shop's own time zone when it has none."""
    text = raw.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for pattern in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if parsed is None or not 2000 <= parsed.year <= 2100:
        raise ValueError(N_("Not a date and time: %(value)s"), {"value": raw[:40]})
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def apply_plan(session: Session, shop: Shop, plan: ImportPlan) -> ImportResult:
    """Upsert the plan's orders into the shop by order number; flushes, never commits."""
    created = updated = unchanged = 0
    numbers = list(plan.orders)
    existing: dict[str, Order] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        query = select(Order).where(Order.shop_id == shop.id, Order.number.in_(chunk))
        existing.update({order.number: order for order in session.scalars(query)})
    for number, fields in plan.orders.items():
        order = existing.get(number)
        if order is None:
            session.add(Order(shop_id=shop.id, **fields))
            created += 1
            continue
        changed = False
        for name, value in fields.items():
            # A column the export lacks (None, or no items) never erases what is stored.
            if value is not None and value != [] and _differs(getattr(order, name), value):
                setattr(order, name, value)
                changed = True
        updated += changed
        unchanged += not changed
    session.flush()
    failed_rows = len({error.row for error in plan.errors})
    return ImportResult(created, updated, unchanged, failed_rows)


def _differs(current: Any, new: Any) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        return current != new
    return bool(current != new)


def start_import(session: Session, actor: Actor, filename: str, stored_name: str) -> OrderImport:
    """Register an uploaded export of the actor's shop, waiting for confirmation."""
    shop_id = own_shop_id(actor, Permission.MERCHANT_ORDER_IMPORT)
    record = OrderImport(
        shop_id=shop_id,
        uploaded_by_id=getattr(actor, "id", None),
        filename=sanitize_display_name(filename, "orders"),
        stored_name=stored_name,
        status=ImportStatus.PREVIEWED,
    )
    session.add(record)
    session.flush()
    return record


def get_import(session: Session, actor: Actor, import_id: int) -> OrderImport:
    """One import of the actor's shop; another shop's answers NotFound."""
    shop_id = own_shop_id(actor, Permission.MERCHANT_ORDER_IMPORT)
    record = session.scalar(
        select(OrderImport).where(OrderImport.id == import_id, OrderImport.shop_id == shop_id)
    )
    if record is None:
        raise NotFound(N_("No such import."))
    return record


def recent_imports(session: Session, actor: Actor, limit: int = 10) -> list[OrderImport]:
    shop_id = own_shop_id(actor, Permission.MERCHANT_ORDER_IMPORT)
    query = select(OrderImport).where(OrderImport.shop_id == shop_id)
    return list(session.scalars(query.order_by(OrderImport.id.desc()).limit(limit)))


def apply_import(
    session: Session, actor: Actor, record: OrderImport, plan: ImportPlan
) -> ImportResult:
    """Write a previewed import's orders; a second confirmation changes nothing."""
    if record.shop_id != own_shop_id(actor, Permission.MERCHANT_ORDER_IMPORT):
        raise NotFound(N_("No such import."))
    if record.status is ImportStatus.APPLIED:
        raise Conflict(N_("This import has already been applied."))
    result, record.summary = _write(session, record.shop_id, plan)
    record.status = ImportStatus.APPLIED
    record.applied_at = utcnow()
    session.flush()
    audit.record(session, actor, "orders.imported", record, after=record.summary)
    return result


def import_for_shop(
    session: Session, actor: Actor, shop: Shop, plan: ImportPlan, *, filename: str
) -> tuple[ImportResult, int]:
    """An operator imports a shop's export (the CLI): audited like the merchant's own.

    Returns the result and how many complaints were linked to their order.
    """
    require(actor, Permission.ADMIN_SHOP_MANAGE)
    result, summary = _write(session, shop.id, plan)
    summary["filename"] = sanitize_display_name(filename, "orders")
    audit.record(session, actor, "orders.imported", shop, shop_id=shop.id, after=summary)
    return result, int(summary["linked_complaints"])


def _write(session: Session, shop_id: int, plan: ImportPlan) -> tuple[ImportResult, dict[str, Any]]:
    if not plan.can_apply:
        raise InvalidInput(N_("Nothing in this file can be imported."))
    shop = session.get_one(Shop, shop_id)
    result = apply_plan(session, shop, plan)
    linked = link_orders(session, shop.id)
    return result, {**result.as_dict(), "linked_complaints": linked}
