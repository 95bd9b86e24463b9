"""Two people acting on one appeal at the same moment, through the forms and the API: one
wins, the other is told what happened, and nothing answers 5xx or is written twice.

On PostgreSQL (CI's second run) the requests really overlap, each with its own connection;
SQLite admits one writer at a time, so there the same races must end the same way.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from appeals import accounts, appeal, complaints, locker, migrate, review
from appeals.db import make_engine
from appeals.models import (
    Appeal,
    AppealVersion,
    EvidenceKind,
    InfoRequest,
    MaliciousCategory,
    Outcome,
    Ruling,
)
from appeals.policies import DEFAULT_POLICIES
from merchant_portal import create_app
from tests.conftest import PASSWORD, PortalClient, World, csrf_token, fresh_database, log_in
from tests.factories import png_bytes
from tests.functional.test_review import ruling_form

Call = Callable[[], TestResponse]


@dataclass
class Stage:
    """A real database (its own connections, real commits) with one submitted appeal."""

    app: Flask
    world: World
    appeal_id: int

    def client(self, who: str) -> FlaskClient:
        client = self.app.test_client()
        log_in(client, self.world.users[who].email, PASSWORD)
        return client

    def token(self, who: str) -> str:
        with self.app.app_context():
            from merchant_portal.database import db

            user = db().get_one(type(self.world.users[who]), self.world.users[who].id)
            _token, secret = accounts.create_api_token(db(), user, "race")
            db().commit()
            return secret

    def count(self, model: type, **where: object) -> int:
        with self.app.app_context():
            from merchant_portal.database import db

            query = select(func.count()).select_from(model).filter_by(**where)
            return int(db().scalar(query) or 0)

    def state(self) -> str:
        with self.app.app_context():
            from merchant_portal.database import db

            return db().get_one(Appeal, self.appeal_id).state.value

    def act(self, step: Callable[..., object]) -> None:
        """Move the case on in the domain (the set-up, not the race)."""
        with self.app.app_context():
            from merchant_portal.database import db

            found = db().get_one(Appeal, self.appeal_id)
            step(db(), found, lambda who: db().merge(self.world.users[who]))
            db().commit()


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    from tests.conftest import make_config

    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        app = create_app(make_config(tmp_path, DATABASE_URL=url))
        app.test_client_class = PortalClient
        with app.app_context():
            from merchant_portal.database import db
            from merchant_portal.locker import blob_store

            session = db()
            world = World(session, tmp_path)
            session.commit()
            owner = world.users["owner_a"]
            complaint = complaints.get_complaint(session, owner, world.complaint_a.id)
            why = "The buyer threatened a bad review for a refund."
            complaints.flag_complaint(session, owner, complaint, MaliciousCategory.EXTORTION, why)
            item = locker.receive_file(
                session, owner, complaint, io.BytesIO(png_bytes((300, 500), "honeydew")),
                filename="chat.png", kind=EvidenceKind.CHAT_SCREENSHOT, caption="The threat",
                store=blob_store(), workdir=tmp_path / "quarantine", policy=DEFAULT_POLICIES.locker,
            )  # fmt: skip
            draft = appeal.start_appeal(session, owner, complaint.id)
            appeal.update_draft(
                session, owner, draft, category=MaliciousCategory.OTHER,
                statement="The buyer demanded a refund under the threat of a bad review.",
                remedies=["void_complaint"],
                rows=[("The item was damaged", "The chat shows the threat.", [item.id])],
            )  # fmt: skip
            session.commit()
            stage = Stage(app, world, draft.id)
        try:
            yield stage
        finally:
            app.config["DATABASE_ENGINE"].dispose()


def race(*calls: Call) -> list[TestResponse]:
    """Run the calls at the same moment, each on its own thread (and connection)."""
    start = threading.Barrier(len(calls))

    def run(call: Call) -> TestResponse:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def form_post(client: FlaskClient, url: str, page: str, **data: str) -> Call:
    token = csrf_token(client, page)
    return lambda: client.post(url, data={"csrf_token": token, **data})


def api_post(secret: str, app: Flask, url: str, body: dict[str, object] | None = None) -> Call:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    return lambda: client.post(url, json=body or {}, headers=headers)


def told(responses: list[TestResponse], clients: list[FlaskClient | None]) -> None:
    """No server error; a refused request says why (a message, or a problem's detail)."""
    for response, client in zip(responses, clients, strict=True):
        assert response.status_code < 500, response.get_data(as_text=True)[:800]
        if response.status_code >= 400:
            if response.is_json:
                assert response.get_json()["detail"], response.get_json()
            else:
                text = response.get_data(as_text=True)
                assert 'class="error' in text or "flash-error" in text or "<h1" in text, text[:500]
        elif response.status_code == 302 and client is not None:
            client.get(response.headers["Location"])  # the page it leads to renders


def submit(stage: Stage) -> None:
    stage.act(lambda s, a, u: appeal.submit_appeal(
        s, u("owner_a"), a, profile=DEFAULT_POLICIES.budget, review_policy=DEFAULT_POLICIES.review,
    ))  # fmt: skip


def claimed(stage: Stage) -> None:
    submit(stage)
    stage.act(lambda s, a, u: review.claim(s, u("reviewer"), a))


def asked(stage: Stage) -> None:
    claimed(stage)
    stage.act(lambda s, a, u: review.request_info(
        s, u("reviewer"), a, "Please send the courier's photo with the signature.", None,
        policy=DEFAULT_POLICIES.review,
    ))  # fmt: skip


def ruled(stage: Stage) -> None:
    claimed(stage)
    stage.act(lambda s, a, u: review.rule(s, u("reviewer"), a, review.RulingInput(
        outcome=Outcome.REJECTED,
        findings=[{"row": "A", "accepted": False, "reason": "Not proven."}], insufficient=[],
        rule_applied="Rules 1.1", merchant_measures=[], buyer_measures=[],
        summary="The complaint stands as filed.",
    ), policy=DEFAULT_POLICIES.review))  # fmt: skip


def test_two_reviewers_claim_at_once_through_the_form(stage: Stage) -> None:
    submit(stage)
    page = f"/review/appeals/{stage.appeal_id}"
    first, second = stage.client("reviewer"), stage.client("senior")
    answers = race(
        form_post(first, f"{page}/claim", page), form_post(second, f"{page}/claim", page)
    )
    told(answers, [first, second])
    assert stage.state() == "in_review"


def test_claim_and_assign_at_once(stage: Stage) -> None:
    submit(stage)
    page = f"/review/appeals/{stage.appeal_id}"
    reviewer, senior = stage.client("reviewer"), stage.client("senior")
    target = str(stage.world.users["reviewer"].id)
    answers = race(
        form_post(reviewer, f"{page}/claim", page),
        form_post(senior, f"{page}/assign", "/review/", reviewer=target),
    )
    told(answers, [reviewer, senior])
    assert stage.state() == "in_review"


@pytest.mark.parametrize("door", ["form", "api"])
def test_a_ruling_sent_twice_at_once_is_recorded_once(stage: Stage, door: str) -> None:
    claimed(stage)
    page = f"/review/appeals/{stage.appeal_id}"
    if door == "form":
        one, two = stage.client("reviewer"), stage.client("reviewer")
        data = ruling_form(1)
        calls = [form_post(one, f"{page}/rule", page, **data),
                 form_post(two, f"{page}/rule", page, **data)]  # fmt: skip
        clients: list[FlaskClient | None] = [one, two]
    else:
        secret = stage.token("reviewer")
        body = {"outcome": "rejected", "rule_applied": "Rules 1.1",
                "findings": [{"row": "A", "accepted": False, "reason": "Not proven."}],
                "summary": "The complaint stands as filed."}  # fmt: skip
        url = f"/api/v1/appeals/{stage.appeal_id}/ruling"
        calls = [api_post(secret, stage.app, url, body), api_post(secret, stage.app, url, body)]
        clients = [None, None]
    answers = race(*calls)
    told(answers, clients)
    assert stage.count(Ruling, appeal_id=stage.appeal_id) == 1
    assert stage.state() == "decided"


def test_an_answer_sent_twice_at_once_makes_one_version(stage: Stage) -> None:
    asked(stage)
    page = f"/appeals/{stage.appeal_id}"
    one, two = stage.client("owner_a"), stage.client("staff_a")
    text = "The courier's photo with the signature is in the locker now."
    answers = race(form_post(one, f"{page}/respond", page, answer=text),
                   form_post(two, f"{page}/respond", page, answer=text))  # fmt: skip
    told(answers, [one, two])
    assert stage.count(AppealVersion, appeal_id=stage.appeal_id) == 2
    assert stage.count(InfoRequest, appeal_id=stage.appeal_id) == 1
    assert stage.state() == "in_review"


@pytest.mark.parametrize("door", ["form", "api"])
def test_a_submission_sent_twice_at_once_makes_one_version(stage: Stage, door: str) -> None:
    page = f"/appeals/{stage.appeal_id}"
    if door == "form":
        one, two = stage.client("owner_a"), stage.client("staff_a")
        calls = [form_post(one, f"{page}/submit", f"{page}/submit"),
                 form_post(two, f"{page}/submit", f"{page}/submit")]  # fmt: skip
        clients: list[FlaskClient | None] = [one, two]
    else:
        secret, url = stage.token("owner_a"), f"/api/v1/appeals/{stage.appeal_id}/submit"
        calls = [api_post(secret, stage.app, url), api_post(secret, stage.app, url)]
        clients = [None, None]
    told(race(*calls), clients)
    assert stage.count(AppealVersion, appeal_id=stage.appeal_id) == 1
    assert stage.state() == "submitted"


def test_an_appeal_again_sent_twice_at_once_is_taken_once(stage: Stage) -> None:
    ruled(stage)
    page = f"/appeals/{stage.appeal_id}"
    one, two = stage.client("owner_a"), stage.client("staff_a")
    text = "The signed delivery record is new information for the senior reviewer."
    answers = race(form_post(one, f"{page}/reappeal", page, statement=text),
                   form_post(two, f"{page}/reappeal", page, statement=text))  # fmt: skip
    told(answers, [one, two])
    assert stage.count(AppealVersion, appeal_id=stage.appeal_id) == 2
    assert stage.state() == "second_review"


def test_withdraw_and_claim_at_once(stage: Stage) -> None:
    submit(stage)
    mine, page = f"/appeals/{stage.appeal_id}", f"/review/appeals/{stage.appeal_id}"
    merchant, reviewer = stage.client("owner_a"), stage.client("reviewer")
    answers = race(
        form_post(
            merchant, f"{mine}/withdraw", f"{mine}/withdraw", reason="Settled with the buyer."
        ),
        form_post(reviewer, f"{page}/claim", page),
    )
    told(answers, [merchant, reviewer])
    assert stage.state() in ("withdrawn", "in_review")
