"""Real platform order exports are recognised by their headers and read as the platform meant.

One fixture per platform (tests/exports.py, built from the published column lists), and one
test per quirk: encodings, Excel's guards and damage, multi-row orders, summary lines.
"""

from __future__ import annotations

import codecs
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from appeals.order_import import ImportPlan, plan_import
from evidence.tables import TableLimits, iter_rows
from tests.exports import PLATFORMS

LIMITS = TableLimits(max_bytes=20 * 2**20)
KEY = b"test-fingerprint-key"


def plan_of(path: Path, **options: object) -> ImportPlan:
    return plan_import(
        iter_rows(path, LIMITS), time_zone="Asia/Shanghai", fingerprint_key=KEY, **options
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_each_platform_export_is_recognised_and_read(tmp_path: Path, name: str) -> None:
    export = PLATFORMS[name](tmp_path)
    plan = plan_of(export.path)
    assert plan.platform.value == export.platform
    assert not plan.missing_required
    assert sorted({e.row for e in plan.errors}) == export.refused_rows
    assert plan.skipped_rows == export.skipped
    assert sorted(plan.orders) == sorted(e.number for e in export.orders)
    for expected in export.orders:
        order = plan.orders[expected.number]
        assert order["total_amount"] == Decimal(expected.total), expected.number
        assert len(order["items"]) == expected.items
        assert order["buyer_ref"] == expected.buyer
        if expected.status:
            assert order["status_text"] == expected.status
            assert order["state"] == expected.state
        if expected.tracking:
            assert order["tracking_number"] == expected.tracking
        if expected.carrier:
            assert order["carrier"] == expected.carrier
        if expected.phone:
            assert order["phone"] == expected.phone
        for key, value in expected.extra.items():
            if key == "item":
                assert order["items"][0]["name"] == value
            elif key == "refund_amount":
                assert order["refund_amount"] == Decimal(str(value))
            else:
                assert order[key] == value, key


def test_taobao_guards_are_undone_and_the_destroyed_id_is_named(tmp_path: Path) -> None:
    plan = plan_of(PLATFORMS["taobao"](tmp_path).path)
    (error,) = plan.errors
    assert error.row == 4 and error.column == "订单编号"
    assert "2.76612345678901E+18" in error.message % error.params
    assert "合计" not in plan.orders, "a totals line is never an order"


def test_masked_and_encrypted_contacts_are_kept_but_never_fingerprinted(tmp_path: Path) -> None:
    taobao = plan_of(PLATFORMS["taobao"](tmp_path).path).orders
    assert taobao["2766123456789012345"]["contact_fingerprint"]
    assert taobao["2766123456789012346"]["contact_fingerprint"] is None
    douyin = plan_of(PLATFORMS["douyin"](tmp_path).path).orders["6917926768823643751"]
    assert douyin["receiver"] == "##密文" and douyin["contact_fingerprint"] is None
    assert douyin["address_fingerprint"] is None


def test_one_order_per_number_with_totals_taken_once(tmp_path: Path) -> None:
    jd = plan_of(PLATFORMS["jd"](tmp_path).path).orders["230000000001"]
    assert jd["total_amount"] == Decimal("480.00"), "not 960: the amount repeats on each row"
    assert [item["name"] for item in jd["items"]] == ["蓝牙耳机", "充电盒"]
    shopify = plan_of(PLATFORMS["shopify"](tmp_path).path).orders["#1050"]
    assert shopify["buyer_message"] == 'Leave at the door, "please"\nthank you'
    assert shopify["ordered_at"].utcoffset().total_seconds() == 0  # stored as UTC
    assert shopify["ordered_at"].hour == 7  # 09:58 +02:00


def test_utf16_export_with_tabs_reads_like_the_utf8_one(tmp_path: Path) -> None:
    """Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated."""
    source = PLATFORMS["taobao"](tmp_path)
    text = source.path.read_bytes().decode("gb18030").replace(",", "\t")
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    plan = plan_of(utf16)
    assert plan.platform.value == "taobao"
    assert set(plan.orders) == {e.number for e in source.orders}
    assert plan.orders["2766123456789012345"]["buyer_ref"] == "tb_小𠮷"  # outside the BMP


def test_characters_outside_gbk_survive_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "gb.csv"
    path.write_bytes("订单号,买家,商品\r\nA1,𠮷野家,😀 杯\r\n".encode("gb18030"))
    order = plan_of(path).orders["A1"]
    assert order["buyer_ref"] == "𠮷野家" and order["items"][0]["name"] == "😀 杯"


def test_title_rows_repeated_headers_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "订单导出 2026-10-01 至 2026-10-31\r\n\r\n订单号,买家,实付金额,下单时间\r\n"
        'A1,b1,10.00,45600.5\r\n\r\n订单号,买家,实付金额,下单时间\r\nA2,b2,"1,234.50",2026-10-02\r\n'
        "总计,,1244.50,\r\n",
        encoding="utf-8",
    )
    plan = plan_of(path)
    assert plan.header_row == 3 and plan.skipped_rows == 2 and not plan.errors
    assert plan.orders["A2"]["total_amount"] == Decimal("1234.50")
    serial = plan.orders["A1"]["ordered_at"]  # Excel day 45600.5 is 2024-11-04 12:00 local
    assert (serial.year, serial.month, serial.day, serial.hour) == (2024, 11, 4, 4)


def test_xlsx_numeric_ids_come_back_exact_and_floats_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["订单号", "买家", "物流单号"])
    sheet.append(["3001234567890123450", "b", 75812345678901])  # text, and a 14-digit number
    sheet.append([2.766123456789012e18, "c", None])
    workbook.save(path)
    plan = plan_of(path)
    assert list(plan.orders) == ["3001234567890123450"]
    assert plan.orders["3001234567890123450"]["tracking_number"] == "75812345678901"
    assert [e.row for e in plan.errors] == [3]


def test_another_shops_export_is_named(tmp_path: Path) -> None:
    path = PLATFORMS["taobao"](tmp_path).path
    assert plan_of(path, shop_name="测试店铺A").foreign_shop is None
    plan = plan_of(path, shop_name="Volt Electronics")
    assert plan.foreign_shop == "测试店铺A" and not plan.can_apply


def test_a_remembered_column_choice_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("单据号,会员,金额\r\nX1,b,5\r\n", encoding="utf-8")
    assert plan_of(path).missing_required == ["number"]
    plan = plan_of(path, remembered={"单据号": "number", "会员": "buyer_ref"})
    assert plan.orders["X1"]["buyer_ref"] == "b"
    column = next(c for c in plan.columns if c.header == "单据号")
    assert column.field == "number" and column.samples == ("X1",)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("等待买家付款", "awaiting_payment"),
        ("买家已付款,等待卖家发货", "paid"),
        ("卖家已发货，等待买家确认", "shipped"),
        ("已发货，待签收", "shipped"),
        ("已签收", "delivered"),
        ("交易成功", "completed"),
        ("交易关闭", "cancelled"),
        ("已签收，退款成功", "refunded"),
        ("paid / unfulfilled", "paid"),
        ("Shipped - Delivered to Buyer", "delivered"),
        ("Unshipped", "paid"),
        ("Canceled", "cancelled"),
        ("神秘状态", "unknown"),
    ],
)
def test_status_words_map_to_a_state(status: str, state: str) -> None:
    from appeals.platforms import order_state

    assert order_state(status).value == state


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("商品质量问题", "product_quality"),
        ("质量问题", "product_quality"),
        ("与描述不符", "not_as_described"),
        ("少发漏发", "not_as_described"),
        ("未收到货", "not_received"),
        ("物流轨迹异常", "not_received"),
        ("服务态度差", "service_attitude"),
        ("延迟发货", "late_shipment"),
        ("虚假发货", "late_shipment"),
        ("假冒伪劣", "counterfeit"),
        ("其他", "other"),
        ("not_received", "not_received"),
        ("Not As Described", "not_as_described"),
    ],
)
def test_the_platforms_complaint_words_are_read_as_ours(word: str, kind: str) -> None:
    from appeals.feed_vocabulary import complaint_type

    found = complaint_type(word)
    assert found is not None and found.value == kind


@pytest.mark.parametrize(
    ("text", "carrier", "waybill"),
    [
        ("SF123-顺丰速运", "顺丰速运", "SF123"),
        ("JDVA12345678901-京东快递", "京东快递", "JDVA12345678901"),
        ("中通快递 73512345678901", "中通快递", "73512345678901"),
        ("韵达快递:431234567890123;", "韵达快递", "431234567890123"),
    ],
)
def test_douyin_tracking_info_gives_carrier_and_waybill(
    text: str, carrier: str, waybill: str
) -> None:
    from appeals.order_import import _tracking_info

    assert _tracking_info(text, None) == (carrier, waybill)
