"""Pictures read after intake: states on the locker, the dossier quoting a screenshot,
suggested redactions answered by the merchant, a failed reading that keeps the file."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from appeals.models import AuditEvent, EvidenceItem, ReadingState
from merchant_portal.database import db
from tests.chatshots import EXTORTION, render
from tests.conftest import World, csrf_token, log_in, post_form
from tests.functional.test_locker import merchant, newest, upload

READING = {"READ_EVIDENCE": True}


def chat_png(layout: str = "wechat", theme: str = "light") -> bytes:
    buffer = io.BytesIO()
    render(EXTORTION, layout=layout, theme=theme).image.save(buffer, "PNG")
    return buffer.getvalue()


def reading_of(app: Flask, item: EvidenceItem) -> dict:  # type: ignore[type-arg]
    root = Path(app.config["DATA_DIR"]) / "blobs"
    assert item.reading_key is not None
    path = next(p for p in root.rglob(item.reading_key) if p.is_file())
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("settings", [READING], indirect=True)
def test_a_chat_screenshot_is_read_and_its_threat_is_quoted_in_the_dossier(
    app: Flask, world: World
) -> None:
    client = merchant(app)
    response = upload(client, world.complaint_a.id, [(chat_png("qianniu", "dark"), "千牛.png")])
    assert response.status_code == 200
    item = newest(app)
    assert item.reading_state is ReadingState.DONE
    reading = reading_of(app, item)
    assert reading["reader"].startswith("rapidocr-onnxruntime 1.4.4")
    text = "".join(line["text"] for line in reading["pages"][0]["lines"])
    assert "15867123409" in text and "3587214093316572" in text
    assert any(not m["self_side"] and "差评" in m["text"] for m in reading["chat"])
    # The locker says it was read, and offers the suggestions.
    page = client.get(f"/complaints/{world.complaint_a.id}/evidence").get_data(as_text=True)
    assert "Text read" in page and "See suggested redactions" in page
    states = client.get(f"/complaints/{world.complaint_a.id}/evidence/readings").get_json()
    assert {"id": item.id, "state": "done", "label": "Text read"} in states
    # The complaint's dossier finds the demand tied to a threat in the picture.
    html = client.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True)
    signal = html[html.index('data-code="extortion"') :][:3000]
    assert "signal-alert" in html[html.index('data-code="extortion"') - 60 :][:80]
    assert "给我赔500块" in signal and "千牛.png, read from the picture, message" in signal
    # The order number the buyer wrote (not this complaint's) and the phone offered.
    mentions = unescape(html[html.index('data-code="chat_mentions"') - 60 :][:3000])
    assert "signal-warning" in mentions
    assert "mention 1 order number (1 not this complaint's) and offer 1 phone number" in mentions
    assert "订单号3587214093316572" in mentions and "我电话15867123409" in mentions


@pytest.mark.parametrize("settings", [READING], indirect=True)
def test_suggested_redactions_are_covered_only_when_the_merchant_accepts_them(
    app: Flask, world: World
) -> None:
    client = merchant(app)
    upload(client, world.complaint_a.id, [(chat_png(), "wechat.png")])
    item = newest(app)
    url = f"/evidence/{item.id}/redact"
    page = client.get(url).get_data(as_text=True)
    offered = dict(
        re.findall(r'data-suggestion="([^"]+)" data-box="[^"]+" data-testid="suggestion">\s*'
                   r'<span class="tag">([^<]+)</span>', page)
    )  # fmt: skip
    assert "Phone number" in offered.values(), page[:2000]
    phone = next(key for key, kind in offered.items() if kind == "Phone number")
    assert item.redacted_key is None  # nothing is covered by being offered
    # Leaving it visible records the answer and covers nothing.
    token = csrf_token(client, url)
    response = client.post(url, data={"csrf_token": token, "boxes": "", f"s_{phone}": "rejected"})
    assert response.status_code == 302
    with app.app_context():
        stored = db().get_one(EvidenceItem, item.id)
        assert stored.redacted_key is None
        assert stored.suggestion_answers and stored.suggestion_answers[0]["answer"] == "rejected"
    # Accepting it covers the phone number's box in the redacted copy.
    response = client.post(url, data={"csrf_token": token, "boxes": "", f"s_{phone}": "accepted"})
    assert response.status_code == 302
    with app.app_context():
        stored = db().get_one(EvidenceItem, item.id)
        assert stored.redacted_key is not None
        answer = next(a for a in stored.suggestion_answers or [] if a["id"] == phone)
        assert answer["answer"] == "accepted"
        assert answer["by"] == world.users["owner_a"].id
        left, top, width, height = answer["box"]
        blob = next(p for p in (Path(app.config["DATA_DIR"]) / "blobs").rglob(stored.redacted_key))
        with Image.open(blob) as redacted:
            x, y = (left + width / 2) * redacted.width, (top + height / 2) * redacted.height
            assert redacted.convert("RGB").getpixel((int(x), int(y))) == (0, 0, 0)
        events = (
            db()
            .scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(item.id)))
            .all()
        )
        assert "evidence.suggestions_answered" in events and "evidence.redacted" in events
    # With no box and no answer there is nothing to save: said next to the field.
    response = client.post(url, data={"csrf_token": token, "boxes": "", "s_bogus": "accepted"})
    assert response.status_code == 422
    assert "Draw between 1 and 50 boxes" in response.get_data(as_text=True)


@pytest.mark.parametrize("settings", [{**READING, "READ_MEMORY_MB": 40}], indirect=True)
def test_a_reading_that_fails_keeps_the_file_and_says_so(app: Flask, world: World) -> None:
    client = merchant(app)
    response = upload(client, world.complaint_a.id, [(chat_png(), "chat.png")])
    assert response.status_code == 200
    item = newest(app)
    assert item.reading_state is ReadingState.FAILED and item.reading_key is None
    page = client.get(f"/complaints/{world.complaint_a.id}/evidence")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "chat.png" in html and "could not be read; the file is kept" in html
    original = client.get(f"/evidence/{item.id}/original")
    assert original.data[:8] == b"\x89PNG\r\n\x1a\n"
    original.close()


def test_without_reading_nothing_is_queued(app: Flask, world: World) -> None:
    client = merchant(app)
    upload(client, world.complaint_a.id, [(chat_png(), "chat.png")])
    assert newest(app).reading_state is None


def test_reviewers_search_the_exhibits_and_never_find_what_was_redacted(
    app: Flask, world: World, version
) -> None:  # type: ignore[no-untyped-def]
    from merchant_portal.locker import blob_store

    with app.app_context():
        exhibits = version.content["exhibits"]
        picture = next(e for e in exhibits if e["name"].endswith(".png"))
        item = db().get_one(EvidenceItem, picture["evidence_id"])
        lines = [
            {
                "text": "给我赔500块，不然我就给差评",
                "box": [0.1, 0.2, 0.6, 0.03],
                "confidence": 0.99,
            },
            {"text": "我电话15867123409", "box": [0.1, 0.5, 0.5, 0.03], "confidence": 0.99},
        ]
        source = Path(app.config["DATA_DIR"]) / "reading.json"
        page = {"page": 1, "width": 100, "height": 100, "lines": lines}
        reading = {"format": 1, "reader": "test", "pages": [page]}
        source.write_text(json.dumps(reading), encoding="utf-8")
        item.reading_key = blob_store().put(source)
        item.reading_state = ReadingState.DONE
        item.redaction = [[0.05, 0.45, 0.7, 0.1]]
        item.redacted_key, item.redacted_at = item.normalized_key, item.created_at
        db().commit()
    client = app.test_client()
    log_in(client, "reviewer@test.example")
    url = f"/review/appeals/{version.appeal_id}"
    html = client.get(url, query_string={"q": "差评"}).get_data(as_text=True)
    hits = html[html.index('data-testid="search-hits"') :][:2000]
    assert f'href="#exhibit-{picture["label"]}"' in hits and "<mark>差评</mark>" in hits
    assert 'data-testid="hit-box"' in html and f'id="exhibit-{picture["label"]}"' in html
    # Full-width digits find the number as written; the redacted line is never found.
    html = client.get(url, query_string={"q": "１５８６７"}).get_data(as_text=True)
    assert 'data-testid="no-hits"' in html
    html = client.get(url, query_string={"q": "500块"}).get_data(as_text=True)
    assert "<mark>500块</mark>" in html


def photo_jpeg(size: tuple[int, int] = (800, 600), software: str | None = None) -> bytes:
    """A photo-like picture (smooth shapes), optionally with editing software in its EXIF."""
    from PIL import ImageDraw

    image = Image.new("RGB", (800, 600), (200, 170, 120))
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 100, 650, 520), fill=(120, 60, 40))
    draw.rectangle((0, 450, 800, 600), fill=(60, 90, 140))
    image = image.resize(size)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "PhoneMaker", "P1"
    if software:
        exif[0x0131] = software
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88, exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize("settings", [READING], indirect=True)
def test_the_buyers_photos_get_facts_not_verdicts(app: Flask, world: World) -> None:
    api = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['platform'][1]}"}

    def platform_upload(complaint_id: int, data: bytes, name: str) -> None:
        response = api.post(
            f"/api/v1/complaints/{complaint_id}/evidence",
            data={"file": (io.BytesIO(data), name), "kind": "product_photo"},
            content_type="multipart/form-data", headers=headers,
        )  # fmt: skip
        assert response.status_code == 201, response.get_data(as_text=True)

    platform_upload(world.complaint_a.id, photo_jpeg(software="Adobe Photoshop 25.0"), "a.jpg")
    platform_upload(world.complaint_b.id, photo_jpeg((640, 480)), "b.jpg")  # the same photo
    html = merchant(app).get(f"/complaints/{world.complaint_a.id}/evidence").get_data(as_text=True)
    facts = html[html.index('data-testid="photo-facts"') :][:3000]
    assert "Software named in the metadata: Adobe Photoshop 25.0." in facts
    assert "EXIF tag 0x0131 Software" in facts
    assert "Camera: PhoneMaker P1." in facts
    # Shop A's merchant learns a copy exists elsewhere, not whose complaint it is.
    assert "A near-identical photo is in a complaint against another shop." in facts
    assert "CP-B-1" not in html
    assert re.search(r"visual fingerprint \(a perceptual hash\): \d+ of 64 points differ", facts)
    # How each fact was found is said in the merchant's language; the place in the file,
    # a technical name, waits behind "Where in the file".
    client = merchant(app)
    post_form(client, "/language", {"locale": "zh_Hans_CN", "next": "/inbox"})
    page = client.get(f"/complaints/{world.complaint_a.id}/evidence").get_data(as_text=True)
    chinese = page[page.index('data-testid="photo-facts"') :][:4000]
    hows = re.findall(r'class="muted small fact-how">(.*?)</span>', chinese, re.S)
    assert hows and not [h for h in hows if re.search(r"[A-Za-z]{3,}", h)], hows
    assert "文件中的位置" in chinese and "EXIF tag 0x0131 Software" in chinese
    reviewer = app.test_client()
    log_in(reviewer, "reviewer@test.example")
    with app.app_context():
        item = newest(app)
        stored = db().get_one(EvidenceItem, item.id)
        assert stored.phash is not None and stored.reading_state is ReadingState.DONE


def trace_png(rows: list[str]) -> bytes:
    """A courier app's trace as a phone shows it: one event per row, newest first."""
    from PIL import ImageDraw, ImageFont

    from tests.chatshots import FONT

    image = Image.new("RGB", (1080, 1400), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 34)
    draw.text((40, 40), "物流详情 顺丰速运 SF1467203958163", font=font, fill="#222222")
    for index, row in enumerate(rows):
        draw.text((40, 160 + 110 * index), row, font=font, fill="#333333")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("settings", [READING], indirect=True)
def test_a_picture_of_the_trace_is_read_like_a_pasted_trace(app: Flask, world: World) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from appeals.clock import utcnow

    signed = (utcnow() - timedelta(days=3)).astimezone(ZoneInfo("Asia/Shanghai"))
    sent = signed - timedelta(days=2)
    rows = [
        f"{signed:%Y-%m-%d %H:%M:%S} 【深圳市】快件已签收，签收人：本人",
        f"{signed - timedelta(hours=3):%Y-%m-%d %H:%M:%S} 【深圳市】快递员正在派件",
        f"{sent:%Y-%m-%d %H:%M:%S} 【杭州市】顺丰速运已收取快件",
    ]
    client = merchant(app)
    upload(client, world.complaint_a.id, [(trace_png(rows), "trace.png")],
           kind="logistics_tracking")  # fmt: skip
    assert newest(app).reading_state is ReadingState.DONE
    html = client.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True)
    signal = html[html.index('data-code="tracking"') :][:2500]
    assert "signed for at" in signal and "before this complaint that it was not received" in signal
    assert "trace.png, read from the picture" in signal and "快件已签收" in signal


@pytest.mark.parametrize("settings", [READING], indirect=True)
def test_a_label_drawn_on_the_buyers_photo_is_a_fact_of_the_reading(
    app: Flask, world: World
) -> None:
    from PIL import ImageDraw, ImageFont

    from tests.chatshots import FONT

    image = Image.new("RGB", (900, 700), (180, 200, 220))
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 120, 700, 560), fill=(90, 60, 50))
    draw.text((560, 630), "内容由AI生成", font=ImageFont.truetype(FONT, 40), fill="white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    response = app.test_client().post(
        f"/api/v1/complaints/{world.complaint_a.id}/evidence",
        data={"file": (io.BytesIO(buffer.getvalue()), "damage.png"), "kind": "product_photo"},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {world.tokens['platform'][1]}"},
    )
    assert response.status_code == 201 and response.get_json()["reading"] == "queued"
    html = merchant(app).get(f"/complaints/{world.complaint_a.id}/evidence").get_data(as_text=True)
    facts = html[html.index('data-testid="photo-facts"') :][:3000]
    assert "An AI-generation label is written on the picture: “内容由AI生成”." in facts
    assert "read from the text on the picture, page 1, line" in facts
    assert "No camera metadata" in facts


def test_read_evidence_reads_what_waits_and_redo_reads_again(app: Flask, world: World) -> None:
    client = merchant(app)
    upload(client, world.complaint_a.id, [(chat_png(), "chat.png")])
    item = newest(app)
    with app.app_context():
        db().get_one(EvidenceItem, item.id).reading_state = ReadingState.QUEUED
        db().commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["read-evidence"])
    assert result.exit_code == 0 and "1 read, 0 could not be read." in result.output
    first = newest(app)
    assert first.reading_state is ReadingState.DONE and first.reading_key is not None
    result = runner.invoke(args=["read-evidence", "--redo"])
    assert "1 read, 0 could not be read." in result.output  # only what was ever to be read
    assert newest(app).read_at >= first.read_at  # type: ignore[operator]


def test_an_item_another_process_is_reading_is_left_to_it_until_it_is_stale(
    app: Flask, world: World, clock
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from appeals import reading
    from appeals.clock import utcnow
    from merchant_portal import jobs

    clock.move_to(utcnow())
    client = merchant(app)
    upload(client, world.complaint_a.id, [(chat_png(), "chat.png")])
    item = newest(app)
    with app.app_context():
        stored = db().get_one(EvidenceItem, item.id)
        stored.reading_state, stored.read_at = ReadingState.READING, utcnow()
        db().commit()
        assert reading.waiting(db(), retake=True) == []
    assert jobs.read_now(app, [item.id]).skipped == 1  # another process has it
    clock.shift(reading.STALE + timedelta(minutes=1))
    with app.app_context():
        assert reading.waiting(db(), retake=True) == [item.id]
    assert jobs.read_now(app, [item.id], retake=True).read == 1
    assert newest(app).reading_state is ReadingState.DONE
