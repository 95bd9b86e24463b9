"""The appeal builder in the portal: start, save, readiness, submit once, the frozen view."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from appeals.models import AppealVersion
from merchant_portal.database import db
from tests.conftest import World, csrf_token, log_in, post_form
from tests.factories import png_bytes


def merchant(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    return client


def upload(client: FlaskClient, world: World, kind: str, color: str) -> None:
    url = f"/complaints/{world.complaint_a.id}/evidence"
    data = {"files": [(io.BytesIO(png_bytes((40, 70), color)), f"{kind}.png")], "kind": kind,
            "caption": kind, "csrf_token": csrf_token(client, url)}  # fmt: skip
    client.post(
        url, data=data, content_type="multipart/form-data", headers={"Accept": "application/json"}
    )


def test_build_and_submit_an_appeal_in_the_portal(app: Flask, world: World) -> None:
    client = merchant(app)
    start = post_form(client, f"/complaints/{world.complaint_a.id}/appeal", {}, page="/inbox")
    url = start.headers["Location"]
    assert url == f"/appeals/{world.appeal_a.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Ready to submit?" in page and "Why the complaint is malicious" in page

    upload(client, world, "chat_screenshot", "white")
    upload(client, world, "review_capture", "gray")
    with app.app_context():
        from appeals import locker
        from appeals.models import Complaint

        complaint = db().get(Complaint, world.complaint_a.id)
        assert complaint is not None
        ids = [item.id for item in locker.list_items(db(), complaint)][-2:]
    form = {
        "category": "extortion",
        "statement": "The buyer asked for a refund or a one-star review.",
        "remedies": ["void_complaint", "remove_review"],
        "rows-0-allegation": "Seller ignored me",
        "rows-0-answer": "We answered within ten minutes; the chat shows the threat.",
        "rows-0-exhibits": [str(ids[0]), str(ids[1])],
    }
    saved = post_form(client, url, form, page=url)
    assert saved.status_code == 302
    draft = client.get(url).get_data(as_text=True)
    assert "Everything a reviewer needs is here." in draft and "A-1" in draft and "A-2" in draft

    confirm = f"{url}/submit"
    assert "Submit the appeal" in client.get(confirm).get_data(as_text=True)
    token = csrf_token(client, confirm)
    first = client.post(confirm, data={"csrf_token": token})
    second = client.post(confirm, data={"csrf_token": token})  # a double click
    assert first.status_code == second.status_code == 302
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(AppealVersion)) == 1
    frozen = client.get(url).get_data(as_text=True)
    assert (
        "Submitted version 1" in frozen and "SHA-256" in frozen and 'name="statement"' not in frozen
    )


def test_autosave_answers_json_and_refuses_foreign_exhibits(app: Flask, world: World) -> None:
    client = merchant(app)
    url = f"/appeals/{world.appeal_a.id}"
    token = csrf_token(client, url)
    ok = client.post(
        url,
        data={"statement": "typing…", "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert ok.status_code == 200 and ok.get_json()["saved"]
    bad = client.post(
        url, data={"rows-0-allegation": "x", "rows-0-exhibits": "999999", "csrf_token": token},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert bad.status_code == 422


def test_unready_appeal_cannot_be_submitted(app: Flask, world: World) -> None:
    client = merchant(app)
    confirm = f"/appeals/{world.appeal_a.id}/submit"
    assert "The appeal is not ready yet." in client.get(confirm).get_data(as_text=True)
    response = post_form(client, confirm, {}, page=confirm)
    assert response.status_code == 302
    assert "The appeal is not ready" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
