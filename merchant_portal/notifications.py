"""Notifications: the bell and its page, email through SMTP, and the periodic tick that
closes windows, sends reminders and empties the outbox."""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, gettext
from flask_login import current_user
from sqlalchemy import select

from appeals import notices, review
from appeals.accounts import SYSTEM
from appeals.models import Notification, User
from appeals.permissions import Permission
from merchant_portal import i18n
from merchant_portal.access import permission_required
from merchant_portal.database import db
from merchant_portal.forms import ActionForm

bp = Blueprint("notifications", __name__)
log = logging.getLogger("merchant_portal.notifications")


def init_app(app: Flask) -> None:
    @app.context_processor
    def bell() -> dict[str, Any]:
        def unread() -> int:
            if not current_user.is_authenticated:
                return 0
            return notices.unread_count(db(), current_user.id)

        return {"unread_notifications": unread}


@bp.get("/notifications")
@permission_required(Permission.ACCOUNT_PROFILE_EDIT)
def index() -> ResponseReturnValue:
    notes = list(
        db().scalars(
            select(Notification)
            .where(Notification.user_id == current_user.id)
            .order_by(Notification.id.desc())
            .limit(100)
        )
    )
    return render_template("notifications.html", notes=notes, form=ActionForm())


@bp.post("/notifications/read")
@permission_required(Permission.ACCOUNT_PROFILE_EDIT)
def read() -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        notices.mark_read(db(), current_user.id)
        db().commit()
    return redirect(url_for(".index"))


def appeal_link(note: Notification, user: User) -> str | None:
    if note.appeal_id is None:
        return None
    if user.role.is_merchant:
        return url_for("appeal.show", appeal_id=note.appeal_id, _external=True)
    return url_for("review.appeal", appeal_id=note.appeal_id, _external=True)


def email_for(user: User, note: Notification) -> EmailMessage:
    """The email, in the user's language."""
    with force_locale(user.locale or "en"):
        text = i18n.notification_text(note)
        link = appeal_link(note, user)
        body = [text]
        if link:
            body += ["", gettext("Open it in Appeal Desk: %(link)s", link=link)]
        message = EmailMessage()
        message["Subject"] = f"[Appeal Desk] {text}"
        message["From"] = current_app.config["SMTP_FROM"]
        message["To"] = user.email
        message.set_content("\n".join(body))
    return message


def smtp_sender(app: Flask) -> notices.Sender:
    config = app.config

    def send(user: User, note: Notification) -> None:
        message = email_for(user, note)
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=15) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)

    return send


def tick(app: Flask) -> dict[str, int]:
    """One round: close windows, expire drafts, remind, send the outbox (when SMTP is set)."""
    with app.test_request_context(base_url=app.config.get("PUBLIC_URL") or "https://localhost/"):
        session = db()
        result = review.close_windows(session, SYSTEM)
        result["reminders"] = notices.remind(session)
        session.commit()
        # The audit chain's head, signed outside the database once a minute if it moved.
        from appeals import checkpoints
        from merchant_portal.context import context

        found = context()
        made = checkpoints.checkpoint(session, found.signing_key, found.checkpoints)
        result["checkpoint"] = int(made["head_id"]) if made else 0
        session.rollback()
        if app.config.get("SMTP_HOST"):
            result.update(notices.send_outbox(session, smtp_sender(app)))
        return result


class Ticker:
    """Runs tick() every `seconds` in a daemon thread (the embedded set-up's scheduler)."""

    def __init__(self, app: Flask, seconds: float = 60) -> None:
        self.app, self.seconds = app, seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="appeal-desk-tick", daemon=True)

    def start(self) -> Ticker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(10)

    def _run(self) -> None:
        while not self.stopped.wait(self.seconds):
            try:
                tick(self.app)
            except Exception:
                log.exception("tick failed")
