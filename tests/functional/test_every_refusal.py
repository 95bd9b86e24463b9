"""Every form of the portal, sent with bad input by someone who may use it: the answer says
what is wrong, next to the field to change, keeps what was typed, and stores nothing.

A POST route with no case here fails test_every_form_route_has_a_refusal_case: adding a
form means deciding, here, what its refusal looks like.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals.clock import utcnow
from tests.conftest import Clock, World, csrf_token, log_in

MESSAGE_CLASSES = {"error", "flash-error", "alert-error"}


# --- reading the page as a person would -------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.texts: list[str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return " ".join([*self.texts, *(child.text() for child in self.children)]).strip()

    def walk(self) -> list[Node]:
        return [self, *(node for child in self.children for node in child.walk())]


class Page(HTMLParser):
    """The page as a tree of elements (the standard library's parser, forgiving)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Node("#root", {}, None)
        self._open = self.root
        self.feed(html)
        self.nodes = self.root.walk()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self._open)
        self._open.children.append(node)
        if tag not in VOID:
            self._open = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self._open
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self._open = node.parent

    def handle_data(self, data: str) -> None:
        self._open.texts.append(data)

    def messages(self, within: Node | None = None) -> list[str]:
        """The visible refusals: error texts, error flashes and alerts, the error summary."""
        nodes = within.walk() if within else self.nodes
        return [
            node.text()
            for node in nodes
            if (node.classes & MESSAGE_CLASSES or node.attrs.get("data-testid") == "error-summary")
            and node.text()
        ]

    def controls(self, name: str) -> list[Node]:
        return [
            node
            for node in self.nodes
            if node.tag in ("input", "select", "textarea") and node.attrs.get("name") == name
        ]

    def by_id(self, ids: str) -> list[Node]:
        wanted = set(ids.split())
        return [node for node in self.nodes if node.attrs.get("id") in wanted]


def container(node: Node) -> Node | None:
    """The field's own box: the nearest `.field` or fieldset around the control."""
    found = node.parent
    while found is not None and not ("field" in found.classes or found.tag == "fieldset"):
        found = found.parent
    return found


def message_beside(page: Page, control: Node) -> str:
    box = container(control)
    beside = page.messages(box) if box is not None else []
    described = control.attrs.get("aria-describedby", "")
    linked = [text for node in page.by_id(described) for text in page.messages(node)]
    return " ".join(beside + linked)


def value_of(control: Node) -> str:
    if control.tag == "textarea":  # a browser drops the newline right after the tag
        text = "".join(control.texts)
        return text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
    if control.tag == "select":
        chosen = [o for o in control.walk() if o.tag == "option" and "selected" in o.attrs]
        return chosen[0].attrs.get("value", chosen[0].text()) if chosen else ""
    return control.attrs.get("value", "")


# --- the states a case starts from ------------------------------------------------------


def _db() -> Session:
    from merchant_portal.database import db

    return db()


def _submitted(world: World) -> None:
    """Shop A's appeal, flagged, citing two files of its locker, submitted (no sandbox)."""
    from appeals import appeal, complaints
    from appeals.models import EvidenceItem, EvidenceKind, MaliciousCategory
    from merchant_portal.context import policies

    session, owner = _db(), world.users["owner_a"]
    evidence = session.get_one(EvidenceItem, world.evidence_a.id)
    capture = EvidenceItem(
        **{column: getattr(evidence, column) for column in (
            "shop_id", "complaint_id", "media_type", "size", "blob_key", "thumbnail_key",
            "normalized_key", "provenance")},
        sha256="0" * 64, kind=EvidenceKind.REVIEW_CAPTURE, caption="Review capture",
        display_name="review.png",
    )  # fmt: skip
    session.add(capture)
    complaint = complaints.get_complaint(session, owner, world.complaint_a.id)
    complaints.flag_complaint(session, owner, complaint, MaliciousCategory.EXTORTION,
                              "The buyer threatened a bad review unless refunded.")  # fmt: skip
    draft = appeal.get_appeal(session, owner, world.appeal_a.id)
    appeal.update_draft(
        session, owner, draft, category=MaliciousCategory.EXTORTION,
        statement="The buyer demanded a full refund under the threat of a bad review.",
        remedies=["void_complaint"],
        rows=[("Seller was rude", "The chat shows the buyer's threat.",
               [evidence.id, capture.id])],
    )  # fmt: skip
    appeal.submit_appeal(session, owner, draft, profile=policies().budget,
                         review_policy=policies().review)  # fmt: skip


def _appeal(world: World) -> Any:
    from appeals.models import Appeal

    return _db().get_one(Appeal, world.appeal_a.id)


def _claimed(world: World) -> None:
    from appeals import review

    _submitted(world)
    review.claim(_db(), world.users["reviewer"], _appeal(world))


def _questioned(world: World) -> None:
    from appeals import review
    from merchant_portal.context import policies

    _claimed(world)
    review.request_info(_db(), world.users["reviewer"], _appeal(world),
                        "Send the whole chat, please.", None, policy=policies().review)  # fmt: skip


def _answered(world: World) -> None:
    from appeals import review

    _questioned(world)
    review.respond(_db(), world.users["owner_a"], _appeal(world), "Here is the whole chat.", [])


def _decided(world: World) -> None:
    from appeals import review
    from appeals.models import Outcome
    from merchant_portal.context import policies

    _claimed(world)
    decision = review.RulingInput(
        outcome=Outcome.REJECTED, findings=[{"row": "A", "accepted": False,
                                             "reason": "Not proven."}],
        insufficient=[], rule_applied="Rules 1.1", merchant_measures=[], buyer_measures=[],
        summary="The complaint stands as filed.",
    )  # fmt: skip
    review.rule(_db(), world.users["reviewer"], _appeal(world), decision, policy=policies().review)


def _second(world: World) -> None:
    from appeals import review
    from merchant_portal.context import policies

    _decided(world)
    review.reappeal(_db(), world.users["owner_a"], _appeal(world),
                    "The courier's record, new since the ruling, shows delivery.", [],
                    policy=policies().review)  # fmt: skip


def _final(world: World) -> None:
    from appeals import review
    from appeals.accounts import SYSTEM

    _decided(world)
    review.close_windows(_db(), SYSTEM, now=utcnow() + timedelta(days=90))


def _applied(world: World) -> None:
    from appeals import order_import
    from appeals.models import OrderImport
    from merchant_portal.orders import plan_of

    record = _db().get_one(OrderImport, world.import_a.id)
    order_import.apply_import(_db(), world.users["owner_a"], record, plan_of(record, "UTC"))


def _platform_file(world: World) -> None:
    from appeals.models import EvidenceItem, Provenance

    _db().get_one(EvidenceItem, world.evidence_a.id).provenance = Provenance.PLATFORM_NATIVE


def _past_deadline(world: World) -> None:
    """Complaint A with no appeal yet, and its appeal deadline an hour ago."""
    from appeals.models import Appeal, Complaint

    session = _db()
    session.delete(session.get_one(Appeal, world.appeal_a.id))
    complaint = session.get_one(Complaint, world.complaint_a.id)
    complaint.appeal_deadline = utcnow() - timedelta(hours=1)
    session.flush()


def _revoked(world: World) -> None:
    from appeals import accounts

    accounts.revoke_api_token(_db(), world.users["owner_a"], world.tokens["owner_a"][0])


# --- what must not change ---------------------------------------------------------------


def count(model_name: str) -> Callable[[], int]:
    def counted() -> int:
        import appeals.models as models

        model = getattr(models, model_name)
        return int(_db().scalar(select(func.count()).select_from(model)) or 0)

    return counted


def flagged() -> int:
    from appeals.models import Complaint

    return int(_db().scalar(select(func.count()).where(Complaint.flag_category.is_not(None))) or 0)


def audit_entries() -> int:
    return count("AuditEvent")()


# --- the table --------------------------------------------------------------------------

Url = Callable[[World], str]
Data = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Refusal:
    endpoint: str
    why: str
    who: str
    url: Url
    data: Data = lambda w: {}
    prepare: Callable[[World], None] | None = None
    field: str | None = None  # the control (by name) the message must sit beside
    kept: str | None = None  # what the user typed, still in that control
    says: str | None = None  # words the message must hold
    unchanged: Callable[[], int] = audit_entries
    stale_token: bool = False  # the form was left open past the CSRF time limit
    others: tuple[tuple[str, str], ...] = ()  # other controls' typed values, still there


def upload(name: str, body: bytes) -> tuple[io.BytesIO, str]:
    return io.BytesIO(body), name


def c(path: str = "") -> Url:
    return lambda w: f"/complaints/{w.complaint_a.id}{path}"


def a(path: str = "") -> Url:
    return lambda w: f"/appeals/{w.appeal_a.id}{path}"


def r(path: str) -> Url:
    return lambda w: f"/review/appeals/{w.appeal_a.id}{path}"


def e(path: str) -> Url:
    return lambda w: f"/evidence/{w.evidence_a.id}{path}"


def user(name: str, path: str) -> Url:
    return lambda w: f"/admin/users/{w.users[name].id}{path}"


def imp(path: str) -> Url:
    return lambda w: f"/orders/import/{w.import_a.id}{path}"


def fixed(path: str) -> Url:
    return lambda w: path


def complaint_form(**change: str) -> Data:
    def data(w: World) -> dict[str, Any]:
        return {
            "shop": str(w.shop_a.id), "external_id": "CP-NEW-1", "type": "not_received",
            "channel": "online", "buyer_ref": "buyer-7", "penalty_points": "0",
            "received_at": (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "description": "Parcel never arrived.", **change,
        }  # fmt: skip

    return data


def appeal_form(**change: Any) -> Data:
    def data(w: World) -> dict[str, Any]:
        return {
            "category": "extortion", "statement": "The buyer threatened a bad review.",
            "remedies": ["void_complaint"], "rows-0-allegation": "Seller was rude",
            "rows-0-answer": "The chat shows the threat.", **change,
        }  # fmt: skip

    return data


def ruling(**change: str) -> Data:
    return lambda w: {"outcome": "rejected", "rule_applied": "Rules 1.1", "row_A": "reject",
                      "reason_A": "Not proven.", "summary": "The complaint stands.",
                      **change}  # fmt: skip


PNG = bytes.fromhex("89504e470d0a1a0a")  # a PNG's signature and nothing after it
TZ = "Mars/Olympus_Mons"

CASES = [
    # Platform administration
    Refusal("admin.check_audit", "form left open past its time", "admin",
            fixed("/admin/audit/check"), stale_token=True, says="expired"),
    Refusal("admin.disable", "disabling yourself", "admin", user("admin", "/disable"),
            says="own account"),
    Refusal("admin.enable", "form left open past its time", "admin", user("staff_a", "/enable"),
            stale_token=True, says="expired"),
    Refusal("admin.new_complaint", "malformed date", "admin", fixed("/admin/complaints/new"),
            complaint_form(received_at="31/12 noon"), field="received_at",
            kept="31/12 noon", unchanged=count("Complaint")),
    Refusal("admin.new_complaint", "shop not offered", "admin", fixed("/admin/complaints/new"),
            complaint_form(shop="999999"), field="shop", unchanged=count("Complaint")),
    Refusal("admin.new_complaint", "points not a number", "admin",
            fixed("/admin/complaints/new"), complaint_form(penalty_points="a few"),
            field="penalty_points", kept="a few", unchanged=count("Complaint")),
    Refusal("admin.new_complaint", "empty description", "admin", fixed("/admin/complaints/new"),
            complaint_form(description="  ", external_id="CP-KEEP-9"), field="description",
            others=(("external_id", "CP-KEEP-9"),), unchanged=count("Complaint")),
    Refusal("admin.reset_password", "too short", "admin", user("staff_a", "/password"),
            lambda w: {"password": "short"}, field="password"),
    Refusal("admin.shops", "name too long", "admin", fixed("/admin/shops"),
            lambda w: {"name": "S" * 121}, field="name", kept="S" * 121, unchanged=count("Shop")),
    Refusal("admin.shops", "name taken", "admin", fixed("/admin/shops"),
            lambda w: {"name": "Shop A"}, field="name", kept="Shop A", unchanged=count("Shop")),
    Refusal("admin.users", "role not offered", "admin", fixed("/admin/users"),
            lambda w: {"email": "new@test.example", "role": "emperor",
                       "password": "correct horse battery"},
            field="role", others=(("email", "new@test.example"),), unchanged=count("User")),
    Refusal("admin.users", "email taken", "admin", fixed("/admin/users"),
            lambda w: {"email": "owner_a@test.example", "role": "reviewer",
                       "password": "correct horse battery"},
            field="email", kept="owner_a@test.example", unchanged=count("User")),
    # The merchant's appeal
    # A form its state does not offer any more: no field to change, the page says why.
    Refusal("appeal.reappeal", "before a ruling", "owner_a", a("/reappeal"),
            lambda w: {"statement": "The courier's record shows delivery on time."},
            prepare=_submitted, says="cannot be appealed again"),
    Refusal("appeal.reappeal", "twice", "owner_a", a("/reappeal"),
            lambda w: {"statement": "Once more: the courier's record shows delivery."},
            prepare=_second, says="cannot be appealed again"),
    Refusal("appeal.reappeal", "after the final ruling", "owner_a", a("/reappeal"),
            lambda w: {"statement": "The courier's record shows delivery on time."},
            prepare=_final, says="cannot be appealed again"),
    Refusal("appeal.reappeal", "too short", "owner_a", a("/reappeal"),
            lambda w: {"statement": "new"}, prepare=_decided, field="statement", kept="new"),
    Refusal("appeal.respond", "no question open", "owner_a", a("/respond"),
            lambda w: {"answer": "Here is the chat you asked for."}, prepare=_submitted,
            says="No question is waiting"),
    Refusal("appeal.respond", "answering twice", "owner_a", a("/respond"),
            lambda w: {"answer": "And here it is again, in full."}, prepare=_answered,
            says="No question is waiting"),
    Refusal("appeal.respond", "too short", "owner_a", a("/respond"),
            lambda w: {"answer": "ok"}, prepare=_questioned, field="answer", kept="ok"),
    Refusal("appeal.save", "statement too long", "owner_a", a(),
            appeal_form(statement="s" * 20_001), field="statement", kept="s" * 20_001),
    Refusal("appeal.save", "exhibit not offered", "owner_a", a(),
            appeal_form(**{"rows-0-exhibits": "999999"}), field="rows-0-exhibits"),
    Refusal("appeal.save", "remedy not offered", "owner_a", a(),
            appeal_form(remedies=["jail_the_buyer"]), says="not a valid choice",
            field="remedies"),
    Refusal("appeal.start", "appeal deadline passed", "owner_a",
            lambda w: f"/complaints/{w.complaint_a.id}/appeal",
            prepare=_past_deadline, unchanged=count("Appeal")),
    Refusal("appeal.submit", "draft not ready", "owner_a", a("/submit"),
            says="not ready", unchanged=count("AppealVersion")),
    Refusal("appeal.withdraw", "reason too long", "owner_a", a("/withdraw"),
            lambda w: {"reason": "r" * 1001}, field="reason", kept="r" * 1001),
    Refusal("appeal.withdraw", "after the final ruling", "owner_a", a("/withdraw"),
            lambda w: {"reason": "changed my mind"}, prepare=_final, says="withdrawn"),
    # The user's own account
    Refusal("auth.change_password", "wrong current password", "owner_a",
            fixed("/account/password"),
            lambda w: {"pw-current_password": "not it at all", "pw-new_password": "x" * 20,
                       "pw-confirm": "x" * 20},
            field="pw-current_password"),
    Refusal("auth.change_password", "confirmation differs", "owner_a",
            fixed("/account/password"),
            lambda w: {"pw-current_password": "correct horse battery",
                       "pw-new_password": "x" * 20, "pw-confirm": "y" * 20},
            field="pw-confirm"),
    Refusal("auth.create_token", "empty name", "owner_a", fixed("/account/tokens"),
            lambda w: {"token-name": "   "}, field="token-name", unchanged=count("ApiToken")),
    Refusal("auth.create_token", "name too long", "owner_a", fixed("/account/tokens"),
            lambda w: {"token-name": "n" * 81}, field="token-name", kept="n" * 81,
            unchanged=count("ApiToken")),
    Refusal("auth.language", "language not offered", "owner_a", fixed("/language"),
            lambda w: {"locale": "tlh", "next": "/account"}),
    Refusal("auth.login", "empty password", "anonymous", fixed("/login"),
            lambda w: {"email": "owner_a@test.example", "password": ""}, field="password"),
    Refusal("auth.login", "wrong password", "anonymous", fixed("/login"),
            lambda w: {"email": "owner_a@test.example", "password": "wrong horse"},
            says="not correct"),
    Refusal("auth.login", "email too long", "anonymous", fixed("/login"),
            lambda w: {"email": "e" * 250 + "@x.example", "password": "whatever"},
            field="email", kept="e" * 250 + "@x.example"),
    Refusal("auth.logout", "form left open past its time", "owner_a", fixed("/logout"),
            stale_token=True, says="expired"),
    Refusal("auth.preferences", "time zone not offered", "owner_a",
            fixed("/account/preferences"), lambda w: {"pref-time_zone": TZ, "pref-locale": ""},
            field="pref-time_zone"),
    Refusal("auth.preferences", "language not offered", "owner_a",
            fixed("/account/preferences"),
            lambda w: {"pref-time_zone": "Asia/Shanghai", "pref-locale": "tlh"},
            field="pref-locale"),
    Refusal("auth.revoke_token", "another user's token", "owner_a",
            lambda w: f"/account/tokens/{w.tokens['owner_b'][0]}/revoke", says="No such token"),
    Refusal("auth.revoke_token", "revoking a revoked token", "owner_a",
            lambda w: f"/account/tokens/{w.tokens['owner_a'][0]}/revoke", prepare=_revoked,
            says="already revoked"),
    # Bundles
    Refusal("bundle.start", "before submission", "owner_a", a("/bundle"),
            says="not been submitted", unchanged=count("BundleBuild")),
    Refusal("bundle.verify_upload", "no file", "reviewer", fixed("/review/verify"),
            field="bundle"),
    # The evidence locker
    Refusal("locker.attach", "file not offered", "owner_a", c("/evidence/attach"),
            lambda w: {"item_id": str(w.evidence_a.id)}, field="item_id",
            unchanged=count("EvidenceItem")),
    Refusal("locker.edit", "caption too long", "owner_a", e("/edit"),
            lambda w: {"kind": "chat_screenshot", "caption": "c" * 301}, field="caption",
            kept="c" * 301),
    Refusal("locker.edit", "kind not offered", "owner_a", e("/edit"),
            lambda w: {"kind": "crystal_ball", "caption": "still mine"}, field="kind"),
    Refusal("locker.redact", "box out of range", "owner_a", e("/redact"),
            lambda w: {"boxes": "150, 0, 10, 10"}, field="boxes", kept="150, 0, 10, 10"),
    Refusal("locker.redact", "box not numbers", "owner_a", e("/redact"),
            lambda w: {"boxes": "left, top"}, field="boxes", kept="left, top"),
    Refusal("locker.remove", "platform's own record", "owner_a", e("/remove"),
            prepare=_platform_file, says="platform's own record",
            unchanged=count("EvidenceItem")),
    Refusal("locker.upload", "no file", "owner_a", c("/evidence"),
            lambda w: {"kind": "chat_screenshot", "caption": "kept caption"}, field="files",
            unchanged=count("EvidenceItem")),
    Refusal("locker.upload", "caption too long", "owner_a", c("/evidence"),
            lambda w: {"kind": "chat_screenshot", "caption": "c" * 301,
                       "files": upload("chat.png", PNG)},
            field="caption", kept="c" * 301, unchanged=count("EvidenceItem")),
    Refusal("locker.upload", "a file that is not a picture", "owner_a", c("/evidence"),
            lambda w: {"kind": "chat_screenshot", "files": upload("chat.png", PNG)},
            unchanged=count("EvidenceItem")),
    # The complaint
    Refusal("merchant.flag", "rationale too short", "owner_a", c("/flag"),
            lambda w: {"category": "extortion", "rationale": "bad"}, field="rationale",
            kept="bad", unchanged=flagged),
    Refusal("merchant.flag", "category not offered", "owner_a", c("/flag"),
            lambda w: {"category": "witchcraft", "rationale": "The buyer cast a spell."},
            field="category", unchanged=flagged),
    Refusal("merchant.unflag", "unflagging an unflagged complaint", "owner_a", c("/unflag"),
            says="not flagged"),
    Refusal("notifications.read", "form left open past its time", "owner_a",
            fixed("/notifications/read"), stale_token=True, says="expired"),
    # Order imports
    Refusal("orders.apply", "applying twice", "owner_a", imp("/apply"), prepare=_applied,
            says="already been applied", unchanged=count("Order")),
    Refusal("orders.choose_columns", "a field not offered", "owner_a", imp("/columns"),
            lambda w: {"column_0": "favourite_colour"}, field="column_0"),
    Refusal("orders.choose_columns", "after applying", "owner_a", imp("/columns"),
            lambda w: {"column_0": "number"}, prepare=_applied, says="already been applied"),
    Refusal("orders.upload", "no file", "owner_a", fixed("/orders/import"), field="file",
            unchanged=count("OrderImport")),
    Refusal("orders.upload", "empty file", "owner_a", fixed("/orders/import"),
            lambda w: {"file": upload("orders.csv", b"")}, field="file",
            unchanged=count("OrderImport")),
    # The review
    Refusal("review.assign", "not a reviewer", "senior", r("/assign"),
            lambda w: {"reviewer": str(w.users["owner_a"].id)}, prepare=_submitted,
            says="active reviewer"),
    Refusal("review.claim", "someone else has it", "senior", r("/claim"), prepare=_claimed,
            says="Another reviewer has already taken"),
    Refusal("review.note", "empty note", "reviewer", r("/notes"), lambda w: {"body": "  "},
            prepare=_claimed, field="body", unchanged=count("ReviewNote")),
    Refusal("review.request_info", "malformed date", "reviewer", r("/request-info"),
            lambda w: {"question": "Send the whole chat, please.", "due_at": "next Tuesday"},
            prepare=_claimed, field="due_at", kept="next Tuesday",
            unchanged=count("InfoRequest")),
    Refusal("review.request_info", "question too short", "reviewer", r("/request-info"),
            lambda w: {"question": "why", "due_at": ""}, prepare=_claimed, field="question",
            kept="why", unchanged=count("InfoRequest")),
    Refusal("review.rule", "no outcome chosen", "reviewer", r("/rule"),
            ruling(outcome="", summary="Kept summary text."), prepare=_claimed,
            field="outcome", others=(("summary", "Kept summary text."),),
            unchanged=count("Ruling")),
    Refusal("review.rule", "outcome not offered", "reviewer", r("/rule"),
            ruling(outcome="banished"), prepare=_claimed, unchanged=count("Ruling")),
]  # fmt: skip


def test_every_form_route_has_a_refusal_case(app: Flask) -> None:
    forms = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.endpoint.startswith("api")
    }
    covered = {case.endpoint for case in CASES}
    assert forms - covered == set(), "form routes with no bad-input case here"
    assert covered - forms == set(), "cases for routes the app no longer has"


def expired_token(client: FlaskClient, clock: Clock, limit: int) -> str:
    """A token read from a page, then the form left open past the time limit."""
    clock.move_to(utcnow())
    token = csrf_token(client)
    clock.shift(timedelta(seconds=limit + 60))
    return token


@pytest.mark.parametrize("case", CASES, ids=[f"{c.endpoint}-{c.why}" for c in CASES])
def test_every_refusal_is_said_beside_what_to_change(
    app: Flask, world: World, case: Refusal, request: pytest.FixtureRequest
) -> None:
    with app.app_context():
        if case.prepare:
            case.prepare(world)
            _db().commit()
    client = app.test_client()
    if case.who != "anonymous":
        log_in(client, world.users[case.who].email)
    with app.app_context():
        before = case.unchanged()
    if case.stale_token:
        clock = request.getfixturevalue("clock")
        token = expired_token(client, clock, app.config["WTF_CSRF_TIME_LIMIT"])
    else:
        token = csrf_token(client)
    response = client.post(case.url(world), data={**case.data(world), "csrf_token": token})
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:2000]
    assert status in (302, 303, 400, 403, 404, 409, 422), f"a refusal answered {status}"
    html = response.get_data(as_text=True)
    if status in (302, 303):
        location = response.headers["Location"]
        assert location.startswith("/"), location
        shown = client.get(location)
        assert shown.status_code < 500
        html = shown.get_data(as_text=True)
    page = Page(html)

    messages = page.messages()
    assert messages, f"{status}: no visible message on {case.endpoint} ({case.why})"
    if case.says:
        assert any(case.says.lower() in text.lower() for text in messages), messages
    if case.field:
        controls = page.controls(case.field)
        assert controls, f"the form lost its field {case.field!r}"
        beside = [control for control in controls if message_beside(page, control)]
        assert beside, f"no message beside {case.field!r}; the page says {messages}"
        if case.kept is not None:
            assert any(value_of(control) == case.kept for control in beside), (
                f"what was typed in {case.field!r} is lost"
            )
    for name, typed in case.others:
        assert typed in [value_of(control) for control in page.controls(name)], (
            f"what was typed in {name!r} is lost"
        )
    with app.app_context():
        assert case.unchanged() == before, "a refused form stored something"
