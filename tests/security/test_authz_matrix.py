"""Every route, for every principal: the expected status, and no other shop's data."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import SHOP_A_MARKER, SHOP_B_MARKER, World, csrf_token, log_in
from tests.security.routes import PRINCIPALS, ROUTES, Route

CASES = [(route, principal) for route in ROUTES for principal in PRINCIPALS]


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    served = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    listed = {(route.endpoint, route.method) for route in ROUTES}
    assert served - listed == set(), "routes missing from tests/security/routes.py"
    assert listed - served == set(), "the matrix lists routes the app no longer has"


@pytest.mark.parametrize(
    ("route", "principal"), CASES, ids=[f"{r.endpoint}-{r.method}-{p}" for r, p in CASES]
)
def test_route_answers_each_principal(
    app: Flask, world: World, route: Route, principal: str
) -> None:
    client = app.test_client()
    headers = {}
    if route.endpoint.startswith("api."):
        if principal != "anonymous":
            headers["Authorization"] = f"Bearer {world.tokens[principal][1]}"
    elif principal != "anonymous":
        log_in(client, world.users[principal].email)
    data = dict(route.data)
    if route.method == "POST":
        data["csrf_token"] = csrf_token(client)
    if route.json is not None:
        body = route.json(world) if callable(route.json) else route.json
        response = client.open(route.url(world), method=route.method, json=body, headers=headers)
    else:
        response = client.open(route.url(world), method=route.method, data=data, headers=headers)

    raw = response.get_data()
    response.close()
    assert response.status_code == route.expected[principal]
    body = raw.decode("utf-8", errors="replace")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/"), "redirects stay on this site"
        if (
            principal == "anonymous"
            and route.expected[principal] == 302
            and "login" not in (route.endpoint)
        ):
            assert "/login" in response.headers["Location"] or route.endpoint in (
                "auth.home",
                "auth.logout",
                "auth.language",
            )
    if principal in ("owner_a", "staff_a"):
        assert SHOP_B_MARKER not in body
    if principal == "owner_b":
        assert SHOP_A_MARKER not in body


def test_a_failing_permission_check_fails_closed(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    log_in(client, world.users["owner_a"].email)

    def broken(*_args: object) -> bool:
        raise RuntimeError("policy store unavailable")

    monkeypatch.setattr("merchant_portal.access.has_permission", broken)
    monkeypatch.setattr("appeals.complaints.require", broken)
    response = client.get(f"/complaints/{world.complaint_a.id}")
    assert response.status_code == 500
    assert SHOP_A_MARKER not in response.get_data(as_text=True)
