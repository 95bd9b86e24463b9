"""Many merchants and reviewers through the whole journey at once, on the scaled-out stack.

Seeds shops, merchant owners, reviewers and their API tokens through the domain, and
100,000 complaints in bulk SQL, then runs Locust headless (bench/locust_journey.py) against
one web process and then against all of them, prints p50/p95/p99 per page and API call,
throughput, errors and the ratio, where the machine's CPU went in each run (web processes,
bundle workers, Locust, the rest: from /proc), and counts every acknowledged upload,
submission and ruling in the database. Run it inside the stack:

    PORTAL_READ_EVIDENCE=0 scripts/stack.sh --web 2 --workers 2 -- \\
        .venv/bin/python bench/load.py [--users 20] [--seconds 60] [--complaints 100000] \\
        [--kill-web] [--kill-worker] [--think MIN MAX]

By default each user waits 0.1-0.5 s between actions: the stack runs flat out, which shows
its throughput and what one more web process adds. `--think 2 8` paces users as people at
work (reading a page, choosing a file), which shows the latency they would see.

Merchants upload, appeal, submit and answer questions; reviewers claim, ask for the
bundle (built by the stack's workers), ask a question on one appeal in three and rule.
--kill-web adds a run on every web process in which the last one is killed with SIGKILL
halfway through; --kill-worker one in which the last bundle worker is. Acknowledged writes
of every run are counted in the database; every bundle a reviewer asked for must then be
built: after a killed worker, by the next worker to start (as a supervisor restarts it).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cpu import CpuMeter, stack_roots
from sqlalchemy import Engine, func, insert, select, text, update

from appeals.accounts import SYSTEM, create_api_token, create_shop, create_user
from appeals.db import make_engine, make_session_factory
from appeals.models import (
    Appeal,
    AppealState,
    AppealVersion,
    BuildState,
    BundleBuild,
    Complaint,
    ComplaintStatus,
    ComplaintType,
    MaliciousCategory,
)
from appeals.permissions import Role

HERE = Path(__file__).resolve().parent
NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "load bench password 1"  # noqa: S105 (throwaway accounts in a throwaway database)
PAGE_P95_MS, LIST_P95_MS = 300, 100
LISTS = {"GET /inbox", "GET /review/"}


def seed(
    engine: Engine, merchants: int, reviewers: int, complaints: int, pool: int
) -> dict[str, Any]:
    """Shops with one owner each, reviewers, tokens, and the complaints in bulk."""
    factory = make_session_factory(engine)
    plan: dict[str, Any] = {"password": PASSWORD, "merchants": [], "reviewers": []}
    with factory() as session:
        shops = []
        for i in range(merchants):
            shop = create_shop(session, SYSTEM, f"Load Shop {i:03d}")
            user = create_user(session, SYSTEM, email=f"owner{i}@load.example", role=Role.MERCHANT_OWNER,
                               password=PASSWORD, shop=shop)  # fmt: skip
            shops.append(shop)
            plan["merchants"].append(
                {"email": user.email, "token": create_api_token(session, user, "load")[1]}
            )
        for i in range(reviewers):
            user = create_user(session, SYSTEM, email=f"reviewer{i}@load.example", role=Role.REVIEWER,
                               password=PASSWORD)  # fmt: skip
            plan["reviewers"].append(
                {"email": user.email, "token": create_api_token(session, user, "load")[1]}
            )
        session.commit()
        shop_ids = [shop.id for shop in shops]
    insert_complaints(engine, shop_ids, complaints, pool)
    plan["seeded_appeals_below"] = insert_appeals(engine)
    with engine.connect() as conn:
        for shop_id, account in zip(shop_ids, plan["merchants"], strict=True):
            account["pool"] = list(conn.scalars(
                select(Complaint.id).where(Complaint.shop_id == shop_id, Complaint.external_id.like("P%"))
            ))  # fmt: skip
    return plan


def insert_complaints(engine: Engine, shop_ids: list[int], total: int, pool: int) -> None:
    """`pool` fresh open complaints per shop for the journey (P…), the rest as history (H…)."""
    rng, types = random.Random(15), list(ComplaintType)
    per_shop = max(pool, total // len(shop_ids))
    started, rows = time.perf_counter(), []
    with engine.begin() as conn:
        for shop in shop_ids:
            for i in range(per_shop):
                fresh = i < pool
                received = NOW - timedelta(
                    hours=rng.uniform(1, 48) if fresh else rng.uniform(72, 24 * 60)
                )
                rows.append({
                    "shop_id": shop, "external_id": f"{'P' if fresh else 'H'}{shop}-{i}",
                    "order_number": f"O{shop}-{i}", "type": types[i % len(types)], "channel": "online",
                    "description": "load bench complaint", "buyer_ref": f"b{shop}-{rng.randrange(500)}",
                    "received_at": received, "appeal_deadline": received + timedelta(days=7),
                    "penalty_points": 2,
                    "status": ComplaintStatus.OPEN if fresh or i % 10 else ComplaintStatus.CLOSED,
                    "created_at": received,
                })  # fmt: skip
                if len(rows) >= 20_000:
                    conn.execute(insert(Complaint), rows)
                    rows.clear()
        if rows:
            conn.execute(insert(Complaint), rows)
        conn.execute(text("ANALYZE"))
    count = _scalar(engine, select(func.count()).select_from(Complaint))
    print(
        f"seeded {count:,} complaints in {len(shop_ids)} shops in {time.perf_counter() - started:.1f} s"
    )


def insert_appeals(engine: Engine, every: int = 10) -> int:
    """Every tenth history complaint has an appeal: half waiting in the queue (due after
    the run's own, so reviewers reach those first), half withdrawn. Returns the first id
    after them: the journey's reviewers leave the seeded ones alone."""
    started = time.perf_counter()
    with engine.connect() as conn:
        history = list(conn.execute(
            select(Complaint.id, Complaint.shop_id, Complaint.received_at)
            .where(Complaint.external_id.like("H%")).order_by(Complaint.id)
        ))[::every]  # fmt: skip
    appeals: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    waiting: list[int] = []
    for n, (complaint, shop, received) in enumerate(history):
        queued = n % 2 == 0
        submitted = received + timedelta(hours=20)
        appeals.append({
            "shop_id": shop, "complaint_id": complaint, "number": f"AP-L-{complaint:07d}",
            "state": AppealState.SUBMITTED if queued else AppealState.WITHDRAWN,
            "category": MaliciousCategory.OTHER, "statement": "seeded", "remedies": [],
            "submission_count": 1, "submitted_at": submitted, "state_changed_at": submitted,
            "review_due_at": NOW + timedelta(days=30, minutes=n) if queued else None,
            "extra": {}, "version_id": 1, "created_at": received + timedelta(hours=2),
        })  # fmt: skip
        if queued:
            waiting.append(complaint)
    with engine.begin() as conn:
        for start in range(0, len(appeals), 10_000):
            conn.execute(insert(Appeal), appeals[start : start + 10_000])
        ids: dict[int, int] = {
            c: a for c, a in conn.execute(select(Appeal.complaint_id, Appeal.id))
        }
        for row in appeals:
            versions.append({
                "appeal_id": ids[row["complaint_id"]], "number": 1, "content": {"statement": "seeded"},
                "content_sha256": "0" * 64, "late": False, "submitted_at": row["submitted_at"],
            })  # fmt: skip
        for start in range(0, len(versions), 10_000):
            conn.execute(insert(AppealVersion), versions[start : start + 10_000])
        conn.execute(
            update(Complaint)
            .where(Complaint.id.in_(waiting))
            .values(status=ComplaintStatus.APPEALED)
        )
        conn.execute(text("ANALYZE"))
        below = int(conn.scalar(select(func.max(Appeal.id))) or 0) + 1
    print(f"seeded {len(appeals):,} appeals ({len(waiting):,} in the review queue) "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    return below


def _scalar(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def run_locust(plan: dict[str, Any], hosts: list[str], args: argparse.Namespace, out: Path,
               kill: int | None = None) -> dict[str, Any]:  # fmt: skip
    """One headless Locust run; returns its stats rows and acknowledged writes."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_text(json.dumps(plan))
    env = {**os.environ, "LOAD_PLAN": str(out / "plan.json"), "LOAD_HOSTS": " ".join(hosts),
           "LOAD_ACKS": str(out / "acks.json"),
           "LOAD_THINK": " ".join(str(s) for s in args.think)}  # fmt: skip
    command = [
        str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "locust_journey.py"), "--headless",
        "-u", str(args.users), "-r", str(args.spawn_rate), "--run-time", f"{args.seconds}s",
        "--host", hosts[0], "--csv", str(out / "run"), "--only-summary", "--stop-timeout", "10",
    ]  # fmt: skip
    if kill is not None:
        timer = threading.Timer(args.seconds / 2, lambda: os.killpg(kill, signal.SIGKILL))
        timer.start()
    with CpuMeter(stack_roots()) as cpu:
        subprocess.run(  # noqa: S603 (our own locust, our own arguments)
            command,
            env=env,
            check=False,
            stdout=(out / "locust.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    with (out / "run_stats.csv").open(encoding="utf-8") as handle:
        stats = list(csv.DictReader(handle))
    failures = []
    if (out / "run_failures.csv").exists():
        with (out / "run_failures.csv").open(encoding="utf-8") as handle:
            failures = list(csv.DictReader(handle))
    return {
        "stats": stats,
        "failures": failures,
        "acks": json.loads((out / "acks.json").read_text()),
        "cpu": cpu,
    }


def pools(
    plan: dict[str, Any], run: int, runs: int, earlier: list[dict[str, Any]]
) -> dict[str, Any]:
    """The plan with each merchant's share of fresh complaints for this run only, and the
    appeals it submitted in the `earlier` runs (their acknowledgements), which reviewers
    may still ask about."""
    submitted: dict[str, list[int]] = {}
    for acks in earlier:
        for entry in acks["submissions"]:
            submitted.setdefault(entry["merchant"], []).append(entry["appeal_id"])
    merchants = [{**m, "complaints": m["pool"][run::runs], "submitted": submitted.get(m["email"], [])}
                 for m in plan["merchants"]]  # fmt: skip
    return {**plan, "merchants": merchants}


def show(title: str, result: dict[str, Any]) -> float:
    print(f"\n{title}")
    print(
        f"{'request':44} {'count':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'req/s':>6}  target"
    )
    total = 0.0
    for row in result["stats"]:
        name = row["Name"]
        p95 = float(row["95%"] or 0)
        if name == "Aggregated":
            total = float(row["Requests/s"])
            target = ""
        elif row["Type"] == "GET":
            limit = LIST_P95_MS if name in LISTS else PAGE_P95_MS
            target = f"p95 {limit} ms: {'ok' if p95 <= limit else 'MISSED'} ({p95 / limit:.2f}x)"
        else:
            target = ""
        label = f"{row['Type']} {name}" if row["Type"] else name
        print(f"{label[:44]:44} {row['Request Count']:>6} {row['Failure Count']:>5} {row['50%']:>6} "
              f"{row['95%']:>6} {row['99%']:>6} {float(row['Requests/s']):6.1f}  {target}")  # fmt: skip
    for failure in result["failures"]:
        print(
            f"  failure x{failure['Occurrences']}: {failure['Method']} {failure['Name']}: {failure['Error'][:160]}"
        )
    acks = result["acks"]
    print(f"acknowledged: {len(acks['uploads'])} uploads, {len(acks['submissions'])} submissions, "
          f"{len(acks['questions'])} questions, {len(acks['answers'])} answers, "
          f"{len(acks['rulings'])} rulings, {len(acks['bundles'])} bundles asked for "
          f"({len(acks['lost_claims'])} claims lost to another reviewer)")  # fmt: skip
    return total


def show_cpu(engine: Engine, result: dict[str, Any]) -> None:
    """Where the machine's CPU went during the run: per tier, per request, per bundle built."""
    cpu: CpuMeter = result["cpu"]
    requests = sum(int(r["Request Count"]) for r in result["stats"] if r["Name"] == "Aggregated")
    built = _scalar(engine, select(func.count()).select_from(BundleBuild).where(
        BundleBuild.state == BuildState.READY, BundleBuild.finished_at.between(cpu.started, cpu.ended)
    ))  # fmt: skip
    web, workers = cpu.used.get("web", 0.0), cpu.used.get("workers", 0.0)
    units = {
        "web": f"{1000 * web / requests:.1f} ms per request ({requests})" if requests else "",
        "workers": f"{workers / built:.2f} s per bundle built ({built})" if built else "none built",
    }
    labels = {"web": "web (serve + gunicorn workers)", "workers": "bundle workers",
              "locust": "locust (and this meter)"}  # fmt: skip
    cores = os.cpu_count() or 1
    print(f"{'cpu over ' + format(cpu.seconds, '.1f') + ' s, user+system from /proc':44} "
          f"{'s':>6} {'cores':>9}  per unit")  # fmt: skip
    rows = [(labels.get(tier, tier), used, units.get(tier, "")) for tier, used in cpu.used.items()]
    rows += [("rest of the machine (OS, other processes)", cpu.busy - sum(cpu.used.values()), ""),
             ("idle", cpu.idle, "")]  # fmt: skip
    for label, seconds, unit in rows:
        print(f"{label:44} {seconds:6.1f} {seconds / cpu.seconds:4.2f} of {cores}  {unit}")
    for tier, gone in cpu.killed.items():
        if gone:
            print(f"  {tier}: {gone} process{'es' if gone > 1 else ''} killed mid-run, counted "
                  "to their last read (up to 1 s before)")  # fmt: skip
    print("load average at the end: " + " ".join(f"{n:.2f}" for n in os.getloadavg()))


def exactly_once(engine: Engine, acks: list[dict[str, Any]]) -> bool:
    """Every acknowledged write is in the database exactly once."""
    uploads = [u for a in acks for u in a["uploads"]]
    submissions = [s for a in acks for s in a["submissions"]]
    rulings = [r for a in acks for r in a["rulings"]]
    problems = []
    with engine.connect() as conn:
        for upload in uploads:
            n = conn.scalar(text("SELECT count(*) FROM evidence_item WHERE complaint_id = :c AND sha256 = :h"),
                            {"c": upload["complaint_id"], "h": upload["sha256"]})  # fmt: skip
            if n != 1:
                problems.append(f"upload {upload['id']}: {n} rows")
        answers: dict[int, int] = {}
        for answer in [a for run in acks for a in run["answers"]]:
            answers[answer["appeal_id"]] = answers.get(answer["appeal_id"], 0) + 1
        for sub in submissions:
            # An answer is a new version of the appeal; nothing else adds one.
            n = conn.scalar(
                text("SELECT count(*) FROM appeal_version WHERE appeal_id = :a"),
                {"a": sub["appeal_id"]},
            )
            if n != 1 + answers.get(sub["appeal_id"], 0):
                problems.append(f"appeal {sub['appeal_id']}: {n} versions for 1 submission "
                                f"and {answers.get(sub['appeal_id'], 0)} answers")  # fmt: skip
        questions = [q for run in acks for q in run["questions"]]
        for appeal in set(questions):
            asked, answered = conn.execute(
                text("SELECT count(*), count(answered_at) FROM info_request WHERE appeal_id = :a"),
                {"a": appeal},
            ).one()
            if asked != questions.count(appeal) or answered != answers.get(appeal, 0):
                problems.append(f"appeal {appeal}: {asked} questions ({answered} answered) for "
                                f"{questions.count(appeal)} asked, {answers.get(appeal, 0)} answered")  # fmt: skip
        for ruling in rulings:
            n = conn.scalar(
                text("SELECT count(*) FROM ruling WHERE appeal_id = :a"), {"a": ruling["appeal_id"]}
            )
            if n != 1:
                problems.append(f"ruling of appeal {ruling['appeal_id']}: {n} rows")
        stored = conn.execute(text(
            "SELECT (SELECT count(*) FROM evidence_item), (SELECT count(*) FROM appeal_version),"
            " (SELECT count(*) FROM ruling)"
        )).one()  # fmt: skip
    print(f"\nexactly once: {len(uploads)} uploads, {len(submissions)} submissions, "
          f"{len(questions)} questions, {sum(answers.values())} answers, {len(rulings)} rulings "
          f"acknowledged; stored {stored[0]} evidence items, {stored[1]} versions, {stored[2]} rulings")  # fmt: skip
    for problem in problems[:20]:
        print(f"  LOST OR DOUBLED: {problem}")
    print("exactly once: " + ("ok" if not problems else f"{len(problems)} MISSED"))
    return not problems


def bundles_built(engine: Engine, acks: list[dict[str, Any]], restart: bool, wait: float) -> bool:
    """Every bundle a reviewer asked for is built, by the workers still up or, after a
    killed one, by the next worker to start."""
    wanted = {int(a) for run in acks for a in run["bundles"]}
    worker = None
    if restart:
        command = [str(Path(sys.executable).parent / "merchant-portal"), "worker"]
        log = Path(
            os.environ.get("STACK_DIR", tempfile.gettempdir()), "logs", "worker-restarted.log"
        )
        log.parent.mkdir(parents=True, exist_ok=True)
        worker = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT,  # noqa: S603
                                  start_new_session=True)  # fmt: skip
    started, ready, failed = time.perf_counter(), set(), set()
    try:
        while time.perf_counter() - started < wait:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT appeal_id, state FROM bundle_build")).all()
            ready = {a for a, state in rows if state == "ready"} & wanted
            failed = {a for a, state in rows if state == "failed"} & wanted - ready
            if len(ready | failed) == len(wanted):
                break
            time.sleep(1)
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
    missing = wanted - ready - failed
    print(f"\nbundles asked for: {len(wanted)}; built {len(ready)}, failed {len(failed)}, "
          f"not built {len(missing)} after {time.perf_counter() - started:.1f} s"
          f"{' (a worker restarted after the kill)' if restart else ''}")  # fmt: skip
    return not missing and not failed


def server_errors(results: list[dict[str, Any]]) -> int:
    return sum(
        int(f["Occurrences"])
        for r in results
        for f in r["failures"]
        if "HTTPError('5" in f["Error"]
    )


def tracebacks() -> int:
    """Tracebacks the stack's processes logged; the first one is printed."""
    logs = sorted(Path(os.environ.get("STACK_DIR", "/nonexistent"), "logs").glob("*.log"))
    found = [
        (log, text)
        for log in logs
        for text in log.read_text(errors="replace").split("Traceback")[1:]
    ]
    if found:
        print(f"first traceback, in {found[0][0].name}:\nTraceback{found[0][1][:3000]}")
    return len(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--kill-web", action="store_true")
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument(
        "--bundle-wait", type=float, default=300, help="seconds to wait for bundles"
    )
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=[0.1, 0.5],
        metavar=("MIN", "MAX"),
        help="seconds each user waits between actions (default 0.1 0.5: as fast as it goes; "
        "people at work take 2 to 8)",
    )
    parser.add_argument("--keep", type=Path, help="keep Locust's CSV and logs here")
    args = parser.parse_args()
    hosts = os.environ.get("STACK_WEB_URLS", "").split()
    if not hosts or "PORTAL_DATABASE_URL" not in os.environ:
        sys.exit("run inside the stack: scripts/stack.sh --web 2 -- .venv/bin/python bench/load.py")
    engine = make_engine(os.environ["PORTAL_DATABASE_URL"])
    runs: list[tuple[str, list[str], int | None]] = [
        ("1 web process", hosts[:1], None),
        (f"{len(hosts)} web processes", hosts, None),
    ]
    if args.kill_web and len(hosts) > 1:
        pid = int(os.environ["STACK_WEB_PIDS"].split()[-1])
        runs.append(
            (
                f"{len(hosts)} web processes, the last killed (SIGKILL) at {args.seconds // 2} s",
                hosts,
                pid,
            )
        )
    workers = os.environ.get("STACK_WORKER_PIDS", "").split()
    if args.kill_worker and len(workers) > 1:
        runs.append((f"{len(hosts)} web processes, the last of {len(workers)} workers killed "
                     f"(SIGKILL) at {args.seconds // 2} s", hosts, int(workers[-1])))  # fmt: skip
    merchants, reviewers = math.ceil(args.users * 0.8) + 1, math.ceil(args.users * 0.2) + 1
    # A merchant appeals about one complaint every 1.5 s; give each run three times that.
    pool = 3 * math.ceil(args.seconds / 1.5) * len(runs)
    plan = seed(engine, merchants, reviewers, args.complaints, pool)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="appeal-load-"))
    results: list[dict[str, Any]] = []
    throughput: list[float] = []
    for index, (title, targets, kill) in enumerate(runs):
        result = run_locust(
            pools(plan, index, len(runs), [r["acks"] for r in results]),
            targets,
            args,
            folder / f"run{index}",
            kill,
        )
        results.append(result)
        throughput.append(show(f"{title}: {args.users} users for {args.seconds} s", result))
        show_cpu(engine, result)
    print(f"\nthroughput {len(hosts)} web / 1 web: {throughput[1]:.1f} / {throughput[0]:.1f} req/s "
          f"= {throughput[1] / max(throughput[0], 0.001):.2f}x")  # fmt: skip
    ok = exactly_once(engine, [r["acks"] for r in results])
    built = bundles_built(engine, [r["acks"] for r in results],
                          args.kill_worker and len(workers) > 1, args.bundle_wait)  # fmt: skip
    errors = server_errors(results)
    print(
        f"server errors (5xx): {errors} (target 0); tracebacks in the stack's logs: {tracebacks()}"
    )
    print(f"Locust CSV and logs in {folder}")
    sys.exit(0 if ok and built and errors == 0 else 1)


if __name__ == "__main__":
    main()
