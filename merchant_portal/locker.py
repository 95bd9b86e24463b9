"""The evidence locker of a complaint: upload, gallery, downloads, removal."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    current_app,
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
from evidence.errors import RejectedUpload
from evidence.storage import BlobStore, LocalStore, S3Store
from merchant_portal.access import permission_required
from merchant_portal.database import db
from merchant_portal.forms import ActionForm, EvidenceForm

bp = Blueprint("locker", __name__)


def init_app(app: Flask) -> None:
    """Choose the blob store: an S3-compatible bucket when configured, else a local folder."""
    if app.config.get("S3_BUCKET"):
        store: BlobStore = S3Store.from_endpoint(
            app.config["S3_BUCKET"], app.config.get("S3_ENDPOINT_URL")
        )
    else:
        store = LocalStore(Path(app.config["DATA_DIR"]) / "blobs")
    app.extensions["appeal_desk.blobs"] = store


def blob_store() -> BlobStore:
    store: BlobStore = current_app.extensions["appeal_desk.blobs"]
    return store


def policy() -> locker.LockerPolicy:
    return locker.LockerPolicy(max_file_bytes=current_app.config["EVIDENCE_MAX_BYTES"])


def receive(
    complaint: Complaint, upload: FileStorage, kind: EvidenceKind, caption: str
) -> dict[str, object]:
    """Take one uploaded file; the outcome in words for the person who sent it."""
    name = upload.filename or "file"
    try:
        item = locker.receive_file(
            db(), current_user, complaint, upload.stream, filename=name, kind=kind, caption=caption,
            store=blob_store(), workdir=Path(current_app.config["DATA_DIR"]) / "quarantine",
            policy=policy(),
        )  # fmt: skip
    except (RejectedUpload, DomainError) as refused:
        db().rollback()
        return {"name": name, "accepted": False, "code": refused.code,
                "message": gettext(refused.message, **refused.params)}  # fmt: skip
    db().commit()
    return {"name": item.display_name, "accepted": True, "id": item.id,
            "message": gettext("Accepted as %(type)s.", type=item.media_type)}  # fmt: skip


def _page(
    complaint: Complaint, form: EvidenceForm, results: list[dict[str, object]], status: int = 200
) -> ResponseReturnValue:
    items = locker.list_items(db(), complaint)
    return render_template(
        "merchant/locker.html", complaint=complaint, form=form, results=results, items=items,
        action_form=ActionForm(), max_mb=current_app.config["EVIDENCE_MAX_BYTES"] // 2**20,
    ), status  # fmt: skip


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
    results = [
        receive(complaint, upload, kind, form.caption.data or "") for upload in form.files.data
    ]
    if request.accept_mimetypes.best == "application/json":
        return jsonify(results), 200 if any(r["accepted"] for r in results) else 422
    return _page(complaint, EvidenceForm(formdata=None, data={"kind": kind.value}), results)


def _send(
    item: EvidenceItem, key: str, media_type: str, download_name: str, attachment: bool
) -> ResponseReturnValue:
    response = send_file(
        blob_store().open(key), mimetype=media_type, as_attachment=attachment,
        download_name=download_name, max_age=0, conditional=False, etag=False,
    )  # fmt: skip
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
    if item.thumbnail_key is None:
        return "", 404
    return _send(item, item.thumbnail_key, "image/jpeg", "thumbnail.jpg", attachment=False)


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
