"""The portal speaks the user's language and shows times in the user's zone."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from appeals.models import User
from merchant_portal.database import db
from tests.conftest import PASSWORD, World, log_in, post_form


def test_accept_language_chooses_chinese_for_a_visitor(app: Flask) -> None:
    html = (
        app.test_client()
        .get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        .get_data(as_text=True)
    )
    assert '<html lang="zh-Hans">' in html
    assert "登录" in html and "邮箱" in html


def test_english_is_the_default(app: Flask) -> None:
    html = app.test_client().get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html


def test_header_switch_changes_language_and_returns_to_the_page(app: Flask) -> None:
    client = app.test_client()
    response = post_form(
        client, "/language", {"locale": "zh_Hans_CN", "next": "/login"}, page="/login"
    )
    assert response.headers["Location"] == "/login"
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_switch_is_remembered_for_a_signed_in_user(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    post_form(client, "/language", {"locale": "zh_Hans_CN", "next": "/inbox"})
    other_device = app.test_client()
    log_in(other_device, "owner_a@test.example")
    html = other_device.get("/inbox", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "针对本店的投诉" in html


def test_users_setting_wins_over_the_browser(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    post_form(
        client, "/account/preferences", {"pref-locale": "en", "pref-time_zone": "Europe/Berlin"}
    )
    html = client.get("/inbox", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Complaints against your shop" in html
    assert "Times are shown in Europe/Berlin." in html


def test_times_are_shown_in_the_users_zone(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    deadline = world.complaint_a.appeal_deadline
    from zoneinfo import ZoneInfo

    shanghai = deadline.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    berlin = deadline.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M")
    assert shanghai in client.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True)
    post_form(
        client, "/account/preferences", {"pref-locale": "", "pref-time_zone": "Europe/Berlin"}
    )
    assert berlin in client.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True)


def test_unknown_time_zone_is_refused_next_to_the_field(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    response = post_form(
        client, "/account/preferences", {"pref-locale": "", "pref-time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 422
    assert 'id="pref-time_zone-error"' in response.get_data(as_text=True)


def test_form_validation_messages_are_translated(app: Flask, world: World) -> None:
    client = app.test_client()
    post_form(client, "/language", {"locale": "zh_Hans_CN", "next": "/login"}, page="/login")
    response = post_form(client, "/login", {"email": "", "password": ""}, page="/login")
    assert "该字段是必填字段" in response.get_data(as_text=True)


def _store_locale(app: Flask, email: str, locale: str) -> None:
    """The account's own setting, saved through its preferences form on another device."""
    device = app.test_client()
    log_in(device, email)
    saved = post_form(
        device, "/account/preferences", {"pref-locale": locale, "pref-time_zone": "Asia/Shanghai"}
    )
    assert saved.status_code == 302


def _sign_in_after_switching(app: Flask, email: str, locale: str, browser: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = browser
    post_form(client, "/language", {"locale": locale, "next": "/login"}, page="/login")
    response = post_form(client, "/login", {"email": email, "password": PASSWORD}, page="/login")
    assert response.status_code == 302
    return client


def test_english_chosen_on_the_login_page_is_kept_after_sign_in(app: Flask, world: World) -> None:
    _store_locale(app, "owner_a@test.example", "zh_Hans_CN")
    client = _sign_in_after_switching(app, "owner_a@test.example", "en", browser="zh-CN")
    html = client.get("/inbox", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en">' in html and "Complaints against your shop" in html
    later = app.test_client()
    log_in(later, "owner_a@test.example")
    html = later.get("/inbox", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Complaints against your shop" in html, "the choice is kept on the account"


def test_chinese_chosen_on_the_login_page_is_kept_after_sign_in(app: Flask, world: World) -> None:
    _store_locale(app, "reviewer@test.example", "en")
    client = _sign_in_after_switching(app, "reviewer@test.example", "zh_Hans_CN", browser="en")
    html = client.get("/review/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html and "审核队列" in html
    with app.app_context():
        stored = db().scalar(select(User.locale).where(User.email == "reviewer@test.example"))
    assert stored == "zh_Hans_CN"


def test_a_language_left_by_the_last_user_does_not_change_the_next_account(
    app: Flask, world: World
) -> None:
    _store_locale(app, "owner_b@test.example", "en")
    shared = app.test_client()
    log_in(shared, "owner_a@test.example")
    post_form(shared, "/language", {"locale": "zh_Hans_CN", "next": "/inbox"}, page="/inbox")
    post_form(shared, "/logout", {}, page="/inbox")
    assert "登录" in shared.get("/login").get_data(as_text=True)
    log_in(shared, "owner_b@test.example")
    assert "Complaints against your shop" in shared.get("/inbox").get_data(as_text=True)
