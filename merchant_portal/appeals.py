"""The merchant's appeal builder: draft, readiness, budget, submission, the frozen version."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime, gettext
from flask_login import current_user
from sqlalchemy import select

from appeals import appeal as appeals
from appeals import builds, locker, review
from appeals.errors import DomainError
from appeals.lifecycle import Action, allowed_actions
from appeals.models import Appeal, AppealState, EvidenceItem, MaliciousCategory, Ruling
from appeals.permissions import Permission
from merchant_portal.access import permission_required
from merchant_portal.context import policies
from merchant_portal.database import db
from merchant_portal.forms import ActionForm, AppealForm, WithdrawForm
from merchant_portal.review_forms import AnswerForm, ReappealForm

bp = Blueprint("appeal", __name__)


def _exhibit_choices(appeal: Appeal) -> list[tuple[int, str]]:
    items = locker.list_items(db(), appeal.complaint)
    return [
        (item.id, f"{item.display_name} · {item.caption}" if item.caption else item.display_name)
        for item in items
    ]


def _form(appeal: Appeal, formdata: bool = False) -> AppealForm:
    if formdata:
        return AppealForm(_exhibit_choices(appeal))
    rows = [
        {"allegation": r.allegation, "answer": r.answer, "exhibits": r.evidence_ids}
        for r in appeal.rows
    ]
    data = {
        "category": appeal.category.value if appeal.category else "",
        "statement": appeal.statement,
        "remedies": list(appeal.remedies),
        "rows": [*rows, {"allegation": "", "answer": "", "exhibits": []}],
    }
    return AppealForm(_exhibit_choices(appeal), formdata=None, data=data)


def _uncited(appeal: Appeal) -> list[EvidenceItem]:
    """Locker files no submitted version cites yet: what an answer can add."""
    cited = {e["evidence_id"] for v in appeal.versions for e in v.content["exhibits"]}
    return [item for item in locker.list_items(db(), appeal.complaint) if item.id not in cited]


def _status(appeal: Appeal) -> dict[str, object]:
    """What the builder's side panel shows: readiness, budget, exhibits (page and autosave)."""
    return {
        "readiness": appeals.readiness(db(), appeal, policies().budget),
        "budget": appeals.budget(db(), appeal, policies().budget),
        "exhibits": appeals.cited_items(db(), appeal),
    }


def _page(
    appeal: Appeal,
    form: AppealForm | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> ResponseReturnValue:
    build = builds.current_build(db(), appeal.versions[-1]) if appeal.versions else None
    rulings = list(db().scalars(select(Ruling).where(Ruling.appeal_id == appeal.id)
                                .order_by(Ruling.instance)))  # fmt: skip
    exhibits = appeals.cited_items(db(), appeal)
    chosen = request.args.get("version", type=int)
    shown = next((v for v in appeal.versions if v.number == chosen), None) or (
        appeal.versions[-1] if appeal.versions else None
    )
    return render_template(
        "merchant/appeal.html", appeal=appeal, form=form or _form(appeal), **_status(appeal),
        pickable=locker.list_items(db(), appeal.complaint) if appeal.state is AppealState.DRAFT
        else [], labels={item.id: label for label, item in exhibits},
        action_form=ActionForm(), build=build, shown_version=shown,
        actions=[a.value for a in allowed_actions(appeal, current_user)],
        open_request=review.open_request(db(), appeal), rulings=rulings,
        events=review.timeline(db(), appeal), uncited=_uncited(appeal) if appeal.versions else [],
        pauses=review.pauses(db(), appeal), errors=errors or {}, answer=request.form,
        can_reappeal=review.can_reappeal(appeal, rulings[-1] if rulings else None),
    ), status  # fmt: skip


@bp.post("/complaints/<int:complaint_id>/appeal")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def start(complaint_id: int) -> ResponseReturnValue:
    appeal = appeals.start_appeal(db(), current_user, complaint_id)
    db().commit()
    return redirect(url_for(".show", appeal_id=appeal.id))


@bp.get("/appeals/<int:appeal_id>")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def show(appeal_id: int) -> ResponseReturnValue:
    return _page(appeals.get_appeal(db(), current_user, appeal_id))


@bp.post("/appeals/<int:appeal_id>")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def save(appeal_id: int) -> ResponseReturnValue:
    appeal = appeals.get_appeal(db(), current_user, appeal_id)
    form = _form(appeal, formdata=True)
    wants_json = request.accept_mimetypes.best == "application/json"
    if form.validate_on_submit():
        rows = [
            (row.allegation.data or "", row.answer.data or "", row.exhibits.data or [])
            for row in form.rows
            if (row.allegation.data or "").strip() or (row.answer.data or "").strip()
        ]
        try:
            appeals.update_draft(
                db(), current_user, appeal,
                category=MaliciousCategory(form.category.data) if form.category.data else None,
                statement=form.statement.data or "", remedies=form.remedies.data or [], rows=rows,
            )  # fmt: skip
        except DomainError as error:
            form.statement.errors = [gettext(error.message, **error.params)]
        else:
            db().commit()
            if wants_json:
                status = _status(appeal)
                panel = render_template("merchant/_builder_status.html", appeal=appeal, **status)
                return jsonify({"saved": format_datetime(format="HH:mm:ss"),
                                "ready": status["readiness"].ready,  # type: ignore[attr-defined]
                                "status_html": panel})  # fmt: skip
            flash(gettext("Draft saved."), "success")
            return redirect(url_for(".show", appeal_id=appeal.id))
    if wants_json:
        return jsonify({"saved": None, "errors": form.errors}), 422
    return _page(appeal, form, 422, errors=_refusals(form))


def _refusals(form: AppealForm) -> dict[str, str]:
    """Every refusal of the draft by field, for the summary at the top of the page (the
    remedies' checkboxes, for one, have no message of their own)."""
    fields = [field for field in form if field.name != "rows"]
    fields += [part for row in form.rows for part in row]
    return {field.name: " ".join(map(str, field.errors)) for field in fields if field.errors}


@bp.route("/appeals/<int:appeal_id>/submit", methods=["GET", "POST"])
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def submit(appeal_id: int) -> ResponseReturnValue:
    appeal = appeals.get_appeal(db(), current_user, appeal_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        if appeal.state is not AppealState.DRAFT:
            return redirect(url_for(".show", appeal_id=appeal.id))  # a double click: already done
        try:
            appeals.submit_appeal(
                db(),
                current_user,
                appeal,
                profile=policies().budget,
                review_policy=policies().review,
            )
        except DomainError as error:
            flash(gettext(error.message, **error.params), "error")
            return redirect(url_for(".show", appeal_id=appeal.id))
        db().commit()
        flash(gettext("Appeal submitted. The platform's reviewers will now see it."), "success")
        return redirect(url_for(".show", appeal_id=appeal.id))
    return render_template(
        "merchant/appeal_submit.html", appeal=appeal, form=form,
        **_status(appeal),
    )  # fmt: skip


@bp.route("/appeals/<int:appeal_id>/withdraw", methods=["GET", "POST"])
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def withdraw(appeal_id: int) -> ResponseReturnValue:
    appeal = appeals.get_appeal(db(), current_user, appeal_id)
    form = WithdrawForm()
    if Action.WITHDRAW not in allowed_actions(appeal, current_user):
        flash(gettext("This appeal can no longer be withdrawn."), "error")
        return redirect(url_for(".show", appeal_id=appeal.id))
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                appeals.withdraw_appeal(db(), current_user, appeal, form.reason.data or "")
            except DomainError as error:
                form.reason.errors = [gettext(error.message, **error.params)]
            else:
                db().commit()
                flash(gettext("Appeal withdrawn. The complaint stands as the platform decided."),
                      "success")  # fmt: skip
                return redirect(url_for(".show", appeal_id=appeal.id))
        return render_template("merchant/appeal_withdraw.html", appeal=appeal, form=form), 422
    return render_template("merchant/appeal_withdraw.html", appeal=appeal, form=form)


@bp.post("/appeals/<int:appeal_id>/respond")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def respond(appeal_id: int) -> ResponseReturnValue:
    appeal = appeals.get_appeal(db(), current_user, appeal_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _page(appeal, status=400)
    try:
        review.respond(db(), current_user, appeal, form.answer.data or "", form.evidence_ids())
    except DomainError as error:
        db().rollback()
        appeal = appeals.get_appeal(db(), current_user, appeal_id)
        return _page(appeal, status=422, errors=form.refuse(error))
    db().commit()
    flash(gettext("Answer sent as a new version. The reviewer's clock runs again."), "success")
    return redirect(url_for(".show", appeal_id=appeal.id))


@bp.post("/appeals/<int:appeal_id>/reappeal")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def reappeal(appeal_id: int) -> ResponseReturnValue:
    appeal = appeals.get_appeal(db(), current_user, appeal_id)
    form = ReappealForm()
    if not form.validate_on_submit():
        return _page(appeal, status=400)
    try:
        review.reappeal(db(), current_user, appeal, form.statement.data or "",
                        form.evidence_ids(), policy=policies().review)  # fmt: skip
    except DomainError as error:
        db().rollback()
        appeal = appeals.get_appeal(db(), current_user, appeal_id)
        return _page(appeal, status=422, errors=form.refuse(error))
    db().commit()
    flash(gettext("Appealed again. A senior reviewer who did not rule first will decide."),
          "success")  # fmt: skip
    return redirect(url_for(".show", appeal_id=appeal.id))
