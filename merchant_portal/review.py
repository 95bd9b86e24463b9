"""The platform reviewers' side: the queue, the review screen, questions, notes, rulings."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from appeals import builds, evidence_search, review
from appeals.errors import DomainError, InvalidInput
from appeals.lifecycle import allowed_actions
from appeals.models import (
    Appeal,
    EvidenceItem,
    InfoRequest,
    MaliciousCategory,
    Outcome,
    ReviewNote,
    Ruling,
    Shop,
)
from appeals.permissions import Permission
from appeals.photo_check import photo_facts
from evidence.metadata import STRIPPABLE, MetadataError, strip_identifying
from evidence.names import content_disposition
from merchant_portal.access import permission_required
from merchant_portal.context import context, policies
from merchant_portal.database import db
from merchant_portal.forms import ActionForm
from merchant_portal.review_forms import NoteForm, QuestionForm, RulingForm

bp = Blueprint("review", __name__)
CLOCKS = ("past_due", "under_24_hours", "paused")
CATEGORY_VALUES = frozenset(c.value for c in MaliciousCategory)


@bp.get("/")
@permission_required(Permission.REVIEW_QUEUE_READ)
def queue() -> ResponseReturnValue:
    args = request.args
    category = args.get("category") or None
    clock = args.get("clock") if args.get("clock") in CLOCKS else None
    shop_id = args.get("shop", type=int)
    page = review.queue_page(
        db(), current_user,
        page=args.get("page", 1, type=int) or 1, per_page=current_app.config["PAGE_SIZE"],
        category=MaliciousCategory(category) if category in CATEGORY_VALUES else None,
        shop_id=shop_id, clock=clock, mine=args.get("mine") == "1",
        unclaimed=args.get("unclaimed") == "1", search=args.get("q", "")[:100],
    )  # fmt: skip
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template(
        "review/queue.html", page=page, appeals=page.items, query=query,
        workload=review.workload(db()),
        shops=list(db().scalars(select(Shop).order_by(Shop.name))), filters=args,
        categories=list(MaliciousCategory), clocks=CLOCKS, action_form=ActionForm(),
    )  # fmt: skip


def _screen(appeal: Appeal, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    version = appeal.versions[-1]
    ids = [entry["evidence_id"] for entry in version.content["exhibits"]]
    items = {i.id: i for i in db().scalars(select(EvidenceItem).where(EvidenceItem.id.in_(ids)))}
    rulings = list(db().scalars(select(Ruling).where(Ruling.appeal_id == appeal.id)
                                .order_by(Ruling.instance)))  # fmt: skip
    query = (request.args.get("q") or "").strip()[:100]
    cited = version.content["exhibits"]
    exhibits = [(e["label"], items[e["evidence_id"]]) for e in cited if e["evidence_id"] in items]
    return render_template(
        "review/appeal.html", appeal=appeal, version=version, items=items, query=query,
        hits=evidence_search.search(context().store, exhibits, query) if query else [],
        facts={item.id: found for item in items.values()
               if (found := photo_facts(db(), item, context().store, reviewer=True))},
        previews={i.id: _preview(i) for i in items.values() if not i.is_image},
        changes=review.changes_since(appeal), rulings=rulings,
        notes=list(db().scalars(select(ReviewNote).where(ReviewNote.appeal_id == appeal.id)
                                .order_by(ReviewNote.id))),
        requests=list(db().scalars(select(InfoRequest).where(InfoRequest.appeal_id == appeal.id)
                                   .order_by(InfoRequest.id))),
        actions=[a.value for a in allowed_actions(appeal, current_user)],
        assigned=appeal.reviewer_id == current_user.id, form=request.form, errors=errors or {},
        action_form=ActionForm(), outcomes=list(Outcome),
        merchant_measures=review.MERCHANT_MEASURES, buyer_measures=review.BUYER_MEASURES,
        build=builds.current_build(db(), version),
        dossier=_dossier(appeal, version),
        pauses=review.pauses(db(), appeal),
    ), status  # fmt: skip


def _dossier(appeal: Appeal, version: Any) -> Any:
    """The complainant dossier as of the latest submission, from the shop's own records."""
    from appeals.bundle import ShopReader
    from merchant_portal.merchant import dossier_of

    return dossier_of(appeal.complaint_id, version.submitted_at, ShopReader(appeal.shop_id))


def _preview(item: EvidenceItem) -> dict[str, Any] | None:
    """The first rows of a table, or the first lines of a chat export, to read in place."""
    import json

    from merchant_portal.locker import blob_store

    if item.content_key is None:
        return None
    with blob_store().open(item.content_key) as handle:
        raw = handle.read(400_000)
    if item.media_type == "text/plain" or item.rows is None:
        return {"lines": raw.decode("utf-8", errors="replace").splitlines()[:40]}
    try:
        table = json.loads(raw)
    except ValueError:  # cut short inside a long table: show what parses
        return None
    return {"header": table["header"], "rows": table["rows"][:15], "total": item.rows}


@bp.get("/appeals/<int:appeal_id>")
@permission_required(Permission.REVIEW_QUEUE_READ)
def appeal(appeal_id: int) -> ResponseReturnValue:
    return _screen(review.review_appeal(db(), current_user, appeal_id))


@bp.post("/appeals/<int:appeal_id>/claim")
@permission_required(Permission.REVIEW_QUEUE_READ)
def claim(appeal_id: int) -> ResponseReturnValue:
    found = review.review_appeal(db(), current_user, appeal_id)
    if ActionForm().validate_on_submit():
        try:
            review.claim(db(), current_user, found)
        except DomainError as error:
            db().rollback()
            flash(gettext(error.message, **error.params), "error")
        else:
            db().commit()
            flash(gettext("The appeal is yours to review."), "success")
    return redirect(url_for(".appeal", appeal_id=found.id))


@bp.post("/appeals/<int:appeal_id>/assign")
@permission_required(Permission.REVIEW_QUEUE_READ)
def assign(appeal_id: int) -> ResponseReturnValue:
    found = review.review_appeal(db(), current_user, appeal_id)
    if ActionForm().validate_on_submit():
        try:
            review.assign(db(), current_user, found, request.form.get("reviewer", type=int) or 0)
        except InvalidInput as error:
            flash(gettext(error.message, **error.params), "error")
            return redirect(url_for(".queue"))
        db().commit()
        flash(gettext("Assigned."), "success")
    return redirect(url_for(".queue"))


@bp.post("/appeals/<int:appeal_id>/notes")
@permission_required(Permission.REVIEW_QUEUE_READ)
def note(appeal_id: int) -> ResponseReturnValue:
    found = review.review_appeal(db(), current_user, appeal_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _screen(found, status=400)
    try:
        review.add_note(db(), current_user, found, form.body.data or "")
    except InvalidInput as error:
        return _screen(found, form.refuse(error), 422)
    db().commit()
    return redirect(url_for(".appeal", appeal_id=found.id, _anchor="notes"))


@bp.post("/appeals/<int:appeal_id>/request-info")
@permission_required(Permission.REVIEW_QUEUE_READ)
def request_info(appeal_id: int) -> ResponseReturnValue:
    found = review.review_appeal(db(), current_user, appeal_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _screen(found, status=400)
    try:
        review.request_info(db(), current_user, found, form.question.data or "",
                            form.due(current_user.time_zone), policy=policies().review)  # fmt: skip
    except InvalidInput as error:
        return _screen(found, form.refuse(error), 422)
    db().commit()
    flash(gettext("Question sent. Your clock stands still until the merchant answers."), "success")
    return redirect(url_for(".appeal", appeal_id=found.id))


@bp.post("/appeals/<int:appeal_id>/rule")
@permission_required(Permission.REVIEW_QUEUE_READ)
def rule(appeal_id: int) -> ResponseReturnValue:
    found = review.review_appeal(db(), current_user, appeal_id)
    form = RulingForm.for_version(found.versions[-1])
    if not form.validate_on_submit():
        return _screen(found, status=400)
    try:
        review.rule(db(), current_user, found, form.ruling_input(), policy=policies().review)
    except InvalidInput as error:
        return _screen(found, form.refuse(error), 422)
    db().commit()
    flash(gettext("Ruling recorded. The merchant can read it now."), "success")
    return redirect(url_for(".appeal", appeal_id=found.id))


@bp.get("/appeals/<int:appeal_id>/exhibits/<int:item_id>/<any(preview, original):kind>")
@permission_required(Permission.REVIEW_QUEUE_READ)
def exhibit(appeal_id: int, item_id: int, kind: str) -> ResponseReturnValue:
    """A cited exhibit for the reviewer: only files a submitted version cites."""
    found = review.review_appeal(db(), current_user, appeal_id)
    cited = {e["evidence_id"] for v in found.versions for e in v.content["exhibits"]}
    item = db().get(EvidenceItem, item_id) if item_id in cited else None
    if item is None:
        abort(404)
    from merchant_portal.locker import _send

    if kind == "original":
        return _reviewer_copy(item) or _send(
            item, item.blob_key, item.media_type, item.display_name, attachment=True
        )
    key = item.redacted_key or item.normalized_key
    if key is None or not item.is_image:
        abort(404)
    lossless = item.media_type in ("image/png", "image/webp")
    return _send(item, key, "image/png" if lossless else "image/jpeg", "preview", attachment=False)


def _reviewer_copy(item: EvidenceItem) -> ResponseReturnValue | None:
    """The picture without its GPS and device fields, as in the bundle ZIP (None: send the
    original as it is, because the merchant kept them or there is nothing to take out)."""
    from merchant_portal.locker import blob_store

    if item.keep_metadata or item.media_type not in STRIPPABLE:
        return None
    with blob_store().open(item.blob_key) as reader:
        data = reader.read()
    try:
        copy, removed = strip_identifying(data, item.media_type)
    except MetadataError:
        abort(409)
    if not removed:
        return None
    response = send_file(
        BytesIO(copy), mimetype=item.media_type, as_attachment=True,
        download_name=item.display_name, max_age=0, conditional=False, etag=False,
    )  # fmt: skip
    # Never a path in any form of the name (Werkzeug's ASCII fallback folds ．．／ into ../).
    response.headers["Content-Disposition"] = content_disposition(item.display_name, True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/dashboard")
@permission_required(Permission.PLATFORM_INSIGHT_READ)
def dashboard() -> ResponseReturnValue:
    from appeals.insight import platform_insight
    from merchant_portal import charts
    from merchant_portal.i18n import label

    found = platform_insight(db(), current_user)
    outcomes = [o.value for o in Outcome]
    legend = [label(Outcome(o)) for o in outcomes]

    def split(table: dict[str, dict[str, int]], name: Any) -> Any:
        rows = [(name(key), [(label(Outcome(o)), counts.get(o, 0)) for o in outcomes])
                for key, counts in sorted(table.items())]  # fmt: skip
        return rows

    category_chart = charts.stacked(
        split(found.by_category, lambda key: label(MaliciousCategory(key))),
        title=gettext("Outcomes by category"), legend=legend,
    )  # fmt: skip
    reviewer_chart = charts.stacked(
        split(found.by_reviewer, str), title=gettext("Outcomes by reviewer"), legend=legend
    )
    total = found.sla_met + found.sla_missed
    return render_template(
        "review/dashboard.html", insight=found, category_chart=category_chart,
        reviewer_chart=reviewer_chart,
        sla_percent=round(100 * found.sla_met / total) if total else None,
    )  # fmt: skip
