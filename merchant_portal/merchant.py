"""The merchant's side: the complaint inbox, each complaint with its dossier, and flags."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from appeals import case, complaints
from appeals.deadlines import DeadlineState
from appeals.dossier import Dossier, build_dossier
from appeals.errors import DomainError
from appeals.evidence_text import read_texts
from appeals.models import (
    Appeal,
    AppealState,
    ComplaintStatus,
    ComplaintType,
    MaliciousCategory,
)
from appeals.permissions import Actor, Permission, has_permission
from merchant_portal.access import permission_required
from merchant_portal.context import policies
from merchant_portal.database import db
from merchant_portal.forms import ActionForm, FlagForm, InboxFilterForm
from merchant_portal.locker import blob_store

bp = Blueprint("merchant", __name__)


def _inbox_filter(form: InboxFilterForm) -> complaints.InboxFilter:
    data = form.data if form.validate() else {}
    flagged = {"yes": True, "no": False}.get(data.get("flagged") or "")
    return complaints.InboxFilter(
        status=ComplaintStatus(data["status"]) if data.get("status") else None,
        type=ComplaintType(data["type"]) if data.get("type") else None,
        flagged=flagged,
        deadline=DeadlineState(data["deadline"]) if data.get("deadline") else None,
        search=data.get("q") or "",
        sort=data.get("sort") or "deadline",
    )


@bp.get("/inbox")
@permission_required(Permission.MERCHANT_COMPLAINT_READ)
def inbox() -> ResponseReturnValue:
    form = InboxFilterForm(request.args)
    page = complaints.list_complaints(
        db(),
        current_user,
        _inbox_filter(form),
        page=request.args.get("page", 1, type=int) or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    counts = complaints.status_counts(db(), current_user)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    stages = case.stages(db(), [complaint.id for complaint in page.items])
    return render_template("merchant/inbox.html", page=page, form=form, counts=counts,
                           query=query, stages=stages)  # fmt: skip


def _complaint_page(
    complaint_id: int, flag_form: FlagForm | None = None, status: int = 200
) -> ResponseReturnValue:
    found = complaints.get_complaint(db(), current_user, complaint_id)
    if flag_form is None:
        flag_form = FlagForm(
            formdata=None,
            data={
                "category": found.flag_category.value if found.flag_category else None,
                "rationale": found.flag_rationale,
            },
        )
    return render_template(
        "merchant/complaint.html",
        complaint=found,
        dossier=dossier_of(found.id),
        flag_form=flag_form,
        action_form=ActionForm(),
        can_flag=has_permission(current_user, Permission.MERCHANT_COMPLAINT_FLAG),
        complaint_appeal=db().scalar(select(Appeal).where(Appeal.complaint_id == found.id)),
        stage=case.stages(db(), [found.id]).get(found.id),
    ), status


def dossier_of(
    complaint_id: int, known_at: datetime | None = None, actor: Actor | None = None
) -> Dossier:
    """The complaint's dossier, with the text of its chat exports and courier traces.

    `actor` reads it (the signed-in merchant, or the review's reader of the appeal's shop).
    """
    return build_dossier(
        db(),
        actor or current_user,
        complaint_id,
        time_zone=policies().time_zone,
        known_at=known_at,
        evidence=read_texts(db(), blob_store(), complaint_id),
    )


@bp.get("/complaints/<int:complaint_id>")
@permission_required(Permission.MERCHANT_COMPLAINT_READ)
def complaint(complaint_id: int) -> ResponseReturnValue:
    return _complaint_page(complaint_id)


@bp.post("/complaints/<int:complaint_id>/flag")
@permission_required(Permission.MERCHANT_COMPLAINT_FLAG)
def flag(complaint_id: int) -> ResponseReturnValue:
    found = complaints.get_complaint(db(), current_user, complaint_id)
    form = FlagForm()
    if form.validate_on_submit():
        try:
            complaints.flag_complaint(
                db(),
                current_user,
                found,
                MaliciousCategory(form.category.data),
                form.rationale.data,
            )
        except DomainError as error:
            form.rationale.errors = [*form.rationale.errors, gettext(error.message, **error.params)]
        else:
            db().commit()
            flash(gettext("Complaint flagged as malicious."), "success")
            return redirect(url_for(".complaint", complaint_id=found.id))
    return _complaint_page(found.id, form, 422)


@bp.post("/complaints/<int:complaint_id>/unflag")
@permission_required(Permission.MERCHANT_COMPLAINT_FLAG)
def unflag(complaint_id: int) -> ResponseReturnValue:
    found = complaints.get_complaint(db(), current_user, complaint_id)
    if found.flag_category is None:  # a second click, or a page left open: say so
        flash(gettext("This complaint is not flagged."), "error")
        return redirect(url_for(".complaint", complaint_id=found.id))
    complaints.unflag_complaint(db(), current_user, found)
    db().commit()
    flash(gettext("The malicious flag was withdrawn."), "success")
    return redirect(url_for(".complaint", complaint_id=found.id))


@bp.get("/dashboard")
@permission_required(Permission.MERCHANT_COMPLAINT_READ)
def dashboard() -> ResponseReturnValue:
    from appeals.insight import shop_insight
    from merchant_portal import charts
    from merchant_portal.i18n import label

    found = shop_insight(db(), current_user)
    states = charts.bars(
        [(label(AppealState(state)), count) for state, count in found.by_state.items()],
        title=gettext("Appeals by state"),
    )
    wins = charts.bars(
        [(label(MaliciousCategory(category)), round(100 * won / decided))
         for category, (won, decided) in sorted(found.win_rate.items())],
        title=gettext("Win rate by category"), unit="%", maximum=100, color=charts.COLORS[1],
    )  # fmt: skip
    return render_template("merchant/dashboard.html", insight=found, states=states, wins=wins)
