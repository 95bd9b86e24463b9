"""Per-file intake cost: quarantine + sniff + sandboxed decode and derivation, and the
child's peak memory, for phone screenshots, 12 MP photos and 3-page PDFs.

    .venv/bin/python bench/intake.py [--files 10]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from evidence.inspect import InspectLimits, _limit
from evidence.intake import quarantine, sniff


def screenshot(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (1080, 2400), "white")
    draw = ImageDraw.Draw(image)
    for row in range(40):  # chat bubbles with text-like noise
        y = 80 + row * 58
        x = 40 if row % 2 else 420
        draw.rounded_rectangle(
            (x, y, x + 600, y + 46), 12, fill=(225, 245, 254) if row % 2 else (220, 248, 198)
        )
        for i in range(30):
            draw.rectangle(
                (x + 12 + i * 19, y + 14, x + 24 + i * 19, y + 30), fill=(rng.randint(0, 90),) * 3
            )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def photo(seed: int) -> bytes:
    rng = random.Random(seed)
    small = Image.frombytes(
        "RGB", (400, 300), bytes(rng.getrandbits(8) for _ in range(400 * 300 * 3))
    )
    image = small.resize((4000, 3000), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
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


def run_child(path: Path, media_type: str, out: Path) -> tuple[float, float]:
    """One sandboxed decode; returns (wall ms, child peak RSS MiB)."""
    limits = InspectLimits()
    out.mkdir(parents=True, exist_ok=True)
    job = {"path": str(path), "out": str(out), "media_type": media_type,
           "limits": {"max_pixels": limits.max_pixels, "max_pages": limits.max_pages,
                      "max_lines": limits.max_lines, "max_bytes": limits.max_bytes}}  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "evidence.sandbox"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, preexec_fn=lambda: _limit(limits))  # fmt: skip
    assert child.stdin and child.stdout
    child.stdin.write(json.dumps(job).encode())
    child.stdin.close()
    answer = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = status
    elapsed = (time.perf_counter() - start) * 1000
    assert json.loads(answer)["ok"], answer
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10)
    args = parser.parse_args()
    makers = {
        "screenshot 1080x2400 PNG": screenshot,
        "photo 12 MP JPEG (EXIF, rotated)": photo,
        "receipt PDF, 3 pages": receipt_pdf,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import evidence.sandbox"], check=True)
            baseline.append((time.perf_counter() - start) * 1000)
        print(
            f"{'child start-up alone (python + imports)':<40} median {statistics.median(baseline):7.1f} ms"
        )
        for name, make in makers.items():
            samples, peaks, intake_ms, sizes = [], [], [], []
            for seed in range(args.files):
                data = make(seed)
                sizes.append(len(data))
                start = time.perf_counter()
                received = quarantine(io.BytesIO(data), folder / "q", 50 * 2**20)
                media_type = sniff(received.path)
                intake_ms.append((time.perf_counter() - start) * 1000)
                elapsed, peak = run_child(received.path, media_type, folder / f"out-{seed}")
                samples.append(elapsed)
                peaks.append(peak)
                received.path.unlink()
            total = [a + b for a, b in zip(intake_ms, samples, strict=True)]
            print(f"{name:<40} median {statistics.median(total):7.1f} ms  max {max(total):7.1f} ms  "
                  f"(quarantine+sniff {statistics.median(intake_ms):5.1f} ms)  child peak RSS max {max(peaks):6.1f} MiB  "
                  f"file {statistics.median(sizes) / 2**20:5.2f} MB")  # fmt: skip
        print(
            "budget per upload (RELIABILITY F5): 10 s wall, 512 MiB; the child's limits: "
            f"{InspectLimits().memory_bytes // 2**20} MiB address space, {InspectLimits().cpu_seconds} s CPU"
        )


if __name__ == "__main__":
    main()
