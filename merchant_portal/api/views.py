"""API endpoints."""

from flask import current_app
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from merchant_portal.api import BEARER, SpecResponse, api, current_api_user, problem_responses, spec


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
    return current_app.json.response(spec.spec)
