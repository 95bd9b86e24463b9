"""Images into PDF pages without surprises, and footers that read right on any page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from evidence.assemble import Assembler, scan_file
from evidence.pdfimage import LADDER, prepare_image
from tests.bundles import photo, screenshot, transparent_png


def image_of(pdf: Path) -> Image.Image:
    page = PdfReader(pdf).pages[0]
    (found,) = page.images
    return found.image  # type: ignore[no-any-return]


def assemble(tmp_path: Path, data: bytes, name: str = "x") -> tuple[Path, object]:
    prepared = prepare_image(io.BytesIO(data), len(data), tmp_path / f"{name}.bin")
    assembler = Assembler()
    assembler.add_image_page(None, prepared, "A-1")
    out = tmp_path / f"{name}.pdf"
    assembler.write(out, prefix="AP-2026-000001", metadata={"/Title": "t"})
    return out, prepared


def test_a_small_png_passes_through_and_reads_back_pixel_for_pixel(tmp_path: Path) -> None:
    data = screenshot()
    out, prepared = assemble(tmp_path, data)
    assert prepared.passed_through and prepared.filter == "/FlateDecode"  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(data)) as original:
        assert image_of(out).convert("RGB").tobytes() == original.convert("RGB").tobytes()


def test_a_passed_through_jpeg_leaves_its_exif_and_gps_behind(tmp_path: Path) -> None:
    data = photo((800, 600), orientation=1)
    assert b"Exif" in data
    out, prepared = assemble(tmp_path, data)
    assert prepared.passed_through and prepared.filter == "/DCTDecode"  # type: ignore[attr-defined]
    raw = out.read_bytes()
    assert b"Exif" not in raw and image_of(out).size == (800, 600)


def test_a_big_photo_is_downscaled_and_transparency_is_flattened(tmp_path: Path) -> None:
    big = photo((4000, 3000), orientation=1)
    _out, prepared = assemble(tmp_path, big, "big")
    assert not prepared.passed_through  # type: ignore[attr-defined]
    assert max(prepared.width, prepared.height) == LADDER[0].max_side  # type: ignore[attr-defined]
    out, prepared = assemble(tmp_path, transparent_png(), "alpha")
    assert prepared.filter == "/DCTDecode"  # type: ignore[attr-defined]
    red, green, blue = image_of(out).convert("RGB").getpixel((10, 10))
    assert red > 240 and 110 < green < 145 and 110 < blue < 145  # half red over white


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_footers_read_upright_on_rotated_pages_and_scripts_are_dropped(
    tmp_path: Path, rotate: int
) -> None:
    from pypdf.actions import JavaScript
    from pypdf.annotations import Link

    source = PdfWriter()
    page = source.add_blank_page(width=595, height=842)
    page.rotate(rotate)
    source.add_annotation(0, Link(rect=(10, 10, 100, 100), url="https://example.invalid"))
    source.add_open_action(JavaScript("app.alert(1)"))
    path = tmp_path / "in.pdf"
    source.write(path)
    assembler = Assembler()
    assembler.add_pdf(path, "B-2", shrink=True)
    out = tmp_path / "out.pdf"
    assembler.write(out, prefix="AP-2026-000002", metadata={})
    text = (
        PdfReader(out)
        .pages[0]
        .extract_text(orientations=(0,) if rotate == 0 else (0, 90, 180, 270))
    )
    assert "AP-2026-000002 · B-2 · 1/1" in text
    assert scan_file(out) == []


def test_characters_past_the_cjk_font_survive_to_the_page_and_its_text(tmp_path: Path) -> None:
    """A buyer named 𠮷 (CJK Extension B) and an emoji in a chat: drawn, and copied out whole."""
    from evidence import pdfpages
    from evidence.pdfpages import FALLBACK_CANDIDATES, Document, Fields, Text
    from tests.conftest import require

    require(
        all(Path(path).is_file() for path in FALLBACK_CANDIDATES),
        "fallback fonts missing: apt-get install fonts-hanazono fonts-symbola",
    )
    pdfpages.use_font(None)
    out = tmp_path / "names.pdf"
    pdfpages.render(Document("t", [Text("买家 tb_小𠮷 说 😀 & <ok>"),
                                   Fields([("买家", "𠀀𠮷野家")])]), out)  # fmt: skip
    text = PdfReader(out).pages[0].extract_text()
    assert "tb_小𠮷 说 😀 & <ok>" in text and "𠀀𠮷野家" in text
    fonts = {
        str(font["/BaseFont"])
        for font in PdfReader(out).pages[0]["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    assert len(fonts) >= 2, "the missing characters are set in a fallback font"
