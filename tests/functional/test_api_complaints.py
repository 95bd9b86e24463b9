"""The platform sends complaints by API (idempotent); merchants list their own."""

from __future__ import annotations

from flask import Flask

from tests.conftest import SHOP_A_MARKER, World


def bearer(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who][1]}"}


REPORT = {
    "external_id": "CP-PLAT-77",
    "shop": "Shop A",
    "type": "not_as_described",
    "channel": "online",
    "description": "颜色不对，不退款就给差评",
    "buyer_ref": "buyer-77",
    "received_at": "2026-11-25T09:30:00+08:00",
    "order_number": "ORDER-A-1",
    "penalty_points": 6,
}


def test_posting_the_same_complaint_twice_stores_it_once(app: Flask, world: World) -> None:
    client = app.test_client()
    first = client.post("/api/v1/complaints", json=REPORT, headers=bearer(world, "platform"))
    assert first.status_code == 201
    body = first.get_json()
    assert body["order_id"] == world.order_a.id, "linked to the shop's order by number"
    assert body["appeal_deadline"].startswith("2026-12-02T01:30:00"), "7 days after receipt, UTC"
    again = client.post("/api/v1/complaints", json=REPORT, headers=bearer(world, "platform"))
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    listing = client.get("/api/v1/complaints", headers=bearer(world, "owner_a")).get_json()
    assert [c["external_id"] for c in listing["items"]].count("CP-PLAT-77") == 1


def test_same_external_id_for_another_shop_is_a_conflict(app: Flask, world: World) -> None:
    client = app.test_client()
    client.post("/api/v1/complaints", json=REPORT, headers=bearer(world, "admin"))
    response = client.post(
        "/api/v1/complaints", json={**REPORT, "shop": "Shop B 乙店"}, headers=bearer(world, "admin")
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "conflict"


def test_bad_values_are_problems_that_name_the_field(app: Flask, world: World) -> None:
    client = app.test_client()
    for change, field, status in [
        ({"type": "banana"}, "type", 422),
        ({"shop": "No Such Shop"}, "shop", 404),
        ({"penalty_points": 5000}, "penalty_points", 422),
        ({"description": "  "}, "description", 422),
    ]:
        response = client.post(
            "/api/v1/complaints", json={**REPORT, **change}, headers=bearer(world, "platform")
        )
        assert response.status_code == status, change
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["field"] == field
    missing = {k: v for k, v in REPORT.items() if k != "received_at"}
    response = client.post("/api/v1/complaints", json=missing, headers=bearer(world, "platform"))
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_request"


def test_merchants_cannot_record_complaints(app: Flask, world: World) -> None:
    response = app.test_client().post(
        "/api/v1/complaints", json=REPORT, headers=bearer(world, "owner_a")
    )
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_listing_is_the_callers_shop_only_and_filters(app: Flask, world: World) -> None:
    client = app.test_client()
    mine = client.get("/api/v1/complaints", headers=bearer(world, "owner_b")).get_json()
    assert [c["external_id"] for c in mine["items"]] == ["CP-B-1"]
    assert SHOP_A_MARKER not in str(mine)
    none = client.get(
        "/api/v1/complaints?flagged=true", headers=bearer(world, "owner_b")
    ).get_json()
    assert none["total"] == 0
    bad = client.get("/api/v1/complaints?per_page=1000", headers=bearer(world, "owner_b"))
    assert bad.status_code == 422


def test_openapi_documents_the_complaint_endpoints(app: Flask) -> None:
    from openapi_spec_validator import validate

    document = app.test_client().get("/api/v1/openapi.json").get_json()
    validate(document)
    assert {"get", "post"} <= set(document["paths"]["/api/v1/complaints"])


def test_the_platforms_own_words_and_guarded_order_numbers_are_understood(
    app: Flask, world: World
) -> None:
    client = app.test_client()
    cases = [
        ("商品质量问题", "12315", "product_quality", "hotline"),
        ("未收到货", "在线客服", "not_received", "online"),
        (" 描述不符 ", "官方邮箱", "not_as_described", "email"),
        ("延迟发货", "热线", "late_shipment", "hotline"),
        ("服务态度", "online", "service_attitude", "online"),
    ]
    for number, (kind, channel, want_type, want_channel) in enumerate(cases):
        report = {**REPORT, "external_id": f"ＣＰ－{number}", "type": kind, "channel": channel,
                  "order_number": '="ORDER-A-1"'}  # fmt: skip
        response = client.post("/api/v1/complaints", json=report, headers=bearer(world, "platform"))
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert (body["type"], body["channel"]) == (want_type, want_channel)
        assert body["external_id"] == f"CP-{number}", "full-width ids are normalised"
        assert body["order_id"] == world.order_a.id, "linked whatever guard the export had"
