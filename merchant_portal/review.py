"""The platform reviewers' side: the queue of submitted appeals."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from appeals.permissions import Permission
from merchant_portal.access import permission_required

bp = Blueprint("review", __name__)


@bp.get("/")
@permission_required(Permission.REVIEW_QUEUE_READ)
def queue() -> ResponseReturnValue:
    # Appeals reach reviewers only once submitted; until appeals exist the queue is empty.
    return render_template("review/queue.html", appeals=[])
