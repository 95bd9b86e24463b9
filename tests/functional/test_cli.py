"""The operator commands, run as an operator would run them."""

from __future__ import annotations

from flask import Flask

from tests.conftest import World


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def test_create_shop_user_and_token_then_use_the_token(app: Flask, world: World) -> None:
    assert run(app, "create-shop", "成都火锅 Chengdu Hotpot").exit_code == 0
    result = run(
        app,
        "create-user",
        "chef@example.com",
        "--role",
        "merchant_owner",
        "--shop",
        "成都火锅 Chengdu Hotpot",
        "--password",
        "spicy broth 2026",
    )
    assert result.exit_code == 0, result.output
    result = run(app, "create-token", "chef@example.com")
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["shop_name"] == "成都火锅 Chengdu Hotpot"


def test_bad_input_is_a_clear_error_not_a_traceback(app: Flask, world: World) -> None:
    result = run(
        app,
        "create-user",
        "x@example.com",
        "--role",
        "merchant_staff",
        "--password",
        "long enough pw",
    )
    assert result.exit_code != 0
    assert "Merchant accounts belong to a shop" in result.output
    result = run(
        app,
        "create-user",
        "x@example.com",
        "--role",
        "reviewer",
        "--shop",
        "No Such",
        "--password",
        "long enough pw",
    )
    assert "No shop is called No Such" in result.output
    result = run(app, "create-shop", "Shop A")
    assert result.exit_code != 0 and "already exists" in result.output
    assert "Traceback" not in result.output


def test_reset_password_and_disable_user(app: Flask, world: World) -> None:
    assert (
        run(app, "reset-password", "staff_a@test.example", "--password", "fresh secret 1").exit_code
        == 0
    )
    result = run(app, "disable-user", "staff_a@test.example")
    assert result.exit_code == 0 and "disabled" in result.output


def test_init_db_and_demo_on_an_empty_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from merchant_portal import create_app
    from tests.conftest import fresh_database, make_config

    with fresh_database(tmp_path) as url:
        app = create_app(make_config(tmp_path, DATABASE_URL=url))
        assert run(app, "init-db").exit_code == 0
        result = run(app, "demo", "--if-empty")
        assert result.exit_code == 0, result.output
        for role in ("merchant_owner", "merchant_staff", "reviewer", "senior_reviewer", "admin"):
            assert role in result.output
        again = run(app, "demo", "--if-empty")
        assert "already present" in again.output
        app.config["DATABASE_ENGINE"].dispose()


def test_serve_runs_a_production_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from appeals import migrate
    from appeals.db import make_engine
    from tests.conftest import fresh_database

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_DATA_DIR": str(tmp_path)}
        script = Path(sys.executable).parent / "merchant-portal"
        server = subprocess.Popen(
            [str(script), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            body, served_by = "", ""
            for _ in range(100):
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/login", timeout=2
                    ) as reply:
                        body, served_by = reply.read().decode(), reply.headers.get("Server", "")
                    break
                except OSError:
                    time.sleep(0.1)
            assert "Sign in" in body
            assert "gunicorn" in served_by
        finally:
            server.terminate()
            server.wait(10)
            assert server.stdout is not None
            server.stdout.close()


def test_import_orders_and_complaints_from_files(app: Flask, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.factories import ZH_HEADER, order_row, write_csv

    orders = write_csv(
        tmp_path / "o.csv", ZH_HEADER, [order_row("CLI-1", "b1"), order_row("", "b2")]
    )
    result = run(app, "import-orders", str(orders), "--shop", "Shop A")
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output and "row 3, column 订单号" in result.output

    records = [
        {"external_id": "CP-CLI-1", "shop": "Shop A", "type": "counterfeit", "channel": "email",
         "description": "fake", "buyer_ref": "b1", "received_at": "2026-11-20T08:00:00+08:00",
         "order_number": "CLI-1"},
        {"external_id": "CP-CLI-2", "shop": "Shop A", "type": "bogus", "channel": "email",
         "description": "x", "buyer_ref": "b1", "received_at": "2026-11-20T08:00:00"},
    ]  # fmt: skip
    path = tmp_path / "complaints.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = run(app, "import-complaints", str(path))
    assert "1 recorded, 0 already known, 1 refused" in result.output
    assert "record 2: type" in result.output and result.exit_code == 1
    again = run(app, "import-complaints", str(path))
    assert "0 recorded, 1 already known" in again.output

    assert "Audit trail intact" in run(app, "verify-audit").output


def test_platform_exports_and_a_chinese_complaint_feed_from_the_cli(
    app: Flask,
    world: World,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from tests.exports import jd

    result = run(app, "import-orders", str(jd(tmp_path).path), "--shop", "Shop A")
    assert result.exit_code == 0, result.output
    assert "Read as jd" in result.output and "2 created" in result.output

    from datetime import timedelta

    from appeals.clock import utcnow

    received = f"{utcnow() - timedelta(days=1):%Y/%m/%d %H:%M}"  # the platform's own layout
    feed = tmp_path / "投诉.csv"
    feed.write_text(
        "投诉编号,店铺名称,投诉类型,投诉渠道,投诉内容,买家昵称,投诉时间,订单号\r\n"
        f'TS-1,Shop A,商品质量问题,12315,"耳机坏了，不赔就去 12315",jd_buyer01,{received},'
        '"=""230000000001"""\r\n',
        encoding="gb18030",
    )
    result = run(app, "import-complaints", str(feed))
    assert "1 recorded" in result.output, result.output
    with app.app_context():
        from sqlalchemy import select

        from appeals.models import Complaint
        from merchant_portal.database import db

        complaint = db().scalar(select(Complaint).where(Complaint.external_id == "TS-1"))
        assert complaint is not None and complaint.type.value == "product_quality"
        assert complaint.channel.value == "hotline"
        assert complaint.order is not None and complaint.order.number == "230000000001"


def test_a_large_export_streams_in_batches_with_the_same_orders(
    app: Flask,
    world: World,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """Batches of one order: an order's rows spread over batches (even apart) stay one order."""
    from sqlalchemy import select

    from appeals import order_import
    from appeals.accounts import SYSTEM
    from appeals.models import Order, Shop
    from evidence.tables import TableLimits, iter_rows
    from merchant_portal.database import db
    from tests.exports import amazon, shopify

    for export in (shopify(tmp_path), amazon(tmp_path)):
        with app.app_context():
            shop = db().get_one(Shop, world.shop_a.id)
            whole = order_import.plan_import(
                iter_rows(export.path, TableLimits(max_bytes=2**20)), time_zone="Asia/Shanghai",
                fingerprint_key=b"k",
            )  # fmt: skip
            result, _, plan = order_import.import_stream(
                db(), SYSTEM, shop, iter_rows(export.path, TableLimits(max_bytes=2**20)),
                time_zone="Asia/Shanghai", fingerprint_key=b"k", filename="x", batch=1,
            )  # fmt: skip
            db().commit()
            for number, expected in whole.orders.items():
                stored = db().scalar(select(Order).where(Order.number == number))
                assert stored is not None
                assert len(stored.items) == len(expected["items"])
                assert stored.total_amount == expected["total_amount"]
            assert plan.order_count == len(whole.orders) == result.created

    # A fragment of an order far from its first rows is merged, never a second order.
    path = tmp_path / "apart.csv"
    path.write_text("订单号,买家,商品,金额\r\nM-1,b,杯子,\r\nM-2,c,盘子,3\r\nM-1,b,杯盖,\r\n",
                    encoding="utf-8")  # fmt: skip
    with app.app_context():
        shop = db().get_one(Shop, world.shop_a.id)
        order_import.import_stream(
            db(), SYSTEM, shop, iter_rows(path, TableLimits(max_bytes=2**20)),
            time_zone="Asia/Shanghai", fingerprint_key=b"k", filename="x", batch=1,
        )  # fmt: skip
        db().commit()
        stored = db().scalar(select(Order).where(Order.number == "M-1"))
        assert stored is not None and [i["name"] for i in stored.items] == ["杯子", "杯盖"]


def test_another_shops_export_from_the_cli_stores_nothing(
    app: Flask,
    world: World,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import func, select

    from appeals.models import Order
    from merchant_portal.database import db
    from tests.exports import taobao

    with app.app_context():
        before = db().scalar(select(func.count()).select_from(Order))
    result = run(app, "import-orders", str(taobao(tmp_path).path), "--shop", "Shop A")
    assert result.exit_code == 1
    assert "export of the shop 测试店铺A, not of Shop A" in result.output
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(Order)) == before
