"""Intake: type from content, full decode in a limited child, metadata gone from copies."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from evidence.errors import RejectedUpload
from evidence.inspect import InspectLimits, inspect
from evidence.intake import XLSX, quarantine, sniff
from tests.factories import hostile_uploads, jpeg_with_gps, pdf_bytes, png_bytes, xlsx_bytes


def take(tmp_path: Path, data: bytes, limits: InspectLimits | None = None):  # type: ignore[no-untyped-def]
    received = quarantine(io.BytesIO(data), tmp_path / "q", 5 * 1024 * 1024)
    media_type = sniff(received.path)
    budget = limits or InspectLimits()  # the sandbox's budget as shipped
    return media_type, inspect(received.path, media_type, tmp_path / "out", budget)


GOOD = {
    "png": (png_bytes(), "image/png"),
    "jpeg": (jpeg_with_gps(), "image/jpeg"),
    "pdf": (pdf_bytes(3), "application/pdf"),
    "xlsx": (xlsx_bytes([["订单号", "买家"], ["A1", "b"]]), XLSX),
    "csv": ("订单号,买家\nA1,b\nA2,c\n".encode("gb18030"), "text/csv"),
    "chat": ("买家：不退款就给差评\n客服：请提供照片\n".encode(), "text/plain"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_files_are_accepted_with_their_detected_type(tmp_path: Path, name: str) -> None:
    data, expected = GOOD[name]
    media_type, _ = take(tmp_path, data)
    assert media_type == expected


def test_photo_is_turned_upright_and_loses_every_metadata_block(tmp_path: Path) -> None:
    _, inspection = take(tmp_path, jpeg_with_gps(orientation=6))
    assert (inspection.width, inspection.height) == (40, 80), "EXIF orientation applied"
    normalized = inspection.derived_path("normalized")
    assert normalized is not None
    with Image.open(normalized) as copy:
        assert not copy.getexif() and "exif" not in copy.info and "xmp" not in copy.info
    assert inspection.derived_path("thumbnail") is not None


def test_webp_and_heic_are_read(tmp_path: Path) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    for fmt, expected in (("WEBP", "image/webp"), ("HEIF", "image/heic")):
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), "green").save(buffer, fmt)
        media_type, inspection = take(tmp_path / fmt, buffer.getvalue())
        assert media_type == expected and inspection.width == 64


def test_pdf_pages_are_counted(tmp_path: Path) -> None:
    _, inspection = take(tmp_path, pdf_bytes(3))
    assert inspection.pages == 3


@pytest.mark.parametrize("name", sorted(hostile_uploads()))
def test_hostile_files_are_refused_with_their_own_code(tmp_path: Path, name: str) -> None:
    data, code = hostile_uploads()[name]
    with pytest.raises(RejectedUpload) as refused:
        take(tmp_path, data)
    assert refused.value.code == code


def test_size_cap_is_enforced_while_reading(tmp_path: Path) -> None:
    with pytest.raises(RejectedUpload) as refused:
        quarantine(io.BytesIO(b"x" * 2048), tmp_path, max_bytes=1024)
    assert refused.value.code == "too_large" and not any(tmp_path.iterdir())


def test_a_child_that_runs_out_of_memory_is_a_refusal_not_a_crash(tmp_path: Path) -> None:
    limits = InspectLimits(memory_bytes=64 * 1024 * 1024)
    buffer = io.BytesIO()
    Image.new("RGB", (5000, 5000), "white").save(buffer, "PNG")
    with pytest.raises(RejectedUpload) as refused:
        take(tmp_path, buffer.getvalue(), limits)
    assert refused.value.code in {"processing_failed", "malformed_image"}


def test_quarantine_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    import hashlib

    data = png_bytes()
    assert quarantine(io.BytesIO(data), tmp_path, 10**6).sha256 == hashlib.sha256(data).hexdigest()


def _photo(size: tuple[int, int], orientation: int, **save: object) -> bytes:
    image = Image.radial_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0110] = "PhoneMaker P1"  # model
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif, comment=b"shot by buyer 13812345678", **save)
    return buffer.getvalue()


@pytest.mark.parametrize("progressive", [False, True])
def test_an_upright_photo_keeps_its_pixels_exactly_and_nothing_else(
    tmp_path: Path, progressive: bool
) -> None:
    data = _photo((1200, 900), orientation=1, progressive=progressive)
    _, inspection = take(tmp_path, data)
    normalized = inspection.derived_path("normalized")
    assert normalized is not None
    with Image.open(io.BytesIO(data)) as original, Image.open(normalized) as copy:
        # No second generation of JPEG loss: the very pixels the camera wrote.
        assert copy.convert("RGB").tobytes() == original.convert("RGB").tobytes()
        assert not copy.getexif() and "comment" not in copy.info and "icc_profile" not in copy.info
    assert (
        b"PhoneMaker" not in normalized.read_bytes()
        and b"13812345678" not in normalized.read_bytes()
    )


def test_a_large_turned_photo_gets_an_upright_page_copy_and_thumbnail(tmp_path: Path) -> None:
    _, inspection = take(tmp_path, _photo((4000, 3000), orientation=6))
    assert (inspection.width, inspection.height) == (3000, 4000)
    page, thumbnail = inspection.derived_path("page"), inspection.derived_path("thumbnail")
    assert page is not None and thumbnail is not None
    with Image.open(page) as copy, Image.open(thumbnail) as small:
        assert max(copy.size) <= 2000 and copy.height > copy.width and not copy.getexif()
        assert small.height > small.width and max(small.size) <= 480


def test_a_png_loses_its_text_and_colour_chunks_but_not_a_pixel(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    image = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "buyer 13812345678")
    info.add_itxt("Comment", "位置：上海", lang="zh")
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0110] = "PhoneMaker P1"
    image.save(buffer, "PNG", pnginfo=info, exif=exif)
    _, inspection = take(tmp_path, buffer.getvalue())
    normalized = inspection.derived_path("normalized")
    assert normalized is not None
    stored = normalized.read_bytes()
    assert b"13812345678" not in stored and b"PhoneMaker" not in stored and b"iTXt" not in stored
    with Image.open(normalized) as copy:
        assert copy.convert("RGB").tobytes() == image.tobytes()


def test_a_decode_past_its_wall_time_is_refused_as_too_slow(tmp_path: Path) -> None:
    with pytest.raises(RejectedUpload) as refused:
        take(tmp_path, _photo((4000, 3000), orientation=6), InspectLimits(wall_seconds=0.05))
    assert refused.value.code == "too_slow"
