"""The merchant's inbox (filters, search, deadlines) and malicious flags with their audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from appeals import complaints
from appeals.accounts import SYSTEM
from appeals.audit import verify
from appeals.clock import utcnow
from appeals.models import AuditEvent, Complaint, ComplaintChannel, ComplaintStatus, ComplaintType
from appeals.policies import DEFAULT_POLICIES
from merchant_portal.database import db
from tests.conftest import SHOP_B_MARKER, World, log_in, post_form


@pytest.fixture
def inbox(app: Flask, world: World) -> FlaskClient:
    """Shop A with complaints in every deadline state, one closed, one flagged."""
    with app.app_context():
        session = db()
        now = utcnow()
        shop = world.shop_a
        for index, (days_ago, kind) in enumerate(
            [(8, ComplaintType.COUNTERFEIT), (6.5, ComplaintType.LATE_SHIPMENT),
             (3, ComplaintType.NOT_AS_DESCRIBED), (0.5, ComplaintType.SERVICE_ATTITUDE)]
        ):  # fmt: skip
            complaints.record_complaint(
                session,
                shop,
                external_id=f"CP-F-{index}",
                type=kind,
                channel=ComplaintChannel.HOTLINE,
                description="x",
                buyer_ref=f"buyer-{index}",
                received_at=now - timedelta(days=days_ago),
                policy=DEFAULT_POLICIES.deadlines,
                order=world.order_a if index == 3 else None,
            )
        closed = session.scalar(select(Complaint).where(Complaint.external_id == "CP-F-0"))
        assert closed is not None
        closed.status = ComplaintStatus.CLOSED
        session.commit()
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    return client


def listed(client: FlaskClient, **query: str) -> list[str]:
    html = client.get("/inbox", query_string=query).get_data(as_text=True)
    import re

    return re.findall(r">(CP-[A-Z]+-\d+)</a>", html)


def test_inbox_sorts_by_deadline_and_shows_only_my_shop(inbox: FlaskClient) -> None:
    ids = listed(inbox)
    assert ids == ["CP-F-0", "CP-F-1", "CP-F-2", "CP-A-1", "CP-F-3"]
    assert SHOP_B_MARKER not in inbox.get("/inbox").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"deadline": "past_due"}, ["CP-F-0"]),
        ({"deadline": "under_24_hours"}, ["CP-F-1"]),
        ({"deadline": "under_5_days"}, ["CP-F-2"]),
        ({"deadline": "ample"}, ["CP-A-1", "CP-F-3"]),
        ({"status": "closed"}, ["CP-F-0"]),
        ({"type": "late_shipment"}, ["CP-F-1"]),
        ({"q": "cp-f-2"}, ["CP-F-2"]),
        ({"q": "ORDER-A"}, ["CP-A-1", "CP-F-3"]),
        ({"q": "%"}, []),
        ({"sort": "received"}, ["CP-F-3", "CP-A-1", "CP-F-2", "CP-F-1", "CP-F-0"]),
        ({"status": "nonsense"}, ["CP-F-0", "CP-F-1", "CP-F-2", "CP-A-1", "CP-F-3"]),
    ],
)
def test_inbox_filters(inbox: FlaskClient, query: dict[str, str], expected: list[str]) -> None:
    assert listed(inbox, **query) == expected


def test_pagination_keeps_the_filters(app: Flask, inbox: FlaskClient) -> None:
    app.config["PAGE_SIZE"] = 2
    html = inbox.get("/inbox", query_string={"type": "", "sort": "deadline"}).get_data(as_text=True)
    assert "Page 1 of 3" in html and "sort=deadline" in html
    assert listed(inbox, page="3") == ["CP-F-3"]
    assert listed(inbox, page="99") == ["CP-F-3"], "a page past the end shows the last page"


def test_flag_with_rationale_is_shown_filtered_and_audited(
    app: Flask, world: World, inbox: FlaskClient
) -> None:
    url = f"/complaints/{world.complaint_a.id}"
    response = post_form(
        inbox, url + "/flag",
        {"category": "extortion", "rationale": "Buyer demanded a refund or a one-star review."},
        page=url,
    )  # fmt: skip
    assert response.status_code == 302
    page = inbox.get(url).get_data(as_text=True)
    assert "Malicious review or extortion" in page and "one-star review" in page
    assert listed(inbox, flagged="yes") == ["CP-A-1"]
    with app.app_context():
        event = db().scalar(select(AuditEvent).where(AuditEvent.action == "complaint.flagged"))
        assert event is not None and event.actor_label == "owner_a@test.example"
        assert event.after == {
            "category": "extortion",
            "rationale": "Buyer demanded a refund or a one-star review.",
        }
        assert verify(db()).intact

    post_form(inbox, url + "/unflag", {}, page=url)
    assert listed(inbox, flagged="yes") == []
    with app.app_context():
        actions = list(db().scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions[-2:] == ["complaint.flagged", "complaint.unflagged"]


def test_short_rationale_is_refused_next_to_the_field_and_kept(
    world: World, inbox: FlaskClient
) -> None:
    url = f"/complaints/{world.complaint_a.id}"
    response = post_form(
        inbox, url + "/flag", {"category": "return_abuse", "rationale": "bad"}, page=url
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="rationale-error"' in html and "\nbad</textarea>" in html
    assert '<option selected value="return_abuse">' in html


def test_closed_complaint_cannot_be_flagged(app: Flask, world: World, inbox: FlaskClient) -> None:
    with app.app_context():
        closed = db().scalar(select(Complaint).where(Complaint.external_id == "CP-F-0"))
        assert closed is not None
        with pytest.raises(Exception, match="closed"):
            complaints.flag_complaint(
                db(),
                world.users["owner_a"],
                closed,
                complaints.MaliciousCategory.OTHER,
                "long enough reason",
            )
        with pytest.raises(Exception, match="permission"):
            complaints.flag_complaint(
                db(), SYSTEM, closed, complaints.MaliciousCategory.OTHER, "long enough reason"
            )


def test_staff_of_another_shop_cannot_flag(app: Flask, world: World) -> None:
    client = app.test_client()
    log_in(client, "owner_b@test.example")
    url = f"/complaints/{world.complaint_a.id}"
    response = post_form(
        client, url + "/flag", {"category": "other", "rationale": "x" * 20}, page="/inbox"
    )
    assert response.status_code == 404
