"""Who may open which page: login and permission checks for views, and safe redirects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, url_for
from flask_login import current_user, login_required

from appeals import case
from appeals.case import NextStep
from appeals.models import Complaint, InfoRequest, Ruling
from appeals.permissions import Actor, Permission, has_permission
from appeals.review import can_assign, can_claim

P = ParamSpec("P")
R = TypeVar("R")


def permission_required(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a signed-in user whose role grants the permission (403 otherwise)."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[no-any-return]

    return decorator


def safe_next(target: str | None, fallback: str) -> str:
    """A same-site path to go on to, never another host (no open redirect)."""
    if not target:
        return fallback
    target = target.strip()
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 32 for char in target)
    ):
        return fallback
    return target


def home_url() -> str:
    """Where a user lands after signing in: the page of their work."""
    if not current_user.is_authenticated:
        return url_for("auth.login")
    if has_permission(current_user, Permission.MERCHANT_COMPLAINT_READ):
        return url_for("merchant.inbox")
    if has_permission(current_user, Permission.REVIEW_QUEUE_READ):
        return url_for("review.queue")
    if has_permission(current_user, Permission.ADMIN_USER_MANAGE):
        return url_for("admin.index")
    return url_for("auth.account")


def can(actor: Actor | None, permission: str) -> bool:
    """For templates: whether the actor holds a permission, named as in appeals.permissions."""
    return has_permission(actor, Permission(permission))


def next_step_of(complaint: Complaint) -> NextStep:
    """For templates: what happens next in the complaint's case and by when (the domain's)."""
    from merchant_portal.database import db

    return case.next_step(db(), complaint)


def can_start_appeal(complaint: Complaint) -> bool:
    """For templates: whether an appeal can still be started on this complaint."""
    from appeals.appeal import may_start

    return may_start(complaint)


def unanswered_of(ruling: Ruling) -> InfoRequest | None:
    """For templates: the question a ruling was made without, once its deadline had passed."""
    from merchant_portal.database import db

    return case.unanswered_question(db(), ruling)


def init_app(app: Flask) -> None:
    """Templates ask the domain's predicates, never role names."""
    app.jinja_env.globals.update(
        can=can,
        can_claim=can_claim,
        can_assign=can_assign,
        next_step_of=next_step_of,
        unanswered_of=unanswered_of,
        can_start_appeal=can_start_appeal,
    )
