"""API endpoints."""

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field
from spectree import Response as SpecResponse

from appeals import complaints, intake, locker
from appeals.clock import utcnow
from appeals.deadlines import DeadlineState, deadline_state
from appeals.models import Complaint, ComplaintStatus, ComplaintType
from merchant_portal.api.appeals import bundle_paths
from merchant_portal.api.evidence import EvidenceIn, EvidenceOut, receive_api_file
from merchant_portal.api.frame import BEARER, api, current_api_user, problem_responses, spec
from merchant_portal.api.keys import signing_keys  # noqa: F401  (adds its route)
from merchant_portal.context import policies
from merchant_portal.database import db


class Me(BaseModel):
    """The account the token belongs to."""

    id: int
    email: str
    display_name: str
    role: str
    shop_id: int | None
    shop_name: str | None
    locale: str | None
    time_zone: str


@api.get("/me")
@spec.validate(
    resp=SpecResponse(HTTP_200=Me, **problem_responses(401)), security=BEARER, tags=["account"]
)
def me() -> Me:
    """The account that owns the token."""
    user = current_api_user()
    return Me(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role.value,
        shop_id=user.shop_id,
        shop_name=user.shop.name if user.shop else None,
        locale=user.locale,
        time_zone=user.time_zone,
    )


@api.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI document of this API."""
    return current_app.json.response(bundle_paths(spec.spec))


class ComplaintIn(BaseModel):
    """A complaint as the platform reports it. Sending the same external_id again is safe."""

    external_id: str
    shop: str | int
    type: str
    channel: str
    description: str
    buyer_ref: str
    received_at: datetime
    order_number: str | None = None
    penalty_points: int = 0


class ComplaintOut(BaseModel):
    id: int
    external_id: str
    shop_id: int
    type: str
    channel: str
    status: str
    description: str
    buyer_ref: str
    order_number: str | None
    order_id: int | None
    received_at: datetime
    appeal_deadline: datetime
    deadline_state: str
    penalty_points: int
    flag_category: str | None
    flag_rationale: str | None


class ComplaintList(BaseModel):
    items: list[ComplaintOut]
    total: int
    page: int
    pages: int


class ComplaintQuery(BaseModel):
    page: int = Field(1, ge=1)
    per_page: int = Field(25, ge=1, le=100)
    status: ComplaintStatus | None = None
    type: ComplaintType | None = None
    flagged: bool | None = None
    deadline: DeadlineState | None = None
    q: str = Field("", max_length=100)


def complaint_out(complaint: Complaint) -> ComplaintOut:
    return ComplaintOut(
        id=complaint.id,
        external_id=complaint.external_id,
        shop_id=complaint.shop_id,
        type=complaint.type.value,
        channel=complaint.channel.value,
        status=complaint.status.value,
        description=complaint.description,
        buyer_ref=complaint.buyer_ref,
        order_number=complaint.order.number if complaint.order else complaint.order_number,
        order_id=complaint.order_id,
        received_at=complaint.received_at.astimezone(UTC),
        appeal_deadline=complaint.appeal_deadline.astimezone(UTC),
        deadline_state=deadline_state(complaint.appeal_deadline, utcnow()).value,
        penalty_points=complaint.penalty_points,
        flag_category=complaint.flag_category.value if complaint.flag_category else None,
        flag_rationale=complaint.flag_rationale,
    )


@api.get("/complaints")
@spec.validate(
    query=ComplaintQuery,
    resp=SpecResponse(HTTP_200=ComplaintList, **problem_responses(401, 403, 422)),
    security=BEARER,
    tags=["complaints"],
)
def list_complaints(query: ComplaintQuery) -> ComplaintList:
    """The caller's shop's complaints, soonest appeal deadline first (merchant tokens)."""
    where = complaints.InboxFilter(
        status=query.status,
        type=query.type,
        flagged=query.flagged,
        deadline=query.deadline,
        search=query.q,
    )
    page = complaints.list_complaints(
        db(), current_api_user(), where, page=query.page, per_page=query.per_page
    )
    return ComplaintList(
        items=[complaint_out(c) for c in page.items],
        total=page.total,
        page=page.page,
        pages=page.pages,
    )


@api.post("/complaints")
@spec.validate(
    json=ComplaintIn,
    resp=SpecResponse(
        HTTP_201=ComplaintOut, HTTP_200=ComplaintOut, **problem_responses(401, 403, 404, 409, 422)
    ),
    security=BEARER,
    tags=["complaints"],
)
def create_complaint(json: ComplaintIn) -> Any:
    """Record a complaint (platform or admin tokens); 200 with the stored one if it exists."""
    received = intake.receive_complaint(
        db(),
        current_api_user(),
        json.model_dump(),
        policy=policies().deadlines,
        time_zone=policies().time_zone,
    )
    db().commit()
    body = complaint_out(received.complaint)
    location = {"Location": f"/api/v1/complaints/{received.complaint.id}"}
    return body, 201 if received.created else 200, location


@api.post("/complaints/<int:complaint_id>/evidence")
@spec.validate(
    form=EvidenceIn,
    resp=SpecResponse(HTTP_201=EvidenceOut, **problem_responses(401, 403, 404, 409, 413, 422)),
    security=BEARER,
    tags=["evidence"],
)
def add_evidence(complaint_id: int, form: EvidenceIn) -> Any:
    """Add one file (multipart `file`, `kind`, optional `caption`) to a complaint's locker.

    Platform tokens mark the file platform-native; merchant tokens, uploaded by the shop.
    """
    complaint = locker.locker_complaint(db(), current_api_user(), complaint_id)
    return receive_api_file(complaint, form), 201
