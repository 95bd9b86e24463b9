"""A complaint is found by any part of its number, in the inbox and in the review queue."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appeals import complaints
from appeals.clock import utcnow
from appeals.models import Appeal, ComplaintChannel, ComplaintType
from appeals.policies import DEFAULT_POLICIES
from merchant_portal.database import db
from tests.conftest import World, log_in

NUMBERS_A = ["TB-2026-0815-443921", "TB-2026-0815-118800", "JD-7731-0042"]
NUMBER_B = "TB-2026-0816-443921"


@pytest.fixture
def numbered(app: Flask, world: World) -> FlaskClient:
    """Shop A with platform-style complaint numbers; shop B with one that shares digits."""
    with app.app_context():
        session = db()
        for shop, number in [*((world.shop_a, n) for n in NUMBERS_A), (world.shop_b, NUMBER_B)]:
            complaints.record_complaint(
                session, shop, external_id=number, type=ComplaintType.OTHER,
                channel=ComplaintChannel.ONLINE, description="x", buyer_ref="buyer",
                received_at=utcnow() - timedelta(hours=2), policy=DEFAULT_POLICIES.deadlines,
            )  # fmt: skip
        session.commit()
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    return client


def found(client: FlaskClient, url: str, q: str) -> list[str]:
    html = client.get(url, query_string={"q": q}).get_data(as_text=True)
    return sorted(re.findall(r">((?:TB|JD|CP)-[\w-]+)</a>", html))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("443921", ["TB-2026-0815-443921"]),  # the last six digits
        ("0815", ["TB-2026-0815-118800", "TB-2026-0815-443921"]),  # a middle part
        ("  7731-00  ", ["JD-7731-0042"]),  # spaces around it
        ("４４３９２１", ["TB-2026-0815-443921"]),  # full-width digits
        ("\u3000１１８８\u3000", ["TB-2026-0815-118800"]),  # ideographic spaces
        ("jd-7731", ["JD-7731-0042"]),  # any case
        ("0816", []),  # shop B's number is never shown to shop A
        ("%", []),
    ],
)
def test_inbox_finds_a_complaint_by_any_part_of_its_number(
    numbered: FlaskClient, typed: str, expected: list[str]
) -> None:
    assert found(numbered, "/inbox", typed) == expected


def test_inbox_search_box_keeps_what_was_typed(numbered: FlaskClient) -> None:
    html = numbered.get("/inbox", query_string={"q": "443921"}).get_data(as_text=True)
    assert 'value="443921"' in html and "TB-2026-0815-118800" not in html


@pytest.fixture
def queued(app: Flask, world: World) -> str:
    """Shop A's appeal submitted on a complaint with a platform-style number; its number."""
    from merchant_portal.locker import blob_store
    from tests.bundles import submitted_appeal

    with app.app_context():
        world.complaint_a = db().merge(world.complaint_a)
        world.complaint_a.external_id = "TB-2026-0815-998877"
        version = submitted_appeal(
            db(), world.users["owner_a"], world.complaint_a.id, blob_store(),
            Path(app.config["DATA_DIR"]) / "quarantine",
        )  # fmt: skip
        db().commit()
        appeal = db().get(Appeal, version.appeal_id)
        assert appeal is not None
        return appeal.number


def test_review_queue_finds_an_appeal_by_any_part_of_a_number(app: Flask, queued: str) -> None:
    client = app.test_client()
    log_in(client, "reviewer@test.example")

    def listed(q: str) -> bool:
        html = client.get("/review/", query_string={"q": q}).get_data(as_text=True)
        return queued in html

    assert listed("998877") and listed(" ０８１５－９９８８ ") and listed("tb-2026")
    assert listed(queued[2:-1]), "a middle part of the appeal's own number"
    assert not listed("443921")
    assert listed("")
