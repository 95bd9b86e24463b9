"""Appeal endpoints: create or update a draft, read it, add evidence, submit."""

from typing import Any

from flask import current_app
from pydantic import BaseModel, Field
from spectree import Response as SpecResponse
from sqlalchemy import select

from appeals import appeal as appeals
from appeals import builds, review
from appeals.lifecycle import allowed_actions, check_editable
from appeals.models import Appeal, BuildState, MaliciousCategory, Outcome, Ruling
from appeals.rebuttal import MAX_ROWS, ROW_LABEL_PATTERN
from merchant_portal import bundles
from merchant_portal.api.evidence import EvidenceIn, EvidenceOut, receive_api_file
from merchant_portal.api.frame import BEARER, api, current_api_user, problem_responses, spec
from merchant_portal.api.problems import problem
from merchant_portal.context import policies
from merchant_portal.database import db


class RowIn(BaseModel):
    allegation: str = Field(max_length=4000)
    answer: str = Field("", max_length=4000)
    evidence_ids: list[int] = Field(default_factory=list, max_length=50)


class AppealIn(BaseModel):
    """A draft appeal for a complaint of your shop; posting again updates the draft."""

    complaint_id: int
    category: MaliciousCategory | None = None
    statement: str = Field("", max_length=20_000)
    remedies: list[str] = Field(default_factory=list)
    rows: list[RowIn] = Field(default_factory=list, max_length=MAX_ROWS)


class RowOut(BaseModel):
    allegation: str
    answer: str
    evidence_ids: list[int]


class VersionOut(BaseModel):
    number: int
    content_sha256: str
    late: bool
    submitted_at: str
    content: dict[str, Any]


class AppealOut(BaseModel):
    id: int
    number: str
    complaint_id: int
    state: str
    category: str | None
    statement: str
    remedies: list[str]
    rows: list[RowOut]
    exhibits: list[dict[str, Any]]
    ready: bool
    missing: list[str]
    budget: dict[str, Any]
    allowed_actions: list[str]
    versions: list[VersionOut]
    clocks: dict[str, Any] = Field(default_factory=dict)
    timeline: list[dict[str, Any]] = Field(default_factory=list)
    rulings: list[dict[str, Any]] = Field(default_factory=list)


def _clocks(appeal: Appeal, rulings: list[Ruling]) -> dict[str, Any]:
    request = review.open_request(db(), appeal)
    window = next((r.window_ends_at for r in rulings if r.instance == 1), None)
    open_window = window if window and appeal.state.value == "decided" else None
    return {
        "review_due_at": appeal.review_due_at.isoformat() if appeal.review_due_at else None,
        "review_paused": appeal.state.value == "info_requested",
        "answer_due_at": request.due_at.isoformat() if request else None,
        "reappeal_until": open_window.isoformat() if open_window else None,
        "pauses": [
            {"reason": p.reason, "started_at": p.started_at.isoformat(),
             "ended_at": p.ended_at.isoformat() if p.ended_at else None}
            for p in review.pauses(db(), appeal)
        ],
    }  # fmt: skip


def _ruling_json(ruling: Ruling) -> dict[str, Any]:
    return {
        "instance": ruling.instance, "version": ruling.version, "outcome": ruling.outcome.value,
        "findings": ruling.findings, "insufficient": ruling.insufficient,
        "rule_applied": ruling.rule_applied, "merchant_measures": ruling.merchant_measures,
        "buyer_measures": ruling.buyer_measures, "restore_points": ruling.restore_points,
        "summary": ruling.summary, "decided_at": ruling.decided_at.isoformat(),
        "window_ends_at": ruling.window_ends_at.isoformat() if ruling.window_ends_at else None,
    }  # fmt: skip


def appeal_out(appeal: Appeal) -> AppealOut:
    session, actor = db(), current_api_user()
    ready = appeals.readiness(session, appeal, policies().budget)
    cost = appeals.budget(session, appeal, policies().budget)
    rulings = list(
        session.scalars(
            select(Ruling).where(Ruling.appeal_id == appeal.id).order_by(Ruling.instance)
        )
    )
    return AppealOut(
        id=appeal.id, number=appeal.number, complaint_id=appeal.complaint_id,
        state=appeal.state.value, category=appeal.category.value if appeal.category else None,
        statement=appeal.statement, remedies=list(appeal.remedies),
        rows=[RowOut(allegation=r.allegation, answer=r.answer, evidence_ids=r.evidence_ids)
              for r in appeal.rows],
        exhibits=[{"label": label, "evidence_id": item.id, "kind": item.kind.value,
                   "sha256": item.sha256}
                  for label, item in appeals.cited_items(session, appeal)],
        ready=ready.ready, missing=ready.missing,
        budget={"bytes": cost.bytes, "pages": cost.pages, "files": cost.files, "text": cost.text,
                "over": cost.over, "limits": {
                    "bytes": cost.profile.max_bytes, "pages": cost.profile.max_pages,
                    "files": cost.profile.max_files, "text": cost.profile.max_text}},
        allowed_actions=[a.value for a in allowed_actions(appeal, actor)],
        versions=[VersionOut(number=v.number, content_sha256=v.content_sha256, late=v.late,
                             submitted_at=v.submitted_at.isoformat(), content=v.content)
                  for v in appeal.versions],
        clocks=_clocks(appeal, rulings),
        timeline=[{"at": e.occurred_at.isoformat(), "action": e.action}
                  for e in review.timeline(session, appeal)],
        rulings=[_ruling_json(r) for r in rulings],
    )  # fmt: skip


@api.post("/appeals")
@spec.validate(
    json=AppealIn,
    resp=SpecResponse(
        HTTP_201=AppealOut, HTTP_200=AppealOut, **problem_responses(401, 403, 404, 409, 422)
    ),
    security=BEARER,
    tags=["appeals"],
)
def create_appeal(json: AppealIn) -> Any:
    """Start the appeal of a complaint (or return it), and set its draft content."""
    actor = current_api_user()
    existing = select(Appeal.id).where(
        Appeal.complaint_id == json.complaint_id, Appeal.shop_id == actor.shop_id
    )
    created = db().scalar(existing) is None
    appeal = appeals.start_appeal(db(), actor, json.complaint_id)
    if json.category or json.statement or json.remedies or json.rows:
        appeals.update_draft(
            db(), actor, appeal, category=json.category, statement=json.statement,
            remedies=json.remedies,
            rows=[(row.allegation, row.answer, row.evidence_ids) for row in json.rows],
        )  # fmt: skip
    db().commit()
    return appeal_out(appeal), 201 if created else 200


@api.get("/appeals/<int:appeal_id>")
@spec.validate(
    resp=SpecResponse(HTTP_200=AppealOut, **problem_responses(401, 403, 404)),
    security=BEARER,
    tags=["appeals"],
)
def get_appeal(appeal_id: int) -> AppealOut:
    """The appeal: state, clocks, timeline, rulings, readiness, budget, next actions, versions.

    The shop's users see their own appeals; reviewers see submitted ones.
    """
    actor = current_api_user()
    if actor.role.is_merchant:
        return appeal_out(appeals.get_appeal(db(), actor, appeal_id))
    return appeal_out(review.review_appeal(db(), actor, appeal_id))


@api.post("/appeals/<int:appeal_id>/submit")
@spec.validate(
    resp=SpecResponse(HTTP_200=AppealOut, **problem_responses(401, 403, 404, 409, 422)),
    security=BEARER,
    tags=["appeals"],
)
def submit_appeal(appeal_id: int) -> Any:
    """Freeze the draft as version 1 and submit it. A retry returns the same submission."""
    appeal = appeals.get_appeal(db(), current_api_user(), appeal_id)
    if appeal.state.value != "draft" and appeal.versions:
        return appeal_out(appeal)
    appeals.submit_appeal(
        db(), current_api_user(), appeal,
        profile=policies().budget, review_policy=policies().review,
    )  # fmt: skip
    db().commit()
    return appeal_out(appeal)


@api.post("/appeals/<int:appeal_id>/evidence")
@spec.validate(
    form=EvidenceIn,
    resp=SpecResponse(HTTP_201=EvidenceOut, **problem_responses(401, 403, 404, 409, 413, 422)),
    security=BEARER,
    tags=["appeals"],
)
def add_appeal_evidence(appeal_id: int, form: EvidenceIn) -> Any:
    """Add one file to the locker of the appeal's complaint, while the appeal is a draft."""
    appeal = appeals.get_appeal(db(), current_api_user(), appeal_id)
    check_editable(appeal)
    return receive_api_file(appeal.complaint, form), 201


class BundleStatus(BaseModel):
    """The bundle is not downloadable yet: where its build stands."""

    appeal: str
    version: int
    state: str
    percent: int
    pages: int | None = None
    pdf_size: int | None = None
    zip_size: int | None = None
    pdf_sha256: str | None = None
    zip_sha256: str | None = None
    fit: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None
    pdf_url: str | None = None
    zip_url: str | None = None


def _bundle(appeal_id: int, kind: str) -> Any:
    actor = current_api_user()
    appeal = builds.bundle_appeal(db(), actor, appeal_id)
    build = bundles.ensure_build(actor, appeal)
    if build.state is BuildState.READY:
        return bundles.send_bundle(appeal, build, kind)
    if build.state is BuildState.FAILED:
        return problem(
            503, "Bundle build failed", "The bundle could not be built; ask again to retry.",
            code="bundle_failed",
        )  # fmt: skip
    status = bundles.status_json(appeal, build)
    response = current_app.json.response(status)
    response.status_code = 202
    response.headers["Retry-After"] = "2"
    return response


# Files are streamed, not validated: spectree would read a whole bundle into memory to
# check it, so these two routes are documented by bundle_paths() instead.
@api.get("/appeals/<int:appeal_id>/bundle.pdf")
def bundle_pdf(appeal_id: int) -> Any:
    """The bundle PDF of the latest submitted version (200, application/pdf).

    Answers 202 with the build's progress (and Retry-After) while it is being built; the
    first request starts the build. For the shop's users and the appeal's reviewers.
    """
    return _bundle(appeal_id, "pdf")


@api.get("/appeals/<int:appeal_id>/bundle.zip")
def bundle_zip(appeal_id: int) -> Any:
    """The bundle ZIP (bundle.pdf, manifest.json with an HMAC signature, originals/)."""
    return _bundle(appeal_id, "zip")


def bundle_paths(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the two bundle downloads added."""
    document = {**document, "paths": dict(document["paths"])}
    schemas = dict(document["components"]["schemas"])
    schemas["BundleStatus"] = BundleStatus.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    document["components"] = {**document["components"], "schemas": schemas}

    def problem(description: str) -> dict[str, Any]:
        schema = {"$ref": "#/components/schemas/Problem"}
        return {
            "description": description,
            "content": {"application/problem+json": {"schema": schema}},
        }

    for kind, media, view in (
        ("pdf", "application/pdf", bundle_pdf),
        ("zip", "application/zip", bundle_zip),
    ):
        document["paths"][f"/api/v1/appeals/{{appeal_id}}/bundle.{kind}"] = {
            "get": {
                "operationId": f"bundle_{kind}",
                "summary": (view.__doc__ or "").strip().splitlines()[0],
                "description": (view.__doc__ or "").strip(),
                "tags": ["bundles"],
                "security": [{"bearer": []}],
                "parameters": [{"name": "appeal_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {
                    "200": {"description": "The file",
                            "content": {media: {"schema": {"type": "string", "format": "binary"}}}},
                    "202": {"description": "Being built; ask again after Retry-After seconds",
                            "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/BundleStatus"}}}},
                    "401": problem("Unauthorized"),
                    "403": problem("Forbidden"),
                    "404": problem("Not Found"),
                    "409": problem("Not submitted yet"),
                    "503": problem("The build failed three times"),
                },
            }
        }  # fmt: skip
    return document


class FindingIn(BaseModel):
    row: str = Field(pattern=ROW_LABEL_PATTERN)
    accepted: bool
    reason: str = Field(max_length=2000)


class InsufficientIn(BaseModel):
    label: str = Field(max_length=8)
    reason: str = Field(max_length=2000)


class MeasureIn(BaseModel):
    kind: str
    days: int | None = None
    amount: str | None = None


class RulingIn(BaseModel):
    """A ruling: a reason for every rebuttal row, the rule applied, measures, the summary."""

    outcome: Outcome
    findings: list[FindingIn] = Field(max_length=MAX_ROWS)
    insufficient: list[InsufficientIn] = Field(default_factory=list, max_length=100)
    rule_applied: str = Field(max_length=4000)
    merchant_measures: list[MeasureIn] = Field(default_factory=list, max_length=4)
    buyer_measures: list[MeasureIn] = Field(default_factory=list, max_length=4)
    summary: str = Field(max_length=4000)


@api.post("/appeals/<int:appeal_id>/ruling")
@spec.validate(
    json=RulingIn,
    resp=SpecResponse(HTTP_201=AppealOut, **problem_responses(401, 403, 404, 409, 422)),
    security=BEARER,
    tags=["review"],
)
def rule_appeal(appeal_id: int, json: RulingIn) -> Any:
    """Rule on an appeal assigned to you (a senior reviewer's second-instance ruling is final)."""
    actor = current_api_user()
    appeal = review.review_appeal(db(), actor, appeal_id)
    review.rule(
        db(), actor, appeal,
        review.RulingInput(
            outcome=json.outcome, findings=[f.model_dump() for f in json.findings],
            insufficient=[i.model_dump() for i in json.insufficient],
            rule_applied=json.rule_applied,
            merchant_measures=[m.model_dump(exclude_none=True) for m in json.merchant_measures],
            buyer_measures=[m.model_dump(exclude_none=True) for m in json.buyer_measures],
            summary=json.summary,
        ),
        policy=policies().review,
    )  # fmt: skip
    db().commit()
    return appeal_out(appeal), 201
