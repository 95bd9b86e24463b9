"""A million-row Taobao order report through `import-orders`, in bounded memory.

Writes the classic 订单报表 layout as Taobao exports it (GB18030, `="…"` order numbers,
`'` before phones, 43 columns, a 合计 line), then runs the documented CLI in a child
process, first into an empty shop and then again (all unchanged), and reports wall time,
rows per second and the child's own peak RSS. The reference in the same run is the floor
any Python importer has: the csv module reading the same file, doing nothing else. A
quarter-size file shows the memory is bounded (peak at 1x / peak at 0.25x). Then the
dossier of a complaint is timed with the shop holding all those orders.

    .venv/bin/python bench/imports.py [--rows 1000000] [--keep DIR]
    scripts/with-services.sh .venv/bin/python bench/imports.py --postgres
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.exports import TAOBAO_HEADER  # noqa: E402

CLI = [str(Path(sys.executable).parent / "merchant-portal")]
SHOP = "Bench Import Shop"


def write_export(path: Path, rows: int) -> None:
    base = datetime(2026, 6, 1, 9, 0)
    names = [name.strip() for name in TAOBAO_HEADER]
    index = {name: i for i, name in enumerate(names)}
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(TAOBAO_HEADER)
        for i in range(rows):
            row = [""] * len(names)
            when = base + timedelta(seconds=i * 13)
            buyer = i % 90_000  # a buyer keeps one phone and one address across orders
            for name, value in (
                ("订单编号", f'="{2766000000000000000 + i}"'),
                ("买家会员名", f"tb_buyer_{buyer}"),
                ("买家实际支付金额", f"{49 + i % 300}.{i % 100:02d}"),
                ("总金额", f"{49 + i % 300}.{i % 100:02d}"),
                ("订单状态", ("交易成功", "卖家已发货，等待买家确认", "交易关闭")[i % 3]),
                ("买家留言", "请发顺丰" if i % 7 == 0 else ""),
                ("收货人姓名", f"收货人{buyer}"),
                ("收货地址", f"浙江省 杭州市 余杭区 文一西路 {buyer % 997} 号 {buyer} 室"),
                ("联系手机", f"'138{buyer:08d}"),
                ("订单创建时间", when.strftime("%Y-%m-%d %H:%M:%S")),
                ("订单付款时间", (when + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")),
                ("宝贝标题", f"真丝连衣裙 {i % 40} 号款, 含腰带"),
                ("宝贝总数量", str(1 + i % 3)),
                ("物流单号", f"No:SF{1_000_000_000_000 + i}"),
                ("物流公司", "顺丰速运"),
                ("店铺名称", SHOP),
            ):
                row[index[name]] = value
            writer.writerow(row)
        total = [""] * len(names)
        total[index["订单编号"]] = "合计"
        writer.writerow(total)


def reference(path: Path) -> float:
    started = time.perf_counter()
    with path.open(encoding="gb18030", newline="") as handle:
        count = sum(1 for _ in csv.reader(handle))
    assert count > 1
    return time.perf_counter() - started


def child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a CLI command; its wall time, its own peak RSS in MiB, and its output."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return wall, usage.ru_maxrss / 1024, output


def dossier_ms(env: dict[str, str], shop_name: str, rounds: int = 30) -> tuple[float, float, int]:
    """Median and p95 of one complaint's dossier, with the shop's orders all imported."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from appeals import accounts, complaints
    from appeals.accounts import SYSTEM
    from appeals.dossier import build_dossier
    from appeals.models import ComplaintChannel, ComplaintType, Order
    from appeals.permissions import Role
    from merchant_portal import create_app
    from merchant_portal.context import policies
    from merchant_portal.database import db

    app = create_app()
    with app.app_context():
        shop = accounts.find_shop_by_name(db(), SYSTEM, shop_name)
        orders = db().scalar(
            select(func.count()).select_from(Order).where(Order.shop_id == shop.id)
        )
        owner = accounts.create_user(
            db(), SYSTEM, email="bench-owner@bench.example", role=Role.MERCHANT_OWNER,
            password="bench password 2026", shop=shop,  # noqa: S106 - a bench account
        )  # fmt: skip
        order = db().scalar(
            select(Order)
            .where(Order.shop_id == shop.id)
            .limit(1)
            .offset(min(5000, (orders or 0) // 2))
        )
        assert order is not None
        complaint = complaints.record_complaint(
            db(), shop, external_id="BENCH-DOSSIER-1", type=ComplaintType.NOT_RECEIVED,
            channel=ComplaintChannel.ONLINE, description="没收到货，不退款就差评",
            buyer_ref=order.buyer_ref, received_at=(order.paid_at or order.ordered_at) + timedelta(days=9),  # type: ignore[operator]
            order=order, policy=policies().deadlines,
        )  # fmt: skip
        db().commit()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            build_dossier(db(), owner, complaint.id, time_zone=policies().time_zone)
            times.append((time.perf_counter() - started) * 1000)
            db().rollback()
    return statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1], orders or 0


def run(rows: int, work: Path, database_url: str | None, reimport: bool) -> dict[str, float]:
    data = work / f"data-{rows}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    env = {
        **os.environ, "PORTAL_DATA_DIR": str(data), "PORTAL_SECRET_KEY": "bench-" + "k" * 40,
        "PORTAL_IMPORT_MAX_BYTES": str(4 * 2**30), "PORTAL_IMPORT_MAX_ROWS": str(rows + 10),
    }  # fmt: skip
    if database_url:
        env["PORTAL_DATABASE_URL"] = database_url
    export = work / f"ExportOrderList-{rows}.csv"
    if not export.exists():
        started = time.perf_counter()
        write_export(export, rows)
        print(f"  wrote {rows:,} rows, {export.stat().st_size / 2**20:.0f} MB in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    child(["init-db"], env)
    if database_url:  # a clean shop for each run
        child(["create-shop", f"{SHOP} {rows}"], env)
    else:
        child(["create-shop", SHOP], env)
    shop = SHOP if not database_url else f"{SHOP} {rows}"
    ref = reference(export)
    first = child(["import-orders", str(export), "--shop", shop], env)
    assert f"{rows} created" in first[2].splitlines()[-1], first[2][-400:]
    again = (0.0, 0.0, "")
    if reimport:
        again = child(["import-orders", str(export), "--shop", shop], env)
        assert f"{rows} unchanged" in again[2].splitlines()[-1], again[2][-400:]
    return {
        "rows": rows,
        "ref": ref,
        "first": first[0],
        "first_rss": first[1],
        "again": again[0],
        "again_rss": again[1],
        "env": env,
        "shop": shop,
    }  # type: ignore[dict-item]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--quick", action="store_true", help="1x only, no re-import")
    args = parser.parse_args()
    database_url = os.environ.get("PORTAL_TEST_DATABASE_URL") if args.postgres else None
    if args.postgres and not database_url:
        raise SystemExit("--postgres needs PORTAL_TEST_DATABASE_URL (scripts/with-services.sh)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-imports-"))
    work.mkdir(parents=True, exist_ok=True)
    results = [] if args.quick else [run(max(args.rows // 4, 1), work, database_url, True)]
    results.append(run(args.rows, work, database_url, not args.quick))
    print(
        f"\nimport-orders, Taobao 订单报表 (GB18030, 43 columns), {'PostgreSQL' if database_url else 'SQLite'}:"
    )
    print(
        f"{'rows':>10} {'csv.reader':>11} {'import':>9} {'rows/s':>9} {'x ref':>7} {'peak RSS':>9} {'re-import':>10} {'peak RSS':>9}"
    )
    for r in results:
        print(
            f"{r['rows']:>10,} {r['ref']:>10.1f}s {r['first']:>8.1f}s {r['rows'] / r['first']:>9,.0f} "
            f"{r['first'] / r['ref']:>6.1f}x {r['first_rss']:>7.0f}MiB {r['again']:>9.1f}s {r['again_rss']:>7.0f}MiB"
        )
    large = results[-1]
    if len(results) == 2:
        small = results[0]
        print(
            f"memory at {large['rows']:,} / at {small['rows']:,} rows: {large['first_rss'] / small['first_rss']:.2f}x "
            "(bounded: the file and its orders never sit in memory whole)"
        )
    median, p95, orders = dossier_ms(large["env"], large["shop"])  # type: ignore[arg-type]
    print(
        f"dossier of one complaint with {orders:,} orders in the shop: median {median:.1f} ms, p95 {p95:.1f} ms (target 100 ms)"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
