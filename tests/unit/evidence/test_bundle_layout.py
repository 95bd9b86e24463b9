"""Generated pages that cut nothing, Chinese kept in its column, and a header on every
page of any size and turn, read back with poppler's pdftotext."""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from evidence import pdfpages
from evidence.assemble import Assembler
from evidence.pdfpages import Document, Grid, Heading, break_lines
from tests.conftest import require

require(bool(subprocess.run(["which", "pdftotext"], capture_output=True).stdout), "no pdftotext")

WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
Box = tuple[float, float, float, float, str]


def words(pdf: Path, page: int) -> list[Box]:
    """Each word of a page as shown, with its box in points from the top left."""
    run = subprocess.run(
        ["pdftotext", "-bbox", "-cropbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(
        run.stdout.decode())]  # fmt: skip


def layout_text(pdf: Path) -> str:
    run = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return run.stdout.decode()


@pytest.fixture(autouse=True)
def embedded_font() -> None:
    pdfpages.use_font(None)


@pytest.mark.parametrize("seed", range(4))
def test_broken_lines_fit_their_width_and_keep_every_character(seed: int) -> None:
    chance = random.Random(seed)
    pieces = ["签收", "记录显示", "，", "。", "（", "）", " ", "Order ", "SF1234567890123",
              "BL2026110300001234567890", "WWWWWWWWWWWWWWWWWWWWWWWW", "12.50元", "、"]  # fmt: skip
    for _ in range(300):
        text = "".join(chance.choice(pieces) for _ in range(chance.randint(0, 40)))
        width = chance.choice([12.0, 30.0, 46.0, 90.0, 200.0])
        lines = break_lines(text, width, 8)
        for line in lines:
            assert len(line) <= 1 or stringWidth(line, pdfpages.font(), 8) <= width + 1e-6
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_a_waybill_too_long_for_its_column_breaks_inside_and_words_break_at_spaces() -> None:
    lines = break_lines("BL2026110300001234567890 中通", 50, 8)
    assert len(lines) >= 3 and "".join(lines) == "BL2026110300001234567890 中通"
    assert all(stringWidth(line, pdfpages.font(), 8) <= 50 for line in lines)
    assert break_lines("buyer message here", 40, 8) == ["buyer", "message", "here"]
    assert break_lines("签收记录显示已签收", 33, 8) == ["签收记录", "显示已签", "收"]


def wide_table(columns: int, rows: int) -> Grid:
    header = [f"列{n}" for n in range(columns)]
    body = [
        [f"6925{r:04d}1234567890123", f"BL2026{r:04d}0000123456", "2026-11-01 09:15:42"]
        + [f"值{r}-{c}" for c in range(3, columns)]
        for r in range(rows)
    ]
    return Grid(header, body, wrap=False, bands_caption="Columns {columns} of {total}")


def test_a_wide_export_goes_landscape_in_column_groups_with_every_value_whole(
    tmp_path: Path,
) -> None:
    out = tmp_path / "wide.pdf"
    pages = pdfpages.render(Document("t", [Heading("A-1"), wide_table(30, 60)]), out)
    reader = PdfReader(out)
    assert all(page.mediabox.width > page.mediabox.height for page in reader.pages)
    text = layout_text(out)
    assert "…" not in text
    assert re.search(r"Columns 1–\d+ of 30", text) and re.search(r"Columns 1, \d+–30 of 30", text)
    for r in range(60):
        # The order number heads every group of columns; each value is on one line, whole.
        assert text.count(f"6925{r:04d}1234567890123") >= 2
        assert f"BL2026{r:04d}0000123456" in text
        assert f"值{r}-29" in text
    assert text.count("2026-11-01 09:15:42") == 60
    assert pages == len(reader.pages)


def test_a_narrow_table_stays_portrait_and_wraps_a_long_cell_instead_of_cutting_it(
    tmp_path: Path,
) -> None:
    address = "浙江省杭州市西湖区文新街道文一西路100号2幢1单元301室，" * 3
    grid = Grid(["订单号", "地址"], [["ORD-1", address]], wrap=False)
    out = tmp_path / "narrow.pdf"
    pdfpages.render(Document("t", [grid]), out)
    page = PdfReader(out).pages[0]
    assert page.mediabox.width < page.mediabox.height
    found = "".join(text for _x0, _y0, _x1, _y1, text in words(out, 1))
    assert address.replace(" ", "") in found
    assert max(x1 for _x0, _y0, x1, _y1, _t in words(out, 1)) <= A4[0] - pdfpages.MARGIN + 0.5


MIXED = (
    "签收记录显示包裹已于十一月三日由买家本人签收（物流轨迹完整），快递员电话回访确认无误；"
    "买家在聊天中以差评相威胁，要求全额退款。Order 6925110312345678901234，运单"
    "BL2026110300001234567890 显示正常派送、签收照片与地址一致。"
) * 2


def test_chinese_in_a_matrix_cell_wraps_inside_its_column(tmp_path: Path) -> None:
    """reportlab's CJK wrap hangs closing punctuation past the line: never past the cell."""
    widths = [0.06, 0.37, 0.42, 0.15]
    grid = Grid(["#", "Allegation", "Answer", "Exhibits"],
                [["A", MIXED, MIXED[::-1], "A-1, A-2, A-3"]], widths=widths)  # fmt: skip
    out = tmp_path / "matrix.pdf"
    pdfpages.render(Document("t", [grid]), out)
    text_width = A4[0] - 2 * pdfpages.MARGIN
    edges = [pdfpages.MARGIN]
    for fraction in widths:
        edges.append(edges[-1] + fraction * text_width)
    found = words(out, 1)
    for column, expected in ((1, "Allegation" + MIXED), (2, "Answer" + MIXED[::-1])):
        inside = [w for w in found if edges[column] <= w[0] < edges[column + 1]]
        assert "".join(w[4] for w in inside) == expected.replace(" ", "")
        assert max(w[2] for w in inside) <= edges[column + 1] - 3  # the cell's padding


def source_pdf(path: Path, size: tuple[float, float], rotate: int) -> None:
    """A page whose own text touches its displayed top and bottom edges."""
    canvas = Canvas(str(path), pagesize=size)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(30, size[1] - 10, "TOPEDGE")
    canvas.drawString(30, 3, "BOTTOMEDGE")
    canvas.showPage()
    canvas.save()
    if rotate:
        writer = PdfWriter(clone_from=path)
        writer.pages[0].rotate(rotate)
        writer.write(path)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
@pytest.mark.parametrize("size", [A4, (A4[1], A4[0]), (300.0, 420.0)])
def test_appended_pages_get_a_header_that_covers_nothing(
    tmp_path: Path, rotate: int, size: tuple[float, float]
) -> None:
    source = tmp_path / "in.pdf"
    source_pdf(source, size, rotate)
    assembler = Assembler()
    assembler.add_image_page(None, _tiny_image(tmp_path), "A-1", "Exhibit A-1 · Photo")
    assembler.add_pdf(source, "B-2", shrink=True, title="Exhibit B-2 · Shipping receipt 快递单")
    out = tmp_path / "out.pdf"
    assembler.write(out, prefix="AP-2026-000002", metadata={})
    for number, title in ((1, "Exhibit A-1 · Photo"), (2, "Exhibit B-2 · Shipping receipt")):
        found = words(out, number)
        header = sorted((w for w in found if w[3] < 20), key=lambda w: w[0])
        assert " ".join(w[4] for w in header) == f"AP-2026-000002 · {title} Page {number} of 2"
    page = words(out, 2)
    edges = {w[4]: w for w in page}
    header_bottom = max(w[3] for w in page if w[3] < 20)
    footer_top = max(w[1] for w in page if w[4] == "AP-2026-000002")  # the lower of the two
    assert edges["TOPEDGE"][1] > header_bottom  # the exhibit's own top line is below it
    assert edges["BOTTOMEDGE"][3] < footer_top


def _tiny_image(tmp_path: Path):  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    from evidence.pdfimage import prepare_image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, "PNG")
    data = buffer.getvalue()
    return prepare_image(io.BytesIO(data), len(data), tmp_path / "tiny.bin")
