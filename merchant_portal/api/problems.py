"""RFC 9457 problem details for every error the JSON API returns."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from merchant_portal.request_ids import request_id

PROBLEM_TYPE = "https://appeal-desk.invalid/problems/"

# Stable machine-readable codes by HTTP status, for errors that carry no code of their own.
DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def wants_problem() -> bool:
    """Whether the current request is an API request (errors answer as problem+json)."""
    return request.path.startswith("/api/")


def problem(
    status: int, title: str, detail: str, *, code: str | None = None, **extra: Any
) -> Response:
    """A problem+json response with a stable `code`."""
    code = code or DEFAULT_CODES.get(status, "error")
    body = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.path,
        "request_id": request_id(),
        **extra,
    }
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="appeal-desk"'
    return response
