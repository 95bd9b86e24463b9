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
