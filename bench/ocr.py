"""Reading chat screenshots: speed on one core against the 1.5 s target, accuracy on
rendered fixtures whose text is known, and the portal's pages while a real server reads
50 uploaded screenshots in the background.

    .venv/bin/python bench/ocr.py [--quick] [--rounds 3] [--uploads 50] [--no-server]

1. `evidence.ocr.read_picture` in this process pinned to one core, warmed, over 1080x2400
   screenshots of WeChat and 千牛 in light and dark themes; then the same files as PNGs
   through the real sandboxed child (`evidence.inspect.read_many`), from a fresh child.
2. Character accuracy of message lines (each drawn line against the OCR line whose box
   overlaps it most; NFKC, punctuation unified, whitespace removed), phone numbers and
   order ids / waybills found exactly, and, when `evidence.chatshot` is there, messages
   read with the right side and text.
3. `merchant-portal serve` (gunicorn, 1 worker, 4 threads, readings in a background
   thread) with demo data: the locker page idle, then while 50 uploads are read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import math
import os
import re
import resource
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evidence import ocr  # noqa: E402
from evidence.inspect import ReadLimits, read_many  # noqa: E402
from tests.chatshots import EXTORTION, Said, Shot, render  # noqa: E402

TARGET_SECONDS = 1.5
ZONE = "Asia/Shanghai"
VARIANTS = [("wechat", "light"), ("wechat", "dark"), ("qianniu", "light"), ("qianniu", "dark")]
PORTAL = ROOT / ".venv" / "bin" / "merchant-portal"
OWNER, PASSWORD = "owner@volt.example", "demo-password-2026"

# A customer-service chat as long as a real one: more than a screen holds (the renderer
# draws WeChat's large 48 px text, 6 or 7 bubbles a screen), so it is read as the screens a
# merchant scrolls through. Phone numbers, 16 to 19 digit order ids, SF and YT waybills.
FULL = [
    Said(False, "在吗？", "2026-11-05 09:12:40"),
    Said(True, "亲，在的，请问有什么可以帮您？"),
    Said(False, "我上周买的充电器，订单号2938475610293847561，到现在还没收到"),
    Said(True, "亲，已为您查询，顺丰单号SF1402938475612，显示昨天已签收", "2026-11-05 09:14:02"),
    Said(False, "我没收到！快递放哪了？"),
    Said(True, "可能放在驿站或快递柜了，麻烦您看一下取件短信"),
    Said(False, "另一单1738495021847362也是你们家的，圆通YT7523190846112一直不动"),
    Said(True, "好的亲，我马上联系圆通核实"),
    Said(False, "别核实了，直接退款，不退我就投诉"),
    Said(True, "亲，签收的包裹需要先确认，我们这边尽快处理", "2026-11-05 09:20:15"),
    Said(False, "我手机13957210486，打给我"),
    Said(False, "或者加我微信，电话17721093358，今天不给说法就差评"),
    Said(True, "好的"),
    Said(False, "第三个订单号358721409331657209，也一起退了，一共赔我800"),
    Said(True, "亲，我们会按平台规则处理，请您耐心等待"),
]
CONVERSATIONS = {"full": FULL, "extortion": EXTORTION}

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ORDER_OR_WAYBILL = re.compile(r"(?<![\dA-Z])\d{16,19}(?!\d)|(?:SF|YT)\d{12,15}(?!\d)")
# NFKC makes full-width ASCII forms plain; these have no compatibility form.
PUNCTUATION = str.maketrans({"。": ".", "、": ",", "“": '"', "”": '"', "‘": "'", "’": "'",
                             "【": "[", "】": "]", "「": '"', "」": '"', "《": "<", "》": ">",
                             "—": "-"})  # fmt: skip


@dataclass
class Sample:
    """One rendered screenshot, what was read off it and how long each reading took."""

    name: str
    variant: tuple[str, str]
    shot: Shot
    lines: list[ocr.TextLine] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the value below which a share `q` of the values lie."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def screens(said: list[Said], layout: str, theme: str, title: str = "买家") -> list[Shot]:
    """The conversation as the screens it takes, each as full as the next message allows."""
    shots, start = [], 0
    while start < len(said):
        shot = render(said[start:], layout=layout, theme=theme, title=title)
        drawn = {line.message for line in shot.lines if line.message is not None}
        if not drawn:
            break
        shots.append(shot)
        start += max(drawn) + 1
    return shots


def corpus(quick: bool) -> list[Sample]:
    samples = []
    for layout, theme in VARIANTS:
        for talk, said in CONVERSATIONS.items():
            shots = screens(said, layout, theme)
            shots = shots[:1] if quick else shots
            for number, shot in enumerate(shots, start=1):
                name = f"{layout} {theme}, {talk} {number}/{len(shots)}"
                samples.append(Sample(name, (layout, theme), shot))
            if quick:
                break
    return samples


# -- 1. speed ---------------------------------------------------------------------------


def time_in_process(samples: list[Sample], rounds: int) -> None:
    """read_picture on one core, after warming the engine; keeps the first round's lines."""
    ocr.engine()
    for _ in range(2):
        ocr.read_picture(samples[0].shot.image)
    for _ in range(rounds):
        for sample in samples:
            start, cpu = time.perf_counter(), time.process_time()
            lines = ocr.read_picture(sample.shot.image)
            sample.seconds.append(time.perf_counter() - start)
            sample.cpu_seconds.append(time.process_time() - cpu)
            sample.lines = sample.lines or lines


@dataclass
class ChildRun:
    done_at: list[float]
    failures: dict[str, int]
    peak_mib: float
    rusage_mib: float
    parent_mib: float
    cpu_seconds: float


def time_child(samples: list[Sample], folder: Path) -> ChildRun:
    """The same screenshots as PNG files through read_many, as the background job runs it."""
    jobs = []
    for number, sample in enumerate(samples):
        out = folder / f"read-{number}"
        out.mkdir(parents=True)
        path = sample.shot.save(folder / f"shot-{number}.png")
        jobs.append({"path": str(path), "out": str(out), "media_type": "image/png",
                     "time_zone": ZONE})  # fmt: skip
    sampler = PeakSampler()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    parent_mib = _status_mib(os.getpid(), "VmRSS")
    done_at: list[float] = []
    failures: dict[str, int] = {}
    sampler.start()
    start = time.perf_counter()
    try:
        for _index, answer in read_many(jobs, ReadLimits()):
            done_at.append(time.perf_counter() - start)
            if not answer.get("ok"):
                code = str(answer.get("code", "?"))
                failures[code] = failures.get(code, 0) + 1
    finally:
        sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ChildRun(done_at, failures, sampler.peak, after.ru_maxrss / 1024, parent_mib, cpu)


def _status_mib(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


class PeakSampler(threading.Thread):
    """The largest VmHWM of this process's children, read from /proc while they run.

    The child's own high-water mark, beside getrusage's, which may also count pages the
    child held between fork and exec (a copy of this process, which has the engine loaded).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        pid = os.getpid()
        while not self._halt.wait(0.05):
            for task in Path(f"/proc/{pid}/task").iterdir():
                try:
                    children = (task / "children").read_text().split()
                except OSError:
                    continue
                for child in children:
                    self.peak = max(self.peak, _status_mib(int(child), "VmHWM"))

    def stop(self) -> None:
        self._halt.set()
        self.join()


# -- 2. accuracy ------------------------------------------------------------------------


def normal(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).translate(PUNCTUATION).split())


def distance(one: str, other: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(other) + 1))
    for i, a in enumerate(one, start=1):
        previous, row[0] = row[0], i
        for j, b in enumerate(other, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (a != b))
    return row[-1]


def pixel_box(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, ...]:
    (left, top, width, height), (w, h) = box, size
    return left * w, top * h, (left + width) * w, (top + height) * h


def overlap(one: Iterable[float], other: Iterable[float]) -> float:
    a0, a1, a2, a3 = one
    b0, b1, b2, b3 = other
    return max(0.0, min(a2, b2) - max(a0, b0)) * max(0.0, min(a3, b3) - max(a1, b1))


@dataclass
class Score:
    """Counts over some screenshots: characters, identifiers, chat messages."""

    chars: int = 0
    errors: int = 0
    phones: int = 0
    phones_found: int = 0
    ids: int = 0
    ids_found: int = 0
    messages: int = 0
    sides: int = 0
    sides_and_texts: int = 0
    extra: int = 0  # messages read that match no drawn message

    def add(self, other: Score) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def score(sample: Sample, read_chatshot: Callable[..., Any] | None) -> Score:
    shot, found = sample.shot, Score()
    boxes = [pixel_box(line.box, shot.image.size) for line in sample.lines]
    for drawn in shot.lines:
        if drawn.role != "message":
            continue
        areas = [overlap(drawn.box, box) for box in boxes]
        best = max(range(len(areas)), key=areas.__getitem__) if areas else None
        read = sample.lines[best].text if best is not None and areas[best] > 0 else ""
        truth = normal(drawn.text)
        found.chars += len(truth)
        found.errors += distance(truth, normal(read))
    page = normal("".join(line.text for line in sample.lines))
    for said in drawn_messages(shot):
        phones, ids = PHONE.findall(said.text), ORDER_OR_WAYBILL.findall(said.text)
        found.phones += len(phones)
        found.phones_found += sum(number in page for number in phones)
        found.ids += len(ids)
        found.ids_found += sum(number in page for number in ids)
    if read_chatshot is not None:
        _score_chat(sample, read_chatshot, found)
    return found


def drawn_messages(shot: Shot) -> list[Said]:
    drawn = {line.message for line in shot.lines if line.message is not None}
    return [said for index, said in enumerate(shot.said) if index in drawn]


def _score_chat(sample: Sample, read_chatshot: Callable[..., Any], found: Score) -> None:
    """Each drawn message against the read message whose box overlaps its bubble most."""
    shot = sample.shot
    read = read_chatshot(shot.image, sample.lines, ZoneInfo(ZONE))
    boxes = [pixel_box(message.box, shot.image.size) for message in read]
    matched = set()
    for index, said in enumerate(shot.said):
        rows = [line.box for line in shot.lines if line.message == index]
        if not rows:
            continue
        span = (min(r[0] for r in rows), min(r[1] for r in rows),
                max(r[2] for r in rows), max(r[3] for r in rows))  # fmt: skip
        found.messages += 1
        areas = [overlap(span, box) for box in boxes]
        if not areas or max(areas) == 0:
            continue
        best = max(range(len(areas)), key=areas.__getitem__)
        matched.add(best)
        message = read[best]
        if message.self_side == said.seller:
            found.sides += 1
            found.sides_and_texts += normal(message.text) == normal(said.text)
    found.extra += len(read) - len(matched)


def chat_reader() -> Callable[..., Any] | None:
    try:
        from evidence.chatshot import read_chatshot
    except ImportError:
        return None
    return read_chatshot


# -- 3. a real server -------------------------------------------------------------------


class LoopbackSession(requests.Session):
    """A client that sends Secure cookies to 127.0.0.1, a secure context to browsers.

    (A cookie policy would not do: requests merges cookies into a jar of its own.)
    """

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)
        if cookies:
            request.headers["Cookie"] = cookies
        return super().send(request, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def portal_env(folder: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PORTAL_")}
    env.update(PORTAL_DATA_DIR=str(folder), PORTAL_SECRET_KEY=secrets.token_hex(16),
               PORTAL_BUNDLE_QUEUE="thread", PORTAL_READ_EVIDENCE="1")  # fmt: skip
    return env


def start_server(folder: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = portal_env(folder)
    for command in (["init-db"], ["demo"]):
        subprocess.run([str(PORTAL), *command], env=env, check=True, capture_output=True)  # noqa: S603 (our own console script)
    serve = [str(PORTAL), "serve", "--port", str(port), "--workers", "1", "--threads", "4"]
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603 (our own console script)
            serve, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to gunicorn, then whatever is left of its process group (reading children)."""
    if server.poll() is None:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def csrf_token(html: str) -> str:
    for tag in re.findall(r"<input[^>]*>", html):
        if 'name="csrf_token"' in tag:
            return re.search(r'value="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
    raise RuntimeError("no csrf_token on the page")


def signed_in(base: str, server: subprocess.Popen[bytes]) -> requests.Session:
    session = LoopbackSession()
    session.headers["Referer"] = f"{base}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            page = session.get(f"{base}/login", timeout=5)
            break
        except requests.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.25)
    answer = session.post(f"{base}/login", timeout=30, data={
        "email": OWNER, "password": PASSWORD, "csrf_token": csrf_token(page.text)})  # fmt: skip
    if answer.url.endswith("/login"):
        raise RuntimeError("signing in failed")
    return session


def twin(session: requests.Session) -> requests.Session:
    """Another client signed in as the same user (a Session is not for two threads)."""
    other = LoopbackSession()
    other.cookies.update(session.cookies)
    other.headers.update(session.headers)
    return other


def empty_complaint(database: Path) -> int:
    """A complaint of the demo shop that is open, not yet appealed and has no evidence."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT c.id FROM complaint c JOIN shop s ON s.id = c.shop_id"
            " WHERE s.name LIKE '%Volt%' AND c.status = 'open'"
            " AND NOT EXISTS (SELECT 1 FROM evidence_item e WHERE e.complaint_id = c.id)"
            " AND NOT EXISTS (SELECT 1 FROM appeal a WHERE a.complaint_id = c.id"
            "                 AND a.state != 'draft') ORDER BY c.id LIMIT 1"
        ).fetchone()
    if row is None:
        raise RuntimeError("no open complaint without evidence in the demo shop")
    return int(row[0])


def timed_get(session: requests.Session, url: str) -> float:
    start = time.perf_counter()
    answer = session.get(url, timeout=60)
    elapsed = time.perf_counter() - start
    answer.raise_for_status()
    return elapsed


class PageLoop(threading.Thread):
    """Requests a page again and again, one at a time, keeping (start, seconds) of each."""

    def __init__(self, session: requests.Session, url: str) -> None:
        super().__init__(daemon=True)
        self.session, self.url = session, url
        self.samples: list[tuple[float, float]] = []
        self.errors = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            start = time.perf_counter()
            try:
                self.samples.append((start, timed_get(self.session, self.url)))
            except requests.RequestException:
                self.errors += 1

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def between(self, start: float, end: float) -> list[float]:
        return [seconds for at, seconds in self.samples if start <= at < end]


def upload_shots(
    session: requests.Session, url: str, shots: list[bytes], per_request: int
) -> list[float]:
    """POST the screenshots a few at a time; the time each request's answer came back."""
    answered = []
    for first in range(0, len(shots), per_request):
        token = csrf_token(session.get(url, timeout=30).text)
        files = [("files", (f"chat-{first + n:02d}.png", data, "image/png"))
                 for n, data in enumerate(shots[first : first + per_request])]  # fmt: skip
        answer = session.post(url, files=files, timeout=300,
                              data={"kind": "chat_screenshot", "caption": "", "csrf_token": token},
                              headers={"Accept": "application/json"})  # fmt: skip
        refused = [r for r in answer.json() if not r["accepted"]]
        if refused:
            raise RuntimeError(f"uploads refused: {refused[:3]}")
        answered.append(time.perf_counter())
    return answered


def wait_for_readings(
    session: requests.Session, url: str, count: int, limit: float
) -> dict[str, int]:
    deadline = time.monotonic() + limit
    while True:
        states: dict[str, int] = {}
        for entry in session.get(url, timeout=30).json():
            states[entry["state"]] = states.get(entry["state"], 0) + 1
        if states.get("done", 0) + states.get("failed", 0) >= count or time.monotonic() > deadline:
            return states
        time.sleep(0.25)


def upload_corpus(count: int) -> list[bytes]:
    """`count` distinct screenshots (the locker refuses a second copy of a file)."""
    out = []
    for number in range(count):
        layout, theme = VARIANTS[number % len(VARIANTS)]
        said = list(CONVERSATIONS.values())[number // len(VARIANTS) % len(CONVERSATIONS)]
        buffer = io.BytesIO()
        screens(said, layout, theme, title=f"买家 {number:02d}")[0].image.save(buffer, "PNG")
        out.append(buffer.getvalue())
    return out


@dataclass
class ServerRun:
    idle: list[float]
    idle_after: list[float]
    uploading: list[float]
    reading: list[float]
    uploads_seconds: float
    read_seconds: float
    read_after_uploads: float
    states: dict[str, int]
    errors: list[tuple[str, str, int]]
    page_errors: int


def run_server(folder: Path, uploads: int, idle_requests: int, per_request: int) -> ServerRun:
    port, log = free_port(), folder / "server.log"
    shots = upload_corpus(uploads)
    server = start_server(folder, port, log)
    try:
        return _drive(folder, f"http://127.0.0.1:{port}", server, shots, idle_requests, per_request)
    except Exception:
        print(f"server log tail ({log}):\n" + "\n".join(log.read_text().splitlines()[-30:]))
        raise
    finally:
        stop_server(server)


def _drive(folder: Path, base: str, server: subprocess.Popen[bytes], shots: list[bytes],
           idle_requests: int, per_request: int) -> ServerRun:  # fmt: skip
    session = signed_in(base, server)
    complaint = empty_complaint(folder / "portal.db")
    locker = f"{base}/complaints/{complaint}/evidence"
    for _ in range(10):
        timed_get(session, locker)  # warm the worker's templates and caches
    idle = [timed_get(session, locker) for _ in range(idle_requests)]
    pages = PageLoop(twin(session), locker)
    pages.start()
    started = time.perf_counter()
    try:
        answered = upload_shots(session, locker, shots, per_request)
        states = wait_for_readings(session, f"{locker}/readings", len(shots), 20.0 * len(shots))
        finished = time.perf_counter()
    finally:
        pages.stop()
    idle_after = [timed_get(session, locker) for _ in range(idle_requests)]
    with sqlite3.connect(folder / "portal.db") as connection:
        errors = connection.execute(
            "SELECT reading_state, coalesce(reading_error, ''), count(*) FROM evidence_item"
            " WHERE complaint_id = ? GROUP BY 1, 2", (complaint,)).fetchall()  # fmt: skip
    return ServerRun(
        idle, idle_after, pages.between(started, answered[-1]),
        pages.between(answered[-1], finished), answered[-1] - started, finished - answered[0],
        finished - answered[-1], states, errors, pages.errors,
    )  # fmt: skip


# -- the report -------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def share(found: int, total: int) -> str:
    return f"{found / total:6.1%} ({found}/{total})" if total else "-"


def report_speed(samples: list[Sample], child: ChildRun, cores: int) -> None:
    times = [s for sample in samples for s in sample.seconds]
    full = [s for sample in samples if "full 1/" in sample.name for s in sample.seconds]
    median, p95 = statistics.median(times), percentile(times, 0.95)
    print(f"\n1. Speed, 1080x2400 chat screenshot (target {TARGET_SECONDS} s, one core)")
    print(f"  {'in process, pinned to 1 core, warm':<48} median {ms(median):>9}  p95 {ms(p95):>9}"
          f"  ({len(times)} readings of {len(samples)} screenshots)  "
          f"ratio {median / TARGET_SECONDS:.2f}x median, {p95 / TARGET_SECONDS:.2f}x p95")  # fmt: skip
    cpu = [s for sample in samples for s in sample.cpu_seconds]
    print(f"  {'  CPU time of the same readings':<48} median {ms(statistics.median(cpu)):>9}"
          f"  p95 {ms(percentile(cpu, 0.95)):>9}  (wall above also waits while others use the core)")  # fmt: skip
    if full:
        print(f"  {'  of which fullest screens (full 1/n)':<48} median {ms(statistics.median(full)):>9}"
              f"  p95 {ms(percentile(full, 0.95)):>9}")  # fmt: skip
    for layout, theme in VARIANTS:
        mine = [
            s for sample in samples if sample.variant == (layout, theme) for s in sample.seconds
        ]
        if mine:
            print(f"  {'  ' + layout + ' ' + theme:<48} median {ms(statistics.median(mine)):>9}"
                  f"  max {ms(max(mine)):>9}")  # fmt: skip
    done = child.done_at
    rest = [b - a for a, b in itertools.pairwise(done)]
    failed = ", ".join(f"{n} {code}" for code, n in child.failures.items()) or "none"
    print(f"  {'sandboxed child (read_many), fresh, ' + str(cores) + ' cores':<48} total {ms(done[-1]):>9}"
          f" for {len(done)} files  first file {ms(done[0])} (with model load)"
          f"  next files median {ms(statistics.median(rest)) if rest else '-'}"
          f"  failed: {failed}")  # fmt: skip
    print(f"  {'  child CPU / wall':<48} {child.cpu_seconds:.1f} s / {done[-1]:.1f} s"
          f"  peak RSS {child.peak_mib:.0f} MiB (VmHWM from /proc; RUSAGE_CHILDREN ru_maxrss"
          f" {child.rusage_mib:.0f} MiB; this process {child.parent_mib:.0f} MiB)")  # fmt: skip


def report_accuracy(samples: list[Sample], read_chatshot: Callable[..., Any] | None) -> None:
    print("\n2. Accuracy on rendered fixtures (NFKC, punctuation unified, spaces removed)")
    chat_head = "  side+text (side, extra)" if read_chatshot else "  (evidence.chatshot missing)"
    print(
        f"  {'':<16} {'characters':>8}  {'phone numbers':>17}  {'order ids/waybills':>18}{chat_head}"
    )
    total = Score()
    for variant in [*VARIANTS, None]:
        if variant is None:
            found, name = total, "overall"
        else:
            found, name = Score(), " ".join(variant)
            for sample in samples:
                if sample.variant == variant:
                    found.add(score(sample, read_chatshot))
            total.add(found)
        chars = 1 - found.errors / found.chars if found.chars else 0.0
        chat = (f"  {share(found.sides_and_texts, found.messages)} ({found.sides / found.messages:.0%}, {found.extra})"
                if read_chatshot and found.messages else "")  # fmt: skip
        print(f"  {name:<16} {chars:>9.2%}  {share(found.phones_found, found.phones):>17}"
              f"  {share(found.ids_found, found.ids):>18}{chat}")  # fmt: skip


def report_server(run: ServerRun, uploads: int) -> None:
    print(f"\n3. Locker page on a real server (gunicorn 1 worker x 4 threads) while {uploads}"
          " screenshots are read in its background thread")  # fmt: skip
    rows = [("idle, empty locker (reference)", run.idle),
            ("during the uploads (intake + reading)", run.uploading),
            ("during reading, after the last upload", run.reading),
            (f"idle again, {uploads} files in the locker", run.idle_after)]  # fmt: skip
    for name, values in rows:
        if not values:
            print(f"  {name:<42} no requests")
            continue
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        ratio = f"x{p50 / statistics.median(run.idle):.2f} p50, x{p95 / percentile(run.idle, 0.95):.2f} p95"
        print(
            f"  {name:<42} p50 {ms(p50):>8}  p95 {ms(p95):>8}  ({len(values)} requests)  vs idle {ratio}"
        )
    if run.reading and run.idle_after:
        print(f"  {'reading vs idle with the same files':<42} "
              f"x{statistics.median(run.reading) / statistics.median(run.idle_after):.2f} p50, "
              f"x{percentile(run.reading, 0.95) / percentile(run.idle_after, 0.95):.2f} p95")  # fmt: skip
    done, failed = run.states.get("done", 0), run.states.get("failed", 0)
    print(f"  uploads took {run.uploads_seconds:.1f} s; all {uploads} read {run.read_seconds:.1f} s"
          f" after the first upload's answer ({run.read_seconds / uploads:.2f} s a file),"
          f" {run.read_after_uploads:.1f} s after the last; done {done}, failed {failed},"
          f" other {sum(run.states.values()) - done - failed}; page errors {run.page_errors}")  # fmt: skip
    for state, error, count in run.errors:
        if error:
            print(f"  {count} {state}: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="4 screenshots, 1 round, 10 uploads")
    parser.add_argument("--rounds", type=int, default=None, help="readings of each screenshot")
    parser.add_argument("--uploads", type=int, default=None)
    parser.add_argument("--no-server", action="store_true", help="skip part 3")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    uploads = args.uploads or (10 if args.quick else 50)
    samples = corpus(args.quick)
    load_before = os.getloadavg()
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        time_in_process(samples, rounds)
    finally:
        os.sched_setaffinity(0, cores)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        child = time_child(samples, Path(tmp) / "child")
        server = None
        if not args.no_server:
            (Path(tmp) / "portal").mkdir()
            server = run_server(Path(tmp) / "portal", uploads, 15 if args.quick else 60, 10)
    print(f"reader: {ocr.reader_name()}")
    print(f"load average (1, 5, 15 min) at start {load_before}, at end {os.getloadavg()}")
    report_speed(samples, child, len(cores))
    report_accuracy(samples, chat_reader())
    if server is not None:
        report_server(server, uploads)


if __name__ == "__main__":
    main()
