"""Signing in and out, sessions that end on the server, rate limits, safe redirects."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import PASSWORD, World, csrf_token, log_in, post_form

SESSION_COOKIE = "__Host-appeal_desk"


def session_cookie(client) -> str:  # type: ignore[no-untyped-def]
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    return str(cookie.value)


def test_login_lands_merchant_on_inbox_with_their_complaints(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    page = client.get("/", follow_redirects=True)
    assert page.request.path == "/inbox"
    assert "CP-A-1" in page.get_data(as_text=True)


def test_wrong_password_is_refused_and_email_kept(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "email": "owner_a@test.example",
            "password": "nope",
            "csrf_token": csrf_token(client),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The email or password is not correct" in html
    assert 'value="owner_a@test.example"' in html
    assert client.get("/inbox").status_code == 302


def test_session_cookie_is_secure_httponly_lax_host_only(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "email": "owner_a@test.example",
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    header = next(h for h in response.headers.getlist("Set-Cookie") if SESSION_COOKIE in h)
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Path=/" in header and "Domain" not in header
    assert "Expires=" in header, "a signed-in session ends after PERMANENT_SESSION_LIFETIME"


def test_login_renews_the_session(app: Flask, world: World) -> None:
    client = app.test_client()
    csrf_token(client)
    before = session_cookie(client)
    log_in(client, "owner_a@test.example")
    assert session_cookie(client) != before


def test_logout_ends_the_session_on_the_server(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    stolen = session_cookie(client)
    post_form(client, "/logout", {})
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, stolen)
    assert thief.get("/inbox").status_code == 302


def test_password_change_signs_out_other_sessions_only(app: Flask, world: World) -> None:
    phone, laptop = app.test_client(), app.test_client()
    log_in(phone, "owner_a@test.example")
    log_in(laptop, "owner_a@test.example")
    response = post_form(
        laptop,
        "/account/password",
        {
            "pw-current_password": PASSWORD,
            "pw-new_password": "a new long secret",
            "pw-confirm": "a new long secret",
        },
    )
    assert response.status_code == 302
    assert laptop.get("/inbox").status_code == 200
    assert phone.get("/inbox").status_code == 302
    log_in(app.test_client(), "owner_a@test.example", "a new long secret")


def test_password_change_errors_show_next_to_the_field(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    response = post_form(
        client,
        "/account/password",
        {
            "pw-current_password": "wrong",
            "pw-new_password": "a new long secret",
            "pw-confirm": "a new long secret",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="pw-current_password-error"' in html
    assert "The current password is not correct." in html


def test_disabling_an_account_ends_its_sessions_and_tokens(app: Flask, world: World) -> None:
    victim = app.test_client()
    log_in(victim, "staff_a@test.example")
    admin = app.test_client()
    log_in(admin, "admin@test.example")
    post_form(admin, f"/admin/users/{world.users['staff_a'].id}/disable", {}, page="/admin/")
    assert victim.get("/inbox").status_code == 302
    token = world.tokens["staff_a"][1]
    assert (
        app.test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 401
    )
    refused = app.test_client().post(
        "/login",
        data={
            "email": "staff_a@test.example",
            "password": PASSWORD,
            "csrf_token": csrf_token(victim),
        },
    )
    assert refused.status_code in (400, 422)


def test_eleventh_failed_login_is_rate_limited_with_a_clear_message(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    token = csrf_token(client)
    for _ in range(10):
        bad = {"email": "owner_a@test.example", "password": "wrong", "csrf_token": token}
        assert client.post("/login", data=bad).status_code == 422
    good = {"email": "owner_a@test.example", "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", data=good)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_successful_logins_do_not_count_towards_the_limit(app: Flask, world: World) -> None:
    for _ in range(12):
        client = app.test_client()
        log_in(client, "owner_a@test.example")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/inbox\r\nLocation: https://evil.example",
    ],
)
def test_next_never_redirects_off_site(app: Flask, world: World, target: str) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={
            "email": "owner_a@test.example",
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


def test_next_to_a_page_of_the_portal_is_followed(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": f"/complaints/{world.complaint_a.id}"},
        data={
            "email": "owner_a@test.example",
            "password": PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"] == f"/complaints/{world.complaint_a.id}"


def test_anonymous_visit_is_sent_to_login_and_back(app: Flask, world: World) -> None:
    client = app.test_client()
    response = client.get(f"/complaints/{world.complaint_a.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
