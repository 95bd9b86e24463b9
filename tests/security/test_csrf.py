"""CSRF on every state-changing route: a missing, foreign, expired or cross-site token is
refused with 400 and nothing in the database changes."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from appeals.db import Base
from merchant_portal.database import db
from tests.conftest import World, csrf_token, log_in
from tests.security.routes import ROUTES, Route

# The API authenticates with bearer tokens, not cookies, so a forged request carries no
# credential; every cookie-authenticated POST is here.
UNSAFE = [r for r in ROUTES if r.method == "POST" and not r.endpoint.startswith("api.")]


def actor_for(route: Route) -> str:
    """The principal for whom the route would succeed, so only CSRF can stop it."""
    if route.endpoint == "auth.login":
        return "anonymous"
    return "admin" if route.endpoint.startswith("admin.") else "owner_a"


def snapshot(app: Flask) -> dict[str, list[tuple[object, ...]]]:
    with app.app_context():
        return {
            table.name: [tuple(row) for row in db().execute(select(table)).all()]
            for table in Base.metadata.sorted_tables
        }


def signed_in_client(app: Flask, world: World, principal: str) -> FlaskClient:
    client = app.test_client()
    if principal != "anonymous":
        log_in(client, world.users[principal].email)
    return client


def foreign_token(app: Flask, world: World) -> str:
    other = signed_in_client(app, world, "owner_b")
    return csrf_token(other)


def expired_token(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> str:
    two_hours_ago = time.time() - 7200
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: two_hours_ago)
        return csrf_token(client)


@pytest.mark.parametrize("route", UNSAFE, ids=[r.endpoint for r in UNSAFE])
@pytest.mark.parametrize("attack", ["missing", "foreign", "expired", "cross-site"])
def test_unsafe_route_refuses_bad_token(
    app: Flask, world: World, route: Route, attack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in_client(app, world, actor_for(route))
    data = dict(route.data)
    headers = {}
    if attack == "foreign":
        data["csrf_token"] = foreign_token(app, world)
    elif attack == "expired":
        data["csrf_token"] = expired_token(client, monkeypatch)
    elif attack == "cross-site":
        data["csrf_token"] = csrf_token(client)
        headers["Referer"] = "https://evil.example/"
    before = snapshot(app)

    response = client.post(route.url(world), data=data, headers=headers)

    assert response.status_code == 400
    assert "Reload and try again" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_the_same_requests_with_a_good_token_get_through(app: Flask, world: World) -> None:
    """Control: the refusals above are CSRF's doing, not the route refusing everyone."""
    for route in UNSAFE:
        client = signed_in_client(app, world, actor_for(route))
        data = {**route.data, "csrf_token": csrf_token(client)}
        response = client.post(route.url(world), data=data)
        assert response.status_code != 400, route.endpoint


def test_get_requests_change_nothing(app: Flask, world: World) -> None:
    for principal in ("owner_a", "admin", "reviewer"):
        client = signed_in_client(app, world, principal)
        before = snapshot(app)
        for route in ROUTES:
            if route.method == "GET":
                client.get(route.url(world)).close()
        assert snapshot(app) == before, principal
