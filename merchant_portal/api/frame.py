"""The API's frame: its blueprint, bearer tokens, the OpenAPI spec and its problem shapes."""

from __future__ import annotations

from flask import Blueprint, g, request
from pydantic import BaseModel
from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from appeals import accounts
from appeals.models import User
from merchant_portal.api.problems import problem
from merchant_portal.database import db

api = Blueprint("api", __name__)

BEARER = {"bearer": []}


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    request_id: str


def _validation_failed(req, resp, req_validation_error, instance, model_adapter) -> None:  # type: ignore[no-untyped-def]
    if req_validation_error is not None:
        from flask import abort

        abort(
            problem(
                422,
                "Invalid request",
                "The request body or parameters do not match the schema.",
                code="invalid_request",
                errors=model_adapter.validation_errors(req_validation_error),
            )
        )


spec = SpecTree(
    "flask",
    mode="strict",
    title="Appeal Desk API",
    version="1.0.0",
    path="api/v1/docs",
    description="Merchant disputes and appeals. Authenticate with `Authorization: Bearer <token>`.",
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(type="http", scheme="bearer", bearer_format="apd_ token"),
        )
    ],
    before=_validation_failed,
    naming_strategy=lambda model: model.__name__,
)


def problem_responses(*statuses: int) -> dict[str, type[BaseModel]]:
    """Spectree response entries documenting problem documents for these statuses."""
    return {f"HTTP_{status}": Problem for status in statuses}


def current_api_user() -> User:
    """The user the bearer token belongs to (set by the authentication hook)."""
    user: User = g.api_user
    return user


@api.before_request
def _authenticate() -> None:
    from flask import abort

    if request.endpoint in ("api.openapi", "api.signing_keys"):  # public to everyone
        return
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    user = accounts.user_for_token(db(), secret.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(
            problem(
                401,
                "Authentication required",
                "Send a valid API token as 'Authorization: Bearer <token>'.",
                code="unauthenticated",
            )
        )
    db().commit()  # records when the token was last used
    g.api_user = user
