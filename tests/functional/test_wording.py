"""The portal's words: the platforms' own outcome terms in Chinese, plurals in English, lists
joined as each language joins them, and file types named as people name them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appeals import review
from appeals.accounts import SYSTEM
from appeals.clock import utcnow
from appeals.models import Appeal, AppealVersion
from appeals.rebuttal import row_label
from merchant_portal.database import db
from tests.conftest import World, csrf_token, log_in, post_form

ZH = "zh_Hans_CN"


def signed_in(app: Flask, email: str, locale: str) -> FlaskClient:
    client = app.test_client()
    log_in(client, email)
    post_form(client, "/language", {"locale": locale, "next": "/"}, page="/account")
    return client


def rule(app: Flask, world: World, appeal_id: int, outcome: str, **measures: str) -> None:
    """The reviewer claims the appeal and rules through the review screen's form."""
    page = f"/review/appeals/{appeal_id}"
    reviewer = app.test_client()
    log_in(reviewer, "reviewer@test.example")
    reviewer.post(f"{page}/claim", data={"csrf_token": csrf_token(reviewer, page)})
    with app.app_context():
        rows = len(db().get_one(Appeal, appeal_id).versions[-1].content["rows"])
    form = {"outcome": outcome, "rule_applied": "Platform rules 4.2",
            "summary": "Ruled on the exhibits and the chat.", **measures}  # fmt: skip
    for i in range(rows):
        accepted = outcome == "upheld" or (outcome == "partially_upheld" and i == 0)
        form[f"row_{row_label(i)}"] = "accept" if accepted else "reject"
        form[f"reason_{row_label(i)}"] = f"Reason for row {row_label(i)}."
    ruled = reviewer.post(f"{page}/rule", data={**form, "csrf_token": csrf_token(reviewer, page)})
    assert ruled.status_code == 302, ruled.get_data(as_text=True)[:300]


def inbox_row(client: FlaskClient, number: str) -> str:
    html = client.get("/inbox").get_data(as_text=True)
    return html[html.index(number) :][:2500]


@pytest.mark.parametrize(
    ("outcome", "english", "chinese"),
    [
        ("upheld", "Upheld", "申诉成立"),
        ("partially_upheld", "Partially upheld", "部分成立"),
        ("rejected", "Rejected", "申诉不成立"),
    ],
)
def test_outcomes_are_said_in_the_platforms_own_chinese_terms(
    app: Flask, world: World, version: AppealVersion, outcome: str, english: str, chinese: str
) -> None:
    rule(app, world, version.appeal_id, outcome)
    number = world.complaint_a.external_id
    assert f"已裁决 · {chinese}" in inbox_row(signed_in(app, "owner_a@test.example", ZH), number)
    assert f"Decided · {english}" in inbox_row(signed_in(app, "staff_a@test.example", "en"), number)
    page = signed_in(app, "owner_a@test.example", ZH).get(f"/appeals/{version.appeal_id}")
    assert f"裁决：{chinese}" in page.get_data(as_text=True)


def test_a_final_ruling_and_a_referral_use_the_platforms_terms(
    app: Flask, world: World, version: AppealVersion
) -> None:
    rule(app, world, version.appeal_id, "rejected", m_legal_referral="1")
    merchant = signed_in(app, "owner_a@test.example", ZH)
    assert "移交司法机关" in merchant.get(f"/appeals/{version.appeal_id}").get_data(as_text=True)
    with app.app_context():  # the window for a second appeal closes
        assert review.close_windows(db(), SYSTEM, now=utcnow() + timedelta(days=60))["final"] == 1
        db().commit()
    row = inbox_row(merchant, world.complaint_a.external_id)
    assert "已结案" in row and "已终审 · 申诉不成立" in row
    page = merchant.get(f"/appeals/{version.appeal_id}").get_data(as_text=True)
    assert "已终审：申诉不成立。本案不能再提交任何材料。" in page
    assert "终局" not in page and "最终" not in page


def test_counts_take_the_english_singular_and_plural(app: Flask, world: World) -> None:
    merchant = signed_in(app, "owner_a@test.example", "en")
    page = merchant.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True)
    assert "Counted from 1 order and 1 complaint of your shop." in page
    assert "Computed by" not in page, "no algorithm names on a merchant page"


@pytest.mark.parametrize(
    ("locale", "joined"),
    [("en", "Void the complaint and Remove the review"), (ZH, "撤销投诉和删除评价")],
)
def test_lists_are_joined_as_the_language_joins_them(
    app: Flask, world: World, locale: str, joined: str
) -> None:
    with app.app_context():
        appeal = db().get_one(Appeal, world.appeal_a.id)
        appeal.remedies = ["void_complaint", "remove_review"]
        db().commit()
    merchant = signed_in(app, "owner_a@test.example", locale)
    page = merchant.get(f"/appeals/{world.appeal_a.id}/submit").get_data(as_text=True)
    assert joined in page


@pytest.mark.parametrize(("locale", "words"), [("en", "PNG picture"), (ZH, "PNG 图片")])
def test_the_locker_names_a_file_type_in_words_not_as_a_media_type(
    app: Flask, world: World, locale: str, words: str
) -> None:
    merchant = signed_in(app, "owner_a@test.example", locale)
    page = merchant.get(f"/complaints/{world.complaint_a.id}/evidence").get_data(as_text=True)
    assert words in page and "image/png" not in page
