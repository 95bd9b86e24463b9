"""The sandbox's checks on what it stores: a PNG holds its pixels and nothing else, and a
copied PNG's pixel data inflates to exactly its rows."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from evidence.errors import RejectedUpload
from evidence.sandbox.images import _verify_clean
from evidence.sandbox.rawcopy import copy_png_pixels


def png(tmp_path: Path, name: str, text: dict[str, str] | None = None, tail: bytes = b"") -> Path:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (20, 120, 200)).save(buffer, "PNG", pnginfo=info)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue() + tail)
    return path


def test_a_stored_png_with_any_text_chunk_or_trailing_bytes_is_refused(tmp_path: Path) -> None:
    _verify_clean(png(tmp_path, "plain.png"))  # pixels alone pass
    for name, path in (
        ("text", png(tmp_path, "text.png", {"Comment": "shot at 31.2N 121.4E"})),
        ("tail", png(tmp_path, "tail.png", tail=b"GPS 31.2N 121.4E")),
    ):
        with pytest.raises(RejectedUpload) as refused:
            _verify_clean(path)
        assert refused.value.code == "metadata", name


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def raw_png(tmp_path: Path, rows: bytes, width: int = 4, height: int = 2) -> Path:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path = tmp_path / f"raw-{len(rows)}.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", rows) + chunk(b"IEND", b""))  # fmt: skip
    return path


def test_pixel_data_is_copied_only_when_it_inflates_to_exactly_the_rows(tmp_path: Path) -> None:
    rows = (b"\x00" + bytes(range(12))) * 2  # two rows of 4 RGB pixels, each with its filter
    exact = raw_png(tmp_path, zlib.compress(rows))
    assert copy_png_pixels(exact, tmp_path / "copy.png")
    with Image.open(tmp_path / "copy.png") as copied:
        assert copied.size == (4, 2) and copied.tobytes() == Image.open(exact).tobytes()
    for stream in (
        zlib.compress(rows + b"\x00" * 13),  # a hidden third row
        zlib.compress(rows[:-5]),  # cut short
        zlib.compress(rows) + b"hidden after the stream",
    ):
        assert not copy_png_pixels(raw_png(tmp_path, stream), tmp_path / "no.png")
