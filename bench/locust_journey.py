"""The whole journey for Locust: merchants appeal and answer, reviewers ask and rule, at once.

Run by bench/load.py, which seeds the accounts and complaints and hands them over in the
JSON file named by LOAD_PLAN; every acknowledged write is written to LOAD_ACKS at the end,
so that load.py can count it in the database. Users are spread over the web processes in
LOAD_HOSTS (space-separated), round-robin, as a load balancer would.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import struct
import threading
import zlib
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from locust import HttpUser, between, events, task
from requests.cookies import RequestsCookieJar

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
HOSTS = os.environ["LOAD_HOSTS"].split()
# Seconds each user waits between actions (LOAD_THINK "MIN MAX"): bench/load.py's --think.
THINK = [float(part) for part in os.environ.get("LOAD_THINK", "0.1 0.5").split()]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CLAIMABLE = re.compile(r'action="/review/appeals/(\d+)/claim"')
ACKS: dict[str, list[Any]] = {"uploads": [], "submissions": [], "rulings": [], "lost_claims": [],
                              "questions": [], "answers": [], "bundles": []}  # fmt: skip
# One appeal in three gets a question before its ruling; the merchant answers it.
ASK_EVERY = 3
_lock = threading.Lock()
_merchants = iter(PLAN["merchants"])
_reviewers = iter(PLAN["reviewers"])
_hosts = itertools.cycle(HOSTS)
_dead: set[str] = set()


def next_host() -> str:
    """The next web process that has not refused a connection, as a balancer's health check."""
    for _ in HOSTS:
        host = next(_hosts)
        if host not in _dead:
            return host
    return HOSTS[0]


class LoopbackJar(RequestsCookieJar):
    """Keep Secure (__Host-) cookies for http on loopback only, as browsers do.

    http.cookiejar sends Secure cookies over https alone, and requests copies the jar into
    a default one for each request, so a cookie policy would not stick: the flag is dropped
    on the client's copy instead (the server still sets it).
    """

    def set_cookie(self, cookie: Cookie, *args: Any, **kwargs: Any) -> None:
        if cookie.domain in {"127.0.0.1", "localhost"}:
            cookie.secure = False
        super().set_cookie(cookie, *args, **kwargs)


def tiny_png(seed: int) -> bytes:
    """A distinct 24x24 PNG per upload, so each acknowledged upload has its own hash."""
    rng = random.Random(seed)
    rows = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(24 * 3)) for _ in range(24))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 24, 24, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def ack(kind: str, record: Any) -> None:
    with _lock:
        ACKS[kind].append(record)


@events.request.add_listener  # type: ignore[untyped-decorator]
def _mark_refused(url: str, exception: BaseException | None = None, **_kwargs: Any) -> None:
    refused = isinstance(
        exception, ConnectionError | requests.ConnectionError
    ) or "answered 0" in str(exception)
    if exception is not None and refused:
        _dead.add("http://" + urlsplit(url).netloc)


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _write_acks(**_kwargs: Any) -> None:
    Path(os.environ["LOAD_ACKS"]).write_text(json.dumps(ACKS), encoding="utf-8")


class PortalUser(HttpUser):
    abstract = True
    wait_time = between(THINK[0], THINK[1])
    account: dict[str, Any]

    def on_start(self) -> None:
        self.client.base_url = next_host()
        self.client.cookies = LoopbackJar()
        page = self.client.get("/login", name="GET /login").text
        token = CSRF.search(page)
        assert token, "no CSRF token on the sign-in page"
        with self.client.post(
            "/login", name="POST /login", allow_redirects=False, catch_response=True,
            data={"email": self.account["email"], "password": PLAN["password"], "csrf_token": token.group(1)},
        ) as response:  # fmt: skip
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")
        self.api = {"Authorization": f"Bearer {self.account['token']}"}

    def follow_balancer(self) -> None:
        if self.client.base_url in _dead:
            self.client.base_url = next_host()

    def page(self, path: str, name: str) -> str:
        """A page GET that counts as failed unless it answers 200 itself (no sign-in redirect)."""
        with self.client.get(
            path, name=f"GET {name}", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"answered {response.status_code}")
            return str(response.text)

    def csrf_from(self, page: str) -> str:
        found = CSRF.search(page)
        return found.group(1) if found else ""


class Merchant(PortalUser):
    """Inbox, a complaint, its locker, an upload, the appeal filled and submitted."""

    weight = 4

    def on_start(self) -> None:
        self.account = next(_merchants)
        self.pool = list(self.account["complaints"])
        # What this account submitted in earlier runs: a reviewer may ask about it now.
        self.submitted: list[int] = list(self.account.get("submitted", []))
        super().on_start()

    @task
    def appeal_one_complaint(self) -> None:
        self.follow_balancer()
        if self.answer_a_question():
            return
        if not self.pool:
            self.page("/inbox", "/inbox")
            return
        complaint = self.pool.pop()
        self.page("/inbox", "/inbox")
        self.page(f"/complaints/{complaint}", "/complaints/{id}")
        self.page(f"/complaints/{complaint}/evidence", "/complaints/{id}/evidence")
        png = tiny_png(complaint)
        upload = self.client.post(
            f"/api/v1/complaints/{complaint}/evidence", name="POST /api/v1/complaints/{id}/evidence",
            headers=self.api, data={"kind": "chat_screenshot", "caption": "chat"},
            files={"file": (f"chat-{complaint}.png", io.BytesIO(png), "image/png")},
        )  # fmt: skip
        if upload.status_code != 201:
            return
        evidence = upload.json()
        ack(
            "uploads",
            {"id": evidence["id"], "complaint_id": complaint, "sha256": evidence["sha256"]},
        )
        draft = self.client.post(
            "/api/v1/appeals", name="POST /api/v1/appeals", headers=self.api,
            json={"complaint_id": complaint, "category": "other",
                  "statement": "The buyer asked for money before filing; see the chat.",
                  "remedies": ["void_complaint"],
                  "rows": [{"allegation": "Item never arrived", "answer": "Signed for, see chat",
                            "evidence_ids": [evidence["id"]]}]},
        )  # fmt: skip
        if draft.status_code not in (200, 201):
            return
        appeal = draft.json()["id"]
        self.page(f"/appeals/{appeal}", "/appeals/{id}")
        submitted = self.client.post(
            f"/api/v1/appeals/{appeal}/submit",
            name="POST /api/v1/appeals/{id}/submit",
            headers=self.api,
        )
        if submitted.status_code == 200 and submitted.json()["state"] == "submitted":
            ack(
                "submissions",
                {
                    "appeal_id": appeal,
                    "merchant": self.account["email"],
                    "sha256": submitted.json()["versions"][-1]["content_sha256"],
                },
            )
            self.submitted.append(appeal)

    def answer_a_question(self) -> bool:
        """Look at three of my submitted appeals; if a reviewer asked something, answer it."""
        for _ in range(min(3, len(self.submitted))):
            appeal = self.submitted.pop(0)
            state = self.client.get(
                f"/api/v1/appeals/{appeal}", name="GET /api/v1/appeals/{id}", headers=self.api
            )
            if state.status_code != 200:
                continue
            if state.json()["state"] == "info_requested":
                self.answer(appeal)
                return True
            if state.json()["state"] in ("submitted", "in_review"):
                self.submitted.append(appeal)  # not asked yet: look again later
        return False

    def answer(self, appeal: int) -> None:
        page = self.page(f"/appeals/{appeal}", "/appeals/{id}")
        with self.client.post(
            f"/appeals/{appeal}/respond", name="POST /appeals/{id}/respond", allow_redirects=False,
            data={"answer": "The courier's trace shows it signed for.",
                  "csrf_token": self.csrf_from(page)},
            catch_response=True,
        ) as answered:  # fmt: skip
            if answered.status_code == 302:
                ack("answers", {"appeal_id": appeal})
            else:
                answered.failure(f"answer answered {answered.status_code}")


class Reviewer(PortalUser):
    """The queue, an appeal's review screen, claim it, its bundle, ask or rule; rule on the
    appeals it asked about once the merchant has answered."""

    weight = 1

    def on_start(self) -> None:
        self.account = next(_reviewers)
        self.asked: set[int] = set()
        self.ruled: set[int] = set()
        super().on_start()

    @task
    def rule_one_appeal(self) -> None:
        self.follow_balancer()
        appeal = self.answered_one() or self.claim_one()
        if appeal is None:
            return
        if appeal % ASK_EVERY == 0 and appeal not in self.asked:
            self.ask(appeal)
            return
        self.rule(appeal)

    def answered_one(self) -> int | None:
        """One of the appeals I asked about whose answer has come: back in review, mine."""
        for appeal in sorted(self.asked - self.ruled):
            state = self.client.get(
                f"/api/v1/appeals/{appeal}", name="GET /api/v1/appeals/{id}", headers=self.api
            )
            if state.status_code == 200 and state.json()["state"] == "in_review":
                return appeal
        return None

    def claim_one(self) -> int | None:
        """Claim an appeal nobody has, from the top of the queue; None if another won it."""
        seeded = PLAN.get("seeded_appeals_below", 0)  # the queue's seeded tail is not ours
        # Those nobody has claimed yet: the top of the whole queue soon fills with appeals
        # an earlier run's reviewers claimed and left.
        queue = self.page("/review/?unclaimed=1", "/review/")
        ids = [int(i) for i in CLAIMABLE.findall(queue) if int(i) >= seeded]
        if not ids:
            return None
        appeal = random.choice(ids[:10])
        screen = self.page(f"/review/appeals/{appeal}", "/review/appeals/{id}")
        with self.client.post(
            f"/review/appeals/{appeal}/claim", name="POST /review/appeals/{id}/claim",
            data={"csrf_token": self.csrf_from(screen)}, catch_response=True,
        ) as claim:  # fmt: skip
            if claim.status_code != 200:
                claim.failure(f"claim answered {claim.status_code}")
                return None
            if "The appeal is yours to review." not in claim.text:
                ack("lost_claims", appeal)  # another reviewer's claim won: not an error
                return None
        # The bundle the reviewer reads: the first request queues its build on a worker.
        bundle = self.client.get(
            f"/api/v1/appeals/{appeal}/bundle.pdf", name="GET /api/v1/appeals/{id}/bundle.pdf",
            headers=self.api, stream=True,
        )  # fmt: skip
        bundle.close()
        if bundle.status_code in (200, 202):
            ack("bundles", appeal)
        return appeal

    def ask(self, appeal: int) -> None:
        screen = self.page(f"/review/appeals/{appeal}", "/review/appeals/{id}")
        with self.client.post(
            f"/review/appeals/{appeal}/request-info",
            name="POST /review/appeals/{id}/request-info", allow_redirects=False,
            data={"question": "Please add the courier's trace for this order.",
                  "csrf_token": self.csrf_from(screen)},
            catch_response=True,
        ) as asked:  # fmt: skip
            if asked.status_code == 302:
                self.asked.add(appeal)
                ack("questions", appeal)
            else:
                asked.failure(f"question answered {asked.status_code}")

    def rule(self, appeal: int) -> None:
        # A finding for every row the version may have (an answer adds one); the domain
        # reads those the version has.
        findings = [
            {"row": row, "accepted": True, "reason": "The chat shows it."} for row in "ABCDEF"
        ]
        body = {"outcome": "upheld", "findings": findings,
                "rule_applied": "Rule 4.2 malicious complaints", "summary": "Upheld under load."}  # fmt: skip
        with self.client.post(
            f"/api/v1/appeals/{appeal}/ruling",
            name="POST /api/v1/appeals/{id}/ruling",
            headers=self.api,
            json=body,
            catch_response=True,
        ) as ruling:
            if ruling.status_code == 201:
                self.ruled.add(appeal)
                ack("rulings", {"appeal_id": appeal})
            else:
                ruling.failure(f"ruling answered {ruling.status_code}")
