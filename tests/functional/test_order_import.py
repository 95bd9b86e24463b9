"""Merchants import platform order exports: preview, row errors, idempotent re-import."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from appeals.models import Complaint, Order, OrderImport
from merchant_portal.database import db
from tests.conftest import World, csrf_token, log_in
from tests.factories import EN_HEADER, ZH_HEADER, order_row, write_csv, write_xlsx, xlsx_bomb


def merchant(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    return client


def upload(client: FlaskClient, path: Path, name: str | None = None):  # type: ignore[no-untyped-def]
    data = {
        "file": (io.BytesIO(path.read_bytes()), name or path.name),
        "csrf_token": csrf_token(client),
    }
    return client.post("/orders/import", data=data, content_type="multipart/form-data")


def apply(client: FlaskClient, response) -> str:  # type: ignore[no-untyped-def]
    preview_url = response.headers["Location"]
    apply_url = preview_url + "/apply"
    client.post(apply_url, data={"csrf_token": csrf_token(client, preview_url)})
    return client.get(preview_url).get_data(as_text=True)


def count_orders(app: Flask, shop_id: int) -> int:
    with app.app_context():
        return (
            db().scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop_id))
            or 0
        )


def test_chinese_csv_previews_then_imports_and_reimport_never_duplicates(
    app: Flask, world: World, tmp_path: Path
) -> None:
    rows = [order_row(f"T2026{i:04d}", f"buyer-{i % 3}") for i in range(30)]
    path = write_csv(tmp_path / "淘宝订单导出.csv", ZH_HEADER, rows)
    client = merchant(app)
    before = count_orders(app, world.shop_a.id)

    response = upload(client, path)
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "订单号" in preview and "Order number" in preview  # the mapping is shown
    assert count_orders(app, world.shop_a.id) == before, "nothing is saved before confirmation"

    result = apply(client, response)
    assert count_orders(app, world.shop_a.id) == before + 30
    assert re.search(r'data-testid="created">30<', result)

    again = apply(client, upload(client, path))
    assert count_orders(app, world.shop_a.id) == before + 30
    assert re.search(r'data-testid="created">0<', again)


def test_xlsx_with_english_headers_and_real_dates(app: Flask, world: World, tmp_path: Path) -> None:
    from datetime import datetime

    rows = [["EN-1", "buyer-x", "Charger", 2, 139.5, datetime(2026, 11, 2, 9, 30), None, None,
             "SF Express", "SF1", "+86 139 0000 1111", "1 Main St"]]  # fmt: skip
    client = merchant(app)
    apply(client, upload(client, write_xlsx(tmp_path / "orders.xlsx", EN_HEADER, rows)))
    with app.app_context():
        order = db().scalar(select(Order).where(Order.number == "EN-1"))
        assert order is not None
        assert str(order.total_amount) == "139.50"
        assert order.items[0]["quantity"] == 2
        # Times without a zone are the merchant's (Asia/Shanghai): 09:30 there is 01:30 UTC.
        assert order.ordered_at is not None and order.ordered_at.hour == 1
        assert order.contact_fingerprint and "1111" not in order.contact_fingerprint


def test_bad_rows_are_reported_and_good_rows_still_imported(
    app: Flask, world: World, tmp_path: Path
) -> None:
    rows = [
        order_row("GOOD-1", "buyer-1"),
        order_row("", "buyer-2"),
        order_row("BAD-AMOUNT", "buyer-3", total="lots"),
        order_row("BAD-TIME", "buyer-4", ordered="yesterday"),
        order_row("GOOD-2", "buyer-5"),
    ]
    client = merchant(app)
    response = upload(client, write_csv(tmp_path / "mixed.csv", ZH_HEADER, rows))
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<td>3</td><td>订单号</td><td>This cell is empty.</td>" in preview
    assert "<td>4</td><td>实付金额</td><td>Not an amount: lots</td>" in preview
    assert "<td>5</td><td>下单时间</td><td>Not a date and time: yesterday</td>" in preview
    apply(client, response)
    with app.app_context():
        numbers = set(db().scalars(select(Order.number).where(Order.shop_id == world.shop_a.id)))
    assert {"GOOD-1", "GOOD-2"} <= numbers and "BAD-AMOUNT" not in numbers


def test_formula_cells_stay_literal_text(app: Flask, world: World, tmp_path: Path) -> None:
    rows = [order_row("F-1", '=HYPERLINK("http://evil.example")', item="=1+2")]
    client = merchant(app)
    apply(client, upload(client, write_xlsx(tmp_path / "f.xlsx", ZH_HEADER, rows)))
    with app.app_context():
        order = db().scalar(select(Order).where(Order.number == "F-1"))
        assert order is not None
        assert order.buyer_ref.startswith("=HYPERLINK") and order.items[0]["name"] == "=1+2"
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://evil.example&#34;)" in page


def test_import_links_complaints_that_named_the_order(
    app: Flask, world: World, tmp_path: Path
) -> None:
    with app.app_context():
        complaint = db().get(Complaint, world.complaint_a.id)
        assert complaint is not None
        complaint.order_id, complaint.order_number = None, "LINK-ME"
        db().commit()
    client = merchant(app)
    apply(
        client,
        upload(client, write_csv(tmp_path / "l.csv", ZH_HEADER, [order_row("LINK-ME", "b")])),
    )
    with app.app_context():
        linked = db().get(Complaint, world.complaint_a.id)
        assert linked is not None and linked.order is not None and linked.order.number == "LINK-ME"


def hostile_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    exe = tmp_path / "orders.csv"
    exe.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    html = tmp_path / "orders.xlsx"
    html.write_bytes(b"<html><script>alert(1)</script></html>")
    gb = tmp_path / "gbk.csv"
    gb.write_bytes(b"\xff\xfe\xfa\xfb" * 10)
    whole = write_xlsx(tmp_path / "whole.xlsx", ZH_HEADER, [order_row("T-1", "b")])
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    legacy = tmp_path / "orders.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    return {
        "truncated xlsx": (truncated, "The XLSX file is damaged."),
        "legacy xls": (legacy, "old Excel (.xls) workbook"),
        "binary": (exe, "binary data"),
        "empty": (empty, "The file is empty."),
        "bomb": (xlsx_bomb(tmp_path / "bomb.xlsx"), "unsafe size"),
        "html named xlsx": (html, "no column for"),
        "undecodable": (gb, "no column for"),
    }


@pytest.mark.parametrize("kind", ["binary", "empty", "bomb", "truncated xlsx", "legacy xls"])
def test_hostile_files_are_refused_next_to_the_field_and_nothing_is_stored(
    app: Flask, world: World, tmp_path: Path, kind: str
) -> None:
    path, message = hostile_files(tmp_path)[kind]
    client = merchant(app)
    with app.app_context():
        before = db().scalar(select(func.count()).select_from(OrderImport))
    response = upload(client, path, "订单\x07../../etc/passwd.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in html and message in html
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(OrderImport)) == before
    stored = list((Path(app.config["DATA_DIR"]) / "imports").iterdir())
    assert all(p.name == "world-import-a" for p in stored), "no refused file is kept"
    assert client.get("/orders/import").status_code == 200


def test_text_that_is_not_an_export_is_explained_on_the_preview(
    app: Flask, world: World, tmp_path: Path
) -> None:
    path, _ = hostile_files(tmp_path)["html named xlsx"]
    client = merchant(app)
    response = upload(client, path)
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The file has no column for: Order number." in preview
    assert "Import 0" not in preview and "/apply" not in preview


def test_another_shop_cannot_see_or_apply_my_import(app: Flask, world: World) -> None:
    other = app.test_client()
    log_in(other, "owner_b@test.example")
    assert other.get(f"/orders/import/{world.import_a.id}").status_code == 404
    token = csrf_token(other)
    assert (
        other.post(
            f"/orders/import/{world.import_a.id}/apply", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_a_douyin_export_of_66_columns_previews_and_imports_with_its_details(
    app: Flask, world: World, tmp_path: Path
) -> None:
    from tests.exports import douyin

    client = merchant(app)
    response = upload(client, douyin(tmp_path).path)
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Recognised as: Douyin shop order export" in preview
    assert "选购商品" in preview and "辣丝丝" in preview  # the columns, with sample values
    apply(client, response)
    with app.app_context():
        order = db().scalar(select(Order).where(Order.number == "6917926768823643751"))
        assert order is not None and len(order.items) == 2
        assert str(order.total_amount) == "58.90" and order.state == "shipped"
        assert order.tracking_number == "JDVA12345678901" and order.carrier == "京东快递"
        assert order.contact_fingerprint is None  # an encrypted phone is no identity
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-testid="order-status">已发货' in page and "麻辣牛肉" in page


def test_an_unknown_column_is_mapped_by_hand_and_remembered_for_the_shop(
    app: Flask, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "erp.csv"
    path.write_text("单据号,会员,金额\r\nERP-1,buyer-e,12.00\r\n", encoding="utf-8")
    client = merchant(app)
    response = upload(client, path)
    preview_url = response.headers["Location"]
    preview = client.get(preview_url).get_data(as_text=True)
    assert "The file has no column for: Order number." in preview and "/apply" not in preview

    refused = client.post(
        preview_url + "/columns",
        data={"csrf_token": csrf_token(client, preview_url), "column_0": "no-such-field"},
    )
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)

    chosen = client.post(
        preview_url + "/columns",
        data={"csrf_token": csrf_token(client, preview_url), "column_0": "number",
              "column_1": "buyer_ref", "column_2": "total_amount"},
    )  # fmt: skip
    assert chosen.status_code == 302
    assert "Import 1 order" in client.get(preview_url).get_data(as_text=True)

    # The next export with the same header is read the same way at once.
    path.write_text("单据号,会员,金额\r\nERP-2,buyer-f,3.00\r\n", encoding="utf-8")
    result = apply(client, upload(client, path))
    assert re.search(r'data-testid="created">1<', result)
    with app.app_context():
        order = db().scalar(select(Order).where(Order.number == "ERP-2"))
        assert order is not None and order.buyer_ref == "buyer-f"
        assert order.shop_id == world.shop_a.id


def test_another_shops_export_is_refused_naming_both_shops(
    app: Flask, world: World, tmp_path: Path
) -> None:
    from tests.exports import taobao

    client = merchant(app)
    before = count_orders(app, world.shop_a.id)
    response = upload(client, taobao(tmp_path).path)
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This file is an export of the shop 测试店铺A, not of" in preview
    assert world.shop_a.name in preview and "/apply" not in preview
    client.post(
        response.headers["Location"] + "/apply",
        data={"csrf_token": csrf_token(client, response.headers["Location"])},
    )
    assert count_orders(app, world.shop_a.id) == before, "nothing of it is stored"
