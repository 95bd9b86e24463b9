"""Bundles on the web: ask for a build, follow it, download it, verify one. Shared by the
portal pages and the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
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

from appeals import builds
from appeals.bundle import Verification, verify
from appeals.models import Appeal, BuildState, BundleBuild
from appeals.permissions import Actor, Permission
from evidence.errors import RejectedUpload
from evidence.intake import discard, quarantine
from evidence.names import content_disposition
from merchant_portal import jobs
from merchant_portal.access import permission_required
from merchant_portal.context import context
from merchant_portal.database import db
from merchant_portal.forms import ActionForm, VerifyBundleForm
from merchant_portal.locker import blob_store

bp = Blueprint("bundle", __name__)
MEDIA = {"pdf": "application/pdf", "zip": "application/zip"}
VERIFY_MAX_BYTES = 2 * 1024**3


def ensure_build(actor: Actor, appeal: Appeal) -> BundleBuild:
    """The build of the latest version: queued now if it is new, failed or lost."""
    build, start = builds.request_build(db(), actor, appeal)
    db().commit()
    if start:
        jobs.enqueue(build.id)
        db().refresh(build)
    return build


def send_bundle(appeal: Appeal, build: BundleBuild, kind: str) -> ResponseReturnValue:
    key = build.pdf_key if kind == "pdf" else build.zip_key
    assert key is not None
    name = f"{appeal.number}-v{build.version.number}-bundle.{kind}"
    response = send_file(
        blob_store().open(key), mimetype=MEDIA[kind], as_attachment=True,
        download_name=name, max_age=0, conditional=False, etag=False,
    )  # fmt: skip
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Digest"] = f"sha-256={key}"
    return response


def status_json(appeal: Appeal, build: BundleBuild) -> dict[str, Any]:
    ready = build.state is BuildState.READY
    return {
        "appeal": appeal.number,
        "version": build.version.number,
        "state": build.state.value,
        "percent": build.percent,
        "pages": build.pages,
        "pdf_size": build.pdf_size,
        "zip_size": build.zip_size,
        "pdf_sha256": build.pdf_key,
        "zip_sha256": build.zip_key,
        "fit": (build.report or {}).get("fit", []),
        "error": gettext("The bundle could not be built. Try again; if it fails again, contact "
                         "the platform.") if build.state is BuildState.FAILED else None,
        "pdf_url": url_for("bundle.download", appeal_id=appeal.id, kind="pdf") if ready else None,
        "zip_url": url_for("bundle.download", appeal_id=appeal.id, kind="zip") if ready else None,
    }  # fmt: skip


@bp.url_value_preprocessor
def _allow_whole_bundles(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """A bundle ZIP holds every original: far more than the portal's usual request cap.

    URL preprocessors run before any before_request hook (the CSRF check reads the form),
    so the larger cap is in place before the body is parsed.
    """
    if endpoint == "bundle.verify_upload" and request.method == "POST":
        request.max_content_length = VERIFY_MAX_BYTES


@bp.post("/appeals/<int:appeal_id>/bundle")
@permission_required(Permission.APPEAL_BUNDLE_DOWNLOAD)
def start(appeal_id: int) -> ResponseReturnValue:
    appeal = builds.bundle_appeal(db(), current_user, appeal_id)
    if ActionForm().validate_on_submit():
        ensure_build(current_user, appeal)
    page = "appeal.show" if current_user.role.is_merchant else "review.appeal"
    return redirect(url_for(page, appeal_id=appeal.id, _anchor="bundle"))


@bp.get("/appeals/<int:appeal_id>/bundle")
@permission_required(Permission.APPEAL_BUNDLE_DOWNLOAD)
def status(appeal_id: int) -> ResponseReturnValue:
    appeal = builds.bundle_appeal(db(), current_user, appeal_id)
    build = builds.current_build(db(), builds.latest_version(appeal))
    if build is None:
        return jsonify({"appeal": appeal.number, "state": "none", "percent": 0})
    return jsonify(status_json(appeal, build))


@bp.get("/appeals/<int:appeal_id>/bundle.<any(pdf, zip):kind>")
@permission_required(Permission.APPEAL_BUNDLE_DOWNLOAD)
def download(appeal_id: int, kind: str) -> ResponseReturnValue:
    appeal = builds.bundle_appeal(db(), current_user, appeal_id)
    build = builds.current_build(db(), builds.latest_version(appeal))
    if build is None or build.state is not BuildState.READY:
        return render_template("merchant/bundle_wait.html", appeal=appeal, build=build,
                               form=ActionForm()), 409  # fmt: skip
    return send_bundle(appeal, build, kind)


@bp.route("/review/verify", methods=["GET", "POST"])
@permission_required(Permission.REVIEW_BUNDLE_VERIFY)
def verify_upload() -> ResponseReturnValue:
    form = VerifyBundleForm()
    result = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            folder = context().quarantine
            try:
                received = quarantine(form.bundle.data.stream, folder, VERIFY_MAX_BYTES)
            except RejectedUpload as error:
                form.bundle.errors = [gettext(error.message, **error.params)]
                status = 422
            else:
                try:
                    result = verify(received.path, context().bundle_trust())
                finally:
                    discard(received)
        else:
            status = 422
    return render_template("review/verify.html", form=form, result=result), status


def verify_file(path: Path) -> Verification:
    """Check a bundle ZIP against this portal's published keys (and its old HMAC key)."""
    return verify(path, context().bundle_trust())
