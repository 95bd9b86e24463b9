"""Shared fixtures: a real database per session (SQLite, or PostgreSQL when configured),
a rolled-back transaction per test, the app bound to it, and helpers to act as a user."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from appeals import accounts, complaints, migrate
from appeals.accounts import SYSTEM
from appeals.clock import utcnow
from appeals.db import make_engine, make_session_factory
from appeals.models import Shop, User
from appeals.permissions import Role
from appeals.policies import DEFAULT_POLICIES
from merchant_portal import create_app

IN_CI = bool(os.environ.get("CI"))
PASSWORD = "correct horse battery"
SHOP_A_MARKER = "SECRET-OF-SHOP-A"
SHOP_B_MARKER = "SECRET-OF-SHOP-B"
# A PostgreSQL server to create throwaway databases on; unset means SQLite files.
SERVER_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def require(ok: bool, why: str) -> None:
    """Skip with a reason on a developer machine; fail loudly in CI, where nothing may skip."""
    if not ok:
        if IN_CI:
            pytest.fail(why, pytrace=False)
        pytest.skip(why)


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if IN_CI and _skipped:
        print(f"\nCI forbids skipped tests; {len(_skipped)} skipped: {_skipped[:5]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    backend = "PostgreSQL" if SERVER_URL else "SQLite"
    redis = "Redis" if os.environ.get("PORTAL_TEST_REDIS_URL") else "in-memory"
    terminalreporter.write_line(f"database profile: {backend}; rate-limit storage: {redis}")


class Clock:
    """The test's hold on time: every clock of this process (the product's `utcnow`, cookie
    and CSRF stamps) reads the instant it was moved to, and stands still until moved again."""

    def __init__(self, traveller: time_machine.TimeMachineFixture) -> None:
        self._traveller = traveller

    def move_to(self, moment: datetime) -> datetime:
        self._traveller.move_to(moment, tick=False)
        return moment

    def shift(self, delta: timedelta) -> datetime:
        self._traveller.shift(delta)
        return utcnow()


@pytest.fixture
def clock(time_machine: time_machine.TimeMachineFixture) -> Clock:
    """A clock the test sets: `clock.move_to(moment)`, then `clock.shift(delta)`."""
    return Clock(time_machine)


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """A URL of a new, empty database, dropped afterwards."""
    if not SERVER_URL:
        yield f"sqlite:///{folder / f'test-{secrets.token_hex(4)}.db'}"
        return
    name = f"appeal_test_{secrets.token_hex(5)}"
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    session = make_session_factory(connection)()
    yield session
    session.close()


def make_config(tmp_path: Path, **extra: object) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-" + secrets.token_hex(8),
        "DATA_DIR": tmp_path,
        "PASSWORD_HASH_PROFILE": "cheapest",
        "RATE_LIMIT_PREFIX": "test-" + secrets.token_hex(6),
        "REDIS_URL": os.environ.get("PORTAL_TEST_REDIS_URL") or None,
        # The app shares one test connection, which a background thread must not use:
        # builds run in the request here; the thread and Redis queues have their own tests.
        "BUNDLE_QUEUE": "inline",
        # Reading pictures takes a second each: tests of reading turn it on.
        "READ_EVIDENCE": False,
        "PREPARE_COPIES": False,  # tests that need the fit copies turn them on
        **extra,
    }


class PortalClient(FlaskClient):
    """A test client that, like a browser on this site, sends a same-origin Referer.

    Requests go over https (PREFERRED_URL_SCHEME), where CSRF checks the Referer too.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.environ_base["HTTP_REFERER"] = "https://localhost/"


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> dict[str, object]:
    """Configuration for this test's app beyond the test defaults: a test that needs other
    limits parametrizes this fixture (indirect), as an operator would set PORTAL_*."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def app(connection: Connection, tmp_path: Path, settings: dict[str, object]) -> Flask:
    app = create_app(make_config(tmp_path, DATABASE_BIND=connection, **settings))
    app.test_client_class = PortalClient
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class World:
    """Two shops with a user of every role, an order and a complaint in each shop."""

    def __init__(self, session: Session, data_dir: Path) -> None:
        self.session = session
        self.shop_a = accounts.create_shop(session, SYSTEM, "Shop A")
        self.shop_b = accounts.create_shop(session, SYSTEM, "Shop B 乙店")
        self.users: dict[str, User] = {}
        for name, role, shop in [
            ("owner_a", Role.MERCHANT_OWNER, self.shop_a),
            ("staff_a", Role.MERCHANT_STAFF, self.shop_a),
            ("owner_b", Role.MERCHANT_OWNER, self.shop_b),
            ("reviewer", Role.REVIEWER, None),
            ("senior", Role.SENIOR_REVIEWER, None),
            ("admin", Role.ADMIN, None),
            ("platform", Role.PLATFORM, None),
        ]:
            self.users[name] = accounts.create_user(
                session,
                SYSTEM,
                email=f"{name}@test.example",
                role=role,
                password=PASSWORD,
                shop=shop,
                time_zone="Asia/Shanghai",
            )
        self.tokens: dict[str, tuple[int, str]] = {}
        for name, user in self.users.items():
            token, secret = accounts.create_api_token(session, user, f"{name} token")
            self.tokens[name] = (token.id, secret)
        self.order_a, self.complaint_a = self._case(self.shop_a, "A", SHOP_A_MARKER)
        self.order_b, self.complaint_b = self._case(self.shop_b, "B", SHOP_B_MARKER)
        self.import_a = self._import(data_dir)
        self.evidence_a = self._evidence(data_dir)
        from appeals.appeal import start_appeal

        self.appeal_a = start_appeal(session, self.users["owner_a"], self.complaint_a.id)

    def _evidence(self, data_dir: Path):  # type: ignore[no-untyped-def]
        """A stored item, written directly (the sandboxed intake has its own tests)."""
        from appeals.models import EvidenceItem, EvidenceKind, Provenance
        from evidence.storage import LocalStore
        from tests.factories import png_bytes

        source = data_dir / "evidence-a.png"
        source.write_bytes(png_bytes((30, 20), "navy"))
        key = LocalStore(data_dir / "blobs").put(source)
        item = EvidenceItem(
            shop_id=self.shop_a.id, complaint_id=self.complaint_a.id,
            kind=EvidenceKind.CHAT_SCREENSHOT, caption=SHOP_A_MARKER, display_name="a.png",
            media_type="image/png", size=source.stat().st_size, sha256=key, blob_key=key,
            thumbnail_key=key, normalized_key=key, provenance=Provenance.MERCHANT_UPLOADED,
        )  # fmt: skip
        self.session.add(item)
        self.session.flush()
        return item

    def _import(self, data_dir: Path):  # type: ignore[no-untyped-def]
        from appeals import order_import

        folder = data_dir / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "world-import-a").write_text(
            f"订单号,买家,商品\nORDER-A-2,buyer-{SHOP_A_MARKER},{SHOP_A_MARKER}\n", encoding="utf-8"
        )
        return order_import.start_import(
            self.session, self.users["owner_a"], "orders-a.csv", "world-import-a"
        )

    def _case(self, shop: Shop, tag: str, marker: str):  # type: ignore[no-untyped-def]
        from datetime import timedelta
        from decimal import Decimal

        from appeals.clock import utcnow
        from appeals.models import ComplaintChannel, ComplaintType

        order = complaints.record_order(
            self.session,
            shop,
            number=f"ORDER-{tag}-1",
            buyer_ref=f"buyer-{marker}",
            items=[{"name": marker, "quantity": 1, "unit_price": "10.00"}],
            total_amount=Decimal("10.00"),
        )
        complaint = complaints.record_complaint(
            self.session,
            shop,
            external_id=f"CP-{tag}-1",
            type=ComplaintType.NOT_RECEIVED,
            channel=ComplaintChannel.ONLINE,
            description=f"complaint {marker}",
            buyer_ref=f"buyer-{marker}",
            received_at=utcnow() - timedelta(days=1),
            order=order,
            policy=DEFAULT_POLICIES.deadlines,
        )
        return order, complaint


@pytest.fixture
def world(app: Flask) -> World:
    with app.app_context():
        from merchant_portal.database import db

        session = db()
        built = World(session, Path(app.config["DATA_DIR"]))
        session.commit()
        return built


@pytest.fixture
def version(app: Flask, world: World):  # type: ignore[no-untyped-def]
    """Shop A's appeal, flagged, with seven exhibits through the real locker, submitted."""
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store
    from tests.bundles import submitted_appeal

    with app.app_context():
        found = submitted_appeal(
            db(), world.users["owner_a"], world.complaint_a.id, blob_store(),
            Path(app.config["DATA_DIR"]) / "quarantine",
        )  # fmt: skip
        db().commit()
        db().refresh(found)
        db().expunge(found)
        return found


CSRF_INPUT = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    match = CSRF_INPUT.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form."""
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def post_form(client: FlaskClient, url: str, data: dict[str, object], page: str = "/account"):  # type: ignore[no-untyped-def]
    """Post a form with the session's CSRF token, as the browser would."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """The CI's Redis, or a throwaway redis-server of our own."""
    configured = os.environ.get("PORTAL_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = shutil.which("redis-server")
    require(server is not None, "redis-server is not installed (apt-get install redis-server)")
    assert server is not None
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
