"""The merchant's orders: the list, and imports of platform order exports."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from appeals import complaints, order_import
from appeals.errors import DomainError
from appeals.models import OrderImport, Shop
from appeals.permissions import Permission
from evidence.errors import RejectedUpload
from evidence.intake import discard, quarantine
from evidence.tables import N_, iter_rows
from merchant_portal.access import permission_required
from merchant_portal.context import context, policies
from merchant_portal.database import db
from merchant_portal.forms import ActionForm, ColumnsForm, ImportForm

bp = Blueprint("orders", __name__)


def _folder() -> Path:
    return Path(current_app.config["DATA_DIR"]) / "imports"


def plan_of(record: OrderImport, time_zone: str) -> order_import.ImportPlan:
    """How an uploaded export reads for its shop (the portal's preview and the API's)."""
    return order_import.plan_for_shop(
        db(),
        record.shop_id,
        iter_rows(_folder() / record.stored_name, policies().imports),
        time_zone=time_zone,
        fingerprint_key=context().fingerprint_key,
    )


def _plan(record: OrderImport) -> order_import.ImportPlan:
    return plan_of(record, current_user.time_zone)


# Previews already read, in this process: a 50,000-row export takes seconds to read, and
# the preview is opened again after each column choice. What is kept is small: counts,
# columns, the first errors and three sample orders.
_PREVIEWS: dict[tuple[Any, ...], order_import.ImportPlan] = {}


def _preview_plan(record: OrderImport) -> order_import.ImportPlan:
    shop = db().get_one(Shop, record.shop_id)
    key = (record.id, record.stored_name, current_user.time_zone,
           json.dumps(shop.import_columns or {}, sort_keys=True), shop.name)  # fmt: skip
    found = _PREVIEWS.get(key)
    if found is None:
        plan = _plan(record)
        found = replace(plan, orders=dict(list(plan.orders.items())[:3]), errors=plan.errors[:500])
        if len(_PREVIEWS) >= 16:
            _PREVIEWS.pop(next(iter(_PREVIEWS)))
        _PREVIEWS[key] = found
    return found


def receive_export(upload: FileStorage) -> str:
    """Keep the upload only if it reads as a table; a refused file is removed at once."""
    received = quarantine(upload.stream, _folder(), policies().imports.max_bytes)
    try:
        if not any(any(row) for row in iter_rows(received.path, policies().imports)):
            raise RejectedUpload("empty", N_("The file has no rows."))
    except RejectedUpload:
        discard(received)
        raise
    return received.path.name


@bp.get("/orders")
@permission_required(Permission.MERCHANT_ORDER_READ)
def index() -> ResponseReturnValue:
    search = request.args.get("q", "")[:100]
    page = complaints.list_orders(
        db(),
        current_user,
        search=search,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("orders/index.html", page=page, search=search)


@bp.get("/orders/<int:order_id>")
@permission_required(Permission.MERCHANT_ORDER_READ)
def order(order_id: int) -> ResponseReturnValue:
    found = complaints.get_order(db(), current_user, order_id)
    return render_template("orders/order.html", order=found)


@bp.route("/orders/import", methods=["GET", "POST"])
@permission_required(Permission.MERCHANT_ORDER_IMPORT)
def upload() -> ResponseReturnValue:
    form = ImportForm()
    if form.validate_on_submit():
        try:
            stored = receive_export(form.file.data)
        except RejectedUpload as error:
            form.file.errors = [gettext(error.message, **error.params)]
        else:
            record = order_import.start_import(
                db(), current_user, form.file.data.filename or "", stored
            )
            db().commit()
            return redirect(url_for(".preview", import_id=record.id))
    history = order_import.recent_imports(db(), current_user)
    status = 422 if form.errors else 200
    return render_template("orders/upload.html", form=form, history=history), status


@bp.get("/orders/import/<int:import_id>")
@permission_required(Permission.MERCHANT_ORDER_IMPORT)
def preview(import_id: int) -> ResponseReturnValue:
    record = order_import.get_import(db(), current_user, import_id)
    plan = None if record.summary else _preview_plan(record)
    columns = ColumnsForm.for_plan(plan) if plan else None
    return _preview(record, plan, columns)


def _preview(
    record: OrderImport,
    plan: order_import.ImportPlan | None,
    columns: ColumnsForm | None,
    status: int = 200,
) -> ResponseReturnValue:
    return (
        render_template(
            "orders/preview.html", record=record, plan=plan, form=ActionForm(), columns=columns
        ),
        status,
    )


@bp.post("/orders/import/<int:import_id>/columns")
@permission_required(Permission.MERCHANT_ORDER_IMPORT)
def choose_columns(import_id: int) -> ResponseReturnValue:
    """The merchant reads some columns otherwise; the choice is kept for the shop."""
    record = order_import.get_import(db(), current_user, import_id)
    if record.summary:  # applied: its columns are read for good
        flash(gettext("This import has already been applied."), "error")
        return redirect(url_for(".preview", import_id=record.id))
    plan = _preview_plan(record)
    form = ColumnsForm.for_plan(plan, request.form)
    if not form.validate():
        return _preview(record, plan, form, 422)
    try:
        changed = order_import.remember_columns(db(), current_user, record, plan, form.choices())
    except DomainError as error:
        form.refuse(error)
        return _preview(record, plan, form, 422)
    db().commit()
    flash(
        ngettext(
            "%(num)d column is now read your way, for this file and later ones.",
            "%(num)d columns are now read your way, for this file and later ones.",
            changed,
        ),
        "success",
    )
    return redirect(url_for(".preview", import_id=record.id))


@bp.post("/orders/import/<int:import_id>/apply")
@permission_required(Permission.MERCHANT_ORDER_IMPORT)
def apply(import_id: int) -> ResponseReturnValue:
    record = order_import.get_import(db(), current_user, import_id)
    try:
        result = order_import.apply_import(db(), current_user, record, _plan(record))
    except DomainError as error:
        flash(gettext(error.message, **error.params), "error")
        return redirect(url_for(".preview", import_id=record.id))
    db().commit()
    counts = result.as_dict()
    flash(
        gettext(
            "Import finished: %(created)s, %(updated)d updated, %(unchanged)d unchanged, "
            "%(failed)s.",
            created=ngettext("%(num)d new order", "%(num)d new orders", counts["created"]),
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            failed=ngettext("%(num)d row refused", "%(num)d rows refused", counts["failed"]),
        ),
        "success",
    )
    return redirect(url_for(".preview", import_id=record.id))
