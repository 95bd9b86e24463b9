"""Every route of the portal with the answer each principal must get.

A route that is not listed here fails test_every_route_is_in_the_matrix: adding a
route means deciding, here, who may call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.conftest import World

PRINCIPALS = [
    "anonymous", "owner_a", "staff_a", "owner_b", "reviewer", "senior", "admin", "platform",
]  # fmt: skip
LOGIN = 302  # anonymous visitors are sent to the login page


def expect(default: int, **by_principal: int) -> dict[str, int]:
    table = dict.fromkeys(PRINCIPALS, default)
    table.update(by_principal)
    return table


def merchants_of_a(ok: int) -> dict[str, int]:
    """Shop A's users succeed, shop B's user gets 404, platform staff 403."""
    return expect(403, anonymous=LOGIN, owner_a=ok, staff_a=ok, owner_b=404)


def only(roles: tuple[str, ...], ok: int) -> dict[str, int]:
    return expect(403, anonymous=LOGIN, **dict.fromkeys(roles, ok))


def signed_in(ok: int) -> dict[str, int]:
    return expect(ok, anonymous=LOGIN)


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    data: dict[str, str] = field(default_factory=dict)
    json: dict[str, object] | Callable[[World], dict[str, object]] | None = None


ADMINS = ("admin",)
MERCHANTS = ("owner_a", "staff_a", "owner_b")
COMPLAINT_JSON = {
    "external_id": "CP-API-1", "shop": "Shop A", "type": "not_received", "channel": "online",
    "description": "parcel never came", "buyer_ref": "buyer-9",
    "received_at": "2026-11-20T10:00:00+08:00",
}  # fmt: skip
REVIEWERS = ("reviewer", "senior")
VERIFIERS = ("reviewer", "senior", "admin")
BUNDLE_WEB = expect(
    403, anonymous=LOGIN, owner_a=409, staff_a=409, owner_b=404, reviewer=404, senior=404
)
REVIEW_DRAFT = expect(403, anonymous=LOGIN, reviewer=404, senior=404)
BUNDLE_API = expect(403, anonymous=401, owner_a=409, staff_a=409, owner_b=404, reviewer=404,
                    senior=404)  # fmt: skip

ROUTES = [
    Route("auth.home", "GET", lambda w: "/", expect(302)),
    Route("auth.login", "GET", lambda w: "/login", expect(302, anonymous=200)),
    Route("auth.login", "POST", lambda w: "/login", expect(302, anonymous=422)),
    Route("auth.logout", "POST", lambda w: "/logout", expect(302)),
    Route("auth.language", "POST", lambda w: "/language", expect(302), {"locale": "en"}),
    Route("auth.account", "GET", lambda w: "/account", signed_in(200)),
    Route("auth.preferences", "POST", lambda w: "/account/preferences", signed_in(422)),
    Route("auth.change_password", "POST", lambda w: "/account/password", signed_in(422)),
    Route("auth.create_token", "POST", lambda w: "/account/tokens", signed_in(422)),
    Route(
        "auth.revoke_token",
        "POST",
        lambda w: f"/account/tokens/{w.tokens['owner_a'][0]}/revoke",
        expect(404, anonymous=LOGIN, owner_a=302),
    ),
    Route(
        "merchant.inbox", "GET", lambda w: "/inbox", only(("owner_a", "staff_a", "owner_b"), 200)
    ),
    Route(
        "merchant.complaint",
        "GET",
        lambda w: f"/complaints/{w.complaint_a.id}",
        merchants_of_a(200),
    ),
    Route(
        "merchant.flag",
        "POST",
        lambda w: f"/complaints/{w.complaint_a.id}/flag",
        merchants_of_a(422),
    ),
    Route(
        "merchant.unflag",
        "POST",
        lambda w: f"/complaints/{w.complaint_a.id}/unflag",
        merchants_of_a(302),
    ),
    Route(
        "locker.index",
        "GET",
        lambda w: f"/complaints/{w.complaint_a.id}/evidence",
        merchants_of_a(200),
    ),
    Route(
        "locker.upload",
        "POST",
        lambda w: f"/complaints/{w.complaint_a.id}/evidence",
        merchants_of_a(422),
    ),
    Route(
        "locker.readings",
        "GET",
        lambda w: f"/complaints/{w.complaint_a.id}/evidence/readings",
        merchants_of_a(200),
    ),
    Route(
        "locker.original",
        "GET",
        lambda w: f"/evidence/{w.evidence_a.id}/original",
        merchants_of_a(200),
    ),
    Route(
        "locker.thumbnail",
        "GET",
        lambda w: f"/evidence/{w.evidence_a.id}/thumbnail",
        merchants_of_a(200),
    ),
    Route(
        "locker.preview",
        "GET",
        lambda w: f"/evidence/{w.evidence_a.id}/preview",
        merchants_of_a(200),
    ),
    Route(
        "locker.redact", "GET", lambda w: f"/evidence/{w.evidence_a.id}/redact", merchants_of_a(200)
    ),
    Route(
        "locker.redact",
        "POST",
        lambda w: f"/evidence/{w.evidence_a.id}/redact",
        merchants_of_a(422),
    ),
    Route(
        "locker.edit",
        "POST",
        lambda w: f"/evidence/{w.evidence_a.id}/edit",
        merchants_of_a(422),
    ),
    Route(
        "locker.remove",
        "POST",
        lambda w: f"/evidence/{w.evidence_a.id}/remove",
        merchants_of_a(302),
    ),
    Route(
        "appeal.start",
        "POST",
        lambda w: f"/complaints/{w.complaint_a.id}/appeal",
        merchants_of_a(302),
    ),
    Route("appeal.show", "GET", lambda w: f"/appeals/{w.appeal_a.id}", merchants_of_a(200)),
    Route("appeal.save", "POST", lambda w: f"/appeals/{w.appeal_a.id}", merchants_of_a(302)),
    Route(
        "appeal.submit", "GET", lambda w: f"/appeals/{w.appeal_a.id}/submit", merchants_of_a(200)
    ),
    Route(
        "appeal.submit", "POST", lambda w: f"/appeals/{w.appeal_a.id}/submit", merchants_of_a(302)
    ),
    Route(
        "appeal.withdraw",
        "GET",
        lambda w: f"/appeals/{w.appeal_a.id}/withdraw",
        merchants_of_a(200),
    ),
    Route(
        "appeal.withdraw",
        "POST",
        lambda w: f"/appeals/{w.appeal_a.id}/withdraw",
        merchants_of_a(302),
    ),
    # The world's appeal is a draft: its own shop hears "not submitted yet" (409); reviewers
    # not assigned to it see nothing (404); roles without downloads are refused (403).
    Route("bundle.start", "POST", lambda w: f"/appeals/{w.appeal_a.id}/bundle", BUNDLE_WEB),
    Route("bundle.status", "GET", lambda w: f"/appeals/{w.appeal_a.id}/bundle", BUNDLE_WEB),
    Route("bundle.download", "GET", lambda w: f"/appeals/{w.appeal_a.id}/bundle.pdf", BUNDLE_WEB),
    Route("bundle.verify_upload", "GET", lambda w: "/review/verify", only(VERIFIERS, 200)),
    Route("bundle.verify_upload", "POST", lambda w: "/review/verify", only(VERIFIERS, 422)),
    # Answers and second appeals: the draft has no question and no ruling (422, said why).
    Route(
        "appeal.respond", "POST", lambda w: f"/appeals/{w.appeal_a.id}/respond", merchants_of_a(422)
    ),
    Route(
        "appeal.reappeal",
        "POST",
        lambda w: f"/appeals/{w.appeal_a.id}/reappeal",
        merchants_of_a(422),
    ),
    # Reviewers never see drafts (404); nobody else reaches the review pages (403).
    Route("review.appeal", "GET", lambda w: f"/review/appeals/{w.appeal_a.id}", REVIEW_DRAFT),
    Route("review.claim", "POST", lambda w: f"/review/appeals/{w.appeal_a.id}/claim", REVIEW_DRAFT),
    Route(
        "review.assign", "POST", lambda w: f"/review/appeals/{w.appeal_a.id}/assign", REVIEW_DRAFT
    ),
    Route("review.note", "POST", lambda w: f"/review/appeals/{w.appeal_a.id}/notes", REVIEW_DRAFT),
    Route(
        "review.request_info",
        "POST",
        lambda w: f"/review/appeals/{w.appeal_a.id}/request-info",
        REVIEW_DRAFT,
    ),
    Route("review.rule", "POST", lambda w: f"/review/appeals/{w.appeal_a.id}/rule", REVIEW_DRAFT),
    Route(
        "review.exhibit",
        "GET",
        lambda w: f"/review/appeals/{w.appeal_a.id}/exhibits/{w.evidence_a.id}/preview",
        REVIEW_DRAFT,
    ),
    Route("notifications.index", "GET", lambda w: "/notifications", signed_in(200)),
    Route("notifications.read", "POST", lambda w: "/notifications/read", signed_in(302)),
    Route("merchant.dashboard", "GET", lambda w: "/dashboard", only(MERCHANTS, 200)),
    Route("review.dashboard", "GET", lambda w: "/review/dashboard", only(VERIFIERS, 200)),
    Route("orders.index", "GET", lambda w: "/orders", only(MERCHANTS, 200)),
    Route("orders.order", "GET", lambda w: f"/orders/{w.order_a.id}", merchants_of_a(200)),
    Route("orders.upload", "GET", lambda w: "/orders/import", only(MERCHANTS, 200)),
    Route("orders.upload", "POST", lambda w: "/orders/import", only(MERCHANTS, 422)),
    Route(
        "orders.preview", "GET", lambda w: f"/orders/import/{w.import_a.id}", merchants_of_a(200)
    ),
    Route(
        "orders.apply",
        "POST",
        lambda w: f"/orders/import/{w.import_a.id}/apply",
        merchants_of_a(302),
    ),
    Route(
        "locker.attach",
        "POST",
        lambda w: f"/complaints/{w.complaint_a.id}/evidence/attach",
        merchants_of_a(422),
    ),
    Route(
        "orders.choose_columns",
        "POST",
        lambda w: f"/orders/import/{w.import_a.id}/columns",
        merchants_of_a(302),
    ),
    Route(
        "admin.new_complaint",
        "GET",
        lambda w: "/admin/complaints/new",
        only(("admin", "platform"), 200),
    ),
    Route(
        "admin.new_complaint",
        "POST",
        lambda w: "/admin/complaints/new",
        only(("admin", "platform"), 422),
    ),
    Route("review.queue", "GET", lambda w: "/review/", only(REVIEWERS, 200)),
    Route("admin.index", "GET", lambda w: "/admin/", only(ADMINS, 200)),
    Route("admin.shops", "GET", lambda w: "/admin/shops", only(ADMINS, 200)),
    Route("admin.shops", "POST", lambda w: "/admin/shops", only(ADMINS, 422)),
    Route("admin.users", "GET", lambda w: "/admin/users", only(ADMINS, 200)),
    Route("admin.users", "POST", lambda w: "/admin/users", only(ADMINS, 422)),
    Route(
        "admin.user", "GET", lambda w: f"/admin/users/{w.users['staff_a'].id}", only(ADMINS, 200)
    ),
    Route(
        "admin.reset_password",
        "POST",
        lambda w: f"/admin/users/{w.users['staff_a'].id}/password",
        only(ADMINS, 422),
    ),
    Route(
        "admin.disable",
        "POST",
        lambda w: f"/admin/users/{w.users['staff_a'].id}/disable",
        only(ADMINS, 302),
    ),
    Route(
        "admin.enable",
        "POST",
        lambda w: f"/admin/users/{w.users['staff_a'].id}/enable",
        only(ADMINS, 302),
    ),
    Route("admin.audit_trail", "GET", lambda w: "/admin/audit", only(ADMINS, 200)),
    Route("admin.check_audit", "POST", lambda w: "/admin/audit/check", only(ADMINS, 302)),
    Route("api.me", "GET", lambda w: "/api/v1/me", expect(200, anonymous=401)),
    Route("api.openapi", "GET", lambda w: "/api/v1/openapi.json", expect(200)),
    Route("api.signing_keys", "GET", lambda w: "/api/v1/signing-keys", expect(200)),
    Route(
        "api.list_complaints",
        "GET",
        lambda w: "/api/v1/complaints",
        expect(403, anonymous=401, owner_a=200, staff_a=200, owner_b=200),
    ),
    Route(
        "api.create_complaint",
        "POST",
        lambda w: "/api/v1/complaints",
        expect(403, anonymous=401, admin=201, platform=201),
        json=COMPLAINT_JSON,
    ),
    Route(
        "api.import_orders",
        "POST",
        lambda w: "/api/v1/orders/import",
        expect(403, anonymous=401, owner_a=422, staff_a=422, owner_b=422),
    ),
    Route(
        "api.create_appeal",
        "POST",
        lambda w: "/api/v1/appeals",
        expect(403, anonymous=401, owner_a=200, staff_a=200, owner_b=404),
        json=lambda w: {"complaint_id": w.complaint_a.id},
    ),
    Route(
        "api.get_appeal",
        "GET",
        lambda w: f"/api/v1/appeals/{w.appeal_a.id}",
        # Reviewers read submitted appeals only: this draft does not exist for them.
        expect(403, anonymous=401, owner_a=200, staff_a=200, owner_b=404, reviewer=404, senior=404),
    ),
    Route(
        "api.submit_appeal",
        "POST",
        lambda w: f"/api/v1/appeals/{w.appeal_a.id}/submit",
        expect(403, anonymous=401, owner_a=422, staff_a=422, owner_b=404),
    ),
    Route(
        "api.add_appeal_evidence",
        "POST",
        lambda w: f"/api/v1/appeals/{w.appeal_a.id}/evidence",
        expect(403, anonymous=401, owner_a=422, staff_a=422, owner_b=404),
        {"kind": "other"},
    ),
    Route(
        "api.bundle_pdf", "GET", lambda w: f"/api/v1/appeals/{w.appeal_a.id}/bundle.pdf", BUNDLE_API
    ),
    Route(
        "api.bundle_zip", "GET", lambda w: f"/api/v1/appeals/{w.appeal_a.id}/bundle.zip", BUNDLE_API
    ),
    Route(
        "api.rule_appeal",
        "POST",
        lambda w: f"/api/v1/appeals/{w.appeal_a.id}/ruling",
        expect(403, anonymous=401, reviewer=404, senior=404),
        json={
            "outcome": "upheld",
            "findings": [],
            "rule_applied": "Rule 1.2",
            "summary": "The buyer's threat is documented.",
        },
    ),
    Route(
        "api.add_evidence",
        "POST",
        lambda w: f"/api/v1/complaints/{w.complaint_a.id}/evidence",
        expect(403, anonymous=401, owner_a=422, staff_a=422, owner_b=404, platform=422),
        {"kind": "other"},
    ),
]
