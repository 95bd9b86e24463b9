"""Importing a shop's orders from platform exports (CSV or XLSX, Chinese or English headers).

The file is read row by row by evidence.tables; appeals.platforms recognises its layout
(Taobao, Qianniu, JD, Pinduoduo, Douyin, Shopify, Amazon or a plain table) and the shop's
remembered column choices fill the gaps. Each cell is cleaned of Excel's artefacts
(evidence.cells), rows of one order (items, sub-orders) are grouped with totals taken
once, and good rows are written as one upsert per order number (re-importing the same
export updates, never duplicates). Bad rows are reported with row, column and reason and
do not stop the good ones; summary lines and repeated headers are skipped.
"""

from __future__ import annotations

import hmac
import itertools
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from hashlib import blake2b, sha256
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from appeals import audit
from appeals.clock import utcnow
from appeals.complaints import own_shop_id
from appeals.errors import N_, Conflict, InvalidInput, NotFound
from appeals.intake import link_orders
from appeals.models import ImportStatus, Order, OrderImport, Shop
from appeals.permissions import Actor, Permission, require
from appeals.platforms import (
    ADDRESS_PARTS,
    FIELDS,
    Platform,
    Recognised,
    find_header,
    normalise_header,
    order_state,
    recognise,
)
from evidence.cells import clean_id, clean_phone, is_masked, moment, money, quantity, unguard
from evidence.names import sanitize_display_name

REQUIRED = ("number",)
TIME_FIELDS = (
    "ordered_at", "paid_at", "shipped_at", "delivered_at", "confirmed_at", "completed_at",
    "refunded_at",
)  # fmt: skip
_EMPTY = {"-", "--", "null", "none", "n/a", "#n/a"}
_SUMMARY = re.compile(
    r"^\s*(合计|总计|小计|汇总|共计|总数|统计|total|sum|grand total)", re.IGNORECASE
)
_SAMPLES = 3
_MAX_ERRORS = 1000
_ORDER_TEXT_LIMITS = {
    "buyer_ref": 120, "receiver": 120, "phone": 120, "address": 500, "status": 120,
    "carrier": 80, "tracking_number": 80, "buyer_message": 4000, "seller_note": 4000,
}  # fmt: skip


@dataclass(frozen=True)
class RowError:
    """Why one row (or one cell) could not be imported, in words for the merchant."""

    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    """One column of the file as the preview shows it: what it is read as, and samples."""

    index: int
    header: str
    field: str | None
    samples: tuple[str, ...]


@dataclass
class ImportPlan:
    """What an import would do: the layout, the columns, the orders read, the rows refused."""

    platform: Platform
    header_row: int
    columns: list[Column]
    missing_required: list[str]
    orders: dict[str, dict[str, Any]]
    errors: list[RowError]
    rows_read: int
    failed_rows: int = 0
    skipped_rows: int = 0  # summary lines and repeated header rows, never orders
    file_shops: list[str] = field(default_factory=list)
    foreign_shop: str | None = None  # the shop the file names, when it is not the importer
    order_count: int = 0  # orders read, including those already handed to a sink

    @property
    def can_apply(self) -> bool:
        return not self.missing_required and bool(self.orders) and not self.foreign_shop


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


def fingerprint(key: bytes, kind: str, value: str | None) -> str | None:
    """A keyed fingerprint of a phone number or address; equal inputs match, none is stored.

    Masked and encrypted values (`138****5678`, `##密文`) get none: they are not identities.
    """
    if not value or is_masked(value):
        return None
    value = unicodedata.normalize("NFKC", value)
    if kind == "contact":
        value = re.sub(r"\D", "", value)[-11:]
    else:
        value = re.sub(r"[\s,，。.#\-]+", "", value).lower()
    if len(value) < 5:
        return None
    return hmac.new(key, f"{kind}:{value}".encode(), sha256).hexdigest()[:32]


def same_shop(named: str, shop: str) -> bool:
    """Whether a shop name in an export is this shop: equal, or one holds the other."""

    def norm(text: str) -> str:
        return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).casefold()

    a, b = norm(named), norm(shop)
    if not a or not b:
        return True
    return a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))


def plan_import(
    rows: Iterable[list[str]],
    *,
    time_zone: str,
    fingerprint_key: bytes,
    remembered: dict[str, str] | None = None,
    shop_name: str | None = None,
    sink: Callable[[list[dict[str, Any]]], None] | None = None,
    batch: int = 2000,
) -> ImportPlan:
    """Recognise the layout, map the columns and check every row, without the database.

    `rows` are the file's rows as text (evidence.tables.iter_rows); `remembered` the shop's
    own reading of columns no layout knows; `shop_name` the shop importing, so that an
    export naming another shop is refused. With a `sink`, finished orders are handed to it
    in batches as the file is read (and the plan keeps none), so memory stays bounded; an
    export that names another shop then stops at its first such row.
    """
    numbered = ((line, row) for line, row in enumerate(rows, start=1))
    head: list[tuple[int, list[str]]] = []
    for line, row in numbered:
        if any(row):
            head.append((line, row))
        if len(head) == 10:
            break
    if not head:
        raise InvalidInput(N_("The file has no rows."))
    found = find_header([row for _, row in head])
    header_at = found if found is not None else 0
    header_line, header = head[header_at]
    recognised = recognise(header, remembered)
    reader = _RowReader(recognised, header, ZoneInfo(time_zone), fingerprint_key)
    missing = [name for name in REQUIRED if name not in recognised.columns]
    plan = ImportPlan(
        platform=recognised.layout.platform,
        header_row=header_line,
        columns=[],
        missing_required=missing,
        orders={},
        errors=[],
        rows_read=0,
    )
    samples: list[list[str]] = []
    shops: set[str] = set()
    failed: set[int] = set()
    previous: str | None = None
    header_key = [normalise_header(cell) for cell in header]
    for line, row in itertools.chain(head[header_at + 1 :], numbered):
        if not any(row):
            continue
        if row[0] == header[0] and [normalise_header(cell) for cell in row] == header_key:
            plan.skipped_rows += 1  # the header again, where sheets were pasted together
            continue
        if len(samples) < _SAMPLES:
            samples.append(row)
        if missing:
            plan.rows_read += 1
            continue
        number_cell = reader.raw(row, "number")
        if _is_summary(row, number_cell):
            plan.skipped_rows += 1
            continue
        if not number_cell and recognised.layout.continuation_rows and previous:
            number_cell = previous
        plan.rows_read += 1
        fields, line_item, errors = reader.read(row, line, number_cell)
        if errors:
            failed.add(line)
            if len(plan.errors) < _MAX_ERRORS:
                plan.errors.extend(errors[: _MAX_ERRORS - len(plan.errors)])
            continue
        previous = fields["number"]
        if fields.get("shop") and fields["shop"] not in shops:
            shops.add(fields["shop"])
            if sink is not None and shop_name and not same_shop(fields["shop"], shop_name):
                raise _foreign(fields["shop"], shop_name)
        _merge(plan.orders, fields, line_item)
        if sink is not None and len(plan.orders) > batch:
            # Every order but the one being read is complete (rows of an order are
            # adjacent in every export; a later fragment is merged by the sink).
            done = list(plan.orders)[:-1]
            plan.order_count += len(done)
            sink([_finish(plan.orders.pop(n), recognised.layout.platform, fingerprint_key)
                  for n in done])  # fmt: skip
    plan.failed_rows = len(failed)
    plan.columns = _columns(recognised, header, samples)
    plan.file_shops = sorted(shops)
    if shop_name:
        plan.foreign_shop = next(
            (name for name in plan.file_shops if not same_shop(name, shop_name)), None
        )
    for order in plan.orders.values():
        _finish(order, recognised.layout.platform, fingerprint_key)
    plan.order_count += len(plan.orders)
    if sink is not None and plan.orders:
        sink(list(plan.orders.values()))
        plan.orders = {}
    return plan


def _foreign(file_shop: str, shop: str) -> InvalidInput:
    return InvalidInput(
        N_("This file is an export of the shop %(file_shop)s, not of %(shop)s; nothing was"
           " imported."),
        field="file", file_shop=file_shop, shop=shop,
    )  # fmt: skip


def _is_summary(row: list[str], number: str) -> bool:
    """A totals line (合计 or Total where the order number goes) or a lone note."""
    if number:
        return bool(_SUMMARY.match(number))
    filled = [cell for cell in row if cell.strip() and cell.strip() not in _EMPTY]
    return len(filled) <= 1 or any(_SUMMARY.match(cell) for cell in filled)


def _columns(recognised: Recognised, header: list[str], samples: list[list[str]]) -> list[Column]:
    fields: dict[int, str] = {}
    for name, indexes in recognised.columns.items():
        for index in indexes:
            fields.setdefault(index, name)
    return [
        Column(
            index=index,
            header=text,
            field=fields.get(index),
            samples=tuple(unguard(row[index])[:60] for row in samples if index < len(row)),
        )
        for index, text in enumerate(header)
        if text.strip()
    ]


class _RowReader:
    def __init__(self, recognised: Recognised, header: list[str], zone: ZoneInfo, key: bytes):
        self.columns = recognised.columns
        self.header = header
        self.zone = zone
        self.key = key

    def raw(self, row: list[str], name: str) -> str:
        """The first non-empty cell among the field's columns, unguarded."""
        for index in self.columns.get(name, ()):
            if index < len(row):
                value = unguard(row[index])
                if value and value.casefold() not in _EMPTY:
                    return value
        return ""

    def joined(self, row: list[str]) -> str:
        """The status from every status column (Shopify: payment / fulfilment)."""
        values = (unguard(row[i]) for i in self.columns.get("status", ()) if i < len(row))
        return " / ".join(v for v in values if v and v.casefold() not in _EMPTY)

    def column(self, name: str) -> str:
        indexes = self.columns.get(name) or [0]
        return self.header[indexes[0]]

    def read(
        self, row: list[str], line: int, number_cell: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None, list[RowError]]:
        errors: list[RowError] = []

        def check(name: str, parse: Callable[[str], Any], raw: str | None = None) -> Any:
            text = self.raw(row, name) if raw is None else raw
            if not text:
                return None
            try:
                return parse(text)
            except ValueError as error:
                errors.append(
                    RowError(
                        line,
                        self.column(name),
                        str(error.args[0]),
                        error.args[1] if len(error.args) > 1 else {},
                    )
                )
                return None

        number = check("number", clean_id, number_cell)
        if not number_cell:
            errors.append(RowError(line, self.column("number"), N_("This cell is empty.")))
        elif number is not None and len(number) > 64:
            errors.append(
                RowError(line, self.column("number"), N_("Longer than %(max)d characters."),
                         {"max": 64})
            )  # fmt: skip
        fields: dict[str, Any] = {"number": number}
        for name, limit in _ORDER_TEXT_LIMITS.items():
            text = self.joined(row) if name == "status" else self.raw(row, name)
            if name == "tracking_number":
                text = check(name, clean_id) or ""
            elif name == "phone":
                text = check(name, _phone) or ""
            if text:
                fields[name] = text[:limit]
        for name in ("shop", "currency", "tracking_info"):
            if text := self.raw(row, name):
                fields[name] = text
        for name in ADDRESS_PARTS:
            if text := self.raw(row, name):
                fields[name] = text
        for name in ("total_amount", "postage", "refund_amount"):
            fields[name] = check(name, money)
        for name in TIME_FIELDS:
            fields[name] = check(name, lambda raw: moment(raw, self.zone))
        item = self.raw(row, "item")
        line_item: dict[str, Any] | None = None
        amounts = {
            name: check(name, money) for name in ("unit_price", "line_amount", "line_postage",
                                                  "line_refund")
        }  # fmt: skip
        count = check("quantity", quantity)
        line_id = check("line_id", clean_id)
        if item or line_id or any(value is not None for value in amounts.values()):
            line_item = {
                "name": item[:200],
                "quantity": count if count is not None else 1,
                "unit_price": str(amounts["unit_price"])
                if amounts["unit_price"] is not None
                else None,
                **{
                    key: value
                    for key, value in (
                        ("sku", self.raw(row, "sku")[:200]),
                        ("line_id", line_id),
                        ("amount", amounts["line_amount"]),
                        ("postage", amounts["line_postage"]),
                        ("refund", amounts["line_refund"]),
                    )
                    if value not in (None, "")
                },
            }
        return fields, line_item, errors


def _phone(raw: str) -> str:
    clean_id(raw)  # a phone Excel turned into 1.38E+10 has lost its digits too
    return clean_phone(raw)


def _merge(
    orders: dict[str, dict[str, Any]], fields: dict[str, Any], line: dict[str, Any] | None
) -> None:
    """Fold one row into its order: order fields from the first row that has them."""
    order = orders.get(fields["number"])
    if order is None:
        order = orders[fields["number"]] = {"items": [], "_lines": set()}
    for name, value in fields.items():
        if value is not None and order.get(name) is None:
            order[name] = value
    if line is not None:
        key = line.get("line_id")
        if key and key in order["_lines"]:
            return  # the same sub-order twice (an export appended to itself)
        if key:
            order["_lines"].add(key)
        order["items"].append(line)


def _finish(order: dict[str, Any], platform: Platform, key: bytes) -> dict[str, Any]:
    """Totals once per order, the address from its parts, the state from the status words."""
    lines = order["items"]
    order.pop("_lines")
    line_amounts = [line["amount"] for line in lines if line.get("amount") is not None]
    order["_total_from_lines"] = order.get("total_amount") is None
    if order.get("total_amount") is None:
        if line_amounts:
            total = sum(line_amounts, Decimal(0)) + sum(
                (line["postage"] for line in lines if line.get("postage") is not None),
                Decimal(0),
            )
        else:
            total = sum(
                (Decimal(line["unit_price"]) * line["quantity"] for line in lines
                 if line.get("unit_price")),
                Decimal(0),
            )  # fmt: skip
        order["total_amount"] = total
    if order.get("refund_amount") is None:
        refunds = [line["refund"] for line in lines if line.get("refund")]
        order["refund_amount"] = sum(refunds, Decimal(0)) if refunds else None
    for line in lines:
        for name in ("amount", "postage", "refund"):
            if line.get(name) is not None:
                line[name] = str(line[name])
    parts = [order.pop(name, None) for name in ADDRESS_PARTS]
    if not order.get("address"):
        filled = [part for part in parts if part]
        latin = any(re.search(r"[A-Za-z]", part) for part in filled)
        order["address"] = (", " if latin else "").join(filled)[:500] or None
    info = order.pop("tracking_info", None)
    if info and not order.get("tracking_number"):
        order["carrier"], order["tracking_number"] = _tracking_info(info, order.get("carrier"))
    order["currency"] = (order.get("currency") or "CNY").upper()[:3]
    order["buyer_ref"] = order.get("buyer_ref") or ""
    order["status_text"] = order.pop("status", None)
    order["state"] = order_state(order["status_text"]).value
    order["platform"] = platform.value
    order.pop("shop", None)
    order["contact_fingerprint"] = fingerprint(key, "contact", order.get("phone"))
    order["address_fingerprint"] = fingerprint(key, "address", order.get("address"))
    return order


def _tracking_info(text: str, carrier: str | None) -> tuple[str | None, str | None]:
    """Douyin's 快递信息 (`SF1234567-顺丰速运`, `中通快递 7312…`): carrier and waybill.

    The waybill is the first Latin-and-digits part; the rest is the carrier's name.
    """
    parts = [
        part
        for part in re.split(r"[-－,，;；:：/\s]+", unicodedata.normalize("NFKC", text))
        if part
    ]
    waybill = next(
        (
            part
            for part in parts
            if re.fullmatch(r"[A-Za-z0-9]{3,40}", part) and re.search(r"\d", part)
        ),
        None,
    )
    name = " ".join(part for part in parts if part != waybill)[:80] or None
    return (carrier or name), waybill


def apply_plan(session: Session, shop: Shop, plan: ImportPlan) -> ImportResult:
    """Upsert the plan's orders into the shop by order number; flushes, never commits."""
    created, updated, unchanged = _upsert(session, shop.id, list(plan.orders.values()))
    return ImportResult(created, updated, unchanged, plan.failed_rows)


def _upsert(
    session: Session, shop_id: int, orders: list[dict[str, Any]], merge: bool = False
) -> tuple[int, int, int]:
    """Write orders by number: new ones created, known ones updated where the file says more.

    `merge` adds a later fragment of an order already written by this import: its items
    are appended (and its line amounts added) instead of replacing what is stored.
    """
    created = updated = unchanged = 0
    existing: dict[str, Order] = {}
    numbers = [order["number"] for order in orders]
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        query = select(Order).where(Order.shop_id == shop_id, Order.number.in_(chunk))
        existing.update({order.number: order for order in session.scalars(query)})
    new: list[dict[str, Any]] = []
    for given in orders:
        fields = {key: value for key, value in given.items() if not key.startswith("_")}
        order = existing.get(fields["number"])
        if order is None:
            new.append({"shop_id": shop_id, **_ROW_DEFAULTS, **fields})
            created += 1
            continue
        if merge:
            fields["items"] = [*(order.items or []), *fields["items"]]
            # A total summed from lines grows by the fragment's lines; one the file wrote
            # for the order (repeated on its rows) is already stored.
            fields["total_amount"] = (
                order.total_amount + fields["total_amount"]
                if given.get("_total_from_lines")
                else None
            )
        changed = False
        for name, value in fields.items():
            # A column the export lacks (None, or no items) never erases what is stored.
            if value not in (None, [], "") and _differs(getattr(order, name), value):
                setattr(order, name, value)
                changed = True
        updated += changed
        unchanged += not changed
    session.flush()
    if new:  # one multi-row INSERT per batch, not one unit-of-work object per order
        session.execute(insert(Order), new)
    return created, updated, unchanged


# Every column a new order row is given, so that batched inserts share one statement.
_ROW_DEFAULTS: dict[str, Any] = dict.fromkeys(
    ("buyer_ref", "total_amount", "currency", "ordered_at", "paid_at", "shipped_at",
     "delivered_at", "confirmed_at", "completed_at", "refunded_at", "carrier",
     "tracking_number", "refund_amount", "platform", "status_text", "state", "postage",
     "receiver", "phone", "address", "buyer_message", "seller_note", "contact_fingerprint",
     "address_fingerprint")
)  # fmt: skip


class _Seen:
    """A set of order numbers kept as 8-byte digests in one array (open addressing).

    A million numbers take 16 MB, where a Python set of strings takes about 100 MB.
    """

    def __init__(self) -> None:
        self.slots = array("Q", bytes(8 * 1024))
        self.count = 0

    def add(self, number: str) -> bool:
        """Remember a number; whether it was there already."""
        digest = int.from_bytes(blake2b(number.encode(), digest_size=8).digest()) or 1
        if self._probe(digest, insert=True):
            return True
        self.count += 1
        if self.count * 2 > len(self.slots):
            old, self.slots = self.slots, array("Q", bytes(16 * len(self.slots)))
            for value in old:
                if value:
                    self._probe(value, insert=True)
        return False

    def _probe(self, digest: int, insert: bool) -> bool:
        mask = len(self.slots) - 1
        index = digest & mask
        while True:
            value = self.slots[index]
            if value == digest:
                return True
            if value == 0:
                if insert:
                    self.slots[index] = digest
                return False
            index = (index + 1) & mask


def import_stream(
    session: Session,
    actor: Actor,
    shop: Shop,
    rows: Iterable[list[str]],
    *,
    time_zone: str,
    fingerprint_key: bytes,
    filename: str,
    batch: int = 2000,
) -> tuple[ImportResult, int, ImportPlan]:
    """An operator imports a shop's export of any size (the CLI), in bounded memory.

    Orders are written in batches as the file is read, in the caller's transaction: a
    refusal part-way (another shop's export, a damaged file) leaves nothing once the caller
    rolls back. Returns the result, the complaints linked and the plan's counts.
    """
    require(actor, Permission.ADMIN_SHOP_MANAGE)
    written = _Seen()  # the numbers written so far, 16 bytes each
    analyzed_at = [10_000]  # statistics refreshed each time the rows written double
    totals = [0, 0, 0]

    def sink(orders: list[dict[str, Any]]) -> None:
        fresh: list[dict[str, Any]] = []
        fragments: list[dict[str, Any]] = []
        for order in orders:
            (fragments if written.add(order["number"]) else fresh).append(order)
        for part, merge in ((fresh, False), (fragments, True)):
            if part:
                counts = _upsert(session, shop.id, part, merge=merge)
                totals[0] += counts[0]
                totals[1] += counts[1] if not merge else 0
                totals[2] += counts[2] if not merge else 0
        session.expunge_all()  # what is written need not stay in memory
        if written.count >= analyzed_at[0]:
            _refresh_statistics(session)
            analyzed_at[0] *= 2

    plan = plan_import(
        rows, time_zone=time_zone, fingerprint_key=fingerprint_key,
        remembered=dict(shop.import_columns or {}), shop_name=shop.name, sink=sink, batch=batch,
    )  # fmt: skip
    if plan.missing_required or not plan.order_count:
        raise InvalidInput(N_("Nothing in this file can be imported."))
    shop = session.get_one(Shop, shop.id)
    linked = link_orders(session, shop.id)
    result = ImportResult(totals[0], totals[1], totals[2], plan.failed_rows)
    summary = {**result.as_dict(), "linked_complaints": linked,
               "filename": sanitize_display_name(filename, "orders")}  # fmt: skip
    audit.record(session, actor, "orders.imported", shop, shop_id=shop.id, after=summary)
    return result, linked, plan


def _differs(current: Any, new: Any) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        return current != new
    return bool(current != new)


def importing_shop(actor: Actor) -> int:
    """The shop whose orders the actor may import; anyone else is refused before any upload."""
    return own_shop_id(actor, Permission.MERCHANT_ORDER_IMPORT)


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
    record.platform = plan.platform.value
    record.status = ImportStatus.APPLIED
    record.applied_at = utcnow()
    session.flush()
    audit.record(session, actor, "orders.imported", record, after=record.summary)
    return result


def _refresh_statistics(session: Session) -> None:
    """Let PostgreSQL's planner see the orders this transaction has written so far.

    The table grows inside the import's one transaction, where autovacuum cannot follow:
    the planner took the shop's orders for a handful and answered each batch's number
    lookup from the (shop_id, ...) index it liked best, reading the whole shop, so a
    250,000-row import slowed with every batch. ANALYZE in the transaction sees its rows.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE shop_order"))


def _write(session: Session, shop_id: int, plan: ImportPlan) -> tuple[ImportResult, dict[str, Any]]:
    shop = session.get_one(Shop, shop_id)
    foreign = plan.foreign_shop or next(
        (name for name in plan.file_shops if not same_shop(name, shop.name)), None
    )
    if foreign:
        raise InvalidInput(
            N_("This file is an export of the shop %(file_shop)s, not of %(shop)s; nothing was"
               " imported."),
            field="file", file_shop=foreign, shop=shop.name,
        )  # fmt: skip
    if not plan.can_apply:
        raise InvalidInput(N_("Nothing in this file can be imported."))
    result = apply_plan(session, shop, plan)
    linked = link_orders(session, shop.id)
    return result, {**result.as_dict(), "linked_complaints": linked}


def plan_for_shop(
    session: Session,
    shop_id: int,
    rows: Iterable[list[str]],
    *,
    time_zone: str,
    fingerprint_key: bytes,
) -> ImportPlan:
    """Plan an export for a shop: its remembered columns applied, another shop's file named."""
    shop = session.get_one(Shop, shop_id)
    return plan_import(
        rows,
        time_zone=time_zone,
        fingerprint_key=fingerprint_key,
        remembered=dict(shop.import_columns or {}),
        shop_name=shop.name,
    )


def remember_columns(
    session: Session,
    actor: Actor,
    record: OrderImport,
    plan: ImportPlan,
    choices: dict[int, str],
) -> int:
    """The merchant reads some columns otherwise ("" = not used): kept for the shop.

    The choice serves this import and every later export with the same header. Returns
    how many columns changed.
    """
    if record.shop_id != own_shop_id(actor, Permission.MERCHANT_ORDER_IMPORT):
        raise NotFound(N_("No such import."))
    if record.status is ImportStatus.APPLIED:
        raise Conflict(N_("This import has already been applied."))
    shop = session.get_one(Shop, record.shop_id)
    remembered = dict(shop.import_columns or {})
    changed: dict[str, str] = {}
    for column in plan.columns:
        chosen = choices.get(column.index)
        if chosen is None:
            continue
        if chosen and chosen not in FIELDS:
            raise InvalidInput(
                N_("Choose one of the listed fields."), field=f"column_{column.index}"
            )
        if chosen != (column.field or ""):
            changed[normalise_header(column.header)] = chosen
    if not changed:
        return 0
    remembered.update(changed)
    shop.import_columns = remembered
    session.flush()
    audit.record(session, actor, "orders.columns_chosen", shop, shop_id=shop.id, after=changed)
    return len(changed)
