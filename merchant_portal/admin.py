"""Platform administration: shops, users, password resets, disabling accounts, the audit trail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from appeals import accounts, audit, intake
from appeals.errors import DomainError
from appeals.models import AuditEvent, Shop, User
from appeals.permissions import Permission, Role
from merchant_portal.access import permission_required
from merchant_portal.context import policies
from merchant_portal.database import db
from merchant_portal.forms import (
    ActionForm,
    AuditFilterForm,
    ComplaintForm,
    PasswordResetForm,
    ShopForm,
    UserForm,
)

bp = Blueprint("admin", __name__)

# Every action the trail records, in words; an action not listed shows as recorded.
AUDIT_ACTIONS = {
    "complaint.received": _l("Complaint recorded"),
    "complaint.flagged": _l("Complaint flagged as malicious"),
    "complaint.unflagged": _l("Malicious flag removed"),
    "evidence.added": _l("Evidence uploaded"),
    "evidence.attached": _l("Evidence attached from another complaint"),
    "evidence.edited": _l("Evidence kind or caption changed"),
    "evidence.redacted": _l("Evidence redacted"),
    "evidence.removed": _l("Evidence removed"),
    "evidence.suggestions_answered": _l("Evidence suggestions answered"),
    "appeal.started": _l("Appeal started"),
    "appeal.draft_saved": _l("Appeal draft saved"),
    "appeal.submit": _l("Appeal submitted"),
    "appeal.assign": _l("Appeal assigned to a reviewer"),
    "appeal.claimed": _l("Second instance taken by a senior reviewer"),
    "appeal.reassigned": _l("Appeal given to another reviewer"),
    "appeal.noted": _l("Reviewer's note added"),
    "appeal.request_info": _l("More information requested"),
    "appeal.respond": _l("Shop answered with a new version"),
    "appeal.rule": _l("Ruling given"),
    "appeal.reappeal": _l("Appealed to the second instance"),
    "appeal.close_window": _l("Ruling became final"),
    "appeal.withdraw": _l("Appeal withdrawn"),
    "appeal.expire": _l("Draft expired unsubmitted"),
    "bundle.requested": _l("Evidence bundle requested"),
    "orders.imported": _l("Orders imported"),
    "orders.columns_chosen": _l("Order import columns chosen"),
    "shop.created": _l("Shop created"),
    "user.created": _l("Account created"),
    "user.password_changed": _l("Password changed"),
    "user.password_reset": _l("Password reset by an admin"),
    "user.disabled": _l("Account disabled"),
    "user.enabled": _l("Account enabled"),
    "user.preferences_changed": _l("Preferences changed"),
    "token.created": _l("API token created"),
    "token.revoked": _l("API token revoked"),
    audit.CHECK_ACTION: _l("Audit chain checked"),
}
# What an entry outside any case is about (a complaint's entries show the case instead).
AUDIT_OBJECTS = {
    "shop": _l("Shop"),
    "user": _l("Account"),
    "apitoken": _l("API token"),
    "orderimport": _l("Order import"),
    "complaint": _l("Complaint"),
    "appeal": _l("Appeal"),
    "evidenceitem": _l("Evidence"),
}


def _shop_choices() -> list[tuple[int, str]]:
    return [(shop.id, shop.name) for shop in db().scalars(select(Shop).order_by(Shop.name))]


def _attach(form: FlaskForm, error: DomainError) -> None:
    """Show a domain refusal next to the field it concerns (or above the form)."""
    field = getattr(form, error.field or "", None) or getattr(form, "email", None)
    message = gettext(error.message, **error.params)
    if field is not None and error.field:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


@bp.get("/")
@permission_required(Permission.ADMIN_USER_MANAGE)
def index() -> ResponseReturnValue:
    counts = dict(db().execute(select(User.role, func.count()).group_by(User.role)).all())
    shops = db().scalar(select(func.count()).select_from(Shop))
    entries = db().scalar(select(func.count()).select_from(AuditEvent))
    return render_template(
        "admin/index.html", role_counts=counts, shop_count=shops, audit_entries=entries
    )


@bp.route("/shops", methods=["GET", "POST"])
@permission_required(Permission.ADMIN_SHOP_MANAGE)
def shops() -> ResponseReturnValue:
    form = ShopForm()
    if form.validate_on_submit():
        try:
            shop = accounts.create_shop(db(), current_user, form.name.data)
        except DomainError as error:
            _attach(form, error)
        else:
            db().commit()
            flash(gettext("Shop %(name)s created.", name=shop.name), "success")
            return redirect(url_for(".shops"))
    listing = db().scalars(select(Shop).order_by(Shop.name)).all()
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/shops.html", form=form, shops=listing), status


@bp.route("/users", methods=["GET", "POST"])
@permission_required(Permission.ADMIN_USER_MANAGE)
def users() -> ResponseReturnValue:
    form = UserForm(_shop_choices())
    if form.validate_on_submit():
        try:
            user = _create_user(form)
        except DomainError as error:
            _attach(form, error)
        else:
            db().commit()
            flash(gettext("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for(".users"))
    listing = db().scalars(select(User).order_by(User.role, User.email)).all()
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/users.html", form=form, users=listing), status


def _create_user(form: UserForm) -> User:
    shop = accounts.get_shop(db(), current_user, form.shop.data) if form.shop.data else None
    return accounts.create_user(
        db(),
        current_user,
        email=form.email.data,
        role=Role(form.role.data),
        password=form.password.data,
        shop=shop,
        display_name=form.display_name.data or "",
        time_zone=policies().time_zone,
    )


@bp.get("/users/<int:user_id>")
@permission_required(Permission.ADMIN_USER_MANAGE)
def user(user_id: int) -> ResponseReturnValue:
    return _user_page(accounts.get_user(db(), current_user, user_id))


def _user_page(
    target: User, reset_form: PasswordResetForm | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/user.html",
        user=target,
        reset_form=reset_form or PasswordResetForm(formdata=None),
        action_form=ActionForm(),
    ), status


@bp.post("/users/<int:user_id>/password")
@permission_required(Permission.ADMIN_USER_MANAGE)
def reset_password(user_id: int) -> ResponseReturnValue:
    target = accounts.get_user(db(), current_user, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db(), current_user, target, form.password.data)
        except DomainError as error:
            form.password.errors = [*form.password.errors, gettext(error.message, **error.params)]
        else:
            db().commit()
            flash(gettext("Password set. The user's sessions have been signed out."), "success")
            return redirect(url_for(".user", user_id=target.id))
    return _user_page(target, form, 422)


@bp.post("/users/<int:user_id>/disable")
@permission_required(Permission.ADMIN_USER_MANAGE)
def disable(user_id: int) -> ResponseReturnValue:
    return _set_disabled(user_id, True, gettext("Account disabled; its sessions have ended."))


@bp.post("/users/<int:user_id>/enable")
@permission_required(Permission.ADMIN_USER_MANAGE)
def enable(user_id: int) -> ResponseReturnValue:
    return _set_disabled(user_id, False, gettext("Account enabled."))


def _set_disabled(user_id: int, disabled: bool, done: str) -> ResponseReturnValue:
    target = accounts.get_user(db(), current_user, user_id)
    try:
        accounts.set_disabled(db(), current_user, target, disabled)
    except DomainError as error:
        flash(gettext(error.message, **error.params), "error")
    else:
        db().commit()
        flash(done, "success")
    return redirect(url_for(".user", user_id=target.id))


@bp.route("/complaints/new", methods=["GET", "POST"])
@permission_required(Permission.PLATFORM_COMPLAINT_RECORD)
def new_complaint() -> ResponseReturnValue:
    form = ComplaintForm(_shop_choices())
    if form.validate_on_submit():
        report = {name: getattr(form, name).data for name in intake.FIELDS if hasattr(form, name)}
        report["received_at"] = form.received_at.data
        try:
            received = intake.receive_complaint(
                db(),
                current_user,
                report,
                policy=policies().deadlines,
                time_zone=current_user.time_zone,
            )
        except DomainError as error:
            _attach(form, error)
        else:
            db().commit()
            if received.created:
                flash(
                    gettext("Complaint %(id)s recorded.", id=received.complaint.external_id),
                    "success",
                )
            else:
                flash(
                    gettext(
                        "Complaint %(id)s was already recorded.", id=received.complaint.external_id
                    ),
                    "info",
                )
            return redirect(url_for(".new_complaint"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/complaint.html", form=form), status


_AUDIT_FILTERS = ("case", "actor", "action", "since", "until", "page")


@bp.get("/audit")
@permission_required(Permission.ADMIN_AUDIT_READ)
def audit_trail() -> ResponseReturnValue:
    form = AuditFilterForm(list(AUDIT_ACTIONS.items()), request.args)
    page = None
    if form.validate():
        try:
            page = audit.search(
                db(), current_user, _audit_filter(form),
                page=request.args.get("page", 1, type=int) or 1,
                per_page=current_app.config["PAGE_SIZE"],
            )  # fmt: skip
        except DomainError as error:
            _attach(form, error)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/audit.html", form=form, page=page, query=query, actions=AUDIT_ACTIONS,
        objects=AUDIT_OBJECTS,
        check=audit.last_check(db(), current_user), check_form=ActionForm(),
    ), 200 if page is not None else 422  # fmt: skip


def _audit_filter(form: AuditFilterForm) -> audit.AuditFilter:
    since, until = audit.day_window(
        form.since.data or "", form.until.data or "", current_user.time_zone
    )
    return audit.AuditFilter(
        case=form.case.data or "", actor=form.actor.data or "", action=form.action.data or "",
        since=since, until=until,
    )  # fmt: skip


@bp.post("/audit/check")
@permission_required(Permission.ADMIN_AUDIT_READ)
def check_audit() -> ResponseReturnValue:
    report = audit.check_chain(db(), current_user)
    db().commit()
    if report.intact:
        flash(ngettext("The audit trail is intact: %(num)d entry checked.",
                       "The audit trail is intact: %(num)d entries checked.", report.checked),
              "success")  # fmt: skip
    else:
        flash(gettext("The audit trail is broken at entry %(id)s.", id=report.event_id), "error")
    filters: dict[str, Any] = {k: v for k, v in request.args.items() if k in _AUDIT_FILTERS and v}
    return redirect(url_for(".audit_trail", **filters))
