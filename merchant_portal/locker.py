"""The evidence locker of a complaint: upload, gallery, downloads, removal."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from appeals import locker
from appeals.errors import DomainError
from appeals.models import Complaint, EvidenceItem, EvidenceKind
from appeals.permissions import Permission
from appeals.photo_check import photo_facts
from evidence.errors import RejectedUpload
from evidence.names import content_disposition
from evidence.storage import BlobStore
from evidence.tables import N_
from merchant_portal import jobs
from merchant_portal.access import permission_required
from merchant_portal.context import context, policies
from merchant_portal.database import db
from merchant_portal.forms import (
    ActionForm,
    AttachForm,
    EditEvidenceForm,
    EvidenceForm,
    RedactForm,
)
from merchant_portal.i18n import file_type, label

bp = Blueprint("locker", __name__)


def blob_store() -> BlobStore:
    """This app's blob store (chosen by the configuration, in its context)."""
    return context().store


def receive(
    complaint: Complaint,
    upload: FileStorage,
    kind: EvidenceKind,
    caption: str,
    *,
    drawn: bool = False,
) -> dict[str, object]:
    """Take one uploaded file; the outcome in words for the person who sent it (and, when
    `drawn`, the file as the gallery shows it, for the page to add without a reload)."""
    name = upload.filename or "file"
    try:
        item = locker.receive_file(
            db(), current_user, complaint, upload.stream, filename=name, kind=kind, caption=caption,
            store=blob_store(), workdir=context().quarantine,
            policy=policies().locker, read=context().reads,
        )  # fmt: skip
    except (RejectedUpload, DomainError) as refused:
        db().rollback()
        return {"name": name, "accepted": False, "code": refused.code,
                "message": gettext(refused.message, **refused.params)}  # fmt: skip
    db().commit()
    return {"name": item.display_name, "accepted": True, "id": item.id,
            "reading": item.reading_state.value if item.reading_state else None,
            "message": gettext("Accepted as %(type)s.", type=file_type(item.media_type)),
            **({"html": item_html(complaint, item)} if drawn else {})}  # fmt: skip


def _page(
    complaint: Complaint,
    form: EvidenceForm,
    results: list[dict[str, object]],
    status: int = 200,
    attach_form: AttachForm | None = None,
    edited: tuple[int, EditEvidenceForm] | None = None,
) -> ResponseReturnValue:
    from appeals.appeal import budget_for

    items = locker.list_items(db(), complaint)
    return render_template(
        "merchant/locker.html", complaint=complaint, form=form, results=results, items=items,
        action_form=ActionForm(), max_mb=policies().locker.max_file_bytes // 2**20,
        budget=budget_for(items, 0, policies().budget),
        facts={item.id: found for item in items
               if (found := photo_facts(db(), item, blob_store(), reviewer=False))},
        attach_form=attach_form or _attach_form(complaint, formdata=None),
        edit_forms={item.id: edited[1] if edited and edited[0] == item.id else _edit_form(item)
                    for item in items},
    ), status  # fmt: skip


def _edit_form(item: EvidenceItem) -> EditEvidenceForm:
    return EditEvidenceForm(
        formdata=None,
        data={"kind": item.kind.value, "caption": item.caption,
              "keep_metadata": item.keep_metadata},
    )  # fmt: skip


def item_html(complaint: Complaint, item: EvidenceItem) -> str:
    """One file as the locker's gallery draws it, for an upload to add in place."""
    facts = photo_facts(db(), item, blob_store(), reviewer=False)
    return render_template(
        "merchant/_evidence_item.html", item=item, complaint=complaint,
        facts={item.id: facts} if facts else {}, edit_forms={item.id: _edit_form(item)},
        action_form=ActionForm(),
    )  # fmt: skip


def _attach_form(complaint: Complaint, formdata: object = None) -> AttachForm:
    offered = locker.reusable_items(db(), complaint)
    return AttachForm(formdata=formdata).offer(
        offered, lambda item: gettext("complaint %(id)s", id=item.complaint.external_id)
    )


@bp.post("/complaints/<int:complaint_id>/evidence/attach")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def attach(complaint_id: int) -> ResponseReturnValue:
    """File a file of another complaint of the shop here too, without uploading it again."""
    complaint = locker.locker_complaint(db(), current_user, complaint_id)
    form = _attach_form(complaint, request.form)
    if not form.validate():
        return _page(complaint, EvidenceForm(formdata=None), [], 422, form)
    try:
        item = locker.attach_existing(
            db(), current_user, complaint, form.item_id.data, policies().locker
        )
    except (DomainError, RejectedUpload) as refused:
        db().rollback()
        form = _attach_form(complaint, request.form)
        form.item_id.errors = [gettext(refused.message, **refused.params)]
        return _page(complaint, EvidenceForm(formdata=None), [], 409, form)
    db().commit()
    flash(gettext("“%(name)s” is now in this locker too.", name=item.display_name), "success")
    return redirect(url_for(".index", complaint_id=complaint.id))


@bp.get("/complaints/<int:complaint_id>/evidence")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def index(complaint_id: int) -> ResponseReturnValue:
    complaint = locker.locker_complaint(db(), current_user, complaint_id)
    return _page(complaint, EvidenceForm(formdata=None), [])


@bp.post("/complaints/<int:complaint_id>/evidence")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def upload(complaint_id: int) -> ResponseReturnValue:
    complaint = locker.locker_complaint(db(), current_user, complaint_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        if request.accept_mimetypes.best == "application/json":
            message = " ".join(str(error) for errors in form.errors.values() for error in errors)
            return jsonify(
                [{"name": "", "accepted": False, "code": "invalid", "message": message}]
            ), 422
        return _page(complaint, form, [], 422)
    kind = EvidenceKind(form.kind.data)
    # Only reads so far: end the transaction, so that no lock is held while files decode.
    db().rollback()
    drawn = request.accept_mimetypes.best == "application/json"
    results = [
        receive(complaint, upload, kind, form.caption.data or "", drawn=drawn)
        for upload in form.files.data
    ]
    jobs.enqueue_reading(
        [r["id"] for r in results if r.get("reading") and isinstance(r["id"], int)]
    )
    jobs.enqueue_copies([r["id"] for r in results if r["accepted"] and isinstance(r["id"], int)])
    status = 200 if any(r["accepted"] for r in results) else 422
    if request.accept_mimetypes.best == "application/json":
        return jsonify(results), status
    return _page(complaint, EvidenceForm(formdata=None, data={"kind": kind.value}), results, status)


@bp.get("/complaints/<int:complaint_id>/evidence/readings")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def readings(complaint_id: int) -> ResponseReturnValue:
    """Where the reading of each file stands, for the locker page to follow."""
    complaint = locker.locker_complaint(db(), current_user, complaint_id)
    return jsonify(
        [
            {"id": item.id, "state": item.reading_state.value,
             "label": str(label(item.reading_state))}
            for item in locker.list_items(db(), complaint)
            if item.reading_state is not None
        ]
    )  # fmt: skip


def _send(
    item: EvidenceItem, key: str, media_type: str, download_name: str, attachment: bool
) -> ResponseReturnValue:
    response = send_file(
        blob_store().open(key), mimetype=media_type, as_attachment=attachment,
        download_name=download_name, max_age=0, conditional=False, etag=False,
    )  # fmt: skip
    # Werkzeug's ASCII fallback folds full-width ．．／ into ../: every form names one file.
    response.headers["Content-Disposition"] = content_disposition(download_name, attachment)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/evidence/<int:item_id>/original")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def original(item_id: int) -> ResponseReturnValue:
    item = locker.get_item(db(), current_user, item_id)
    return _send(item, item.blob_key, item.media_type, item.display_name, attachment=True)


@bp.get("/evidence/<int:item_id>/thumbnail")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def thumbnail(item_id: int) -> ResponseReturnValue:
    item = locker.get_item(db(), current_user, item_id)
    key = item.redacted_thumbnail_key or item.thumbnail_key
    if key is None:
        return "", 404
    return _send(item, key, "image/jpeg", "thumbnail.jpg", attachment=False)


@bp.get("/evidence/<int:item_id>/preview")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def preview(item_id: int) -> ResponseReturnValue:
    """The cleaned image (upright, no metadata), or its redacted copy with ?redacted=1."""
    item = locker.get_item(db(), current_user, item_id)
    key = item.redacted_key if request.args.get("redacted") else item.normalized_key
    if key is None or not item.is_image:
        return "", 404
    media_type = "image/png" if item.media_type in ("image/png", "image/webp") else "image/jpeg"
    return _send(item, key, media_type, "preview", attachment=False)


def parse_boxes(text: str) -> list[list[float]]:
    """'left, top, width, height' in percent, one box per line, into fractions."""
    boxes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            values = [float(part) / 100 for part in line.replace("%", "").split(",")]
        except ValueError:
            raise RejectedUpload("redaction_boxes", N_("A box is not four numbers.")) from None
        boxes.append(values)
    return boxes


@bp.route("/evidence/<int:item_id>/redact", methods=["GET", "POST"])
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def redact(item_id: int) -> ResponseReturnValue:
    item = locker.get_item(db(), current_user, item_id)
    form = RedactForm()
    suggestions = locker.redaction_suggestions(db(), item, blob_store())
    answers = {s.id: answer for s in suggestions
               if (answer := request.form.get(f"s_{s.id}")) in locker.ANSWERS}  # fmt: skip
    if form.validate_on_submit():
        try:
            made = locker.redact_item(
                db(), current_user, item, parse_boxes(form.boxes.data or ""), store=blob_store(),
                workdir=context().quarantine, answers=answers,
            )  # fmt: skip
        except (RejectedUpload, DomainError) as refused:
            db().rollback()
            form.boxes.errors = [gettext(refused.message, **refused.params)]
        else:
            db().commit()
            flash(
                gettext("Redacted copy saved; bundles will use it. The original is kept.")
                if made
                else gettext("Your answers are recorded; nothing is covered."),
                "success",
            )
            return redirect(url_for(".redact", item_id=item.id))
    elif not form.is_submitted() and item.redaction:
        form.boxes.data = "\n".join(
            ", ".join(f"{v * 100:.2f}" for v in box) for box in _own_boxes(item)
        )
    complaint = locker.locker_complaint(db(), current_user, item.complaint_id)
    status = 422 if form.errors else 200
    given = {entry["id"]: entry["answer"] for entry in item.suggestion_answers or []}
    return render_template(
        "merchant/redact.html", item=item, complaint=complaint, form=form,
        suggestions=suggestions, answers={**given, **answers} if form.is_submitted() else given,
    ), status  # fmt: skip


def _own_boxes(item: EvidenceItem) -> list[list[float]]:
    """The boxes the merchant drew: the redaction without the accepted suggestions' boxes."""
    accepted = [entry["box"] for entry in item.suggestion_answers or []
                if entry["answer"] == "accepted"]  # fmt: skip
    return [
        box for box in item.redaction or []
        if not any(all(abs(a - b) < 1e-4 for a, b in zip(box, other, strict=True))
                   for other in accepted)
    ]  # fmt: skip


@bp.post("/evidence/<int:item_id>/edit")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def edit(item_id: int) -> ResponseReturnValue:
    """What a file shows and its caption; a refusal is said in the file's own form."""
    item = locker.get_item(db(), current_user, item_id)
    complaint = locker.locker_complaint(db(), current_user, item.complaint_id)
    form = EditEvidenceForm()
    if form.validate_on_submit():
        try:
            locker.edit_item(db(), current_user, item, kind=EvidenceKind(form.kind.data),
                             caption=form.caption.data or "",
                             keep_metadata=bool(form.keep_metadata.data))  # fmt: skip
        except DomainError as refused:
            db().rollback()
            item = locker.get_item(db(), current_user, item_id)
            field = form.caption if refused.field == "caption" else form.kind
            field.errors = [gettext(refused.message, **refused.params)]
        else:
            db().commit()
            flash(gettext("“%(name)s” is saved.", name=item.display_name), "success")
            return redirect(url_for(".index", complaint_id=complaint.id))
    return _page(complaint, EvidenceForm(formdata=None), [], 422, edited=(item.id, form))


@bp.post("/evidence/<int:item_id>/remove")
@permission_required(Permission.MERCHANT_EVIDENCE_MANAGE)
def remove(item_id: int) -> ResponseReturnValue:
    item = locker.get_item(db(), current_user, item_id)
    complaint_id = item.complaint_id
    try:
        locker.remove_item(db(), current_user, item)
    except DomainError as error:
        flash(gettext(error.message, **error.params), "error")
    else:
        db().commit()
        flash(gettext("The file was removed from the locker."), "success")
    return redirect(url_for(".index", complaint_id=complaint_id))
