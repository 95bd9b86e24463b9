"""The merchant's side: the complaint inbox and each complaint with its order."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from appeals import complaints
from appeals.permissions import Permission
from merchant_portal.access import permission_required
from merchant_portal.database import db

bp = Blueprint("merchant", __name__)


@bp.get("/inbox")
@permission_required(Permission.MERCHANT_COMPLAINT_READ)
def inbox() -> ResponseReturnValue:
    page = complaints.list_complaints(
        db(),
        current_user,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("merchant/inbox.html", page=page)


@bp.get("/complaints/<int:complaint_id>")
@permission_required(Permission.MERCHANT_COMPLAINT_READ)
def complaint(complaint_id: int) -> ResponseReturnValue:
    found = complaints.get_complaint(db(), current_user, complaint_id)
    return render_template("merchant/complaint.html", complaint=found)


@bp.get("/orders/<int:order_id>")
@permission_required(Permission.MERCHANT_ORDER_READ)
def order(order_id: int) -> ResponseReturnValue:
    found = complaints.get_order(db(), current_user, order_id)
    return render_template("merchant/order.html", order=found)
