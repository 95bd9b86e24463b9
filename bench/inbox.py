"""Inbox, dossier and order-import figures at platform scale.

Seeds 1,000 shops with 1,000,000 orders and 100,000 complaints (one large shop holds
100,000 orders and 20,000 complaints, so that page 500 of its inbox exists), then
measures server time of the inbox (filters on, page 1 and page 500), of the complaint
page with its dossier, and of importing a 50,000-row XLSX export.

    .venv/bin/python bench/inbox.py                      # SQLite file in a temp folder
    scripts/with-services.sh .venv/bin/python bench/inbox.py --postgres
    .venv/bin/python bench/inbox.py --scale 0.1          # a quicker, smaller run
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
from figures import report, timed
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, func, insert, make_url, select, text

from appeals import migrate, order_import, passwords
from appeals.accounts import SYSTEM, create_shop, create_user
from appeals.complaints import InboxFilter, inbox_query
from appeals.db import make_engine, make_session_factory
from appeals.dossier import build_dossier
from appeals.models import Complaint, ComplaintStatus, ComplaintType, Order, Shop
from appeals.permissions import Role
from evidence.tables import TableLimits, iter_rows
from merchant_portal import create_app

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "bench password 1"  # noqa: S105 (a throwaway account in a temp database)
TYPES = list(ComplaintType)


@contextmanager
def database(postgres: bool, folder: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    server = os.environ["PORTAL_TEST_DATABASE_URL"]
    name = f"appeal_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(engine: Engine, scale: float) -> tuple[int, int]:
    """Insert shops, orders and complaints in bulk; returns (big shop id, a complaint id)."""
    rng = random.Random(7)
    shops, total_orders, total_complaints = 1000, int(1_000_000 * scale), int(100_000 * scale)
    big_orders, big_complaints = int(100_000 * scale), int(20_000 * scale)
    factory = make_session_factory(engine)
    with factory() as session:
        passwords.use_profile("cheapest")
        big = create_shop(session, SYSTEM, "Big Shop")
        create_user(session, SYSTEM, email="owner@big.example", role=Role.MERCHANT_OWNER,
                    password=PASSWORD, shop=big)  # fmt: skip
        session.add_all(Shop(name=f"Shop {i:04d}") for i in range(1, shops))
        session.commit()
        shop_ids = list(session.scalars(select(Shop.id).order_by(Shop.id)))
    plan = [(big.id, big_orders, big_complaints)] + [
        (shop, (total_orders - big_orders) // (shops - 1), (total_complaints - big_complaints) // (shops - 1))
        for shop in shop_ids[1:]
    ]  # fmt: skip
    started = time.perf_counter()
    with engine.begin() as conn:
        order_rows: list[dict[str, object]] = []
        complaint_rows: list[dict[str, object]] = []
        for shop, n_orders, n_complaints in plan:
            buyers = max(1, n_orders // 5)
            for i in range(n_orders):
                ordered = NOW - timedelta(days=rng.uniform(0, 365))
                refunded = ordered + timedelta(days=9) if rng.random() < 0.03 else None
                order_rows.append({
                    "shop_id": shop, "number": f"O{shop}-{i}", "buyer_ref": f"b{shop}-{rng.randrange(buyers)}",
                    "items": [], "total_amount": Decimal("99.00"), "currency": "CNY",
                    "ordered_at": ordered, "paid_at": ordered, "delivered_at": ordered + timedelta(days=3),
                    "confirmed_at": ordered + timedelta(days=4), "refunded_at": refunded,
                    "contact_fingerprint": f"{shop:08d}{rng.randrange(buyers):024d}",
                    "created_at": NOW - timedelta(days=400),
                })  # fmt: skip
                if len(order_rows) >= 20_000:
                    conn.execute(insert(Order), order_rows)
                    order_rows.clear()
            for i in range(n_complaints):
                received = NOW - timedelta(days=rng.uniform(0, 30))
                complaint_rows.append({
                    "shop_id": shop, "external_id": f"C{shop}-{i}", "order_number": f"O{shop}-{i * 5}",
                    "type": TYPES[i % len(TYPES)], "channel": "online", "description": "bench complaint",
                    "buyer_ref": f"b{shop}-{rng.randrange(buyers)}", "received_at": received,
                    "appeal_deadline": received + timedelta(days=7), "penalty_points": 2,
                    "status": ComplaintStatus.OPEN if i % 10 else ComplaintStatus.CLOSED,
                    "created_at": NOW - timedelta(days=31),
                })  # fmt: skip
                if len(complaint_rows) >= 20_000:
                    conn.execute(insert(Complaint), complaint_rows)
                    complaint_rows.clear()
        for table, rows in ((Order, order_rows), (Complaint, complaint_rows)):
            if rows:
                conn.execute(insert(table), rows)
        conn.execute(text("ANALYZE"))
    with engine.begin() as conn:
        counts = conn.execute(
            text("SELECT (SELECT count(*) FROM shop_order), (SELECT count(*) FROM complaint)")
        ).one()
        complaint_id = conn.scalar(
            select(func.min(Complaint.id)).where(Complaint.shop_id == big.id)
        )
    print(f"seeded {counts[0]:,} orders and {counts[1]:,} complaints in {shops} shops "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    return big.id, int(complaint_id or 0)


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login", data={"email": "owner@big.example", "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Referer": "https://localhost/"},
    )  # fmt: skip
    assert response.status_code == 302
    return client


def explain(engine: Engine, shop_id: int) -> None:
    query = (
        inbox_query(shop_id, InboxFilter(status=ComplaintStatus.OPEN), NOW).limit(25).offset(12_475)
    )
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    prefix = (
        "EXPLAIN QUERY PLAN "
        if engine.dialect.name == "sqlite"
        else "EXPLAIN (ANALYZE, COSTS OFF) "
    )
    with engine.connect() as conn:
        print("plan of the inbox query (page 500):")
        for row in conn.execute(text(prefix + str(compiled))):
            print("   ", " | ".join(str(cell) for cell in row))


def bench_import(app: Flask, engine: Engine, shop_id: int, folder: Path, rows: int) -> None:
    path = folder / "export.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("订单")
    sheet.append(
        [
            "订单号",
            "买家",
            "商品",
            "数量",
            "实付金额",
            "下单时间",
            "签收时间",
            "物流公司",
            "物流单号",
            "收货人电话",
        ]
    )
    base = datetime(2026, 10, 1, 9, 0)
    for i in range(rows):
        sheet.append([f"X{i:07d}", f"buyer-{i % 9000}", "连衣裙", 1, 199.0, base + timedelta(minutes=i),
                      base + timedelta(days=3, minutes=i), "顺丰速运", f"SF{i:010d}", f"1390000{i % 9000:04d}"])  # fmt: skip
    workbook.save(path)
    size_mb = path.stat().st_size / 2**20
    factory = make_session_factory(engine)
    for attempt in ("first import (all new)", "re-import (all unchanged)"):
        started = time.perf_counter()
        table = list(iter_rows(path, TableLimits(max_bytes=50 * 2**20)))
        read = time.perf_counter()
        plan = order_import.plan_import(table, time_zone="Asia/Shanghai", fingerprint_key=b"bench")
        planned = time.perf_counter()
        with factory() as session:
            shop = session.get(Shop, shop_id)
            assert shop is not None
            result = order_import.apply_plan(session, shop, plan)
            session.commit()
        done = time.perf_counter()
        print(f"import {rows:,}-row XLSX ({size_mb:.1f} MB), {attempt}: read {read - started:.1f} s, "
              f"map+check {planned - read:.1f} s, write {done - planned:.1f} s, "
              f"total {done - started:.1f} s (target 30 s: {'met' if done - started <= 30 else 'MISSED'}); "
              f"{result.as_dict()}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", action="store_true", help="use PORTAL_TEST_DATABASE_URL's server"
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--import-rows", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, Path(tmp)) as url:
        folder = Path(tmp)
        engine = make_engine(url)
        migrate.upgrade(engine)
        big_shop, complaint_id = seed(engine, args.scale)
        app = create_app({"DATABASE_URL": url, "DATA_DIR": folder, "PASSWORD_HASH_PROFILE": "cheapest",
                          "LOGIN_RATE_LIMIT": "1000 per minute"})  # fmt: skip
        client = signed_in(app)
        print(
            f"== {engine.dialect.name}, server time per request (in-process WSGI), {args.rounds} rounds"
        )
        filters = {"status": "open", "sort": "deadline"}
        report(
            "inbox, status=open, page 1",
            timed(lambda: client.get("/inbox", query_string=filters), args.rounds),
            50,
        )
        report(
            "inbox, status=open, page 500",
            timed(lambda: client.get("/inbox", query_string={**filters, "page": 500}), args.rounds),
            50,
        )
        report("inbox, deadline=under_5_days&type=counterfeit, page 1",
               timed(lambda: client.get("/inbox", query_string={"deadline": "under_5_days", "type": "counterfeit"}), args.rounds), 50)  # fmt: skip
        report(
            "inbox, search by order number",
            timed(
                lambda: client.get("/inbox", query_string={"q": f"O{big_shop}-500"}), args.rounds
            ),
            50,
        )
        report(
            "complaint page with its dossier",
            timed(lambda: client.get(f"/complaints/{complaint_id}"), args.rounds),
            50,
        )
        with app.app_context():
            from appeals.models import User
            from merchant_portal.database import db

            owner = db().scalar(select(User).where(User.email == "owner@big.example"))
            report(
                "dossier computation alone",
                timed(
                    lambda: build_dossier(db(), owner, complaint_id, time_zone="Asia/Shanghai"),
                    args.rounds,
                ),
                50,
            )
        explain(engine, big_shop)
        bench_import(app, engine, big_shop, folder, args.import_rows)
        app.config["DATABASE_ENGINE"].dispose()
        engine.dispose()


if __name__ == "__main__":
    main()
