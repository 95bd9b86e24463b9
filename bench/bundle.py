"""Bundle build against a C++ reference assembler, at 1x and 2x a realistic corpus.

The corpus (generated, seeded): 120 phone chat screenshots 1080x2400 (100 PNG, 16 of them
with an alpha channel, 20 JPEG), 40 phone photos 4000x3000 JPEG q90 with EXIF and GPS (a
third turned by EXIF orientation), 20 receipt PDFs of 1-3 pages (a quarter scanned), 5
order-history CSVs of 500 rows. It goes into a shop's locker through the real intake
(sandboxed decode, upright metadata-free copies), is cited by one submitted appeal, and
then, in separate child processes, alternately:

- ours: `appeals.bundle.build` (PDF + ZIP + manifest), as the worker runs it;
- reference: pikepdf (qpdf, C++) + img2pdf assembling the same pages from the same
  files: img2pdf for images, qpdf for merging, the same reportlab pages for the cover,
  index, tables and dossier, footers in each page's content, an outline.

Ours is built twice: with the size limit lifted (no fit), and at the product's default
BUNDLE_MAX_MB, where the automatic fit plans and downscales. Printed for each: wall time
(median of the rounds), the ratio to the reference in the same rounds, peak RSS, PDF size
and its share of the limit; then again at twice the corpus. Targets: the fitted build <=
0.8x the reference's time, peak memory <= 150 MiB, memory at 2x <= 1.4x memory at 1x, and
the fitted PDF within 90-100 % of the limit.

After intake the fit copies are made as the background job makes them (appeals.fit_copies,
one item and commit at a time; `--no-copies` leaves them out), so the fitted build takes
them as the portal's would; how many it took is printed with the fit.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/bundle.py [--rounds 3] [--scale 1 2] [--keep DIR] [--no-copies]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from appeals.policies import POLICY_DEFAULTS, Policies

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
# The bench measures the build, so every limit is lifted out of its way.
SETTINGS = {
    "SECRET_KEY": "bench", "EVIDENCE_MAX_BYTES": 64 * MiB, "EVIDENCE_MAX_FILES": 10_000,
    "EVIDENCE_SHOP_QUOTA_BYTES": 1 << 40, "BUNDLE_MAX_MB": 1 << 20, "BUNDLE_MAX_PAGES": 10**6,
    "BUNDLE_MAX_FILES": 10**6, "BUNDLE_MAX_TEXT": 10**6,
}  # fmt: skip
# The measured children read the same settings without the web layer (start-up counts).
LIFTED = Policies.from_settings(SETTINGS)
# The product's default size limit, so that the fit runs as users meet it (other limits
# stay lifted: the corpus has more files and pages than one appeal may cite); --limit-mb
# sets another, passed to the children in the environment.
FITTED = Policies.from_settings(
    {**SETTINGS, "BUNDLE_MAX_MB": os.environ.get("BENCH_BUNDLE_MAX_MB")
     or POLICY_DEFAULTS["BUNDLE_MAX_MB"]}
)  # fmt: skip


# ---------------------------------------------------------------- corpus


def screenshot(rng: random.Random, alpha: bool) -> Image.Image:
    image = Image.new("RGBA" if alpha else "RGB", (1080, 2400), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1080, 160), fill=(18, 140, 126))
    for row in range(34):
        y = 200 + row * 64
        mine = rng.random() < 0.5
        x = 420 if mine else 40
        width = rng.randint(300, 620)
        draw.rounded_rectangle((x, y, x + width, y + 52), 14,
                               fill=(220, 248, 198) if mine else (240, 240, 240))  # fmt: skip
        for i in range(width // 22):
            shade = rng.randint(10, 90)
            draw.rectangle((x + 14 + i * 20, y + 16, x + 28 + i * 20, y + 36), fill=(shade,) * 3)
    if rng.random() < 0.4:  # a photo sent in the chat
        patch = Image.effect_noise((520, 390), 60).convert("RGB")
        image.paste(patch, (rng.choice((40, 520)), rng.randint(300, 1900)))
    return image


def phone_photo(rng: random.Random) -> Image.Image:
    base = Image.radial_gradient("L").resize((4000, 3000))
    noise = Image.effect_noise((4000, 3000), 26)
    red = Image.blend(base, noise, 0.4)
    green = Image.blend(base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise, 0.35)
    blue = Image.linear_gradient("L").resize((4000, 3000))
    image = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rng.randint(0, 3800), rng.randint(0, 2800)
        draw.ellipse((x, y, x + rng.randint(50, 400), y + rng.randint(50, 400)),
                     fill=tuple(rng.randint(0, 255) for _ in range(3)))  # fmt: skip
    return image


def photo_bytes(rng: random.Random, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    buffer = io.BytesIO()
    phone_photo(rng).save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def receipt_pdf(rng: random.Random, pages: int, scanned: bool) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for page in range(pages):
        if scanned:
            paper = (
                Image.effect_noise((1240, 1754), 12).point(lambda v: 200 + v // 5).convert("RGB")
            )
            scan = io.BytesIO()
            paper.save(scan, "JPEG", quality=75)
            canvas.drawImage(ImageReader(io.BytesIO(scan.getvalue())), 0, 0, *A4)
        canvas.setFont("Helvetica", 11)
        for line in range(40):
            canvas.drawString(60, 780 - line * 18,
                              f"Waybill SF{rng.randint(10**11, 10**12)}  page {page + 1}  item {line}")  # fmt: skip
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def orders_csv(rng: random.Random, rows: int = 500) -> bytes:
    lines = ["订单号,买家,商品,数量,金额,下单时间,签收时间,物流单号"]
    for n in range(rows):
        lines.append(f"VOLT{rng.randint(10**9, 10**10)},buyer-{rng.randint(1, 99)},蓝牙耳机 {n},"
                     f"{rng.randint(1, 3)},{rng.randint(20, 900)}.00,2026-10-{1 + n % 28:02d} 10:{n % 60:02d},"
                     f"2026-10-{1 + (n + 3) % 28:02d} 18:00,SF{rng.randint(10**11, 10**12)}")  # fmt: skip
    return ("\n".join(lines) + "\n").encode("utf-8")


def corpus(folder: Path, scale: int) -> list[tuple[Path, str, str]]:
    """Write the files; (path, kind, caption) each, in the order the appeal cites them."""
    folder.mkdir(parents=True, exist_ok=True)
    files: list[tuple[Path, str, str]] = []
    for copy in range(scale):
        rng = random.Random(2026 + copy)
        for n in range(120):
            alpha = n < 16
            image = screenshot(rng, alpha)
            if n >= 100:
                path = folder / f"chat-{copy}-{n}.jpg"
                image.convert("RGB").save(path, "JPEG", quality=88)
            else:
                path = folder / f"chat-{copy}-{n}.png"
                image.save(path, "PNG")
            files.append((path, "chat_screenshot", f"聊天截图 {n + 1}"))
        for n in range(40):
            path = folder / f"photo-{copy}-{n}.jpg"
            path.write_bytes(photo_bytes(rng, 6 if n % 3 == 0 else 1))
            files.append((path, "product_photo", f"Product photo {n + 1}"))
        for n in range(20):
            path = folder / f"receipt-{copy}-{n}.pdf"
            path.write_bytes(receipt_pdf(rng, 1 + n % 3, scanned=n % 4 == 0))
            files.append((path, "shipping_receipt", f"快递单 {n + 1}"))
        for n in range(5):
            path = folder / f"orders-{copy}-{n}.csv"
            path.write_bytes(orders_csv(rng))
            files.append((path, "order_history", f"Order history {n + 1}"))
    return files


# ---------------------------------------------------------------- ingest


def ingest(
    work: Path, files: list[tuple[Path, str, str]], copies: bool = True
) -> tuple[str, int, float, float]:
    """A database and blob store holding one submitted appeal citing every file."""
    from appeals import accounts, appeal, complaints, locker, migrate
    from appeals.accounts import SYSTEM
    from appeals.clock import utcnow
    from appeals.db import make_engine, make_session_factory
    from appeals.models import (
        ComplaintChannel,
        ComplaintType,
        EvidenceKind,
        MaliciousCategory,
        User,
    )
    from appeals.permissions import Role
    from merchant_portal.context import build_context

    url = f"sqlite:///{work / 'bench.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    context = build_context({**SETTINGS, "DATA_DIR": work})  # as the portal builds its own
    store = context.store
    with sessions() as session:
        shop = accounts.create_shop(session, SYSTEM, "Bench Shop 基准店")
        owner = accounts.create_user(session, SYSTEM, email="owner@bench.example",
                                     role=Role.MERCHANT_OWNER, password="bench password 1",  # noqa: S106
                                     shop=shop)  # fmt: skip
        complaint = complaints.record_complaint(
            session, shop, external_id="CP-BENCH-1", type=ComplaintType.NOT_RECEIVED,
            channel=ComplaintChannel.ONLINE, description="不给退款就差评", buyer_ref="buyer-1",
            received_at=utcnow(), policy=context.policies.deadlines,
        )  # fmt: skip
        complaints.flag_complaint(session, owner, complaint, MaliciousCategory.EXTORTION,
                                  "The buyer threatened a bad review for a full refund.")  # fmt: skip
        session.commit()
        owner_id, complaint_id = owner.id, complaint.id
    policy = context.policies.locker
    started = time.perf_counter()

    def take(entry: tuple[Path, str, str]) -> int:
        path, kind, caption = entry
        with sessions() as session:
            user = session.get_one(User, owner_id)
            found = complaints.get_complaint(session, user, complaint_id)
            with path.open("rb") as stream:
                item = locker.receive_file(
                    session, user, found, stream, filename=path.name, kind=EvidenceKind(kind),
                    caption=caption, store=store, workdir=work / "quarantine", policy=policy,
                )  # fmt: skip
            session.commit()
            return item.id

    # One at a time, as one merchant's browser sends them.
    ids = [take(entry) for entry in files]
    ingest_seconds = time.perf_counter() - started
    copies_seconds = prepare_copies(sessions, store, work, ids) if copies else 0.0
    with sessions() as session:
        user = session.get_one(User, owner_id)
        draft = appeal.start_appeal(session, user, complaint_id)
        groups = [ids[i : i + 40] for i in range(0, len(ids), 40)]
        appeal.update_draft(
            session, user, draft, category=MaliciousCategory.OTHER,
            statement="买家以差评相威胁，要求全额退款。The buyer threatened a one-star review.",
            remedies=["void_complaint", "remove_review"],
            rows=[(f"Allegation {n + 1} 投诉主张", f"Answer {n + 1} 商家答复", group)
                  for n, group in enumerate(groups)],
        )  # fmt: skip
        version = appeal.submit_appeal(session, user, draft, profile=context.policies.budget,
                                       review_policy=context.policies.review)  # fmt: skip
        session.commit()
        version_id = version.id
    engine.dispose()
    return url, version_id, ingest_seconds, copies_seconds


def prepare_copies(sessions: Any, store: Any, work: Path, ids: list[int]) -> float:
    """The fit copies, as `merchant_portal.jobs.copies_now` makes them after intake; seconds."""
    from appeals.fit_copies import prepare_copies
    from evidence import scratch

    started = time.perf_counter()
    folder = scratch.make_scratch_dir(work / "reading-work", "copies")
    try:
        for item_id in ids:
            with sessions() as session:
                prepare_copies(session, store, [item_id], folder)
                session.commit()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------- children


def child_ours(
    url: str, version_id: int, work: Path, out: Path, cold: bool = False, fitted: bool = False
) -> dict[str, object]:
    from appeals.bundle import Exhibit, KeyFolder, build

    if cold:  # as for files stored without a page copy: every large photo decoded here
        Exhibit.source_for = lambda self, rung: self.item.redacted_key or self.item.normalized_key  # type: ignore[method-assign]
    from appeals.db import make_engine, make_session_factory
    from appeals.models import AppealVersion
    from evidence.storage import LocalStore

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        version = session.get_one(AppealVersion, version_id)
        built = build(
            session, version, LocalStore(work / "blobs"), out, key=KeyFolder(work / "keys").signer(),
            profile=(FITTED if fitted else LIFTED).budget, font=LIFTED.bundle_font,
            time_zone=LIFTED.time_zone,
        )  # fmt: skip
    return {"pages": built.pages, "pdf": built.pdf.stat().st_size, "zip": built.zip.stat().st_size,
            "fit": built.report["fit"], "over": built.report.get("over_bytes", 0)}  # fmt: skip


def child_reference(url: str, version_id: int, work: Path, out: Path) -> dict[str, object]:
    """The same pages with pikepdf (qpdf) and img2pdf, from the same stored originals."""
    import img2pdf  # type: ignore[import-untyped]
    import pikepdf
    from reportlab.lib.pagesizes import A4

    from appeals.bundle import exhibits_of
    from appeals.db import make_engine, make_session_factory
    from appeals.models import AppealVersion
    from evidence import pdfpages
    from evidence.pdfpages import Document, Grid, Heading
    from evidence.storage import LocalStore

    store = LocalStore(work / "blobs")
    out.mkdir(parents=True, exist_ok=True)
    layout = img2pdf.get_layout_fun((A4[0], A4[1]), fit=img2pdf.FitMode.into)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        version = session.get_one(AppealVersion, version_id)
        exhibits = exhibits_of(session, version)
        front = Document("front", [Heading("Appeal evidence bundle / 申诉证据包"),
                                   Grid(["Label", "Kind", "Caption", "SHA-256"],
                                        [[e.label, e.kind, e.item.caption, e.item.sha256[:12]]
                                         for e in exhibits], wrap=True)])  # fmt: skip
        pdfpages.render(front, out / "front.pdf")
        result = pikepdf.Pdf.new()
        labels: list[str] = []
        with pikepdf.open(out / "front.pdf") as part:
            result.pages.extend(part.pages)
            labels += ["Index"] * len(part.pages)
        marks = []
        for exhibit in exhibits:
            item = exhibit.item
            with store.open(item.blob_key) as handle:
                data = handle.read()
            if item.is_image:
                pdf_bytes = img2pdf.convert(
                    data, layout_fun=layout, rotation=img2pdf.Rotation.ifvalid
                )
            elif item.media_type == "application/pdf":
                pdf_bytes = data
            else:
                table = json.loads(store.open(item.content_key or item.blob_key).read())
                doc = Document(exhibit.label, [Heading(exhibit.label, 2),
                                               Grid(table["header"], table["rows"], wrap=False)])  # fmt: skip
                pdfpages.render(doc, out / "table.pdf")
                pdf_bytes = (out / "table.pdf").read_bytes()
            part = pikepdf.open(io.BytesIO(pdf_bytes))
            marks.append((exhibit.label, len(result.pages)))
            result.pages.extend(part.pages)
            labels += [exhibit.label] * len(part.pages)
        font = result.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font,
                                                       Subtype=pikepdf.Name.Type1,
                                                       BaseFont=pikepdf.Name.Helvetica))  # fmt: skip
        total = len(result.pages)
        for index, page in enumerate(result.pages):
            text = f"AP-0000 {labels[index]} {index + 1}/{total}"
            page.add_resource(font, pikepdf.Name.Font, prefix="FFoot")
            name = next(k for k, v in page.Resources.Font.items() if v.objgen == font.objgen)
            page.contents_add(
                pikepdf.Stream(result, f"q BT {name} 8 Tf 250 12 Td ({text}) Tj ET Q".encode())
            )
        with result.open_outline() as outline:
            for label, first in marks:
                outline.root.append(pikepdf.OutlineItem(label, first))
        result.save(out / "reference.pdf")
        pages = total
    return {"pages": pages, "pdf": (out / "reference.pdf").stat().st_size, "zip": 0}


def run_child(
    kind: str, url: str, version_id: int, work: Path
) -> tuple[float, float, dict[str, object]]:
    """(seconds, peak RSS in MiB, result) of one child process."""
    out = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=work))
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (this script, with arguments it made)
        [sys.executable, __file__, "--child", kind, url, str(version_id), str(work), str(out)],
        stdout=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    output = process.stdout.read() if process.stdout else b""
    status = process.wait()
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{kind} child failed ({status})")
    shutil.rmtree(out, ignore_errors=True)
    result = json.loads(output.decode().strip().splitlines()[-1])
    return seconds, result["peak_kib"] / 1024, result


Run = tuple[float, float, dict[str, object]]


def measure(scale: int, rounds: int, work: Path, copies: bool = True) -> dict[str, float]:
    state = work / "state.json"
    if state.exists():  # --keep: reuse the corpus and its locker
        url, version_id, ingest_seconds, count, size, *more = json.loads(state.read_text())
        copies_seconds = more[0] if more else 0.0
    else:
        files = corpus(work / "corpus", scale)
        count, size = len(files), sum(path.stat().st_size for path, _, _ in files)
        url, version_id, ingest_seconds, copies_seconds = ingest(work, files, copies)
        state.write_text(json.dumps([url, version_id, ingest_seconds, count, size,
                                     copies_seconds]))  # fmt: skip
    print(f"\n{scale}x corpus: {count} files, {size / 1e6:.1f} MB; intake through the "
          f"sandbox {ingest_seconds:.1f} s ({1000 * ingest_seconds / count:.0f} ms per file); "
          f"fit copies after intake {copies_seconds:.1f} s")  # fmt: skip
    kinds = ("reference", "ours", "fit", "cold")
    runs: dict[str, list[Run]] = {kind: [] for kind in kinds}
    for _ in range(rounds):  # alternating, so that machine drift hits all alike
        for kind in kinds:
            runs[kind].append(run_child(kind, url, version_id, work))
    reference = runs["reference"]
    ref_time = statistics.median(r[0] for r in reference)
    print(f"  {'':42} {'wall':>7} {'ratio':>6} {'peak':>10} {'PDF':>9} {'of limit':>9}")
    ref_pdf = int(str(reference[0][2]["pdf"]))
    print(f"  {'reference (pikepdf/qpdf + img2pdf, no fit)':42} {ref_time:6.2f}s {'1.00x':>6} "
          f"{max(x[1] for x in reference):6.1f} MiB {ref_pdf / 1e6:6.1f} MB {'':>9}")  # fmt: skip
    names = {"ours": "ours, limit lifted (no fit)",
             "fit": f"ours, default limit {FITTED.budget.max_bytes / 1e6:.1f} MB (fit)",
             "cold": "ours, lifted, no page copies"}  # fmt: skip
    figures = {}
    for kind in ("ours", "fit", "cold"):
        figures[kind] = _row(names[kind], runs[kind], reference, kind == "fit")
    fit = figures["fit"]
    fitted = bool(runs["fit"][0][2]["fit"])  # a corpus under the limit as it is is not fitted
    share = (f"target 90-100: {'met' if 90 <= fit['share'] <= 100 else 'MISSED'}" if fitted
             else "under the limit as it is: nothing to fit")  # fmt: skip
    print(f"  fitted/reference time ratio {fit['ratio']:.2f}x  target <= 0.80: "
          f"{'met' if fit['ratio'] <= 0.8 else 'MISSED'}; fitted PDF {fit['share']:.1f} % of the "
          f"limit, {share}")  # fmt: skip
    rss = max(figures["ours"]["rss"], fit["rss"])
    print(
        f"  peak memory target <= 150 MiB: {'met' if rss <= 150 else 'MISSED'} ({rss / 150:.2f}x)"
    )
    return {"time": fit["time"], "rss": rss, "ratio": fit["ratio"]}


def _row(name: str, runs: list[Run], reference: list[Run], fitted: bool) -> dict[str, float]:
    """Print one build's line: wall (median), paired ratio, peak RSS, PDF and its share."""
    wall = statistics.median(r[0] for r in runs)
    ratio = statistics.median(o[0] / r[0] for o, r in zip(runs, reference, strict=True))
    rss = max(r[1] for r in runs)
    result = runs[0][2]
    pdf = int(str(result["pdf"]))
    limit = (FITTED if fitted else LIFTED).budget.max_bytes
    share = 100 * pdf / limit
    shown = f"{share:7.1f} %" if fitted else ""
    print(f"  {name:42} {wall:6.2f}s {ratio:5.2f}x {rss:6.1f} MiB {pdf / 1e6:6.1f} MB {shown:>9}")
    for entry in result.get("fit") or []:  # type: ignore[attr-defined]
        kinds = "; ".join(f"{kind} kept {c['kept']}, smaller {c['downscaled']} (prepared "
                          f"{c.get('prepared', 0)}) {c['settings']}"
                          for kind, c in entry["kinds"].items())  # fmt: skip
        print(f"      fit: {entry['passes']} pass(es) {entry['encoded']}; target "
              f"{entry['target_bytes'] / 1e6:.1f} MB, predicted {entry['predicted_bytes'] / 1e6:.1f}"
              f" MB, estimated after {entry['after_bytes'] / 1e6:.1f} MB; "
              f"{entry.get('prepared', 0)} from prepared copies; {kinds}")  # fmt: skip
    return {"time": wall, "ratio": ratio, "rss": rss, "share": share}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, url, version_id, work, out = sys.argv[2:7]
        if kind == "reference":
            result = child_reference(url, int(version_id), Path(work), Path(out))
        else:
            result = child_ours(url, int(version_id), Path(work), Path(out), cold=kind == "cold",
                                fitted=kind == "fit")  # fmt: skip
        # This process's own high-water mark (wait4's figure would also count the
        # parent's memory, which the child shares between fork and exec).
        status = Path("/proc/self/status").read_text()
        result["peak_kib"] = int(status.split("VmHWM:")[1].split()[0])
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temp folder)")
    parser.add_argument("--no-copies", action="store_true",
                        help="no fit copies after intake: the fit encodes all it needs")  # fmt: skip
    parser.add_argument("--limit-mb", type=float, help="the fitted build's limit (default: "
                        "the product's BUNDLE_MAX_MB)")  # fmt: skip
    args = parser.parse_args()
    if args.limit_mb:
        global FITTED
        os.environ["BENCH_BUNDLE_MAX_MB"] = str(args.limit_mb)
        FITTED = Policies.from_settings({**SETTINGS, "BUNDLE_MAX_MB": args.limit_mb})
    results = {}
    for scale in args.scale:
        folder = (
            args.keep / f"x{scale}" if args.keep else Path(tempfile.mkdtemp(prefix="bundle-bench-"))
        )
        folder.mkdir(parents=True, exist_ok=True)
        try:
            results[scale] = measure(scale, args.rounds, folder, copies=not args.no_copies)
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    if 1 in results and 2 in results:
        growth = results[2]["rss"] / results[1]["rss"]
        print(f"\nmemory 2x / 1x: {growth:.2f}x  target <= 1.40: {'met' if growth <= 1.4 else 'MISSED'}; "
              f"time 2x / 1x: {results[2]['time'] / results[1]['time']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
