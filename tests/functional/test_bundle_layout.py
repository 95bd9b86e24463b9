"""The bundle PDF as a reader sees it: nothing cut, times in the shop's zone with the zone
named, Chinese kept inside its column, and a header on every page, appended PDFs included.

Measured from outside with poppler's pdftotext (-layout and -bbox) on a bundle downloaded
through the API, as a reviewer would get it.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from appeals import appeal, complaints, locker
from appeals.clock import utcnow
from appeals.models import AppealVersion, EvidenceKind, MaliciousCategory, Order
from appeals.policies import DEFAULT_POLICIES
from tests.bundles import screenshot
from tests.conftest import Clock, World, require

require(bool(subprocess.run(["which", "pdftotext"], capture_output=True).stdout), "no pdftotext")

ZONE = "Asia/Shanghai"  # the configured DEFAULT_TIME_ZONE of the test app
WAYBILL = "BL2026110300001234567890"
ORDER_NUMBER = "6925110312345678901234"
# A platform export as Douyin writes it: 30 columns, long ids, dates with seconds.
EXPORT_HEADER = [
    "主订单编号", "子订单编号", "选购商品", "商品规格", "商品数量", "商品ID", "商品单价",
    "订单应付金额", "运费", "优惠总金额", "平台优惠", "商家优惠", "达人优惠", "支付方式",
    "收件人", "收件人手机号", "省", "市", "区", "街道", "详细地址", "是否修改过地址",
    "买家留言", "订单提交时间", "支付完成时间", "快递公司", "快递单号", "订单状态",
    "售后状态", "商家备注",
]  # fmt: skip
EXPORT_ROWS = 40
# A long Chinese answer with English and digits mixed in: many lines in its cell.
ANSWER = (
    "签收记录显示包裹已于十一月三日由买家本人签收，物流轨迹完整，快递员电话回访确认无误；"
    "买家在聊天中多次以差评相威胁要求全额退款，Order 6925110312345678901234 的运单"
    f"{WAYBILL} 显示正常派送，签收照片与收货地址一致，平台规则第十二条规定此类投诉不成立。"
)
ALLEGATION = "商品未收到，物流信息显示异常，要求全额退款并赔偿损失（not received）"
TOP_LINE = "RECEIPT-TOP-EDGE"
BOTTOM_LINE = "RECEIPT-BOTTOM-EDGE"


def export_csv() -> bytes:
    lines = [",".join(EXPORT_HEADER)]
    for n in range(EXPORT_ROWS):
        row = [
            f"{ORDER_NUMBER[:-2]}{n:02d}", f"{ORDER_NUMBER[:-2]}{n:02d}1", f"蓝色保温杯 {n}",
            "500ml 蓝色", "1", "3581234567890123456", "59.00", "59.00", "0.00", "5.00",
            "2.00", "3.00", "0.00", "支付宝", "张三", "138****0000", "浙江省", "杭州市",
            "西湖区", "文新街道", "文一西路 100 号 2 幢 1 单元 301 室", "否", "请尽快发货",
            "2026-11-01 09:15:42", "2026-11-01 09:16:03", "中通快递", f"{WAYBILL[:-2]}{n:02d}",
            "已完成", "无", "老客户",
        ]  # fmt: skip
        lines.append(",".join(row))
    return ("\n".join(lines) + "\n").encode("utf-8")


def receipt_pdf() -> bytes:
    """A one-page scan whose own text reaches the very top and bottom of the page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(40, A4[1] - 12, TOP_LINE)
    canvas.drawString(40, 4, BOTTOM_LINE)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.fixture
def evening(clock: Clock) -> Clock:
    """Submission at 20:30 UTC: in the shop's zone it is already 04:30 the next day."""
    clock.move_to(utcnow().replace(hour=20, minute=30, second=0, microsecond=0))
    return clock


@pytest.fixture
def built(evening: Clock, app: Flask, world: World, tmp_path: Path) -> tuple[AppealVersion, Path]:
    """Shop A's appeal with a wide export, a PDF receipt and a long Chinese answer, as its PDF."""
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    owner = world.users["owner_a"]
    with app.app_context():
        session = db()
        order = session.get_one(Order, world.order_a.id)
        order.number = ORDER_NUMBER
        order.tracking_number = WAYBILL
        order.carrier = "中通快递"
        order.shipped_at = utcnow() - timedelta(hours=30)
        complaint = complaints.get_complaint(session, owner, world.complaint_a.id)
        complaints.flag_complaint(
            session, owner, complaint, MaliciousCategory.OTHER, "Threatened a bad review."
        )
        items = [
            locker.receive_file(
                session,
                owner,
                complaint,
                io.BytesIO(body),
                filename=name,
                kind=kind,
                caption=caption,
                store=blob_store(),
                workdir=tmp_path / "quarantine",
                policy=DEFAULT_POLICIES.locker,
            )
            for name, body, kind, caption in (
                ("export.csv", export_csv(), EvidenceKind.ORDER_HISTORY, "抖店订单导出"),
                ("receipt.pdf", receipt_pdf(), EvidenceKind.SHIPPING_RECEIPT, "Receipt"),
                ("chat.png", screenshot(), EvidenceKind.CHAT_SCREENSHOT, "聊天截图"),
            )
        ]
        draft = appeal.start_appeal(session, owner, complaint.id)
        appeal.update_draft(
            session, owner, draft, category=MaliciousCategory.OTHER,
            statement="买家以差评相威胁，要求全额退款。The buyer threatened a bad review.",
            remedies=["void_complaint"], rows=[(ALLEGATION, ANSWER, [item.id for item in items])],
        )  # fmt: skip
        version = appeal.submit_appeal(
            session, owner, draft, profile=DEFAULT_POLICIES.budget,
            review_policy=DEFAULT_POLICIES.review,
        )  # fmt: skip
        session.commit()
        session.refresh(version)
        session.expunge(version)
    client = app.test_client()
    token = world.tokens["owner_a"][1]
    response = client.get(
        f"/api/v1/appeals/{version.appeal_id}/bundle.pdf",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data()[:300]
    pdf = tmp_path / "bundle.pdf"
    pdf.write_bytes(response.get_data())
    response.close()
    return version, pdf


def layout_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    run = subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, check=True
    )
    return run.stdout.decode()


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
HEADER = re.compile(r"^(AP-\d{4}-\d{6}) · (Cover|Matrix|Index|Dossier|Exhibit (A-\d) · .+) "
                    r"Page (\d+) of (\d+)$")  # fmt: skip


def pages(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Every page's words with their boxes in points from the top left, as shown."""
    run = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True)
    return [
        [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(page)]
        for page in run.stdout.decode().split("<page ")[1:]
    ]


def test_order_numbers_waybills_and_times_are_printed_whole(
    built: tuple[AppealVersion, Path],
) -> None:
    _version, pdf = built
    text = layout_text(pdf)
    assert "…" not in text
    cover = layout_text(pdf, 1)
    assert ORDER_NUMBER in cover and WAYBILL in cover
    for n in range(EXPORT_ROWS):  # every row of the 30-column export, on landscape pages
        assert f"{ORDER_NUMBER[:-2]}{n:02d}" in text and f"{WAYBILL[:-2]}{n:02d}" in text
    assert text.count("2026-11-01 09:15:42") == EXPORT_ROWS
    assert "Columns 1–" in text and "of 30" in text


def test_every_time_is_the_shops_with_its_zone_named(built: tuple[AppealVersion, Path]) -> None:
    version, pdf = built
    text = " ".join(layout_text(pdf).split())  # a time and its zone may wrap apart
    assert version.submitted_at is not None
    local = version.submitted_at.astimezone(ZoneInfo(ZONE))
    assert local.date() != version.submitted_at.date()  # 20:30 UTC is tomorrow in Shanghai
    assert f"{local:%Y-%m-%d %H:%M} (Asia/Shanghai, UTC+08:00)" in layout_text(pdf, 1)
    assert not re.search(r"\d\d:\d\d UTC", text), "a time printed in UTC"
    stamps = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d(?!:)( \(Asia/Shanghai, UTC\+08:00\))?", text)
    assert stamps and all(stamps), "a time without its zone"


def test_a_chinese_rebuttal_stays_inside_its_column(built: tuple[AppealVersion, Path]) -> None:
    _version, pdf = built
    matrix = pages(pdf)[1]
    head = {text: (x0, y1) for x0, _y0, _x1, y1, text in matrix}
    left, right = head["Answer"][0], head["Exhibits"][0]
    allegation = head["Allegation"][0]
    below = [w for w in matrix if w[1] > head["Answer"][1] and w[1] < 700]
    answer = [w for w in below if left - 1 <= w[0] < right - 1]
    assert "".join(w[4] for w in answer) == ANSWER.replace(" ", "")
    assert max(w[2] for w in answer) < right - 3
    claim = [w for w in below if allegation - 1 <= w[0] < left - 1]
    assert "".join(w[4] for w in claim) == ALLEGATION.replace(" ", "")
    assert max(w[2] for w in claim) < left - 3


def test_every_page_has_a_header_naming_appeal_exhibit_and_page(
    built: tuple[AppealVersion, Path],
) -> None:
    _version, pdf = built
    found = pages(pdf)
    exhibits: list[str] = []
    for number, words in enumerate(found, start=1):
        top = sorted((w for w in words if w[3] < 20), key=lambda w: w[0])
        match = HEADER.match(" ".join(w[4] for w in top))
        assert match, f"page {number} has no header: {top}"
        assert match.group(1).startswith("AP-") and int(match.group(4)) == number
        assert int(match.group(5)) == len(found)
        exhibits.append(match.group(3) or match.group(2))
    assert exhibits[:3] == ["Cover", "Matrix", "Index"] and exhibits[-1] == "Dossier"
    assert {"A-1", "A-2", "A-3"} <= set(exhibits)
    # The appended receipt: its header names it, and its own edge lines are left uncovered.
    receipt = exhibits.index("A-2")
    words = found[receipt]
    header_bottom = max(w[3] for w in words if w[3] < 20)
    footer_top = max(w[1] for w in words if w[4].startswith("AP-"))
    edges = {w[4]: w for w in words}
    assert edges[TOP_LINE][1] > header_bottom and edges[BOTTOM_LINE][3] < footer_top


def test_a_shop_time_names_its_zone_and_the_offset_then_in_force() -> None:
    from datetime import UTC, datetime

    from appeals.bundle.pdf import shop_time

    summer, winter = datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert shop_time(summer, "Europe/Berlin") == "2026-07-01 14:00 (Europe/Berlin, UTC+02:00)"
    assert shop_time(winter, "Europe/Berlin") == "2026-12-01 13:00 (Europe/Berlin, UTC+01:00)"
    assert shop_time(winter, "America/St_Johns") == "2026-12-01 08:30 (America/St_Johns, UTC-03:30)"
