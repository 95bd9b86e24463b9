"""The platform's review through the final ruling, in the portal and the API."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appeals.models import Appeal, AppealVersion, Complaint, Notification, Ruling
from appeals.policies import DEFAULT_POLICIES
from appeals.rebuttal import row_label
from merchant_portal.context import policies
from tests.bundles import submitted_appeal
from tests.conftest import PASSWORD, World, csrf_token, log_in


def client_of(app: Flask, world: World, who: str) -> FlaskClient:
    client = app.test_client()
    log_in(client, world.users[who].email, PASSWORD)
    return client


def post(client: FlaskClient, url: str, page: str, **data: object):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def state(app: Flask, appeal_id: int) -> str:
    with app.app_context():
        from merchant_portal.database import db

        return db().get_one(Appeal, appeal_id).state.value


def ruling_form(rows: int, outcome: str = "partially_upheld", **extra: str) -> dict[str, str]:
    form = {
        "outcome": outcome,
        "rule_applied": "Platform rules 4.2 (malicious complaints)",
        "summary": "The chat proves the threat; the damage claim is not disproved.",
    }
    for i in range(rows):
        key = row_label(i)
        form[f"row_{key}"] = "accept" if i == 0 or outcome == "upheld" else "reject"
        form[f"reason_{key}"] = f"Reason for row {key}."
    form.update(extra)
    return form


def claim_and_rule(session: object, reviewer: object, appeal: Appeal, outcome: object) -> Ruling:
    """The reviewer takes the appeal and rules: every row accepted (upheld) or none."""
    from appeals import review
    from appeals.models import Outcome

    review.claim(session, reviewer, appeal)  # type: ignore[arg-type]
    upheld = outcome is Outcome.UPHELD
    rows = len(appeal.versions[-1].content["rows"])
    decision = review.RulingInput(
        outcome=outcome,  # type: ignore[arg-type]
        findings=[{"row": row_label(i), "accepted": upheld,
                   "reason": "Proven." if upheld else "Not proven."} for i in range(rows)],
        insufficient=[], rule_applied="Rules 4.2" if upheld else "Rules 1.1", merchant_measures=[],
        buyer_measures=[{"kind": "void_complaint"}] if upheld else [],
        summary="The complaint was malicious." if upheld else "The complaint stands as filed.",
    )  # fmt: skip
    return review.rule(session, reviewer, appeal, decision, policy=DEFAULT_POLICIES.review)  # type: ignore[arg-type]


def test_queue_claim_ask_answer_rule_reappeal_and_final(
    app: Flask, world: World, version: AppealVersion
) -> None:
    appeal_id = version.appeal_id
    page = f"/review/appeals/{appeal_id}"
    reviewer = client_of(app, world, "reviewer")
    queue = reviewer.get("/review/").get_data(as_text=True)
    assert "AP-" in queue and "Claim" in queue and "Shop A" in queue

    assert post(reviewer, f"{page}/claim", page).status_code == 302
    assert state(app, appeal_id) == "in_review"
    screen = reviewer.get(page).get_data(as_text=True)
    assert (
        "hash verified" in screen and "Ask the merchant" in screen and "Record the ruling" in screen
    )
    assert "Why the merchant flagged it" in screen  # the flag form promises reviewers read it
    assert "threatened a bad review unless refunded in full" in screen

    # An internal note stays internal.
    post(reviewer, f"{page}/notes", page, body="Check the courier's signature scan. 内部备注")

    short = post(reviewer, f"{page}/request-info", page, question="Why?")
    assert short.status_code == 422 and "Ask in 10 to 4000 characters" in short.get_data(
        as_text=True
    )
    asked = post(
        reviewer,
        f"{page}/request-info",
        page,
        question="Please send the courier's delivery photo with the signature.",
    )
    assert asked.status_code == 302 and state(app, appeal_id) == "info_requested"

    merchant = client_of(app, world, "owner_a")
    appeal_page = merchant.get(f"/appeals/{appeal_id}").get_data(as_text=True)
    assert "The reviewer asks" in appeal_page and "delivery photo with the signature" in appeal_page
    assert "内部备注" not in appeal_page and "Check the courier" not in appeal_page
    assert 'data-code="answer_by"' in appeal_page and "The reviewer asked you a question" in (
        appeal_page
    )
    # New evidence goes into the locker while the question is open ...
    from tests.factories import png_bytes

    locker = f"/complaints/{world.complaint_a.id}/evidence"
    uploaded = merchant.post(
        locker,
        data={
            "files": [(io.BytesIO(png_bytes((200, 300), "teal")), "signature.png")],
            "kind": "delivery_proof",
            "caption": "Courier photo with signature",
            "csrf_token": csrf_token(merchant, locker),
        },
        content_type="multipart/form-data",
    )
    assert "Accepted" in uploaded.get_data(as_text=True)
    with app.app_context():
        from appeals.models import EvidenceItem
        from merchant_portal.database import db

        new_id = db().query(EvidenceItem).filter_by(display_name="signature.png").one().id
        cited_id = version.content["exhibits"][0]["evidence_id"]
    # ... but what a submitted version cites cannot be removed.
    removed = post(merchant, f"/evidence/{cited_id}/remove", locker)
    assert removed.status_code in (302, 409)
    with app.app_context():
        assert db().get(EvidenceItem, cited_id) is not None

    empty = post(merchant, f"/appeals/{appeal_id}/respond", f"/appeals/{appeal_id}", answer="ok")
    assert empty.status_code == 422 and "Answer in 10 to 4000 characters" in empty.get_data(
        as_text=True
    )
    answered = post(merchant, f"/appeals/{appeal_id}/respond", f"/appeals/{appeal_id}",
                    answer="Here is the courier's photo with the buyer's signature.",
                    evidence=str(new_id))  # fmt: skip
    assert answered.status_code == 302 and state(app, appeal_id) == "in_review"
    # Answering again, with no question open, is refused in words the merchant can read.
    twice = post(merchant, f"/appeals/{appeal_id}/respond", f"/appeals/{appeal_id}",
                 answer="Here is the courier's photo once more, again.")  # fmt: skip
    summary = twice.get_data(as_text=True).partition('data-testid="error-summary"')[2][:800]
    assert twice.status_code == 422 and "No question is waiting for an answer." in summary

    screen = reviewer.get(page).get_data(as_text=True)
    assert "New since version 1" in screen and "D-1" in screen  # the answer's new exhibit
    assert "row D; exhibits D-1" in screen
    with app.app_context():
        appeal = db().get_one(Appeal, appeal_id)
        assert [v.number for v in appeal.versions] == [1, 2]
        rows = len(appeal.versions[-1].content["rows"])
        assert appeal.review_due_at is not None

    missing = ruling_form(rows)
    missing["reason_B"] = " "
    refused = post(reviewer, f"{page}/rule", page, **missing)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Give a reason for row B." in text
    assert "Platform rules 4.2" in text  # what the reviewer typed is kept
    inconsistent = post(reviewer, f"{page}/rule", page,
                        **ruling_form(rows, "upheld", m_warning="1"))  # fmt: skip
    assert "An upheld appeal carries no measure against the merchant." in inconsistent.get_data(
        as_text=True
    )
    ruled = post(
        reviewer,
        f"{page}/rule",
        page,
        **ruling_form(rows, m_fine="1", m_fine_amount="200", b_remove_review="1"),
    )
    assert ruled.status_code == 302 and state(app, appeal_id) == "decided"

    # The complaint follows its appeal: in the inbox and on its page, with the outcome.
    inbox = merchant.get("/inbox").get_data(as_text=True)
    row = inbox[inbox.index(world.complaint_a.external_id) :][:2500]
    assert "Appealed" in row and "Decided · Partially upheld" in row
    assert "Under 24 hours" not in row and "Past due" not in row
    assert 'Appealed <span class="count">1</span>' in inbox
    appeal_page = merchant.get(f"/appeals/{appeal_id}").get_data(as_text=True)
    assert "Partially upheld" in appeal_page and "Reason for row B." in appeal_page
    banner = appeal_page[appeal_page.index('data-testid="next-step"') :][:600]
    assert 'data-code="reappeal_by"' in banner and "You may appeal once more" in banner
    assert "Fine (200.00)" in appeal_page and "Appeal again" in appeal_page
    assert "The reviewer ruled." in appeal_page  # the timeline

    again = post(
        merchant,
        f"/appeals/{appeal_id}/reappeal",
        f"/appeals/{appeal_id}",
        statement="The buyer's review was removed by the platform already; see B-3.",
    )
    assert again.status_code == 302 and state(app, appeal_id) == "second_review"
    twice = post(merchant, f"/appeals/{appeal_id}/reappeal", f"/appeals/{appeal_id}",
                 statement="Appealing once more with the very same information.")  # fmt: skip
    summary = twice.get_data(as_text=True).partition('data-testid="error-summary"')[2][:800]
    assert twice.status_code == 422 and "This appeal cannot be appealed again." in summary

    # The first reviewer may not take the second instance; the senior may.
    with app.app_context():
        appeal = db().get_one(Appeal, appeal_id)
        appeal.first_reviewer_id = world.users["reviewer"].id
        db().commit()
    senior = client_of(app, world, "senior")
    assert "Claim" in senior.get("/review/").get_data(as_text=True)
    assert post(senior, f"{page}/claim", page).status_code == 302
    token = world.tokens["senior"][1]
    body = {
        "outcome": "upheld",
        "findings": [{"row": chr(ord("A") + i), "accepted": True, "reason": "Proven."}
                     for i in range(rows + 1)],
        "rule_applied": "Platform rules 4.2", "buyer_measures": [{"kind": "void_complaint"}],
        "summary": "On the new information the complaint was malicious.",
    }  # fmt: skip
    response = app.test_client().post(f"/api/v1/appeals/{appeal_id}/ruling", json=body,
                                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    assert result["state"] == "final" and [r["instance"] for r in result["rulings"]] == [1, 2]
    assert result["rulings"][1]["restore_points"] is True
    assert [e["action"] for e in result["timeline"]][-3:] == [
        "appeal.reappeal",
        "appeal.claimed",
        "appeal.rule",
    ]
    # Final: the complaint is closed, says so, and its locker takes nothing more.
    inbox = merchant.get("/inbox?status=closed").get_data(as_text=True)
    row = inbox[inbox.index(world.complaint_a.external_id) :][:2500]
    assert "Closed" in row and "Final · Upheld" in row
    locker_page = merchant.get(locker).get_data(as_text=True)
    assert "This complaint is closed; its evidence can no longer change." in locker_page
    assert "Final: Upheld. Nothing more can be filed in this case." in locker_page
    late = post(merchant, locker, locker, kind="other")
    assert late.status_code in (409, 422)
    with app.app_context():
        kinds = [n.kind for n in db().query(Notification).order_by(Notification.id)]
        for kind in ("submitted", "info_requested", "info_answered", "ruled", "second_instance"):
            assert kind in kinds
        assert db().query(Ruling).count() == 2


def test_the_clock_pauses_while_the_merchant_is_asked(
    app: Flask, world: World, version: AppealVersion
) -> None:
    from appeals import review
    from appeals.clock import utcnow
    from merchant_portal.database import db

    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        reviewer, owner = world.users["reviewer"], world.users["owner_a"]
        start = utcnow()
        review.claim(db(), reviewer, appeal, now=start)
        due = appeal.review_due_at
        review.request_info(db(), reviewer, appeal, "Send the delivery signature photo.", None,
                            policy=policies().review, now=start + timedelta(hours=1))  # fmt: skip
        review.respond(db(), owner, appeal, "Attached is the signature photo you asked for.", [],
                       now=start + timedelta(hours=30))  # fmt: skip
        assert appeal.review_due_at == due + timedelta(hours=29)
        (pause,) = review.pauses(db(), appeal)
        assert pause.reason == "info_requested" and pause.ended_at - pause.started_at == timedelta(
            hours=29
        )


def test_only_the_assigned_reviewer_acts_and_rulings_conflict_once(
    app: Flask, world: World, version: AppealVersion
) -> None:
    from appeals import accounts, review
    from appeals.accounts import SYSTEM
    from appeals.errors import PermissionDenied
    from appeals.models import Outcome
    from appeals.permissions import Role
    from merchant_portal.database import db

    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        first = world.users["reviewer"]
        other = accounts.create_user(db(), SYSTEM, email="other@test.example", role=Role.REVIEWER,
                                     password=PASSWORD)  # fmt: skip
        review.claim(db(), first, appeal)
        rows = len(appeal.versions[-1].content["rows"])
        decision = review.RulingInput(
            outcome=Outcome.REJECTED,
            findings=[{"row": row_label(i), "accepted": False, "reason": "No proof."}
                      for i in range(rows)],
            insufficient=[], rule_applied="Rules 1.1", merchant_measures=[{"kind": "warning"}],
            buyer_measures=[], summary="The complaint stands as filed.",
        )  # fmt: skip
        with pytest.raises(PermissionDenied):
            review.rule(db(), other, appeal, decision, policy=policies().review)
        with pytest.raises(PermissionDenied):
            review.request_info(db(), other, appeal, "A question from someone else.", None,
                                policy=policies().review)  # fmt: skip
        review.rule(db(), first, appeal, decision, policy=policies().review)
        db().commit()
        assert appeal.state.value == "decided"


def test_unchallenged_decisions_become_final_and_late_drafts_expire(
    app: Flask, world: World, version: AppealVersion
) -> None:
    from appeals import review
    from appeals.accounts import SYSTEM
    from appeals.clock import utcnow
    from appeals.models import Outcome
    from merchant_portal.database import db

    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        reviewer = world.users["reviewer"]
        claim_and_rule(db(), reviewer, appeal, Outcome.UPHELD)
        assert review.close_windows(db(), SYSTEM, now=utcnow() + timedelta(days=6)) == {
            "final": 0, "expired": 0}  # fmt: skip
        done = review.close_windows(db(), SYSTEM, now=utcnow() + timedelta(days=8))
        assert done["final"] == 1 and appeal.state.value == "final"


def test_dashboards_chart_outcomes_in_both_languages(
    app: Flask, world: World, version: AppealVersion
) -> None:
    from appeals.models import Outcome
    from merchant_portal.database import db

    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        reviewer = world.users["reviewer"]
        claim_and_rule(db(), reviewer, appeal, Outcome.UPHELD)
        db().commit()
    merchant = client_of(app, world, "owner_a")
    page = merchant.get("/dashboard").get_data(as_text=True)
    assert "<svg" in page and "Win rate by category" in page
    assert "Malicious review or extortion: 100%" in page  # the bar's own title
    assert "Decided: 1" in page
    merchant.post("/language", data={"locale": "zh_Hans_CN", "csrf_token": csrf_token(merchant)})
    chinese = merchant.get("/dashboard").get_data(as_text=True)
    assert "按类型的胜诉率" in chinese and "<svg" in chinese

    platform = client_of(app, world, "admin")
    page = platform.get("/review/dashboard").get_data(as_text=True)
    assert 'data-testid="sla">100%' in page and "Outcomes by reviewer" in page
    assert "reviewer@test.example · Upheld: 1" in page or "Upheld: 1" in page


def test_two_seniors_claiming_at_once_end_with_one_claim(
    app: Flask, world: World, version: AppealVersion
) -> None:
    from appeals import accounts, review
    from appeals.accounts import SYSTEM
    from appeals.db import make_session_factory
    from appeals.errors import Conflict
    from appeals.models import Outcome
    from appeals.permissions import Role
    from merchant_portal.database import db

    with app.app_context():
        session = db()
        appeal = session.get_one(Appeal, version.appeal_id)
        reviewer, owner = world.users["reviewer"], world.users["owner_a"]
        claim_and_rule(session, reviewer, appeal, Outcome.REJECTED)
        review.reappeal(
            session, owner, appeal, "New courier records show the parcel was signed.", [],
            policy=DEFAULT_POLICIES.review,
        )  # fmt: skip
        other = accounts.create_user(session, SYSTEM, email="senior2@test.example",
                                     role=Role.SENIOR_REVIEWER, password=PASSWORD)  # fmt: skip
        session.commit()
        factory = make_session_factory(session.get_bind())
        first, second = factory(), factory()
        try:
            mine = first.get_one(Appeal, appeal.id)
            theirs = second.get_one(Appeal, appeal.id)
            second.commit()  # their copy, version included, stays loaded
            review.claim(first, first.get_one(type(other), world.users["senior"].id), mine)
            first.commit()
            with pytest.raises(Conflict, match="changed by someone else"):
                review.claim(second, second.get_one(type(other), other.id), theirs)
            second.rollback()
            assert first.get_one(Appeal, appeal.id).reviewer_id == world.users["senior"].id
        finally:
            first.close()
            second.close()


def test_a_senior_assigns_and_reassigns(app: Flask, world: World, version: AppealVersion) -> None:
    from appeals import review
    from appeals.errors import InvalidInput, PermissionDenied
    from merchant_portal.database import db

    senior = client_of(app, world, "senior")
    queue = senior.get("/review/").get_data(as_text=True)
    assert "Assign" in queue
    url = f"/review/appeals/{version.appeal_id}/assign"
    done = post(senior, url, "/review/", reviewer=str(world.users["reviewer"].id))
    assert done.status_code == 302 and state(app, version.appeal_id) == "in_review"
    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        assert appeal.reviewer_id == appeal.first_reviewer_id == world.users["reviewer"].id
        with pytest.raises(PermissionDenied):
            review.assign(db(), world.users["reviewer"], appeal, world.users["senior"].id)
        with pytest.raises(InvalidInput):
            review.assign(db(), world.users["senior"], appeal, world.users["owner_a"].id)
        review.assign(db(), world.users["senior"], appeal, world.users["senior"].id)
        db().commit()
        assert appeal.reviewer_id == world.users["senior"].id
    timeline = client_of(app, world, "owner_a").get(f"/appeals/{version.appeal_id}")
    assert "The appeal was given to another reviewer." in timeline.get_data(as_text=True)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("rule", {"outcome": "maybe"}),
        ("rule", {"outcome": "rejected", "row_A": "reject", "reason_A": "x" * 50_000}),
        ("rule", {"outcome": "rejected", "m_suspension": "1", "m_suspension_days": "many"}),
        ("rule", {"outcome": "rejected", "m_fine": "1", "m_fine_amount": "1e999"}),
        ("rule", {"outcome": "upheld", "insufficient_Z-9": "not an exhibit"}),
        ("request-info", {"question": "When was it delivered?", "due_at": "not a date"}),
        ("request-info", {"question": "When was it delivered?", "due_at": "1999-01-01T00:00"}),
        ("notes", {"body": ""}),
        ("assign", {"reviewer": "abc"}),
        ("claim", {}),
    ],
)
def test_bad_review_input_is_refused_clearly_and_changes_nothing(
    app: Flask, world: World, version: AppealVersion, action: str, data: dict[str, str]
) -> None:
    page = f"/review/appeals/{version.appeal_id}"
    reviewer = client_of(app, world, "reviewer")
    post(reviewer, f"{page}/claim", page)
    before = state(app, version.appeal_id)
    response = post(reviewer, f"{page}/{action}", page, **data)
    assert response.status_code in (302, 400, 403, 409, 422), response.status_code
    if response.status_code == 422:
        assert 'class="error"' in response.get_data(as_text=True)
    assert state(app, version.appeal_id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "upheld"},
        {
            "outcome": "upheld",
            "findings": [{"row": "a", "accepted": True, "reason": "x"}],
            "rule_applied": "R",
            "summary": "S",
        },
        {
            "outcome": "upheld",
            "findings": [],
            "rule_applied": "Rules 1",
            "summary": "Long enough.",
            "buyer_measures": [{"kind": "buyer_restriction", "days": 9999}],
        },
        {
            "outcome": "rejected",
            "findings": [],
            "rule_applied": "Rules 1",
            "summary": "Long enough.",
            "merchant_measures": [{"kind": "fine", "amount": "NaN"}],
        },
    ],
)
def test_bad_rulings_by_api_are_problems_not_errors(
    app: Flask, world: World, version: AppealVersion, body: dict[str, object]
) -> None:
    page = f"/review/appeals/{version.appeal_id}"
    post(client_of(app, world, "reviewer"), f"{page}/claim", page)
    response = app.test_client().post(
        f"/api/v1/appeals/{version.appeal_id}/ruling", json=body,
        headers={"Authorization": f"Bearer {world.tokens['reviewer'][1]}"},
    )  # fmt: skip
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert state(app, version.appeal_id) == "in_review"


def test_a_window_someone_else_closed_first_is_skipped_and_the_rest_go_on(
    app: Flask, world: World, version: AppealVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appeals import review
    from appeals.accounts import SYSTEM
    from appeals.clock import utcnow
    from appeals.errors import Conflict
    from appeals.models import Outcome
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    with app.app_context():
        other = submitted_appeal(db(), world.users["owner_b"], world.complaint_b.id, blob_store(),
                                 Path(app.config["DATA_DIR"]) / "q2")  # fmt: skip
        reviewer = world.users["reviewer"]
        for appeal_id in (version.appeal_id, other.appeal_id):
            appeal = db().get_one(Appeal, appeal_id)
            claim_and_rule(db(), reviewer, appeal, Outcome.REJECTED)
        db().commit()
        real = review.transition

        def raced(session, actor, appeal, action, **kwargs):  # type: ignore[no-untyped-def]
            if appeal.id == version.appeal_id:
                raise Conflict("changed by someone else")
            return real(session, actor, appeal, action, **kwargs)

        monkeypatch.setattr(review, "transition", raced)
        done = review.close_windows(db(), SYSTEM, now=utcnow() + timedelta(days=8))
        assert done == {"final": 1, "expired": 0}
        assert db().get_one(Appeal, other.appeal_id).state.value == "final"
        assert db().get_one(Appeal, version.appeal_id).state.value == "decided"


def test_every_page_of_a_case_says_what_happens_next_and_warns_when_the_deadline_is_past(
    app: Flask, world: World
) -> None:
    from datetime import timedelta

    from appeals.clock import utcnow
    from merchant_portal.database import db

    merchant = client_of(app, world, "owner_a")
    complaint_page = f"/complaints/{world.complaint_a.id}"
    for url in (complaint_page, f"{complaint_page}/evidence", f"/appeals/{world.appeal_a.id}"):
        html = merchant.get(url).get_data(as_text=True)
        banner = html[html.index('data-testid="next-step"') :][:500]
        assert 'data-code="appeal_by"' in banner and "Submit your appeal by" in banner, url
    with app.app_context():
        db().get_one(Complaint, world.complaint_a.id).appeal_deadline = utcnow() - timedelta(
            hours=1
        )
        db().commit()
    html = merchant.get(f"/appeals/{world.appeal_a.id}").get_data(as_text=True)
    banner = html[html.index('data-testid="next-step"') - 60 :][:600]
    assert "next-step-alert" in banner and "The appeal deadline passed" in banner


def queue_appeals(
    app: Flask,
    world: World,
    prefix: str,
    due_in_days: list[int],
    taken_by: str | None = None,
    taken: list[bool] | None = None,
) -> None:
    """Submitted appeals AP-{prefix}-0, -1, … of shop A, due in `due_in_days`; those marked
    in `taken` are in review with the `taken_by` user."""
    from appeals import complaints
    from appeals.clock import utcnow
    from appeals.models import AppealState, ComplaintChannel, ComplaintType, MaliciousCategory
    from merchant_portal.database import db

    with app.app_context():
        session = db()
        now = utcnow()
        for index, days in enumerate(due_in_days):
            mine = bool(taken and taken[index])
            complaint = complaints.record_complaint(
                session, world.shop_a, external_id=f"CP-{prefix}-{index}",
                type=ComplaintType.OTHER, channel=ComplaintChannel.HOTLINE, description="x",
                buyer_ref=f"buyer-{prefix}{index}", received_at=now - timedelta(days=1),
                policy=DEFAULT_POLICIES.deadlines,
            )  # fmt: skip
            appeal = Appeal(
                shop_id=world.shop_a.id, complaint_id=complaint.id, number=f"AP-{prefix}-{index}",
                state=AppealState.IN_REVIEW if mine else AppealState.SUBMITTED,
                reviewer_id=world.users[taken_by].id if mine and taken_by else None,
                category=MaliciousCategory.OTHER, statement="s", remedies=[], submission_count=1,
                submitted_at=now, state_changed_at=now, extra={},
                review_due_at=now + timedelta(days=days),
            )  # fmt: skip
            appeal.versions.append(
                AppealVersion(number=1, content={}, content_sha256="0" * 64, submitted_at=now)
            )
            session.add(appeal)
        session.commit()


def test_a_long_queue_is_paged_soonest_due_first_with_its_total(app: Flask, world: World) -> None:
    app.config["PAGE_SIZE"] = 2
    queue_appeals(app, world, "Q", [5, 4, 3, 2, 1])
    reviewer = client_of(app, world, "reviewer")
    first = reviewer.get("/review/", query_string={"shop": world.shop_a.id}).get_data(as_text=True)
    assert "5 appeals waiting" in first and "Page 1 of 3" in first
    assert first.index("AP-Q-4") < first.index("AP-Q-3") and "AP-Q-2" not in first
    last = reviewer.get("/review/", query_string={"shop": world.shop_a.id, "page": 3})
    html = last.get_data(as_text=True)
    assert "AP-Q-0" in html and "AP-Q-4" not in html and f"shop={world.shop_a.id}" in html


def test_a_reviewer_picking_new_work_can_list_only_what_nobody_has_claimed(
    app: Flask, world: World
) -> None:
    app.config["PAGE_SIZE"] = 2
    queue_appeals(app, world, "U", [1, 2, 3, 4, 5], taken_by="senior",
                  taken=[True, False, True, False, False])  # fmt: skip
    reviewer = client_of(app, world, "reviewer")
    every = reviewer.get("/review/", query_string={"shop": world.shop_a.id}).get_data(as_text=True)
    assert "5 appeals waiting" in every and "AP-U-0" in every  # soonest due, though taken

    filters = {"shop": world.shop_a.id, "unclaimed": "1"}
    first = reviewer.get("/review/", query_string=filters).get_data(as_text=True)
    assert "3 appeals waiting" in first and "Page 1 of 2" in first
    assert "AP-U-1" in first and "AP-U-3" in first
    assert "AP-U-0" not in first and "AP-U-2" not in first
    assert 'name="unclaimed" value="1" checked' in first and "unclaimed=1" in first  # kept
    rest = reviewer.get("/review/", query_string={**filters, "page": 2}).get_data(as_text=True)
    assert "AP-U-4" in rest and "AP-U-2" not in rest
