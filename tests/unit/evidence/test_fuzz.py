"""Mutation fuzzing of intake on valid seeds: every mutant is accepted or refused with a
known code, never an unhandled error (which in production would kill the child).

Runs the child's code in this process so that hypothesis can see the exception. Set
APPEAL_FUZZ_EXAMPLES (default 150 per seed) higher for a long run, e.g. 2000.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence import sandbox
from evidence.errors import RejectedUpload
from evidence.intake import sniff
from tests.factories import jpeg_with_gps, pdf_bytes, png_bytes, xlsx_bytes

EXAMPLES = int(os.environ.get("APPEAL_FUZZ_EXAMPLES", "150"))
LIMITS = {"max_pixels": 40_000_000, "max_pages": 200, "max_lines": 200_000, "max_bytes": 50 * 2**20}
SEEDS = {
    "png": png_bytes((64, 48)),
    "jpeg": jpeg_with_gps(),
    "pdf": pdf_bytes(2),
    "xlsx": xlsx_bytes([["订单号", "买家"], ["A1", "b"]]),
    "csv": "订单号,买家\nA1,b\n".encode(),
}


@st.composite
def mutants(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 64))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=32))
        elif data:
            data[position] = 0
    return bytes(data)


def intake_in_process(data: bytes, folder: Path) -> None:
    path = folder / "mutant"
    path.write_bytes(data)
    out = folder / "out"
    out.mkdir(exist_ok=True)
    try:
        media_type = sniff(path)
        sandbox.run(
            {"path": str(path), "out": str(out), "media_type": media_type, "limits": LIMITS}
        )
    except RejectedUpload as refused:
        assert refused.code and refused.message


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_mutants_are_accepted_or_refused_never_crash(
    seed: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mutants(SEEDS[seed]))
    def check(data: bytes) -> None:
        intake_in_process(data, tmp_path_factory.mktemp("fuzz"))

    check()
