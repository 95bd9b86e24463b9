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


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_with_gps(orientation: int = 6) -> bytes:
    """A photo as a phone takes it: EXIF with GPS and a camera, rotated by the orientation tag."""
    from PIL import Image

    image = Image.new("RGB", (80, 40), "blue")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def pdf_bytes(pages: int = 2, *, javascript: bool = False, password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        from pypdf.actions import JavaScript

        writer.add_open_action(JavaScript("app.alert('hi');"))
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(buffer)
    return buffer.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
BROKEN_PDF = (
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"
)


def _looping_pdf() -> bytes:
    """A PDF whose page tree contains itself."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
    ]
    body, offsets = b"%PDF-1.7\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj " % number + content + b" endobj\n"
    xref = len(body)
    body += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    body += b"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF" % xref
    return body


LOOPING_PDF = _looping_pdf()


def hostile_uploads() -> dict[str, tuple[bytes, str]]:
    """Files the locker must refuse, each with the code it must give."""
    from PIL import Image

    png = png_bytes()
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 Mpx, a few kB
    return {
        "empty": (b"", "empty"),
        "exe named png": (b"MZ\x90\x00" + bytes(2000), "unsupported_type"),
        "svg disguised": (SVG, "unsupported_type"),
        "html disguised": (HTML, "unsupported_type"),
        "gif": (gif.getvalue(), "unsupported_type"),
        "truncated png": (png[: len(png) // 2], "malformed_image"),
        "png then html": (png[:60] + HTML + png[60:], "malformed_image"),
        "pixel bomb": (bomb.getvalue(), "too_many_pixels"),
        "pdf with javascript": (pdf_bytes(javascript=True), "active_content"),
        "encrypted pdf": (pdf_bytes(password="secret"), "encrypted"),
        "broken pdf": (BROKEN_PDF, "malformed_pdf"),
        "zip": (_zip_with_exe(), "unsupported_type"),
        "xlsx bomb": (_xlsx_bomb_bytes(), "xlsx_bomb"),
        "pdf page tree loop": (LOOPING_PDF, "malformed_pdf"),
        "csv with an overlong cell": (b"a,b\n" + b"x" * 5000 + b",y\n", "cell_too_long"),
    }  # fmt: skip


def _zip_with_exe() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("invoice.exe", b"MZ")
    return buffer.getvalue()


def _xlsx_bomb_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<row>" + "0" * (20 * 1024 * 1024) + "</row>")
    return buffer.getvalue()
