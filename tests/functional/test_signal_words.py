"""The dossier's sentences read right in both languages: one complaint, one chat file, ..."""

from __future__ import annotations

import html
import io
import re

from flask import Flask
from pypdf import PdfReader

from appeals.models import AppealVersion
from tests.conftest import World, post_form
from tests.functional.test_bundles import download
from tests.functional.test_locker import merchant, upload

WRONG_PLURALS = re.compile(
    r"\b1 (complaints|orders|refunds|chat files|order numbers|phone numbers)\b"
)


def signals(page: str) -> list[str]:
    found = re.findall(r'class="signal-text">(.*?)</span>', page, re.S)
    return [" ".join(html.unescape(text).split()) for text in found]


def test_counts_of_one_are_singular_on_the_complaint_page(app: Flask, world: World) -> None:
    client = merchant(app)
    chat = "买家 10:02 你好，请问什么时候发货\n客服 10:05 今天发出\n".encode()
    upload(client, world.complaint_a.id, [(chat, "chat.txt")], json=True, kind="chat_export")
    english = signals(client.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True))
    assert "1 complaint in the last 90 days" in " ".join(english)
    assert any(s.endswith("lines of 1 chat file.") for s in english), english
    assert not [s for s in english if WRONG_PLURALS.search(s)], english

    post_form(client, "/language", {"locale": "zh_Hans_CN", "next": "/inbox"})
    chinese = signals(client.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True))
    assert len(chinese) == len(english)
    assert "1 次投诉" in " ".join(chinese) and "1 份聊天记录" in " ".join(chinese)
    # Every sentence is Chinese through and through: no English words left in it.
    assert not [s for s in chinese if re.search(r"[A-Za-z]{3,}", s)], chinese


def test_the_bundle_dossier_speaks_both_languages_with_the_right_plurals(
    app: Flask, world: World, version: AppealVersion
) -> None:
    _, body = download(app, world, version, "pdf")
    reader = PdfReader(io.BytesIO(body))
    last = reader.pages[-1].extract_text()
    text = " ".join(last.split())
    assert "1 complaint in the last 90 days" in text
    assert "lines of 1 chat file." in text
    assert not WRONG_PLURALS.search(text), text
    flat = "".join(last.split())
    assert "1次投诉" in flat and "1份聊天记录" in flat
    # The footnote names what the dossier's digest covers, counted right.
    assert re.search(r"dossier/\d+ · \d+ orders? · 1 complaint · SHA-256 [0-9a-f]{64}", text), text


ONE = {
    "complaint_history": {"complaints": 1, "orders": 1, "rate": "100%", "shop_rate": "1.0%",
                          "ratio": "100.0"},
    "refund_history": {"refunds": 1, "rate": "50%", "shop_rate": "2.0%"},
    "shared_fingerprints": {"buyers": 1, "complaints": 1, "accounts": ["b-2"]},
    "extortion": {"count": 1, "files": 1},
    "chat_mentions": {"orders": 1, "others": 1, "phones": 1, "other_orders": ["1"]},
    "bulk_buying": {"most": 1, "repeat": 1, "item": "杯子"},
}  # fmt: skip


def test_every_counted_sentence_agrees_with_one_and_with_many(app: Flask) -> None:
    from flask_babel import force_locale

    from merchant_portal.i18n import signal_text

    with app.test_request_context():
        for code, one in ONE.items():
            many = {k: (v * 3 if isinstance(v, int) else v) for k, v in one.items()}
            with force_locale("en"):
                singular, plural = signal_text(code, "", one), signal_text(code, "", many)
            assert not WRONG_PLURALS.search(singular), singular
            assert singular != plural and "3" in plural, (singular, plural)
            with force_locale("zh_Hans_CN"):
                chinese = signal_text(code, "", many)
            assert "3" in chinese and not re.search(r"[A-Za-z]{3,}", chinese), chinese
