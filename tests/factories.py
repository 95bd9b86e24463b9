"""Builders of the files merchants upload: order exports in CSV and XLSX, good and hostile."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl

ZH_HEADER = ["订单号", "买家", "商品", "数量", "实付金额", "下单时间", "签收时间", "确认收货时间",
             "物流公司", "物流单号", "收货人电话", "收货地址"]  # fmt: skip
EN_HEADER = ["Order Number", "Buyer", "Product", "Qty", "Total Amount", "Order Time",
             "Delivery Time", "Confirmed At", "Carrier", "Tracking Number", "Phone",
             "Address"]  # fmt: skip


def order_row(number: str, buyer: str, **extra: str) -> list[str]:
    row = {
        "item": "真丝连衣裙", "qty": "1", "total": "¥459.00", "ordered": "2026-11-01 10:00:00",
        "delivered": "2026-11-04 15:30", "confirmed": "", "carrier": "顺丰速运",
        "tracking": f"SF{number[-6:]}", "phone": "138 0013 8000",
        "address": "上海市浦东新区世纪大道 1 号",
    }  # fmt: skip
    row.update(extra)
    return [number, buyer, *row.values()]


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8-sig"
) -> Path:
    lines = [",".join(header)] + [",".join(cell.replace(",", " ") for cell in row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "订单"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def xlsx_bomb(path: Path) -> Path:
    """A small file whose sheet declares (and would inflate to) hundreds of megabytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<row>" + "0" * (50 * 1024 * 1024) + "</row>")
    path.write_bytes(buffer.getvalue())
    return path
