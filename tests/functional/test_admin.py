"""Admins create shops and users, reset passwords and disable accounts through forms."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from appeals.models import Shop, User
from merchant_portal.database import db
from tests.conftest import World, log_in, post_form


def admin_client(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()
    log_in(client, "admin@test.example")
    return client


def test_admin_creates_a_shop_and_a_merchant_who_can_sign_in(app: Flask, world: World) -> None:
    client = admin_client(app)
    response = post_form(client, "/admin/shops", {"name": "杭州茶叶 Hangzhou Tea"}, page="/admin/")
    assert response.status_code == 302
    with app.app_context():
        shop = db().scalar(select(Shop).where(Shop.name == "杭州茶叶 Hangzhou Tea"))
    assert shop is not None
    response = post_form(
        client,
        "/admin/users",
        {
            "email": "Tea@Example.com",
            "role": "merchant_owner",
            "shop": shop.id,
            "password": "tea leaves 2026",
        },
        page="/admin/",
    )
    assert response.status_code == 302
    merchant = app.test_client()
    log_in(merchant, "tea@example.com", "tea leaves 2026")
    assert "杭州茶叶 Hangzhou Tea" in merchant.get("/inbox").get_data(as_text=True)


def test_merchant_without_shop_is_refused_and_input_kept(app: Flask, world: World) -> None:
    client = admin_client(app)
    response = post_form(
        client,
        "/admin/users",
        {
            "email": "lost@example.com",
            "display_name": "Lost",
            "role": "merchant_staff",
            "shop": 0,
            "password": "long enough pw",
        },
        page="/admin/",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="shop-error"' in html and "Merchant accounts belong to a shop" in html
    assert 'value="lost@example.com"' in html and 'value="Lost"' in html
    with app.app_context():
        assert db().scalar(select(User).where(User.email == "lost@example.com")) is None


def test_duplicate_email_and_short_password_are_shown_next_to_their_fields(
    app: Flask, world: World
) -> None:
    client = admin_client(app)
    response = post_form(
        client,
        "/admin/users",
        {
            "email": "owner_a@test.example",
            "role": "reviewer",
            "shop": 0,
            "password": "long enough pw",
        },
        page="/admin/",
    )
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    response = post_form(
        client,
        "/admin/users",
        {"email": "n@example.com", "role": "reviewer", "shop": 0, "password": "short"},
        page="/admin/",
    )
    assert 'id="password-error"' in response.get_data(as_text=True)


def test_duplicate_shop_name_is_refused(app: Flask, world: World) -> None:
    response = post_form(admin_client(app), "/admin/shops", {"name": "shop a"}, page="/admin/")
    assert response.status_code == 422
    assert "A shop with this name already exists." in response.get_data(as_text=True)


def test_admin_resets_a_password(app: Flask, world: World) -> None:
    client = admin_client(app)
    user_id = world.users["staff_a"].id
    response = post_form(
        client, f"/admin/users/{user_id}/password", {"password": "brand new secret"}, page="/admin/"
    )
    assert response.status_code == 302
    log_in(app.test_client(), "staff_a@test.example", "brand new secret")


def test_admin_cannot_disable_themselves(app: Flask, world: World) -> None:
    client = admin_client(app)
    response = post_form(
        client, f"/admin/users/{world.users['admin'].id}/disable", {}, page="/admin/"
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot disable your own account." in page


def test_disabled_user_can_be_enabled_again(app: Flask, world: World) -> None:
    client = admin_client(app)
    user_id = world.users["staff_a"].id
    post_form(client, f"/admin/users/{user_id}/disable", {}, page="/admin/")
    post_form(client, f"/admin/users/{user_id}/enable", {}, page="/admin/")
    log_in(app.test_client(), "staff_a@test.example")


def test_admin_records_a_hotline_complaint_once(app: Flask, world: World) -> None:
    client = admin_client(app)
    form = {
        "shop": world.shop_b.id, "external_id": "CP-HOT-1", "type": "service_attitude",
        "channel": "hotline", "order_number": "ORDER-B-1", "buyer_ref": "caller-1",
        "received_at": "2026-11-27T10:15", "penalty_points": "4",
        "description": "电话投诉：客服不回复",
    }  # fmt: skip
    response = post_form(client, "/admin/complaints/new", form, page="/admin/")
    assert response.status_code == 302
    assert "Complaint CP-HOT-1 recorded." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    again = post_form(client, "/admin/complaints/new", form, page="/admin/")
    assert "was already recorded" in client.get(again.headers["Location"]).get_data(as_text=True)
    merchant = app.test_client()
    log_in(merchant, "owner_b@test.example")
    inbox = merchant.get("/inbox").get_data(as_text=True)
    assert "CP-HOT-1" in inbox and "ORDER-B-1" in inbox


def test_admin_complaint_form_keeps_input_on_error(app: Flask, world: World) -> None:
    client = admin_client(app)
    form = {"shop": world.shop_a.id, "external_id": "CP-A-1", "type": "other", "channel": "email",
            "buyer_ref": "x", "received_at": "2026-11-27T10:15", "description": "dup"}  # fmt: skip
    post_form(client, "/admin/complaints/new", {**form, "shop": world.shop_b.id}, page="/admin/")
    response = post_form(
        client, "/admin/complaints/new", {**form, "external_id": ""}, page="/admin/"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="external_id-error"' in html and 'value="x"' in html
