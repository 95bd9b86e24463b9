"""Notifications in the portal and by email through a real local SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default

import pytest
from flask import Flask

from appeals.models import Appeal, AppealVersion, Notification
from merchant_portal.context import policies
from tests.conftest import World, csrf_token, log_in


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.original_content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on a free loopback port (aiosmtpd)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_submission_question_and_reminder_arrive_by_email_once(
    app: Flask, world: World, version: AppealVersion, smtp: tuple[int, Inbox]
) -> None:
    from appeals import notices, review
    from appeals.clock import utcnow
    from merchant_portal.database import db
    from merchant_portal.notifications import tick

    port, inbox = smtp
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, PUBLIC_URL="https://appeals.example/")
    with app.app_context():
        owner = db().get_one(type(world.users["owner_a"]), world.users["owner_a"].id)
        owner.locale = "zh_Hans_CN"
        db().commit()
    first = tick(app)
    assert first["sent"] == 2  # "submitted", to the owner and the staff member
    subjects = sorted(str(m["Subject"]) for m in inbox.messages)
    assert any("平台已收到申诉" in s for s in subjects)  # the owner reads Chinese
    assert any("was received by the platform" in s for s in subjects)
    assert all(m["To"] in ("owner_a@test.example", "staff_a@test.example") for m in inbox.messages)
    body = inbox.messages[0].get_content()
    assert f"https://appeals.example/appeals/{version.appeal_id}" in body

    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        reviewer = world.users["reviewer"]
        review.claim(db(), reviewer, appeal)
        review.request_info(db(), reviewer, appeal, "Please send the delivery signature.",
                            utcnow() + timedelta(hours=20), policy=policies().review)  # fmt: skip
        db().commit()
    second = tick(app)
    # The question, and (due within 24 hours) its reminder, to both shop users.
    assert second["sent"] == 4 and second["reminders"] == 2
    # The reminder says what happens if nobody answers: a ruling on the record.
    assert any("may rule on what is on record" in str(m["Subject"]) for m in inbox.messages)
    assert tick(app)["sent"] == 0, "a reminder is sent once"

    # Answered before the next reminder goes out: the stale reminder is not sent.
    with app.app_context():
        appeal = db().get_one(Appeal, version.appeal_id)
        notices.remind(db(), now=utcnow())
        stale = Notification(
            user_id=world.users["owner_a"].id,
            appeal_id=appeal.id,
            kind="deadline_soon",
            params={"number": appeal.number},
            dedupe_key=f"answer:999:{world.users['owner_a'].id}",
            created_at=utcnow(),
            email_state="pending",
            email_attempts=0,
        )
        db().add(stale)
        review.respond(db(), world.users["owner_a"], appeal,
                       "Here is the delivery signature photo.", [])  # fmt: skip
        db().commit()
    before = len(inbox.messages)
    third = tick(app)
    assert third["skipped"] == 1
    assert all("Less than 24 hours" not in str(m["Subject"]) for m in inbox.messages[before:])


def test_the_bell_counts_unread_and_the_page_marks_them_read(
    app: Flask, world: World, version: AppealVersion
) -> None:
    client = app.test_client()
    log_in(client, world.users["owner_a"].email)
    page = client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="bell" aria-label="1 unread notification"' in page
    listing = client.get("/notifications").get_data(as_text=True)
    assert "was received by the platform" in listing
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications")})
    page = client.get("/inbox").get_data(as_text=True)
    assert 'data-testid="bell" aria-label="0 unread notifications"' in page


def test_the_tick_command_runs_without_smtp(app: Flask, world: World) -> None:
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0 and "final 0" in result.output and "reminders" in result.output
