"""Security headers, request ids, and friendly error pages that never show a traceback."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from appeals.errors import N_, DomainError, Refusals, RefusedFile
from merchant_portal.api.problems import problem, wants_problem
from merchant_portal.request_ids import request_id

log = logging.getLogger("merchant_portal")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# Titles and explanations for the error pages, as msgids translated at render time.
ERROR_TEXT = {
    400: (N_("Bad request"), N_("The request could not be understood. Go back and try again.")),
    403: (N_("Not allowed"), N_("Your account does not have permission to see this page.")),
    404: (N_("Not found"), N_("This page does not exist, or it belongs to another shop.")),
    405: (N_("Not allowed"), N_("This address does not accept that kind of request.")),
    409: (N_("Changed by someone else"), N_("Reload the page to see the latest version.")),
    413: (
        N_("Too large"),
        N_("The upload is larger than the portal accepts. Send a smaller file."),
    ),
    422: (N_("Cannot be processed"), N_("Check what you entered and try again.")),
    429: (N_("Too many attempts"), N_("Wait a few minutes, then try again.")),
    500: (N_("Something went wrong"), N_("The error has been logged. Try again in a moment.")),
}


def init_app(app: Flask) -> None:
    """Register the request id, the security headers and every error handler."""
    app.before_request(_assign_request_id)
    app.after_request(_add_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    # Two people acting at once: the later write loses, and is told so (never a 500).
    app.register_error_handler(IntegrityError, _concurrent_write)
    app.register_error_handler(StaleDataError, _concurrent_write)
    app.register_error_handler(OperationalError, _concurrent_write)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _assign_request_id() -> None:
    request_id()


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["X-Request-Id"] = request_id()
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if "Cache-Control" not in headers and response.mimetype == "text/html":
        headers["Cache-Control"] = "no-store"
    return response


def render_error(status: int, message: str | None = None, **extra: Any) -> ResponseReturnValue:
    """Render the friendly error page for a status, in the user's language."""
    from merchant_portal.database import rollback_quietly

    # Nothing of a refused request is kept, and the page (the user's language, the bell)
    # reads from a session that a failed write may have left waiting for a rollback.
    rollback_quietly()

    title, default = ERROR_TEXT.get(status, ERROR_TEXT[500])
    if wants_problem():
        return problem(status, gettext(title), message or gettext(default), **extra)
    try:
        body = render_template(
            "errors/error.html",
            status=status,
            title=gettext(title),
            message=message or gettext(default),
            request_id=request_id(),
        )
    except Exception:  # the page itself failed: answer plainly rather than not at all
        log.exception("error page failed request_id=%s", request_id())
        body = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{request_id()}</p>"
    return body, status


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    log.info("csrf refused path=%r reason=%r", request.path, error.description)
    return render_error(
        400, gettext("This form has expired or was not sent from this site. Reload and try again.")
    )


def _domain_error(error: DomainError) -> ResponseReturnValue:
    extra: dict[str, Any] = {"field": error.field} if error.field else {}
    code = error.code
    if isinstance(error, RefusedFile):  # the same code the upload form shows, for each door
        code = extra["reason"] = error.reason
    if "missing" in error.params:  # what a submission still lacks, as the checklist's codes
        extra["missing"] = [m for m in str(error.params["missing"]).split(", ") if m]
    if isinstance(error, Refusals):  # every refusal at once, each on its field
        extra["errors"] = [
            {"field": each.field, "detail": gettext(each.message, **each.params)}
            for each in error.refusals
        ]
    return render_error(error.status, gettext(error.message, **error.params), code=code, **extra)


# SQLSTATEs of a transaction that lost a race on PostgreSQL: serialization, deadlock.
RETRYABLE = frozenset({"40001", "40P01"})


def _concurrent_write(error: Exception) -> ResponseReturnValue:
    """A write that lost to another one made at the same moment: a conflict, not a crash."""
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    if isinstance(error, OperationalError) and code not in RETRYABLE:
        return _unexpected_error(error)
    log.warning("concurrent write refused path=%r: %s", request.path, error.__class__.__name__,
                exc_info=error)  # fmt: skip
    return render_error(
        409,
        gettext("Someone else changed this at the same moment. Reload to see what was done."),
        code="conflict",
    )


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        return _unexpected_error(error.original_exception)
    return render_error(error.code or 500)


def _unexpected_error(error: BaseException) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.error("unhandled error request_id=%s path=%r", request_id(), request.path, exc_info=error)
    from merchant_portal.database import rollback_quietly

    rollback_quietly()
    return render_error(500)
