"""Per-file intake, end to end through the API, and what each stage of it costs.

A real portal is started the operator's way (`init-db`, `demo`, `create-token`, `serve`:
gunicorn on SQLite), and a merchant's token POSTs each file to
`/api/v1/complaints/{id}/evidence` as a client would: realistic 1080x2400 PNG chat
screenshots (anti-aliased text, bubbles, a photo avatar), 12-megapixel JPEG q90 photos
with EXIF (rotated, camera make, GPS) and 3-page PDFs. The wall time of each POST is the
figure (target: 150 ms per screenshot, 300 ms per photo, median). Then the same files go
through the stages in this process, to show where the time goes: quarantine (copy + hash),
sniff, the sandboxed decode and the blob store; and what a child costs alone (a forked one,
and the fresh Python the fork server spares).

Reading (OCR) runs after intake, in the background; it is off here (PORTAL_READ_EVIDENCE=0)
so that it does not share the 2 cores with the uploads being timed. `--read` turns it on.

    .venv/bin/python bench/intake.py [--files 12] [--read]
"""

from __future__ import annotations

import argparse
import http.client
import io
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from evidence.inspect import InspectLimits, inspect  # noqa: E402
from evidence.intake import quarantine, sniff  # noqa: E402
from evidence.storage import LocalStore  # noqa: E402

SCRIPT = str(Path(sys.executable).parent / "merchant-portal")
OWNER = "owner@bloom.example"
WORDS = ["好的", "亲", "已发货", "顺丰", "快递", "单号", "SF1402", "请查收", "谢谢", "order",
         "refund", "退款", "收到", "明天", "送达"]  # fmt: skip


def screenshot(seed: int) -> bytes:
    """A phone chat screenshot: status bar, avatar, bubbles of anti-aliased text."""
    rng = random.Random(seed)
    image = Image.new("RGB", (1080, 2400), (237, 237, 237))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(34)
    small = ImageFont.load_default(24)
    draw.rectangle((0, 0, 1080, 200), fill=(247, 247, 247))
    draw.text((40, 30), f"{9 + seed % 12}:{rng.randint(10, 59)}", font=small, fill="black")
    draw.text((420, 110), "花语服饰 客服", font=font, fill="black")
    grain = Image.effect_noise((96, 96), 60).convert("RGB")  # a photo avatar, not flat
    y = 240
    while y < 2250:
        mine = rng.random() < 0.5
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7)))
        width = min(700, 30 + int(draw.textlength(text, font=font)))
        x = 1080 - 150 - width if mine else 150
        image.paste(grain, (1080 - 130 if mine else 30, y))
        draw.rounded_rectangle((x, y, x + width, y + 80), 14,
                               fill=(149, 236, 105) if mine else (255, 255, 255))  # fmt: skip
        draw.text((x + 16, y + 20), text, font=font, fill=(25, 25, 25))
        if rng.random() < 0.2:
            draw.text((470, y + 100), f"下午 {rng.randint(1, 12)}:{rng.randint(10, 59)}",
                      font=small, fill=(160, 160, 160))  # fmt: skip
            y += 50
        y += 130
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def photo(seed: int) -> bytes:
    """A 4000x3000 JPEG q90 from a phone: rotated (EXIF orientation 6), make and GPS."""
    rng = random.Random(seed)
    small = Image.frombytes(
        "RGB", (400, 300), bytes(rng.getrandbits(8) for _ in range(400 * 300 * 3))
    )
    image = small.resize((4000, 3000), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((4000, 3000), 12).convert("RGB")
    image = Image.blend(image, grain, 0.08)  # sensor noise: real photos do not compress flat
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 12"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 2.0), 3: "E", 4: (121.0, 28.0, 5.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def receipt_pdf(seed: int) -> bytes:
    pages = [Image.new("RGB", (1240, 1754), (255, 255, 250 - seed % 5)) for _ in range(3)]
    for number, page in enumerate(pages):
        ImageDraw.Draw(page).rectangle(
            (100, 100 + number * 50, 1100, 300), outline="black", width=4
        )
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


KINDS: dict[str, tuple[Callable[[int], bytes], str, str, str]] = {
    "screenshot 1080x2400 PNG": (screenshot, "chat.png", "image/png", "chat_screenshot"),
    "photo 12 MP JPEG q90 (EXIF)": (photo, "photo.jpg", "image/jpeg", "product_photo"),
    "receipt PDF, 3 pages": (receipt_pdf, "receipt.pdf", "application/pdf", "payment_record"),
}
TARGETS = {"screenshot 1080x2400 PNG": 150.0, "photo 12 MP JPEG q90 (EXIF)": 300.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def portal(folder: Path, read: bool) -> Iterator[tuple[int, str]]:
    """A served portal with demo data: (port, a merchant owner's API token)."""
    env = {**os.environ, "PORTAL_DATA_DIR": str(folder / "data"),
           "PORTAL_DATABASE_URL": f"sqlite:///{folder / 'portal.db'}",
           "PORTAL_SECRET_KEY": "bench", "PORTAL_READ_EVIDENCE": "1" if read else "0",
           "PORTAL_EVIDENCE_MAX_FILES": "1000", "PORTAL_BUNDLE_QUEUE": "thread"}  # fmt: skip
    for name in ("PORTAL_REDIS_URL", "PORTAL_S3_BUCKET"):
        env.pop(name, None)
    for args in (["init-db"], ["demo"]):
        subprocess.run([SCRIPT, *args], env=env, check=True, capture_output=True)  # noqa: S603
    made = subprocess.run([SCRIPT, "create-token", OWNER], env=env, check=True,  # noqa: S603
                          capture_output=True, text=True)  # fmt: skip
    token = made.stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own console script)
        [SCRIPT, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = request(port, token, "GET", "/api/v1/me")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the portal did not start")
            time.sleep(0.2)
        yield port, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def request(
    port: int, token: str, method: str, path: str, body: bytes = b"", ctype: str = ""
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    if ctype:
        headers["Content-Type"] = ctype
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def multipart(data: bytes, filename: str, media_type: str, kind: str) -> tuple[bytes, str]:
    boundary = f"bench{random.getrandbits(64):x}"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: {media_type}\r\n\r\n')  # fmt: skip
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def open_complaints(port: int, token: str) -> list[int]:
    status, body = request(port, token, "GET", "/api/v1/complaints?per_page=100")
    assert status == 200, body
    items = json.loads(body)["items"]
    return [item["id"] for item in items if item["status"] not in ("closed", "final")]


def through_api(files: int, read: bool) -> dict[str, list[float]]:
    """Wall ms of each POST, per kind of file; every answer must be 201."""
    timings: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, portal(Path(tmp), read) as (port, token):
        targets = open_complaints(port, token)
        for name, (make, filename, media_type, kind) in KINDS.items():
            for seed in range(files + 1):  # the first warms the server up, it is not counted
                body, ctype = multipart(make(seed + 1000 * len(timings)), filename, media_type,
                                        kind)  # fmt: skip
                path = f"/api/v1/complaints/{targets[seed % len(targets)]}/evidence"
                start = time.perf_counter()
                status, answer = request(port, token, "POST", path, body, ctype)
                elapsed = (time.perf_counter() - start) * 1000
                if status == 422 and b"not_open" in answer:
                    continue
                assert status == 201, (status, answer[:500])
                if seed:
                    timings.setdefault(name, []).append(elapsed)
    return timings


def stages(files: int) -> dict[str, dict[str, list[float]]]:
    """Each stage of intake in this process, per kind: ms of each file."""
    found: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = LocalStore(folder / "blobs")
        for name, (make, _filename, _media_type, _kind) in KINDS.items():
            per = found.setdefault(name, {})
            for seed in range(files):
                data = make(seed + 5000)
                marks = [time.perf_counter()]
                received = quarantine(io.BytesIO(data), folder / "q", 50 * 2**20)
                marks.append(time.perf_counter())
                media_type = sniff(received.path)
                marks.append(time.perf_counter())
                done = inspect(received.path, media_type, folder / f"out-{seed}", InspectLimits())
                marks.append(time.perf_counter())
                for derived in done.derived:
                    store.put(done.folder / done.derived[derived])
                store.put(received.path)
                marks.append(time.perf_counter())
                stage_names = ("quarantine", "sniff", "sandboxed decode", "store")
                for stage, (a, b) in zip(stage_names, itertools.pairwise(marks), strict=True):
                    per.setdefault(stage, []).append((b - a) * 1000)
                per.setdefault("file MB", []).append(len(data) / 2**20)
                received.path.unlink()
    return found


def child_start_up() -> float:
    """A fresh Python importing the child's package: what the fork server spares each file."""
    samples = []
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import evidence.sandbox"], check=True, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def forked_child() -> float:
    """What a file pays for its own child instead: the fork server's whole round trip (the
    request, a fork, the limits, the answer, the exit) for a one-line text file."""
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        tiny = Path(tmp) / "tiny.txt"
        tiny.write_text("hello\n")
        for n in range(16):  # the first starts the server, it is not counted
            start = time.perf_counter()
            inspect(tiny, "text/plain", Path(tmp) / f"out-{n}", InspectLimits())
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[1:])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--read", action="store_true", help="read (OCR) after intake as well")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name, samples in through_api(args.files, args.read).items():
        target = TARGETS.get(name)
        verdict = f"  target {target:.0f} ms: {'met' if statistics.median(samples) <= target else 'MISSED'}" if target else ""  # fmt: skip
        print(f"API POST  {name:<30} median {statistics.median(samples):7.1f} ms  "
              f"max {max(samples):7.1f} ms  ({len(samples)} files){verdict}")  # fmt: skip
    print(f"child start-up alone (python + imports, spared by the fork server): "
          f"{child_start_up():.1f} ms; a forked child's round trip: {forked_child():.1f} ms")  # fmt: skip
    for name, per in stages(args.files).items():
        parts = "  ".join(f"{stage} {statistics.median(ms):6.1f}"
                          for stage, ms in per.items() if stage != "file MB")  # fmt: skip
        print(f"stages    {name:<30} {parts} ms  (file {statistics.median(per['file MB']):.2f} MB)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
