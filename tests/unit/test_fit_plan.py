"""The fit's byte predictions, against what Pillow actually writes: no decoding to predict."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from evidence.pdfimage import Rung, predict_bytes, prepare_image, scaled_size
from tests.functional.test_bundle_fit import busy_photo, chat_screenshot


@pytest.mark.parametrize(
    ("make", "text", "quality_now"),
    [(chat_screenshot, True, 90), (busy_photo, False, 90)],
    ids=["screenshot", "photo"],
)
def test_predictions_land_within_a_quarter_of_the_bytes_written(
    tmp_path: Path, make: object, text: bool, quality_now: int
) -> None:
    data = make(random.Random(7))  # type: ignore[operator]
    now = prepare_image(io.BytesIO(data), len(data), tmp_path / "now.bin")
    size = Image.open(io.BytesIO(data)).size
    for side, quality in ((1400, 80), (1200, 75), (1000, 70), (800, 60)):
        wrote = prepare_image(io.BytesIO(data), len(data), tmp_path / f"{side}.bin",
                              Rung.exact(side, quality))  # fmt: skip
        predicted = predict_bytes(now, quality_now, text, scaled_size(*size, side), quality)
        assert 0.75 < wrote.size / predicted < 1.25, (side, quality, wrote.size, predicted)


def test_an_exact_setting_is_kept_even_without_scaling(tmp_path: Path) -> None:
    data = chat_screenshot(random.Random(8))
    high = prepare_image(io.BytesIO(data), len(data), tmp_path / "a.bin", Rung.exact(1600, 85))
    low = prepare_image(io.BytesIO(data), len(data), tmp_path / "b.bin", Rung.exact(1600, 60))
    assert (high.width, high.height) == (low.width, low.height) == (720, 1600)
    assert (high.quality, low.quality) == (85, 60) and low.size < high.size
