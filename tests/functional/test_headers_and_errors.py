"""Security headers on every response; friendly error pages with a request id."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from tests.conftest import World, log_in


def assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/login", "/api/v1/openapi.json", "/static/css/portal.css", "/nope"]
)
def test_every_response_carries_the_security_headers(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    response.close()
    assert_security_headers(response)


def test_404_page_is_friendly_with_request_id(app: Flask) -> None:
    response = app.test_client().get("/does-not-exist")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This page does not exist" in html
    assert response.headers["X-Request-Id"] in html


def test_403_for_the_wrong_role(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "reviewer@test.example")
    response = client.get("/inbox")
    assert response.status_code == 403
    assert "does not have permission" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_413_for_a_body_over_the_limit(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = app.test_client().post("/login", data={"email": "x" * 4096})
    assert response.status_code == 413
    assert "larger than the portal accepts" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_too_many_form_parts_is_refused(app: Flask) -> None:
    # More parts than Flask's own default (1,000); the body stays small enough that the
    # test client keeps it in memory.
    data = {f"f{i}": "x" for i in range(1500)}
    response = app.test_client().post("/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


def test_crash_shows_a_generic_page_and_logs_the_traceback(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in html and response.headers["X-Request-Id"] in html
    assert "secret internals" not in html and "Traceback" not in html
    assert "secret internals" in caplog.text
    assert_security_headers(response)
    assert app.test_client().get("/login").status_code == 200


def test_production_defaults_are_safe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from merchant_portal import create_app

    app = create_app({"DATA_DIR": tmp_path})
    assert app.debug is False and app.testing is False
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert len(app.config["SECRET_KEY"]) >= 32
    assert app.config["MAX_CONTENT_LENGTH"] and app.config["MAX_FORM_PARTS"] <= 1000
    assert create_app({"DATA_DIR": tmp_path}).config["SECRET_KEY"] == app.config["SECRET_KEY"]
    app.config["DATABASE_ENGINE"].dispose()
