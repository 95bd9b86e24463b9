"""Admins read the audit trail, narrowed by case, actor, action and days, and check its chain."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from appeals import accounts, complaints
from appeals.accounts import SYSTEM
from appeals.clock import utcnow
from appeals.models import AuditEvent, Complaint, MaliciousCategory, User
from appeals.permissions import Role
from merchant_portal.database import db
from tests.conftest import Clock, World, csrf_token, log_in
from tests.unit.appeals.test_audit import without_guard

ROW = re.compile(r'<tr data-entry="(\d+)">(.*?)</tr>', re.S)
TAG = re.compile(r"<[^>]+>")


def admin_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in(client, "admin@test.example")
    return client


def rows(html: str) -> list[tuple[int, str]]:
    """The table's entries as the reader sees them: id and the row's text."""
    return [(int(i), " ".join(TAG.sub(" ", row).split())) for i, row in ROW.findall(html)]


def shown(client: FlaskClient, **filters: str) -> list[tuple[int, str]]:
    response = client.get("/admin/audit", query_string=filters)
    assert response.status_code == 200
    return rows(response.get_data(as_text=True))


def test_the_trail_is_newest_first_in_pages_and_reads_in_words(app: Flask, world: World) -> None:
    with app.app_context():
        for n in range(30):
            accounts.create_shop(db(), SYSTEM, f"Paged shop {n:02d}")
        db().commit()
    client = admin_client(app)
    pages = [client.get("/admin/audit").get_data(as_text=True)]
    while 'rel="next"' in pages[-1]:
        pages.append(client.get(f"/admin/audit?page={len(pages) + 1}").get_data(as_text=True))
    entries = [entry for page in pages for entry in rows(page)]
    ids = [entry_id for entry_id, _ in entries]
    assert len(pages) >= 2 and len(rows(pages[0])) == app.config["PAGE_SIZE"]
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    with app.app_context():
        assert len(ids) == len(db().scalars(select(AuditEvent.id)).all())
    assert "Shop created" in entries[0][1] and "Paged shop 29" in entries[0][1]
    assert any(
        "Appeal started" in row and world.complaint_a.external_id in row for _, row in entries
    )


def test_case_filter_finds_a_case_by_any_part_of_its_numbers(app: Flask, world: World) -> None:
    with app.app_context():
        owner_b = db().get_one(User, world.users["owner_b"].id)
        complaint_b = db().get_one(Complaint, world.complaint_b.id)
        complaints.flag_complaint(
            db(), owner_b, complaint_b, MaliciousCategory.EXTORTION, "asked for money twice"
        )
        db().commit()
    client = admin_client(app)

    case_a = shown(client, case="a-1")
    assert case_a and all(world.complaint_a.external_id in row for _, row in case_a)
    assert any("Appeal started" in row and world.appeal_a.number in row for _, row in case_a)
    assert not any("flagged" in row for _, row in case_a)

    case_b = shown(client, case=world.complaint_b.external_id[1:])
    assert [row for _, row in case_b if "Complaint flagged as malicious" in row]
    assert not any("Appeal started" in row for _, row in case_b)

    by_appeal = shown(client, case=world.appeal_a.number[3:])
    assert [entry_id for entry_id, _ in by_appeal] == [entry_id for entry_id, _ in case_a]


def test_actor_filter_matches_email_or_display_name(app: Flask, world: World) -> None:
    with app.app_context():
        auditor = accounts.create_user(
            db(), SYSTEM, email="wf@test.example", role=Role.REVIEWER, password="long enough pw",
            shop=None, display_name="Wang Fang 王芳", time_zone="Asia/Shanghai",
        )  # fmt: skip
        accounts.create_api_token(db(), auditor, "desk")
        db().commit()
    client = admin_client(app)

    by_name = shown(client, actor="王芳")
    assert len(by_name) == 1 and "API token created" in by_name[0][1]
    assert "wf@test.example" in by_name[0][1]

    by_email = shown(client, actor="OWNER_B@")
    assert by_email and all("owner_b@test.example" in row for _, row in by_email)

    created = shown(client, actor="system", action="user.created")
    assert any("wf@test.example" in row for _, row in created)
    assert all("Account created" in row for _, row in created)


def test_days_are_the_viewers_own(app: Flask, world: World, clock: Clock) -> None:
    """The admin lives in Shanghai (UTC+8): a day there starts at 16:00 UTC the day before."""
    now = utcnow()
    zone = ZoneInfo("Asia/Shanghai")
    day = (now + timedelta(days=30)).astimezone(zone).date()
    midnight = datetime.combine(day, time.min, zone)
    moments = {
        "Eve of the day": midnight - timedelta(minutes=30),
        "Start of the day": midnight + timedelta(minutes=30),
        "End of the day": midnight + timedelta(hours=23, minutes=30),
        "Next morning": midnight + timedelta(days=1, minutes=30),
    }
    with app.app_context():
        for name, moment in moments.items():
            clock.move_to(moment.astimezone(UTC))
            accounts.create_shop(db(), SYSTEM, name)
        db().commit()
    clock.move_to(now)
    client = admin_client(app)

    that_day = shown(client, since=day.isoformat(), until=day.isoformat())
    names = [name for name in moments if any(name in row for _, row in that_day)]
    assert names == ["Start of the day", "End of the day"]
    assert f"{day.isoformat()} 00:30:00" in " ".join(row for _, row in that_day)

    from_then_on = shown(client, since=(day + timedelta(days=1)).isoformat())
    assert [row for _, row in from_then_on if "Next morning" in row]
    assert not any("End of the day" in row for _, row in from_then_on)


@pytest.mark.parametrize(
    ("filters", "field", "message"),
    [
        ({"since": "next tuesday"}, "since", "Enter a date as YYYY-MM-DD."),
        ({"until": "31.02"}, "until", "Enter a date as YYYY-MM-DD."),
        ("backwards", "until", "The end date is before the start date."),
        ({"case": "C" * 65}, "case", "Field cannot be longer than 64 characters."),
        ({"action": "no.such"}, "action", "Not a valid choice."),
    ],
)
def test_bad_filters_are_refused_next_to_their_field(
    app: Flask, world: World, filters: dict[str, str] | str, field: str, message: str
) -> None:
    if filters == "backwards":
        today = utcnow().date()
        filters = {"since": today.isoformat(), "until": (today - timedelta(days=2)).isoformat()}
    assert isinstance(filters, dict)
    response = admin_client(app).get("/admin/audit", query_string=filters)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert error and message in error.group(1)
    for name, value in filters.items():
        if name != "action":
            assert f'value="{value}"' in html
    assert "Correct the filters marked above" in html and not rows(html)


def test_the_chain_check_runs_on_demand_and_names_a_tampered_entry(
    app: Flask, world: World
) -> None:
    client = admin_client(app)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-intact="unknown"' in page and "has not been checked yet" in page

    token = csrf_token(client, "/admin/audit")
    response = client.post("/admin/audit/check?actor=owner", data={"csrf_token": token})
    assert response.status_code == 302 and "actor=owner" in response.headers["Location"]
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-intact="yes"' in page and "Intact:" in page and "entries checked" in page
    assert "Audit chain checked" in page

    with app.app_context():
        victim = db().scalar(select(AuditEvent.id).where(AuditEvent.action == "appeal.started"))
        without_guard(db())
        db().execute(
            text("UPDATE audit_event SET after = :v WHERE id = :id"),
            {"v": '{"number": "AP-FORGED"}', "id": victim},
        )
        db().commit()
    client.post("/admin/audit/check", data={"csrf_token": token})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert 'data-intact="no"' in page
    assert f"Broken at entry #{victim}: this entry was changed after it was written" in page
    marked = [row for entry_id, row in rows(page) if "chain breaks here" in row]
    assert len(marked) == 1 and f"#{victim}" in marked[0]


@pytest.mark.parametrize("who", ["owner_a", "staff_a", "reviewer", "senior", "platform"])
def test_only_admins_see_the_trail_or_run_the_check(app: Flask, world: World, who: str) -> None:
    client = app.test_client()
    log_in(client, world.users[who].email)
    assert client.get("/admin/audit").status_code == 403
    response = client.post("/admin/audit/check", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 403
    with app.app_context():
        assert db().scalar(select(AuditEvent).where(AuditEvent.action == "audit.verified")) is None


def test_the_admin_overview_links_to_the_trail(app: Flask, world: World) -> None:
    page = admin_client(app).get("/admin/").get_data(as_text=True)
    assert 'href="/admin/audit"' in page and "Audit trail entries" in page
