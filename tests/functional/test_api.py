"""The JSON API frame: bearer tokens, problem+json errors, a valid OpenAPI document."""

from __future__ import annotations

import re

from flask import Flask
from openapi_spec_validator import validate

from tests.conftest import World, log_in, post_form


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_me_describes_the_tokens_owner(app: Flask, world: World) -> None:
    response = app.test_client().get("/api/v1/me", headers=bearer(world.tokens["owner_a"][1]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == "owner_a@test.example"
    assert body["role"] == "merchant_owner"
    assert body["shop_name"] == "Shop A"


def test_missing_or_wrong_token_is_a_problem_document(app: Flask, world: World) -> None:
    client = app.test_client()
    for headers in ({}, bearer("apd_not-a-real-token"), {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["code"] == "unauthenticated" and problem["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_api_path_answers_problem_json_not_html(app: Flask) -> None:
    response = app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "not_found"


def test_the_api_ignores_session_cookies(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    assert client.get("/api/v1/me").status_code == 401


def test_openapi_document_validates_and_lists_me(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(document)
    assert "/api/v1/me" in document["paths"]
    assert "bearer" in document["components"]["securitySchemes"]


def test_token_created_on_profile_page_works_once_revoked_stops(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "staff_a@test.example")
    page = post_form(client, "/account/tokens", {"token-name": "ERP sync"}).get_data(as_text=True)
    secret = re.search(r'data-testid="new-token"|value="(apd_[^"]+)"', page)
    match = re.search(r'value="(apd_[^"]+)"', page)
    assert secret and match
    token = match.group(1)
    api = app.test_client()
    assert (
        api.get("/api/v1/me", headers=bearer(token)).get_json()["email"] == "staff_a@test.example"
    )
    listing = client.get("/account").get_data(as_text=True)
    assert token not in listing, "the secret is shown once only"
    token_id = re.search(r"/account/tokens/(\d+)/revoke", listing)
    assert token_id
    post_form(client, f"/account/tokens/{token_id.group(1)}/revoke", {})
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_token_name_is_required(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "staff_a@test.example")
    response = post_form(client, "/account/tokens", {"token-name": ""})
    assert response.status_code == 422
    assert 'id="token-name-error"' in response.get_data(as_text=True)


def test_an_order_export_by_api_previews_then_imports(app: Flask, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io

    from tests.exports import jd, taobao

    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['owner_a'][1]}"}
    path = jd(tmp_path).path

    def send(apply: bool, file_path=path):  # type: ignore[no-untyped-def]
        data = {"file": (io.BytesIO(file_path.read_bytes()), file_path.name),
                "apply": "true" if apply else "false"}  # fmt: skip
        return client.post("/api/v1/orders/import", data=data, headers=headers,
                           content_type="multipart/form-data")  # fmt: skip

    preview = send(False)
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert (body["platform"], body["orders"], body["applied"]) == ("jd", 2, False)
    assert {"header": "下单帐号", "field": "buyer_ref"}.items() <= next(
        c for c in body["columns"] if c["header"] == "下单帐号"
    ).items()
    applied = send(True)
    assert applied.status_code == 201 and applied.get_json()["result"]["created"] == 2
    assert send(True).get_json()["result"]["created"] == 0, "re-import never duplicates"

    refused = send(True, taobao(tmp_path).path)
    assert refused.status_code == 422
    assert "测试店铺A" in refused.get_json()["detail"]
    empty = client.post("/api/v1/orders/import", data={"apply": "true"}, headers=headers,
                        content_type="multipart/form-data")  # fmt: skip
    assert empty.status_code == 422 and empty.get_json()["field"] == "file"
