"""The bundle PDF's own pages: cover, rebuttal matrix, exhibit index, rendered documents and
the complainant dossier, in English and Chinese."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PageObject, PdfReader
from sqlalchemy.orm import Session

from appeals.bundle.archive import files_digest
from appeals.bundle.plan import Exhibit, ShopReader, Wording
from appeals.dossier import build_dossier
from appeals.errors import N_
from appeals.evidence_text import read_texts
from appeals.models import Appeal, AppealVersion, Complaint, Order
from appeals.rebuttal import row_label
from evidence import pdfpages
from evidence.assemble import assemblable_pages, display_of
from evidence.pdfpages import Document, Fields, Gap, Grid, Heading, Lines, Text
from evidence.storage import CHUNK, BlobStore

MAX_TABLE_ROWS = 5000
TITLES = {
    "cover": ("Appeal evidence bundle", "申诉证据包"),
    "statement": ("Statement of facts", "事实陈述"),
    "complaint": ("The complaint, as the buyer wrote it", "投诉内容（买家原文）"),
    "flag": ("Why the merchant flagged it as malicious", "商家标记恶意投诉的理由"),
    "matrix": ("Rebuttal matrix", "逐项反驳"),
    "index": ("Exhibit index", "证据目录"),
    "exhibits": ("Exhibits", "证据"),
    "dossier": ("Complainant dossier", "投诉人档案"),
    "order": ("The order, as the platform's export records it", "订单（平台导出记录）"),
}
# The order's facts on the cover, each with its bilingual label.
ORDER_FACTS = (
    ("status_text", ("Status", "订单状态")),
    ("buyer_ref", ("Buyer", "买家")),
    ("total_amount", ("Amount paid", "实付金额")),
    ("ordered_at", ("Ordered", "下单时间")),
    ("paid_at", ("Paid", "付款时间")),
    ("shipped_at", ("Shipped", "发货时间")),
    ("delivered_at", ("Delivered", "签收时间")),
    ("confirmed_at", ("Receipt confirmed", "确认收货时间")),
    ("completed_at", ("Completed", "完成时间")),
    ("carrier", ("Carrier", "物流公司")),
    ("tracking_number", ("Tracking number", "运单号")),
    ("receiver", ("Receiver", "收货人")),
    ("phone", ("Phone", "电话")),
    ("address", ("Address", "收货地址")),
    ("buyer_message", ("Buyer message", "买家留言")),
    ("seller_note", ("Seller note", "卖家备注")),
)
FIELDS = {
    "appeal": ("Appeal", "申诉编号"),
    "shop": ("Shop", "店铺"),
    "complaint": ("Complaint", "投诉"),
    "order": ("Order", "订单"),
    "category": ("Category", "恶意类型"),
    "remedies": ("Remedies requested", "申请的处理"),
    "version": ("Version", "版本"),
    "submitted": ("Submitted", "提交时间"),
    "late": ("late submission", "逾期提交"),
    "exhibits": ("Exhibits", "证据数量"),
    "manifest": ("Exhibit manifest SHA-256", "证据清单 SHA-256"),
    "content": ("Version content SHA-256", "版本内容 SHA-256"),
    "allegation": ("Allegation", "投诉主张"),
    "answer": ("Answer", "商家答复"),
    "cited": ("Exhibits", "证据"),
    "label": ("Label", "编号"),
    "kind": ("Kind", "类型"),
    "caption": ("Caption", "说明"),
    "pages": ("Pages", "页码"),
    "sha": ("SHA-256", "SHA-256"),
    "none": ("none", "无"),
}
# Above each group of columns of a table too wide for one page: "{columns}" and "{total}".
BANDS = ("Columns {columns} of {total}", "第 {columns} 列（共 {total} 列）")


def shop_time(moment: datetime, time_zone: str) -> str:
    """A moment as the shop's clock showed it, with the zone named: every time in the bundle.

    `2026-11-03 14:20 (Asia/Shanghai, UTC+08:00)`; the offset is the one in force then.
    """
    local = moment.astimezone(ZoneInfo(time_zone))
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{local:%Y-%m-%d %H:%M} ({time_zone}, UTC{sign}{hours:02d}:{rest:02d})"


def bi(pair: tuple[str, str]) -> str:
    """English and Chinese together, once when they are the same."""
    english, chinese = pair
    return english if english == chinese else f"{english} / {chinese}"


def front_label(title: tuple[str, str]) -> str:
    return {"Appeal evidence bundle": "Cover", "Rebuttal matrix": "Matrix",
            "Exhibit index": "Index"}.get(title[0], title[0])  # fmt: skip


def prepare_document(exhibit: Exhibit, store: BlobStore, workdir: Path, wording: Wording) -> None:
    item = exhibit.item
    title, caption = exhibit_title(exhibit, wording)
    if item.media_type == "application/pdf":
        path = workdir / f"exhibit-{exhibit.label}.pdf"
        _copy_blob(store, item.blob_key, path)
        exhibit.pages = assemblable_pages(path)
        exhibit.document = path
        return
    document = Document(title, [Heading(title, 2)])
    if caption:
        document.blocks.append(Text(caption, muted=True))
    document.blocks.append(Gap())
    if item.content_key and item.rows is not None and item.media_type != "text/plain":
        with store.open(item.content_key) as handle:
            table = json.load(handle)
        header = [str(cell) for cell in table["header"]]
        rows = table["rows"][:MAX_TABLE_ROWS]
        cells = [[str(c) for c in row] for row in rows]
        document.blocks.append(Grid(header, cells, wrap=False, bands_caption=bi(BANDS)))
        if (item.rows or 0) > len(rows):
            more = wording.text(
                N_("%(shown)d of %(rows)d rows shown; the full file is in the ZIP's originals."),
                shown=len(rows), rows=item.rows or 0,
            )  # fmt: skip
            document.blocks.append(Text(bi(more), muted=True))
    else:
        with store.open(item.content_key or item.blob_key) as handle:
            text = handle.read(2_000_000).decode("utf-8", errors="replace")
        document.blocks.append(Lines(text.splitlines()))
    path = workdir / f"exhibit-{exhibit.label}.pdf"
    exhibit.pages = pdfpages.render(document, path)
    exhibit.document = path


# What an exhibit that could not be put into the bundle says in its place.
UNAVAILABLE = (
    "This exhibit could not be included in the bundle: its stored file could not be read "
    "or put into a PDF. It stays in the shop's evidence locker.",
    "此证据无法放入证据包：已存储的文件无法读取或无法转换为 PDF。原文件仍保存在店铺的证据库中。",
)
UNAVAILABLE_FIELDS = {"name": ("File", "文件"), "original": ("In the ZIP", "压缩包中")}
SHIPPED = {
    True: ("the original file, under originals/", "原文件，位于 originals/ 目录"),
    False: ("a note in its place: the file could not be read", "一份说明：文件无法读取"),
}


def placeholder_document(
    exhibit: Exhibit, workdir: Path, wording: Wording, *, original_shipped: bool
) -> None:
    """One page in place of an exhibit that failed: what it was, and that it is missing."""
    title, caption = exhibit_title(exhibit, wording)
    document = Document(title, [Heading(title, 2)])
    if caption:
        document.blocks.append(Text(caption, muted=True))
    english, chinese = UNAVAILABLE
    document.blocks += [Gap(), Text(english), Text(chinese), Gap()]
    document.blocks.append(
        Fields(
            [
                (bi(UNAVAILABLE_FIELDS["name"]), exhibit.item.display_name),
                (bi(FIELDS["sha"]), exhibit.entry.get("sha256") or exhibit.item.sha256),
                (bi(UNAVAILABLE_FIELDS["original"]), bi(SHIPPED[original_shipped])),
            ]
        )
    )
    path = workdir / f"exhibit-{exhibit.label}-unavailable.pdf"
    exhibit.pages = pdfpages.render(document, path)
    exhibit.document, exhibit.image, exhibit.lines = path, None, {}


def scanned_layers(exhibits: list[Exhibit], workdir: Path) -> dict[str, dict[int, PageObject]]:
    """Pages of invisible text for the read pages of PDF exhibits, by label and page index.

    They are drawn in one file, so that they share one embedded font; each has the size of
    its page as shown (cropbox, /Rotate), and the assembler turns it onto the page.
    """
    wanted: list[tuple[str, int, tuple[float, float], list[pdfpages.PlacedLine]]] = []
    for exhibit in exhibits:
        if exhibit.document is None or exhibit.item.media_type != "application/pdf":
            continue
        if not exhibit.lines:
            continue
        pages = PdfReader(exhibit.document).pages
        for number, lines in sorted(exhibit.lines.items()):
            display = display_of(pages[number - 1]) if number <= len(pages) else None
            if display is not None:
                wanted.append((exhibit.label, number - 1, (display.width, display.height), lines))
    if not wanted:
        return {}
    path = workdir / "scanned-text.pdf"
    pdfpages.render_text_layers([(size, lines) for _label, _index, size, lines in wanted], path)
    layers: dict[str, dict[int, PageObject]] = {}
    for (label, index, _size, _lines), page in zip(wanted, PdfReader(path).pages, strict=True):
        layers.setdefault(label, {})[index] = page
    return layers


def _copy_blob(store: BlobStore, key: str, path: Path) -> None:
    with store.open(key) as reader, path.open("wb") as writer:
        shutil.copyfileobj(reader, writer, CHUNK)


def exhibit_title(exhibit: Exhibit, wording: Wording) -> tuple[str, str]:
    kind = bi(wording.label(exhibit.kind))
    return f"{exhibit.label} · {kind}", exhibit.item.caption or exhibit.item.display_name


def front_matter(
    appeal: Appeal,
    version: AppealVersion,
    exhibits: list[Exhibit],
    files: list[dict[str, Any]],
    wording: Wording,
    dossier_pages: int,
    workdir: Path,
    time_zone: str,
) -> list[tuple[tuple[str, str], Path]]:
    """Cover, matrix and index; the index is laid out twice so its own length is known."""
    content = version.content
    complaint = appeal.complaint
    remedies = [bi(wording.label(r)) for r in content["remedies"]] or [bi(FIELDS["none"])]
    submitted = shop_time(version.submitted_at, time_zone)
    late = f" ({bi(FIELDS['late'])})" if version.late else ""
    cover = Document(
        f"{appeal.number} v{version.number}",
        [
            Heading(bi(TITLES["cover"])),
            Text(appeal.number, size=14),
            Gap(),
            Fields(
                [
                    (bi(FIELDS["appeal"]), appeal.number),
                    (bi(FIELDS["shop"]), complaint.shop.name if complaint.shop else ""),
                    (
                        bi(FIELDS["complaint"]),
                        f"{complaint.external_id} · " + bi(wording.label(complaint.type.value)),
                    ),
                    (bi(FIELDS["order"]), complaint.order.number if complaint.order else "—"),
                    (
                        bi(FIELDS["category"]),
                        bi(wording.label(content["category"])) if content["category"] else "—",
                    ),
                    (bi(FIELDS["remedies"]), "\n".join(remedies)),
                    (bi(FIELDS["version"]), f"{version.number}"),
                    (bi(FIELDS["submitted"]), submitted + late),
                    (bi(FIELDS["exhibits"]), str(len(exhibits))),
                    (bi(FIELDS["manifest"]), files_digest(files)),
                    (bi(FIELDS["content"]), version.content_sha256),
                ]
            ),
            Heading(bi(TITLES["complaint"]), 2),
            Text(complaint.description or "—"),
            *_flag_section(complaint, wording),
            Heading(bi(TITLES["statement"]), 2),
            Text(content["statement"] or "—"),
            *_order_section(complaint.order, time_zone),
        ],
    )
    matrix = Document(
        bi(TITLES["matrix"]),
        [
            Heading(bi(TITLES["matrix"])),
            Grid(
                ["#", bi(FIELDS["allegation"]), bi(FIELDS["answer"]), bi(FIELDS["cited"])],
                [
                    [
                        row_label(i),
                        row["allegation"],
                        row["answer"],
                        ", ".join(row["exhibits"]) or "—",
                    ]
                    for i, row in enumerate(content["rows"])
                ],
                widths=[0.06, 0.37, 0.42, 0.15],
            ),
        ],
    )
    cover_path, matrix_path, index_path = (
        workdir / n for n in ("cover.pdf", "matrix.pdf", "index.pdf")
    )
    before = pdfpages.render(cover, cover_path) + pdfpages.render(matrix, matrix_path)
    index_pages = 1
    for _attempt in range(3):
        first = before + index_pages
        page = first
        for exhibit, entry in zip(exhibits, files, strict=True):
            exhibit.first_page = page
            entry["first_page"] = page + 1
            page += exhibit.pages
        index = Document(
            bi(TITLES["index"]),
            [
                Heading(bi(TITLES["index"])),
                Grid(
                    [bi(FIELDS[n]) for n in ("label", "kind", "caption", "pages", "sha")],
                    [
                        [
                            e.label,
                            bi(wording.label(e.kind)),
                            e.item.caption or e.item.display_name,
                            _page_range(e.first_page + 1, e.pages),
                            f["sha256"][:12],
                        ]
                        for e, f in zip(exhibits, files, strict=True)
                    ],
                    widths=[0.08, 0.24, 0.4, 0.12, 0.16],
                ),
                Gap(),
                Text(
                    bi(TITLES["dossier"]) + f": {_page_range(page + 1, dossier_pages)}",
                    muted=True,
                ),
            ],
        )
        laid_out = pdfpages.render(index, index_path)
        if laid_out == index_pages:
            break
        index_pages = laid_out
    return [(TITLES["cover"], cover_path), (TITLES["matrix"], matrix_path),
            (TITLES["index"], index_path)]  # fmt: skip


def _flag_section(complaint: Complaint, wording: Wording) -> list[Heading | Text]:
    """The merchant's flag, which the flag form promises reviewers will read."""
    if complaint.flag_category is None:
        return []
    return [
        Heading(bi(TITLES["flag"]), 2),
        Text(bi(wording.label(complaint.flag_category.value))),
        Text(complaint.flag_rationale or "—"),
    ]


def _order_section(order: Order | None, time_zone: str) -> list[Any]:
    """The order's facts as the export gave them: items, amounts, times, the receiver."""
    if order is None:
        return []
    facts: list[tuple[str, str]] = []
    for name, label in ORDER_FACTS:
        value = getattr(order, name)
        if value in (None, ""):
            continue
        if isinstance(value, datetime):
            value = shop_time(value, time_zone)
        elif name == "total_amount":
            value = f"{value} {order.currency}"
        facts.append((bi(label), str(value)))
    items = [
        f"{item.get('name') or '—'}"
        + (f" ({item['sku']})" if item.get("sku") else "")
        + f" × {item.get('quantity', 1)}"
        + (f" @ {item['unit_price']}" if item.get("unit_price") else "")
        for item in order.items or []
    ]
    if items:
        facts.insert(1, (bi(("Items", "商品")), "\n".join(items[:50])))
    return [Heading(bi(TITLES["order"]), 2), Fields(facts)]


def _quote_source(quote: dict[str, Any], time_zone: str) -> str:
    """Where a quoted line is: file and line (or the complaint), speaker, the shop's time."""
    where = (
        bi(("the complaint", "投诉内容"))
        if quote["file"] == "complaint"
        else f"{quote['file']}, {bi(('picture, message', '截图消息'))} {quote['line']}"
        if quote.get("picture")
        else f"{quote['file']}, {bi(('line', '行'))} {quote['line']}"
    )
    parts = [where, quote.get("speaker") or ""]
    if quote.get("at"):
        parts.append(shop_time(datetime.fromisoformat(quote["at"]), time_zone))
    return " · ".join(part for part in parts if part)


def _in_shop_time(signal: Any, time_zone: str) -> dict[str, Any]:
    """A signal's parameters with its `when` (the dossier writes it in UTC, from the time of
    the line it quotes) in the shop's time, as every other time of the bundle."""
    params = dict(signal.params)
    at = signal.quotes[0].get("at") if signal.quotes else None
    if "when" in params and at:
        params["when"] = shop_time(datetime.fromisoformat(at), time_zone)
    return params


def _page_range(first: int, count: int) -> str:
    return str(first) if count <= 1 else f"{first}–{first + count - 1}"


def dossier_document(
    session: Session,
    appeal: Appeal,
    version: AppealVersion,
    store: BlobStore,
    wording: Wording,
    time_zone: str,
) -> Document:
    dossier = build_dossier(
        session, ShopReader(appeal.shop_id), appeal.complaint_id, time_zone=time_zone,
        known_at=version.submitted_at,
        evidence=read_texts(session, store, appeal.complaint_id),
    )  # fmt: skip
    as_of = shop_time(dossier.as_of, time_zone)
    intro = wording.text(
        N_("What the shop's own orders and complaints say about buyer %(buyer)s, as of %(when)s."),
        buyer=dossier.buyer_ref, when=as_of,
    )  # fmt: skip
    blocks: list[Any] = [Heading(bi(TITLES["dossier"])), Text(intro[0]), Text(intro[1]), Gap()]
    marks = {"alert": "▲", "warning": "△", "info": "·"}
    for signal in dossier.signals:
        english, chinese = wording.signal(
            signal.code, signal.message, _in_shop_time(signal, time_zone)
        )
        blocks.append(Text(f"{marks.get(signal.level, '·')} {english}"))
        if chinese != english:
            blocks.append(Text(f"   {chinese}", muted=True))
        for quote in signal.quotes:
            blocks.append(Text(f"   “{quote['text']}”"))
            blocks.append(Text(f"      — {_quote_source(quote, time_zone)}", muted=True))
    orders, complaints = (len(dossier.inputs.get(name, [])) for name in ("orders", "complaints"))
    # The footnote names what the digest covers, in English like the dossier's own record.
    read = " · ".join(
        wording.plural(f"%(num)d {noun}", f"%(num)d {noun}s", num)[0]
        for noun, num in (("order", orders), ("complaint", complaints))
    )
    footnote = f"{dossier.algorithm} · {read} · SHA-256 {dossier.digest}"
    blocks.extend([Gap(), Text(footnote, muted=True, size=7.5)])
    return Document(bi(TITLES["dossier"]), blocks)
