"""Timing and reporting shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(action: Callable[[], object], rounds: int) -> list[float]:
    """Milliseconds each of `rounds` calls took."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, samples: list[float], target: float | None = None) -> float:
    """Print median and p95 (and the p95's ratio to a target); returns the median."""
    p50, p95 = statistics.median(samples), percentile(samples, 0.95)
    verdict = ""
    if target is not None:
        verdict = f"  target {target:.0f} ms: {'met' if p95 <= target else 'MISSED'} ({p95 / target:.2f}x)"
    print(f"{name:<52} p50 {p50:8.2f} ms  p95 {p95:8.2f} ms  (n={len(samples)}){verdict}")
    return p50
