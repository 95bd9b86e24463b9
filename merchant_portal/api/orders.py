"""Order exports by API: the same preview and import as the portal's, in one request."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext
from pydantic import BaseModel
from spectree import Response as SpecResponse

from appeals import order_import
from appeals.errors import N_, InvalidInput, RefusedFile
from evidence.errors import RejectedUpload
from merchant_portal.api.frame import BEARER, api, current_api_user, problem_responses, spec
from merchant_portal.database import db
from merchant_portal.orders import plan_of, receive_export


class ImportIn(BaseModel):
    apply: bool = False  # false: the preview only; true: import the orders too


class ColumnOut(BaseModel):
    header: str
    field: str | None
    samples: list[str]


class RowErrorOut(BaseModel):
    row: int
    column: str
    message: str


class ImportOut(BaseModel):
    id: int
    filename: str
    platform: str
    header_row: int
    rows_read: int
    orders: int
    skipped_rows: int
    failed_rows: int
    missing_columns: list[str]
    other_shop: str | None
    columns: list[ColumnOut]
    errors: list[RowErrorOut]
    applied: bool
    result: dict[str, int] | None


@api.post("/orders/import")
@spec.validate(
    form=ImportIn,
    resp=SpecResponse(
        HTTP_200=ImportOut, HTTP_201=ImportOut, **problem_responses(401, 403, 409, 413, 422)
    ),
    security=BEARER,
    tags=["orders"],
)
def import_orders(form: ImportIn) -> Any:
    """Read a platform's order export (multipart `file`): how it is read, and, with
    `apply=true`, import it (201). Re-importing updates by order number."""
    actor = current_api_user()
    order_import.importing_shop(actor)  # who may import, before a byte is kept
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput(N_("This field is required."), field="file")
    try:
        stored = receive_export(upload)
    except RejectedUpload as refused:
        raise RefusedFile(refused.code, refused.message, **refused.params) from None
    record = order_import.start_import(db(), actor, upload.filename or "", stored)
    db().commit()
    plan = plan_of(record, actor.time_zone)
    result = None
    if form.apply:
        outcome = order_import.apply_import(db(), actor, record, plan)
        db().commit()
        result = {**outcome.as_dict(), "linked_complaints": record.summary["linked_complaints"]}
    body = ImportOut(
        id=record.id, filename=record.filename, platform=plan.platform.value,
        header_row=plan.header_row, rows_read=plan.rows_read, orders=plan.order_count,
        skipped_rows=plan.skipped_rows, failed_rows=plan.failed_rows,
        missing_columns=plan.missing_required, other_shop=plan.foreign_shop,
        columns=[ColumnOut(header=c.header, field=c.field, samples=list(c.samples))
                 for c in plan.columns],
        errors=[RowErrorOut(row=e.row, column=e.column, message=gettext(e.message, **e.params))
                for e in plan.errors[:500]],
        applied=result is not None, result=result,
    )  # fmt: skip
    return body, 201 if result is not None else 200
