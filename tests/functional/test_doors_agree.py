"""The doors agree: the same configured limits give the same answer through the portal's
forms, the API and the CLI, and a state change is audited whichever door it came through."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from appeals import complaints
from appeals.models import (
    Appeal,
    AppealState,
    AuditEvent,
    ComplaintChannel,
    ComplaintType,
    Shop,
    User,
)
from appeals.rebuttal import MAX_ROWS, row_label
from merchant_portal.context import policies
from merchant_portal.database import db
from tests.conftest import World, csrf_token, log_in
from tests.factories import ZH_HEADER, order_row, png_bytes, write_csv

LIFTED = {
    "BUNDLE_MAX_FILES": 100_000, "BUNDLE_MAX_PAGES": 100_000, "BUNDLE_MAX_MB": 100_000,
    "REVIEW_FIRST_DAYS": 2,
}  # fmt: skip
TIGHT = {"BUNDLE_MAX_FILES": 1, "REVIEW_FIRST_DAYS": 2}


def bearer(world: World, who: str = "owner_a") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who][1]}"}


def second_complaint(app: Flask, world: World, tag: str) -> int:
    with app.app_context():
        shop = db().get_one(Shop, world.shop_a.id)
        found = complaints.record_complaint(
            db(), shop, external_id=f"CP-DOOR-{tag}", type=ComplaintType.NOT_RECEIVED,
            channel=ComplaintChannel.ONLINE, description="Parcel never came", buyer_ref="b-door",
            received_at=world.complaint_a.received_at, policy=policies().deadlines,
        )  # fmt: skip
        db().commit()
        return found.id


def ready_appeal(app: Flask, world: World, complaint_id: int, rows: int = 2) -> int:
    """A draft that cites a chat and a review capture (what extortion needs), by the API."""
    api = app.test_client()
    appeal_id = api.post(
        "/api/v1/appeals", json={"complaint_id": complaint_id}, headers=bearer(world)
    ).get_json()["id"]
    ids = []
    for kind, color in (("chat_screenshot", "white"), ("review_capture", "gray")):
        response = api.post(
            f"/api/v1/appeals/{appeal_id}/evidence",
            data={"file": (io.BytesIO(png_bytes((40 + complaint_id, 70), color)), f"{kind}.png"),
                  "kind": kind},
            content_type="multipart/form-data", headers=bearer(world),
        )  # fmt: skip
        assert response.status_code == 201, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    body = {
        "complaint_id": complaint_id, "category": "extortion",
        "statement": "The buyer demanded a refund and threatened a one-star review otherwise.",
        "remedies": ["void_complaint"],
        "rows": [{"allegation": f"Claim {n + 1}", "answer": f"Answer {n + 1}",
                  "evidence_ids": ids} for n in range(rows)],
    }  # fmt: skip
    saved = api.post("/api/v1/appeals", json=body, headers=bearer(world))
    assert saved.status_code == 200, saved.get_data(as_text=True)
    return int(appeal_id)


def merchant(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    log_in(client, world.users["owner_a"].email)
    return client


def submit_by_form(client: FlaskClient, appeal_id: int) -> str:
    page = f"/appeals/{appeal_id}/submit"
    response = client.post(page, data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def upload_export(client: FlaskClient, path: Path):  # type: ignore[no-untyped-def]
    """Send an order export through the portal's import form (the preview comes next)."""
    page = "/orders/import"
    data = {
        "file": (io.BytesIO(path.read_bytes()), path.name),
        "csrf_token": csrf_token(client, page),
    }
    return client.post(page, content_type="multipart/form-data", data=data)


def submitted(app: Flask, appeal_id: int) -> tuple[AppealState, timedelta | None]:
    with app.app_context():
        appeal = db().get_one(Appeal, appeal_id)
        if appeal.submitted_at is None or appeal.review_due_at is None:
            return appeal.state, None
        return appeal.state, appeal.review_due_at - appeal.submitted_at


@pytest.mark.parametrize("settings", [LIFTED, TIGHT], indirect=True, ids=["lifted", "tight"])
def test_submission_and_budget_answer_alike_by_form_and_by_api(
    app: Flask, world: World, settings: dict[str, object]
) -> None:
    by_form = ready_appeal(app, world, world.complaint_a.id)
    by_api = ready_appeal(app, world, second_complaint(app, world, "API"))
    api = app.test_client()
    budget = api.get(f"/api/v1/appeals/{by_api}", headers=bearer(world)).get_json()["budget"]
    html = submit_by_form(merchant(app, world), by_form)
    answer = api.post(f"/api/v1/appeals/{by_api}/submit", headers=bearer(world))
    if settings == TIGHT:
        assert budget["over"] == ["files"] and budget["limits"]["files"] == 1
        assert "over the platform&#39;s limits" in html and answer.status_code == 422
        assert "over the platform's limits" in answer.get_json()["detail"]
        assert submitted(app, by_form) == submitted(app, by_api) == (AppealState.DRAFT, None)
    else:
        assert budget["over"] == [] and budget["limits"]["files"] == 100_000
        assert answer.status_code in (200, 201), answer.get_data(as_text=True)
        two_days = (AppealState.SUBMITTED, timedelta(days=2))
        assert submitted(app, by_form) == submitted(app, by_api) == two_days


@pytest.mark.parametrize("settings", [{"EVIDENCE_MAX_FILES": 2}], indirect=True)
def test_the_locker_limit_answers_alike_by_form_and_by_api(app: Flask, world: World) -> None:
    """The world's complaint holds one file: the limit of 2 lets one more in, at either door."""
    client = merchant(app, world)
    url = f"/complaints/{world.complaint_a.id}/evidence"

    def by_form(color: str) -> str:
        response = client.post(
            url, content_type="multipart/form-data", headers={"Accept": "application/json"},
            data={"files": [(io.BytesIO(png_bytes((30, 30), color)), "f.png")],
                  "kind": "chat_screenshot", "caption": "", "csrf_token": csrf_token(client, url)},
        )  # fmt: skip
        return str(response.get_json()[0].get("code", "ok"))

    def by_api(color: str) -> str:
        response = app.test_client().post(
            f"/api/v1/complaints/{world.complaint_a.id}/evidence", headers=bearer(world),
            data={"file": (io.BytesIO(png_bytes((30, 30), color)), "f.png"),
                  "kind": "chat_screenshot"}, content_type="multipart/form-data",
        )  # fmt: skip
        return "ok" if response.status_code == 201 else str(response.get_json()["reason"])

    assert (by_form("red"), by_api("blue")) == ("ok", "too_many_files")
    assert by_form("green") == "too_many_files"


def test_an_import_is_audited_through_the_portal_and_the_cli(
    app: Flask, world: World, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "orders.csv", ZH_HEADER, [order_row("DOOR-1", "b1")])
    client = merchant(app, world)
    preview = upload_export(client, path)
    preview_url = preview.headers["Location"]
    client.post(preview_url + "/apply", data={"csrf_token": csrf_token(client, preview_url)})
    result = app.test_cli_runner().invoke(args=["import-orders", str(path), "--shop", "Shop A"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        events = list(
            db().scalars(select(AuditEvent).where(AuditEvent.action == "orders.imported"))
        )
    assert [(e.actor_label, e.shop_id) for e in events] == [
        ("owner_a@test.example", world.shop_a.id),
        ("system", world.shop_a.id),
    ]
    assert events[1].after is not None and events[1].after["filename"] == "orders.csv"


def test_shops_users_and_tokens_made_at_the_command_line_are_audited(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["create-shop", "Door Shop"]).exit_code == 0
    made = runner.invoke(args=["create-user", "door@test.example", "--role", "merchant_owner",
                               "--shop", "Door Shop", "--password", "door password 1"])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert runner.invoke(args=["create-token", "door@test.example"]).exit_code == 0
    with app.app_context():
        actions = list(db().scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-3:] == ["shop.created", "user.created", "token.created"]


def test_row_labels_run_past_z_like_spreadsheet_columns() -> None:
    assert [row_label(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "AA", "AB", "AZ", "BA"]
    assert row_label(MAX_ROWS - 1) == "AD"


def test_an_appeal_of_thirty_rows_is_ruled_row_by_row_by_form_and_by_api(
    app: Flask, world: World
) -> None:
    complaint_ids = [world.complaint_a.id, second_complaint(app, world, "ROWS")]
    ids = [ready_appeal(app, world, complaint_id, rows=MAX_ROWS) for complaint_id in complaint_ids]
    api = app.test_client()
    for appeal_id in ids:
        answer = api.post(f"/api/v1/appeals/{appeal_id}/submit", headers=bearer(world))
        assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    reviewer = app.test_client()
    log_in(reviewer, world.users["reviewer"].email)
    labels = [row_label(i) for i in range(MAX_ROWS)]
    for appeal_id in ids:
        page = f"/review/appeals/{appeal_id}"
        reviewer.post(f"{page}/claim", data={"csrf_token": csrf_token(reviewer, page)})
    html = reviewer.get(f"/review/appeals/{ids[0]}").get_data(as_text=True)
    assert re.findall(r'name="reason_([A-Z]+)"', html) == labels
    form = {"outcome": "upheld", "rule_applied": "Rules 4.2", "summary": "Malicious.",
            "buyer_measure_void_complaint": "on"}  # fmt: skip
    for label in labels:
        form[f"row_{label}"], form[f"reason_{label}"] = "accept", f"Proven {label}."
    page = f"/review/appeals/{ids[0]}"
    ruled = reviewer.post(f"{page}/rule", data={**form, "csrf_token": csrf_token(reviewer, page)})
    assert ruled.status_code == 302, ruled.get_data(as_text=True)[-2000:]
    body = {
        "outcome": "upheld", "rule_applied": "Rules 4.2", "summary": "Malicious.",
        "findings": [{"row": label, "accepted": True, "reason": f"Proven {label}."}
                     for label in labels],
        "insufficient": [], "merchant_measures": [], "buyer_measures": [{"kind": "void_complaint"}],
    }  # fmt: skip
    by_api = api.post(
        f"/api/v1/appeals/{ids[1]}/ruling", json=body, headers=bearer(world, "reviewer")
    )
    assert by_api.status_code in (200, 201), by_api.get_data(as_text=True)
    for appeal_id in ids:
        assert submitted(app, appeal_id)[0] is AppealState.DECIDED


@pytest.mark.parametrize("settings", [{"IMPORT_MAX_BYTES": 2048}], indirect=True)
def test_the_import_cap_answers_alike_in_the_portal_and_on_the_cli(
    app: Flask, world: World, tmp_path: Path
) -> None:
    rows = [order_row(f"CAP-{n}", "b1") for n in range(60)]
    path = write_csv(tmp_path / "orders.csv", ZH_HEADER, rows)
    assert path.stat().st_size > 2048
    portal = upload_export(merchant(app, world), path)
    cli = app.test_cli_runner().invoke(args=["import-orders", str(path), "--shop", "Shop A"])
    assert portal.status_code == 422 and "larger than" in portal.get_data(as_text=True)
    assert cli.exit_code != 0 and "larger than" in cli.output


@pytest.mark.parametrize("settings", [{"DEFAULT_TIME_ZONE": "Europe/Berlin"}], indirect=True)
def test_new_accounts_take_the_configured_zone_from_the_cli_and_the_admin_form(
    app: Flask, world: World
) -> None:
    command = ["create-user", "cli-zone@test.example", "--role", "reviewer",
               "--password", "zone password 1"]  # fmt: skip
    made = app.test_cli_runner().invoke(args=command)
    assert made.exit_code == 0, made.output
    admin = app.test_client()
    log_in(admin, world.users["admin"].email)
    form = {"email": "form-zone@test.example", "role": "reviewer", "password": "zone password 2",
            "display_name": "", "shop": ""}  # fmt: skip
    page = "/admin/users"
    created = admin.post(page, data={**form, "csrf_token": csrf_token(admin, page)})
    assert created.status_code == 302, created.get_data(as_text=True)[-1500:]
    with app.app_context():
        zones = {u.email: u.time_zone for u in db().scalars(select(User).where(
            User.email.in_(["cli-zone@test.example", "form-zone@test.example"])))}  # fmt: skip
    assert zones == {"cli-zone@test.example": "Europe/Berlin",
                     "form-zone@test.example": "Europe/Berlin"}  # fmt: skip


def test_draft_saves_and_internal_notes_are_audited_but_not_on_the_shops_timeline(
    app: Flask, world: World
) -> None:
    appeal_id = ready_appeal(app, world, world.complaint_a.id)
    api = app.test_client()
    assert api.post(f"/api/v1/appeals/{appeal_id}/submit", headers=bearer(world)).status_code in (
        200, 201,
    )  # fmt: skip
    reviewer = app.test_client()
    log_in(reviewer, world.users["reviewer"].email)
    page = f"/review/appeals/{appeal_id}"
    reviewer.post(f"{page}/claim", data={"csrf_token": csrf_token(reviewer, page)})
    note = {"body": "Check the courier's photo.", "csrf_token": csrf_token(reviewer, page)}
    noted = reviewer.post(f"{page}/notes", data=note)
    assert noted.status_code == 302
    with app.app_context():
        actions = set(db().scalars(select(AuditEvent.action)))
    assert {"appeal.draft_saved", "appeal.noted"} <= actions
    shown = api.get(f"/api/v1/appeals/{appeal_id}", headers=bearer(world)).get_json()["timeline"]
    assert [e["action"] for e in shown] == ["appeal.started", "appeal.submit", "appeal.assign"]
    html = merchant(app, world).get(f"/appeals/{appeal_id}").get_data(as_text=True)
    assert "appeal.noted" not in html and "appeal.draft_saved" not in html
