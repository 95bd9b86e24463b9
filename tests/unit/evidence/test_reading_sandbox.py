"""Reading text in the sandbox child: pictures, scanned PDF pages, and files that fail alone."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

from PIL import Image

from evidence.inspect import ReadLimits, read_many
from tests.chatshots import EXTORTION, render


def job(folder: Path, name: str, data: bytes, media_type: str) -> dict[str, str]:
    here = folder / name
    here.mkdir()
    (here / "source").write_bytes(data)
    return {"path": str(here / "source"), "out": str(here), "media_type": media_type,
            "time_zone": "Asia/Shanghai"}  # fmt: skip


def scanned_pdf() -> bytes:
    """A PDF whose one page is a picture of a chat, as a scanner or phone app makes it."""
    buffer = io.BytesIO()
    picture = render(EXTORTION[:4]).image.crop((0, 0, 1080, 1500))
    picture.save(buffer, "PDF", resolution=150)
    return buffer.getvalue()


def text_pdf() -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Receipt 1234: one cup, paid in full, shipped by SF Express.")
    canvas.save()
    return buffer.getvalue()


def png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def reading(job: dict[str, str]) -> dict:  # type: ignore[type-arg]
    return json.loads((Path(job["out"]) / "reading.json").read_text(encoding="utf-8"))


def test_pictures_and_scanned_pages_are_read_with_boxes_and_text_pages_are_not(
    tmp_path: Path,
) -> None:
    jobs = [
        job(tmp_path, "shot", png(render(EXTORTION).image), "image/png"),
        job(tmp_path, "scan", scanned_pdf(), "application/pdf"),
        job(tmp_path, "text", text_pdf(), "application/pdf"),
    ]
    answers = dict(read_many(jobs, ReadLimits()))
    assert all(answer["ok"] for answer in answers.values()), answers
    shot = reading(jobs[0])
    assert shot["reader"].startswith("rapidocr-onnxruntime")
    texts = [line["text"] for line in shot["pages"][0]["lines"]]
    assert any("15867123409" in text for text in texts)
    assert all(0 <= v <= 1 for line in shot["pages"][0]["lines"] for v in line["box"])
    assert any(m["text"].startswith("给我赔500块") and not m["self_side"] for m in shot["chat"])
    assert len(answers[0]["phash"]) == 16
    scan = reading(jobs[1])
    assert [page["page"] for page in scan["pages"]] == [1]
    assert any("3587214093316572" in line["text"] for line in scan["pages"][0]["lines"])
    # A page with text of its own is searchable already: it is not read again.
    assert reading(jobs[2])["pages"] == []


def test_a_file_past_its_time_is_too_slow_and_a_damaged_one_fails_alone(tmp_path: Path) -> None:
    slow = job(tmp_path, "slow", png(render(EXTORTION).image), "image/png")
    broken = job(tmp_path, "broken", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
    fine = job(tmp_path, "fine", png(render(EXTORTION[:2]).image), "image/png")
    answers = dict(read_many([slow], replace(ReadLimits(), wall_seconds_per_file=0.05)))
    assert answers == {0: {"ok": False, "code": "too_slow"}}
    answers = dict(read_many([broken, fine], ReadLimits()))
    assert answers[0]["ok"] is False and answers[0]["code"] == "unreadable"
    assert answers[1]["ok"] is True and answers[1]["lines"] > 0
