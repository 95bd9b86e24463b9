"""The ruling form: every refusal at once, next to its field, and a ruling on the record
when the merchant lets a question's deadline pass."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask

from appeals.clock import utcnow
from appeals.models import AppealVersion, InfoRequest
from tests.conftest import Clock, World
from tests.functional.test_review import client_of, post, ruling_form, state


def _summary(html: str) -> list[tuple[str, str]]:
    """The error summary's links: (target id, message), in order."""
    block = re.search(r'<div[^>]*id="error-summary".*?</div>', html, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="#([^"]+)" data-field="[^"]+">([^<]+)</a>', block.group(0))


def test_a_refused_ruling_lists_every_error_and_keeps_what_was_typed(
    app: Flask, world: World, version: AppealVersion
) -> None:
    page = f"/review/appeals/{version.appeal_id}"
    reviewer = client_of(app, world, "reviewer")
    post(reviewer, f"{page}/claim", page)
    rows = len(version.content["rows"])
    assert rows >= 2

    refused = post(reviewer, f"{page}/rule", page, reason_A="The chat proves the threat.",
                   rule_applied="", summary="short")  # fmt: skip
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    found = _summary(html)
    messages = [message for _target, message in found]
    assert messages[0] == "Choose the outcome."
    assert "Accept or reject row A." in messages and "Accept or reject row B." in messages
    assert "Give a reason for row B." in messages and "Give a reason for row A." not in messages
    assert "Name the rule applied." in messages
    assert any(m.startswith("Write what the merchant will read") for m in messages)
    # Each link points at a field that is on the page.
    for target, _message in found:
        assert f'id="{target}"' in html, target
    # What was typed stays, and each field says what to change beside it.
    assert "The chat proves the threat.</textarea>" in html
    assert 'id="reason_B-error"' in html and 'id="row_A-error"' in html
    assert state(app, version.appeal_id) == "in_review"


def test_conflicting_outcome_and_rows_are_told_together(
    app: Flask, world: World, version: AppealVersion
) -> None:
    page = f"/review/appeals/{version.appeal_id}"
    reviewer = client_of(app, world, "reviewer")
    post(reviewer, f"{page}/claim", page)
    form = ruling_form(len(version.content["rows"]), outcome="upheld", row_B="reject",
                       m_warning="1")  # fmt: skip
    html = post(reviewer, f"{page}/rule", page, **form).get_data(as_text=True)
    messages = [m for _t, m in _summary(html)]
    assert "An upheld appeal accepts every row; use partially upheld." in messages
    assert "An upheld appeal carries no measure against the merchant." in messages


def test_the_api_names_every_refused_field(
    app: Flask, world: World, version: AppealVersion
) -> None:
    from appeals import review
    from appeals.errors import Refusals
    from appeals.models import Appeal
    from merchant_portal.database import db

    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        reviewer = world.users["reviewer"]
        review.claim(db(), reviewer, appeal)
        bad = review.RulingInput(
            outcome=None, findings=[], insufficient=[], rule_applied="", merchant_measures=[],
            buyer_measures=[], summary="",
        )  # fmt: skip
        try:
            review.rule(db(), reviewer, appeal, bad, policy=review_policy(app))
        except Refusals as error:
            fields = [each.field for each in error.refusals]
        else:  # pragma: no cover - the check must refuse
            raise AssertionError("an empty ruling was accepted")
    assert fields[0] == "outcome" and "rule_applied" in fields and "summary" in fields
    assert "reason_A" in fields and "row_A" in fields


def review_policy(app: Flask):  # type: ignore[no-untyped-def]
    from merchant_portal.context import policies

    return policies().review


def test_past_the_answer_deadline_the_reviewer_rules_on_the_record(
    app: Flask, world: World, version: AppealVersion, clock: Clock
) -> None:
    clock.move_to(utcnow())
    appeal_id = version.appeal_id
    page = f"/review/appeals/{appeal_id}"
    reviewer = client_of(app, world, "reviewer")
    post(reviewer, f"{page}/claim", page)
    due = (utcnow() + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    question = "Please send the courier's delivery photo with the signature."
    asked = post(reviewer, f"{page}/request-info", page, due_at=due, question=question)
    assert asked.status_code == 302 and state(app, appeal_id) == "info_requested"

    # While the merchant may still answer, there is no ruling form and a ruling is refused.
    screen = reviewer.get(page).get_data(as_text=True)
    assert 'id="ruling-form"' not in screen
    early = post(reviewer, f"{page}/rule", page, **ruling_form(len(version.content["rows"])))
    assert early.status_code == 409
    assert "once its answer deadline has passed" in early.get_data(as_text=True)

    # The merchant is told beforehand what happens if nobody answers.
    merchant = client_of(app, world, "owner_a")
    banner = merchant.get(f"/appeals/{appeal_id}").get_data(as_text=True)
    assert "or the reviewer may rule on what is there" in banner

    clock.shift(timedelta(days=3))
    reviewer, merchant = client_of(app, world, "reviewer"), client_of(app, world, "owner_a")
    screen = reviewer.get(page).get_data(as_text=True)
    assert 'id="ruling-form"' in screen and 'data-testid="ruling-on-record"' in screen
    ruled = post(reviewer, f"{page}/rule", page, **ruling_form(len(version.content["rows"])))
    assert ruled.status_code == 302 and state(app, appeal_id) == "decided"

    for who, url in ((reviewer, page), (merchant, f"/appeals/{appeal_id}")):
        html = who.get(url).get_data(as_text=True)
        assert 'data-testid="on-record"' in html
        assert "was not answered by its deadline" in html
    with app.app_context():
        from merchant_portal.database import db

        question = db().query(InfoRequest).filter_by(appeal_id=appeal_id).one()
        assert question.answered_at is None
    # The merchant can no longer answer the question the ruling was made without.
    late = merchant.get(f"/appeals/{appeal_id}").get_data(as_text=True)
    assert 'name="answer"' not in late


def test_the_merchant_follows_the_case_step_by_step_and_browses_earlier_versions(
    app: Flask, world: World, version: AppealVersion
) -> None:
    appeal_id = version.appeal_id
    page, mine = f"/review/appeals/{appeal_id}", f"/appeals/{appeal_id}"
    reviewer, merchant = client_of(app, world, "reviewer"), client_of(app, world, "owner_a")

    def current_step() -> str:
        html = merchant.get(mine).get_data(as_text=True)
        found = re.search(r'aria-current="step">.*?class="step-name">([^<]+)<', html, re.S)
        assert found, "no step indicator"
        return found.group(1)

    assert current_step() == "Submitted"
    post(reviewer, f"{page}/claim", page)
    post(reviewer, f"{page}/request-info", page,
         question="Please send the courier's delivery photo with the signature.")  # fmt: skip
    assert current_step() == "In review"
    answered = post(merchant, f"{mine}/respond", mine,
                    answer="The courier's photo is attached to the appeal now.")  # fmt: skip
    assert answered.status_code == 302
    latest = merchant.get(mine).get_data(as_text=True)
    assert "Submitted version 2" in latest and 'data-testid="versions"' in latest
    earlier = merchant.get(f"{mine}?version=1").get_data(as_text=True)
    assert "Submitted version 1" in earlier and f'href="{mine}?version=2#version"' in earlier
    assert (
        "The courier&#39;s photo is attached"
        not in earlier.split('id="version"')[1].split("</section>")[0]
    )
    post(reviewer, f"{page}/rule", page, **ruling_form(len(version.content["rows"]) + 1))
    assert current_step() == "Ruled"
