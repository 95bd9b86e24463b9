"""Appeals through the API: draft, evidence, readiness, an immutable submission."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from appeals.models import AppealVersion, AuditEvent
from merchant_portal.database import db
from tests.conftest import World
from tests.factories import png_bytes


def bearer(world: World, who: str = "owner_a") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who][1]}"}


def add_file(api: FlaskClient, world: World, appeal_id: int, kind: str, color: str) -> int:
    response = api.post(
        f"/api/v1/appeals/{appeal_id}/evidence",
        data={"file": (io.BytesIO(png_bytes((50, 90), color)), f"{kind}.png"), "kind": kind},
        content_type="multipart/form-data", headers=bearer(world),
    )  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["id"])


def ready_appeal(app: Flask, world: World) -> tuple[FlaskClient, int, list[int]]:
    api = app.test_client()
    appeal = api.post(
        "/api/v1/appeals", json={"complaint_id": world.complaint_a.id}, headers=bearer(world)
    )
    appeal_id = appeal.get_json()["id"]
    chat = add_file(api, world, appeal_id, "chat_screenshot", "white")
    review = add_file(api, world, appeal_id, "review_capture", "gray")
    body = {
        "complaint_id": world.complaint_a.id,
        "category": "extortion",
        "statement": "The buyer demanded a refund and threatened a one-star review otherwise.",
        "remedies": ["void_complaint", "remove_review"],
        "rows": [
            {
                "allegation": "Parcel never arrived",
                "answer": "Signed for on 4 Nov",
                "evidence_ids": [chat],
            },
            {
                "allegation": "Seller was rude",
                "answer": "The chat shows the threat",
                "evidence_ids": [review, chat],
            },
        ],
    }
    updated = api.post("/api/v1/appeals", json=body, headers=bearer(world))
    assert updated.status_code == 200, updated.get_data(as_text=True)
    return api, appeal_id, [chat, review]


def test_draft_shows_what_is_missing_then_becomes_ready(app: Flask, world: World) -> None:
    api = app.test_client()
    first = api.get(f"/api/v1/appeals/{world.appeal_a.id}", headers=bearer(world)).get_json()
    assert first["state"] == "draft" and first["ready"] is False
    assert first["missing"][:1] == ["category"] and first["allowed_actions"] == [
        "submit",
        "withdraw",
    ]
    api, appeal_id, (chat, review) = ready_appeal(app, world)
    body = api.get(f"/api/v1/appeals/{appeal_id}", headers=bearer(world)).get_json()
    assert body["ready"] is True and body["missing"] == []
    assert [(e["label"], e["evidence_id"]) for e in body["exhibits"]] == [
        ("A-1", chat),
        ("B-1", review),
    ]
    assert body["budget"]["files"] == 2 and body["budget"]["over"] == []


def test_submission_freezes_a_version_once_even_when_retried(app: Flask, world: World) -> None:
    api, appeal_id, _ = ready_appeal(app, world)
    first = api.post(f"/api/v1/appeals/{appeal_id}/submit", headers=bearer(world))
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert body["state"] == "submitted" and len(body["versions"]) == 1
    version = body["versions"][0]
    assert version["content"]["exhibits"][0]["label"] == "A-1"
    assert version["content"]["rows"][1]["exhibits"] == ["B-1", "A-1"], (
        "a reused exhibit keeps its label"
    )
    assert len(version["content_sha256"]) == 64
    retry = api.post(f"/api/v1/appeals/{appeal_id}/submit", headers=bearer(world)).get_json()
    assert retry["versions"] == body["versions"], "a retried submit makes no second version"
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(AppealVersion)) == 1
        submits = db().scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "appeal.submit")
        )
        assert submits == 1

    # After submission nothing of that version can change.
    edit = {"complaint_id": world.complaint_a.id, "statement": "changed after submit"}
    change = api.post("/api/v1/appeals", json=edit, headers=bearer(world))
    assert (
        change.status_code == 422 and "Only a draft can be changed" in change.get_json()["detail"]
    )
    late_file = api.post(
        f"/api/v1/appeals/{appeal_id}/evidence",
        data={"file": (io.BytesIO(png_bytes((5, 5))), "late.png"), "kind": "other"},
        content_type="multipart/form-data", headers=bearer(world),
    )  # fmt: skip
    assert late_file.status_code == 422


def test_submitting_an_unready_draft_says_what_is_missing(app: Flask, world: World) -> None:
    response = app.test_client().post(
        f"/api/v1/appeals/{world.appeal_a.id}/submit", headers=bearer(world)
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert "not ready" in problem["detail"]
    assert {"category", "statement"} <= set(problem["missing"])


def test_citing_evidence_of_another_complaint_is_refused(app: Flask, world: World) -> None:
    body = {
        "complaint_id": world.complaint_a.id,
        "rows": [{"allegation": "x", "answer": "y", "evidence_ids": [999999]}],
    }
    response = app.test_client().post("/api/v1/appeals", json=body, headers=bearer(world))
    assert response.status_code == 422 and response.get_json()["field"] == "rows"


def test_another_shop_cannot_see_or_submit_my_appeal(app: Flask, world: World) -> None:
    api = app.test_client()
    assert (
        api.get(
            f"/api/v1/appeals/{world.appeal_a.id}", headers=bearer(world, "owner_b")
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"/api/v1/appeals/{world.appeal_a.id}/submit", headers=bearer(world, "owner_b")
        ).status_code
        == 404
    )
    created = api.post(
        "/api/v1/appeals",
        json={"complaint_id": world.complaint_a.id},
        headers=bearer(world, "owner_b"),
    )
    assert created.status_code == 404
