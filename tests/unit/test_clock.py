"""One clock: the product reads the time in one place, tests set it, CI moves it a year ahead."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appeals.clock import utcnow
from tests.clock_ahead.sitecustomize import _offset_seconds
from tests.conftest import Clock

ROOT = Path(__file__).resolve().parents[2]
WALL_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today")}


def wall_clock_reads(path: Path) -> list[int]:
    """Lines of a module that read the wall clock through datetime or date."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (name, node.func.attr) in WALL_CLOCK_CALLS:
                lines.append(node.lineno)
    return lines


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for package in ("appeals", "evidence", "merchant_portal")
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "appeals" / "clock.py" and (lines := wall_clock_reads(path))
    }
    assert found == {}, "take the time from appeals.clock.utcnow"


def test_the_clock_fixture_moves_the_product_clock_and_the_process_clock(clock: Clock) -> None:
    moment = datetime(2031, 2, 28, 23, 59, tzinfo=UTC)
    clock.move_to(moment)
    assert utcnow() == moment and time.time() == moment.timestamp()
    assert clock.shift(timedelta(minutes=2)) == datetime(2031, 3, 1, 0, 1, tzinfo=UTC)


def test_this_run_and_the_processes_it_starts_share_the_configured_clock() -> None:
    """In CI's clock-ahead pass every Python process is a year ahead; otherwise none moved."""
    ahead = _offset_seconds(os.environ.get("PORTAL_TEST_CLOCK_AHEAD", "+0"))
    real_start = float(os.environ.get("PORTAL_TEST_REAL_EPOCH", time.time()))
    child = subprocess.run(
        [sys.executable, "-c", "from appeals.clock import utcnow; print(utcnow().timestamp())"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    for name, seen in (("tests", utcnow().timestamp()), ("a child", float(child.stdout))):
        moved = seen - real_start
        assert ahead - 60 <= moved <= ahead + 3 * 3600, f"{name}: moved {moved:.0f} s"
