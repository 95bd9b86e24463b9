"""Appeal endpoints: create or update a draft, read it, add evidence, submit."""

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from appeals import appeal as appeals
from appeals.lifecycle import allowed_actions, check_editable
from appeals.models import Appeal, MaliciousCategory
from merchant_portal.api import BEARER, SpecResponse, api, current_api_user, problem_responses, spec
from merchant_portal.api.views import EvidenceIn, EvidenceOut, receive_api_file
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
    rows: list[RowIn] = Field(default_factory=list, max_length=30)


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


def appeal_out(appeal: Appeal) -> AppealOut:
    session, actor = db(), current_api_user()
    ready = appeals.readiness(session, appeal)
    cost = appeals.budget(session, appeal)
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
                "over": cost.over},
        allowed_actions=[a.value for a in allowed_actions(appeal, actor)],
        versions=[VersionOut(number=v.number, content_sha256=v.content_sha256, late=v.late,
                             submitted_at=v.submitted_at.isoformat(), content=v.content)
                  for v in appeal.versions],
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
    """The appeal with its state, readiness, budget, what you may do next, and its versions."""
    return appeal_out(appeals.get_appeal(db(), current_api_user(), appeal_id))


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
    appeals.submit_appeal(db(), current_api_user(), appeal)
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
