"""The fit's byte predictions, against what Pillow actually writes: no decoding to predict."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from appeals import fit_plan
from appeals.models import EvidenceItem, EvidenceKind
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


def item(kind: str = "product_photo", size: tuple[int, int] = (4000, 3000), bytes_: int = 4_000_000,
         media: str = "image/jpeg", page: bool = True) -> EvidenceItem:  # fmt: skip
    return EvidenceItem(kind=EvidenceKind(kind), media_type=media, width=size[0],
                        height=size[1], size=bytes_, normalized_key="n",
                        page_key="p" if page else None)  # fmt: skip


def test_the_preview_starts_from_what_intake_made_for_the_pages() -> None:
    """A 12 MP photo enters the PDF as intake's 2000 px page copy, a screenshot as it is."""
    photo = fit_plan.picture_of(item())
    shot = fit_plan.picture_of(item("chat_screenshot", (1080, 2400), 300_000, "image/png", False))
    assert photo is not None and shot is not None
    assert (photo.width, photo.height, photo.quality) == (2000, 1500, 85)
    assert 300_000 < photo.size < 900_000
    assert (shot.width, shot.size, shot.text) == (1080, 300_000, True)
    assert fit_plan.picture_of(item(media="application/pdf")) is None


def test_the_preview_plans_the_fit_the_build_makes() -> None:
    """Under the limit nothing shrinks but the page copies; over it, the plan aims at 95 %
    of the limit, photos first, and says when even the smallest settings stay over."""
    photos = [fit_plan.picture_of(item()) for _ in range(40)]
    shots = [fit_plan.picture_of(item("chat_screenshot", (1080, 2400), 900_000, "image/png",
                                      False)) for _ in range(20)]  # fmt: skip
    pictures = [p for p in [*photos, *shots] if p is not None]
    roomy = fit_plan.plan(pictures, 200_000, 100_000_000)
    assert roomy.images == 40 and roomy.max_side == 2000
    assert roomy.bytes == sum(p.size for p in pictures) + 200_000

    limit = roomy.bytes // 2
    tight = fit_plan.plan(pictures, 200_000, limit)
    assert 0.90 * limit <= tight.bytes <= limit
    assert tight.images >= 40 and tight.max_side <= 2000

    hopeless = fit_plan.plan(pictures, 200_000, 1_000_000)
    assert hopeless.bytes > 1_000_000
