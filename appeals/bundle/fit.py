"""The build's side of the planned fit (appeals.fit_plan): the pictures as prepared, the
settings chosen for them, then only those that must shrink encoded (or a prepared copy's
bytes placed as they are), with a second pass only when a prediction missed."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from appeals.bundle.plan import Exhibit, open_seekable
from appeals.fit_plan import (
    Picture,
    Setting,
    Steps,
    budgets,
    is_text,
    reserve,
    step_down,
    steps_for,
)
from appeals.policies import BudgetProfile
from evidence.pdfimage import LADDER, PreparedImage, Rung, prepare_image
from evidence.storage import BlobStore

log = logging.getLogger(__name__)

MAX_PASSES = 6  # the third and later aim 4 % lower each: the limit is never given up early


@dataclass(kw_only=True)
class Choice(Steps):
    """One exhibit's picture: its way down, and what the build did with it."""

    exhibit: Exhibit
    predicted: int = 0  # what the encoding at `at` was expected to weigh
    encoded: bool = False  # whether the fit's own encoding replaced the picture
    prepared: bool = False  # whether that picture is a copy prepared after intake
    page_side: int = 0  # the long side of intake's page copy, if it is what was prepared

    def source(self) -> str | None:
        """Intake's page copy when the picture only gets smaller than it: decoding it costs a
        fraction of a 12-megapixel photo, and a step down from 2000 px q85 shows nothing of
        the difference. Otherwise the full upright copy, the best picture there is."""
        if self.setting.side < self.page_side:
            return self.exhibit.image_source
        return self.exhibit.source_for(LADDER[-1])


def _quality_now(exhibit: Exhibit) -> int:
    """The JPEG quality the image has now: encoded here, or intake's page copy (q85) or
    upright copy (q90) passed through."""
    assert exhibit.image is not None
    if exhibit.image.quality is not None:
        return exhibit.image.quality
    return 85 if exhibit.item.page_key and not exhibit.redacted else 90


def picture(exhibit: Exhibit) -> Picture:
    """The exhibit's picture as prepared at the first rung, as the plan sees it. A redacted
    one takes no prepared copy: those show what the redaction hides."""
    image = exhibit.image
    assert image is not None
    width = exhibit.item.width or image.source_width
    height = exhibit.item.height or image.source_height
    return Picture(
        image.width, image.height, image.filter, image.size, _quality_now(exhibit),
        max(width, height), width, height, is_text(exhibit.kind, len(exhibit.lines.get(1, []))),
        () if exhibit.redacted else tuple(exhibit.item.fit_copies or ()),
    )  # fmt: skip


def _choice(exhibit: Exhibit) -> Choice:
    seen = picture(exhibit)
    page = exhibit.item.page_key is not None and exhibit.image_source == exhibit.item.page_key
    now_side = max(seen.width, seen.height)
    return Choice(text=seen.text, path=steps_for(seen), exhibit=exhibit, predicted=seen.size,
                  page_side=now_side if page else 0)  # fmt: skip


def _reserved(exhibits: list[Exhibit]) -> int:
    documents = sum(e.document.stat().st_size for e in exhibits if e.image is None and e.document)
    return reserve(documents, len(exhibits))


def _estimate(exhibits: list[Exhibit]) -> int:
    return _reserved(exhibits) + sum(e.image.size for e in exhibits if e.image is not None)


def _encode(choices: list[Choice], store: BlobStore, workdir: Path, threads: int) -> None:
    """Encode each image at its chosen setting from its best copy; keep the smaller."""

    def encode(choice: Choice) -> PreparedImage:
        exhibit, setting = choice.exhibit, choice.setting
        earlier = exhibit.image
        assert earlier is not None
        out = workdir / f"image-{exhibit.label}-{setting.side}-q{setting.quality}.bin"
        prepared = _copy_prepared(setting, store, out) if setting.key else None
        if prepared is None:
            key = choice.source()
            assert key is not None
            with open_seekable(store, key) as (source, size):
                prepared = prepare_image(
                    source, size, out, Rung.exact(setting.side, setting.quality)
                )
        if prepared.size >= earlier.size:  # the fit only ever makes things smaller
            prepared.path.unlink()
            return earlier
        earlier.path.unlink()
        return prepared

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for choice, prepared in zip(choices, pool.map(encode, choices), strict=True):
            if prepared is not choice.exhibit.image:
                choice.encoded = True
                choice.prepared = prepared.passed_through
            choice.exhibit.image = prepared
            choice.predicted = choice.setting.bytes


def _copy_prepared(setting: Setting, store: BlobStore, out: Path) -> PreparedImage | None:
    """The prepared copy's JPEG as a PDF stream, its bytes as they are (None: it cannot be
    read, and the setting is encoded instead)."""
    assert setting.key is not None
    as_it_is = Rung(pass_side=setting.side, pass_bytes=setting.bytes, max_side=setting.side,
                    quality=setting.quality)  # fmt: skip
    try:
        with open_seekable(store, setting.key) as (source, size):
            prepared = prepare_image(source, size, out, as_it_is)
    except Exception:
        log.warning("prepared copy %s unreadable; encoding instead", setting.key, exc_info=True)
        return None
    if not prepared.passed_through:
        prepared.path.unlink()
        return None
    return replace(prepared, quality=setting.quality)


def _correct(choices: list[Choice], moved: list[Choice]) -> None:
    """After a pass, scale each image's remaining predictions by how far the pass missed:
    its own miss if it was just encoded, else the median miss of its sort (text or photo)."""
    misses: dict[bool, list[float]] = {True: [], False: []}
    own: dict[int, float] = {}
    for choice in moved:
        assert choice.exhibit.image is not None
        own[id(choice)] = choice.exhibit.image.size / max(choice.predicted, 1)
        if not choice.setting.key:  # a prepared copy's bytes were known: no miss to learn
            misses[choice.text].append(own[id(choice)])
    for choice in choices:
        assert choice.exhibit.image is not None
        ratios = sorted(misses[choice.text]) or [1.0]
        miss = own.get(id(choice), ratios[len(ratios) // 2])
        now = choice.exhibit.image.size
        rest = [s if s.key else replace(s, bytes=int(s.bytes * miss))
                for s in choice.path[choice.at + 1 :]]  # fmt: skip
        here = replace(choice.setting, bytes=now)
        choice.path = [*choice.path[: choice.at], here, *(s for s in rest if s.bytes < now)]


def fit(
    images: list[Exhibit],
    exhibits: list[Exhibit],
    store: BlobStore,
    workdir: Path,
    profile: BudgetProfile,
    threads: int,
    report: dict[str, Any],
) -> None:
    """Choose each image's size and quality so the PDF lands just under the platform's limit,
    then encode only the images that must shrink; a second pass only if a prediction missed."""
    before = _estimate(exhibits)
    if before <= profile.max_bytes or not images:
        return
    reserved = _reserved(exhibits)
    budget, lowest = budgets(profile.max_bytes, reserved)
    choices = [_choice(e) for e in images]
    passes: list[dict[str, int]] = []
    predicted = 0
    total = before - reserved
    while total + reserved > profile.max_bytes and len(passes) < MAX_PASSES:
        start = [c.at for c in choices]
        lower = max(0, len(passes) - 1) * profile.max_bytes // 25  # after two misses, aim lower
        total = step_down(choices, total, budget - lower, lowest - lower)
        predicted = predicted or total + reserved
        moved = [c for c, at in zip(choices, start, strict=True) if c.at != at]
        if not moved:
            break
        planned = total + reserved
        _encode(moved, store, workdir, threads)
        total = _estimate(exhibits) - reserved
        passes.append({"images": len(moved), "predicted_bytes": planned,
                       "actual_bytes": total + reserved})  # fmt: skip
        _correct(choices, moved)
    after = total + reserved
    if passes:  # the portal says what was made smaller; with nothing to shrink, only by how much
        entry = _fit_entry(choices, profile.max_bytes, budget + reserved, predicted, before, after)
        report["fit"].append({**entry, "passes": len(passes), "encoded": passes})
    if after > profile.max_bytes:
        report["over_bytes"] = after - profile.max_bytes


def _fit_entry(
    choices: list[Choice], limit: int, target: int, predicted: int, before: int, after: int
) -> dict[str, Any]:
    """What the fit did, as the portal shows it and the manifest records it."""
    kinds: dict[str, dict[str, Any]] = {}
    for choice in choices:
        counts = kinds.setdefault(
            choice.exhibit.kind, {"kept": 0, "downscaled": 0, "prepared": 0, "settings": {}}
        )
        image = choice.exhibit.image
        if not choice.encoded or image is None:
            counts["kept"] += 1
            continue
        counts["downscaled"] += 1
        counts["prepared"] += choice.prepared
        named = f"{max(image.width, image.height)} px q{image.quality}"
        counts["settings"][named] = counts["settings"].get(named, 0) + 1
    changed = [c.exhibit.image for c in choices if c.encoded and c.exhibit.image]
    return {
        "images": len(changed),
        "prepared": sum(1 for c in choices if c.encoded and c.prepared),
        "max_side": max((max(i.width, i.height) for i in changed), default=0),
        "quality": min((i.quality or 0 for i in changed), default=0),
        "before_bytes": before,
        "after_bytes": after,
        "limit_bytes": limit,
        "target_bytes": target,
        "predicted_bytes": predicted,
        "percent_of_limit": round(100 * after / limit, 1),
        "kinds": kinds,
    }
