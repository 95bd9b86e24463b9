"""The automatic fit at the platform's size limit: planned per image, landing near the limit."""

from __future__ import annotations

import io
import json
import random
import subprocess
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image, ImageDraw

from appeals import appeal
from appeals.bundle import Built
from appeals.models import Appeal, AppealVersion, EvidenceKind, MaliciousCategory
from appeals.policies import BudgetProfile
from tests.bundles import flagged, submit, take_in
from tests.conftest import World

SCREENSHOTS, PHOTOS = 5, 4


def chat_screenshot(rng: random.Random) -> bytes:
    """A text-heavy phone screenshot: bubbles of dark glyph-like marks on white."""
    image = Image.new("RGB", (720, 1600), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 720, 110), fill=(18, 140, 126))
    for row in range(33):
        y = 130 + row * 44
        x = 280 if rng.random() < 0.5 else 24
        width = rng.randint(200, 410)
        draw.rounded_rectangle((x, y, x + width, y + 36), 10, fill=(225, 245, 205))
        for i in range(width // 15):
            shade = rng.randint(10, 90)
            draw.rectangle((x + 9 + i * 14, y + 11, x + 19 + i * 14, y + 25), fill=(shade,) * 3)
    # A picture sent in the chat: what makes real screenshots weigh.
    image.paste(Image.effect_noise((400, 300), 40).convert("RGB"), (rng.choice((24, 296)), 600))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def busy_photo(rng: random.Random, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A camera-like photo: gradients, noise and a few blobs, saved as a phone would."""
    base = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, 26)
    image = Image.merge(
        "RGB",
        (Image.blend(base, noise, 0.4), Image.blend(base.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
         noise, 0.35), Image.linear_gradient("L").resize(size)),
    )  # fmt: skip
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randint(0, size[0] - 200), rng.randint(0, size[1] - 200)
        draw.ellipse((x, y, x + rng.randint(40, 200), y + rng.randint(40, 200)),
                     fill=tuple(rng.randint(0, 255) for _ in range(3)))  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class PlacedImage:
    page: int
    width: int
    height: int
    bytes: int
    encoding: str  # "jpeg" (DCT) or "image" (Flate: PNG rows)

    @property
    def long_side(self) -> int:
        return max(self.width, self.height)


def placed_images(pdf: Path) -> list[PlacedImage]:
    """The pictures in the PDF as a reader's tool lists them (poppler's pdfimages)."""
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    found = []
    for line in listing:
        cells = line.split()
        found.append(PlacedImage(int(cells[0]), int(cells[3]), int(cells[4]), _bytes(cells[14]),
                                 cells[8]))  # fmt: skip
    return found


def _bytes(cell: str) -> int:
    units = {"B": 1, "K": 1024, "M": 1024 * 1024}
    return int(float(cell[:-1]) * units[cell[-1]])


def images_by_kind(built: Built) -> dict[str, list[PlacedImage]]:
    """Each exhibit's picture in the PDF, grouped by what the merchant filed it as."""
    by_page = {image.page: image for image in placed_images(built.pdf)}
    grouped: dict[str, list[PlacedImage]] = {}
    for entry in built.manifest["files"]:
        if entry["first_page"] in by_page:
            grouped.setdefault(entry["kind"], []).append(by_page[entry["first_page"]])
    return grouped


@pytest.fixture
def pictures_appeal(app: Flask, world: World) -> AppealVersion:
    """A submitted appeal of chat screenshots and product photos, taken in through the locker."""
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    rng = random.Random(16)
    files = [(f"chat-{n}.png", chat_screenshot(rng), EvidenceKind.CHAT_SCREENSHOT)
             for n in range(SCREENSHOTS)]  # fmt: skip
    files += [(f"photo-{n}.jpg", busy_photo(rng), EvidenceKind.PRODUCT_PHOTO)
              for n in range(PHOTOS - 1)]  # fmt: skip
    # One photo large enough that intake made a 2000 px page copy of it.
    files.append(("photo-big.jpg", busy_photo(rng, (3300, 2200)), EvidenceKind.PRODUCT_PHOTO))
    with app.app_context():
        session, owner = db(), world.users["owner_a"]
        complaint = flagged(session, owner, world.complaint_a.id, MaliciousCategory.OTHER,
                            "The buyer threatened a bad review unless refunded.")  # fmt: skip
        items = take_in(session, owner, complaint, [(n, b, k, n) for n, b, k in files],
                        blob_store(), Path(app.config["DATA_DIR"]) / "quarantine")  # fmt: skip
        version = submit(session, owner, complaint, MaliciousCategory.OTHER,
                         "The chat shows the threat; the photos show the goods.",
                         ["void_complaint"],
                         [("Threat", "See the chat.", [i.id for i in items])])  # fmt: skip
        session.commit()
        session.refresh(version)
        session.expunge(version)
        return version


def build_at(app: Flask, version: AppealVersion, folder: str, max_bytes: int | None) -> Built:
    from appeals.bundle import build
    from merchant_portal import jobs
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    with app.app_context():
        settings = jobs.settings()
        profile = settings.profile
        if max_bytes is not None:
            profile = replace(profile, max_bytes=max_bytes)
        found = db().merge(version)
        return build(db(), found, blob_store(), Path(app.config["DATA_DIR"]) / folder,
                     key=settings.key, profile=profile, font=settings.font,
                     time_zone=settings.time_zone)  # fmt: skip


def test_a_bundle_within_the_limit_keeps_every_picture_as_stored(
    app: Flask, pictures_appeal: AppealVersion
) -> None:
    built = build_at(app, pictures_appeal, "roomy", None)

    assert built.report["fit"] == [] and "over_bytes" not in built.report
    by_kind = images_by_kind(built)
    assert {(i.width, i.height, i.encoding) for i in by_kind["chat_screenshot"]} == {
        (720, 1600, "image")  # the PNG's own rows, not a JPEG made from them
    }
    assert sorted((i.width, i.height) for i in by_kind["product_photo"]) == [
        (1600, 1200), (1600, 1200), (1600, 1200), (2000, 1333),  # the big one's page copy
    ]  # fmt: skip


@pytest.mark.parametrize("share", [0.35, 0.6])
def test_the_fit_lands_just_under_the_limit_in_one_plan(
    app: Flask, pictures_appeal: AppealVersion, share: float
) -> None:
    roomy = build_at(app, pictures_appeal, "roomy", None)
    limit = int(roomy.pdf.stat().st_size * share)

    fitted = build_at(app, pictures_appeal, "fitted", limit)

    size = fitted.pdf.stat().st_size
    assert 0.90 * limit <= size <= limit, f"{size / limit:.1%} of the limit"
    assert fitted.pages == roomy.pages and "over_bytes" not in fitted.report
    by_kind = images_by_kind(fitted)
    screenshots, photos = by_kind["chat_screenshot"], by_kind["product_photo"]
    assert min(i.long_side for i in screenshots) >= 1400, "chat text stays legible"
    kept = {i.long_side / 1600 for i in screenshots}
    assert min(kept) > max(i.long_side / _photo_side(i) for i in photos)
    if min(kept) < 1:
        assert all(_changed("product_photo", i) for i in photos), "photos give way first"

    (entry,) = fitted.report["fit"]
    assert entry["limit_bytes"] == limit and entry["target_bytes"] == int(0.95 * limit)
    assert entry["after_bytes"] < entry["before_bytes"] and entry["passes"] in (1, 2)
    assert abs(entry["percent_of_limit"] - 100 * size / limit) < 1.5
    changed = []
    for kind, images in by_kind.items():
        smaller = [i for i in images if _changed(kind, i)]
        counts = entry["kinds"][kind]
        assert (counts["kept"], counts["downscaled"]) == (len(images) - len(smaller), len(smaller))
        sides = sorted(int(name.split(" px")[0]) for name, n in counts["settings"].items()
                       for _ in range(n))  # fmt: skip
        assert sides == sorted(i.long_side for i in smaller)
        changed += smaller
    assert entry["images"] == len(changed) >= 1
    assert entry["max_side"] == max(i.long_side for i in changed)
    assert manifest_fit(fitted) == fitted.report["fit"]


def _changed(kind: str, image: PlacedImage) -> bool:
    """Whether the fit made this picture anew: not the stored PNG rows or stored JPEG."""
    if kind == "chat_screenshot":
        return image.encoding == "jpeg"
    return (image.width, image.height) not in ((1600, 1200), (2000, 1333))


def _photo_side(image: PlacedImage) -> int:
    """The long side the photo was taken at: the big one is 3:2, the others 4:3."""
    return 3300 if image.height / image.width < 0.7 else 1600


def manifest_fit(built: Built) -> object:
    with zipfile.ZipFile(built.zip) as archive:
        return json.loads(archive.read("manifest.json"))["fit"]


@pytest.mark.parametrize("share", [None, 0.7, 0.05], ids=["roomy", "fitted", "out-of-reach"])
def test_the_builder_preview_foretells_the_bundle_the_build_makes(
    app: Flask, pictures_appeal: AppealVersion, share: float | None
) -> None:
    """What the merchant sees while building (the budget) comes from the build's own plan:
    the PDF's size within a fifth, the same pictures made smaller, the same verdict."""
    from merchant_portal.database import db

    roomy = build_at(app, pictures_appeal, "roomy", None)
    limit = None if share is None else int(roomy.pdf.stat().st_size * share)
    built = roomy if limit is None else build_at(app, pictures_appeal, "fitted", limit)
    with app.app_context():
        profile = jobs_profile(limit)
        found = db().get_one(Appeal, pictures_appeal.appeal_id)
        foretold = appeal.budget(db(), found, profile)

    size = built.pdf.stat().st_size
    assert 0.8 < foretold.bytes / size < 1.2, (foretold.bytes, size)
    assert ("bytes" in foretold.over) == ("over_bytes" in built.report)
    smaller = sum(1 for kind, images in images_by_kind(built).items()
                  for i in images if _fewer_pixels(kind, i))  # fmt: skip
    assert foretold.fit_images == smaller


def jobs_profile(limit: int | None) -> BudgetProfile:
    from merchant_portal import jobs

    profile = jobs.settings().profile
    return profile if limit is None else replace(profile, max_bytes=limit)


def _fewer_pixels(kind: str, image: PlacedImage) -> bool:
    full = 1600 if kind == "chat_screenshot" else _photo_side(image)
    return image.long_side < full


def test_a_limit_out_of_reach_gives_up_legibility_last_and_says_by_how_much(
    app: Flask, pictures_appeal: AppealVersion
) -> None:
    fitted = build_at(app, pictures_appeal, "tiny", 250_000)

    assert len(fitted.report["fit"]) == 1, "one plan, however far the limit is"
    # By how much the signed file itself is over, not the estimate.
    assert fitted.report["over_bytes"] == fitted.pdf.stat().st_size - 250_000 > 0
    by_kind = images_by_kind(fitted)
    assert max(i.long_side for i in by_kind["product_photo"]) == 640
    assert max(i.long_side for i in by_kind["chat_screenshot"]) < 1400
    assert fitted.pdf.stat().st_size < 2 * 250_000


def test_the_merchant_is_told_what_the_fit_did_in_both_languages(
    app: Flask, pictures_appeal: AppealVersion
) -> None:
    from flask import render_template
    from flask_babel import force_locale

    from appeals.models import Appeal, BuildState, BundleBuild
    from merchant_portal.database import db
    from merchant_portal.forms import ActionForm

    roomy = build_at(app, pictures_appeal, "roomy", None)
    limit = int(roomy.pdf.stat().st_size * 0.5)
    fitted = build_at(app, pictures_appeal, "fitted", limit)
    (entry,) = fitted.report["fit"]
    assert entry["pdf_bytes"] == fitted.pdf.stat().st_size, "the signed file, not an estimate"
    percent = round(100 * entry["pdf_bytes"] / limit)
    with app.test_request_context():
        appeal_row = db().get_one(Appeal, pictures_appeal.appeal_id)
        build = BundleBuild(state=BuildState.READY, report=fitted.report, pages=fitted.pages,
                            pdf_size=entry["pdf_bytes"], zip_size=1, pdf_key="0" * 64,
                            zip_key="0" * 64, finished_at=pictures_appeal.submitted_at)  # fmt: skip
        pages = {}
        for locale in ("en", "zh_Hans_CN"):
            with force_locale(locale):
                pages[locale] = render_template("merchant/_bundle.html", appeal=appeal_row,
                                                build=build, action_form=ActionForm())  # fmt: skip
    english = " ".join(pages["en"].split())
    assert f"The PDF uses {percent}% of the" in english
    assert "Product photo: " in english and " made smaller" in english
    assert f"{percent}%" in pages["zh_Hans_CN"] and "made smaller" not in pages["zh_Hans_CN"]


def test_a_bundle_still_over_the_limit_says_so_to_the_merchant(
    app: Flask, pictures_appeal: AppealVersion
) -> None:
    from html import unescape

    from flask import render_template

    from appeals.models import Appeal, BuildState, BundleBuild
    from merchant_portal.database import db
    from merchant_portal.forms import ActionForm

    built = build_at(app, pictures_appeal, "tiny", 20_000)
    assert built.report["over_bytes"] > 0
    with app.test_request_context():
        build = BundleBuild(state=BuildState.READY, report=built.report, pages=built.pages,
                            pdf_size=built.pdf.stat().st_size, zip_size=1, pdf_key="0" * 64,
                            zip_key="0" * 64, finished_at=pictures_appeal.submitted_at)  # fmt: skip
        html = render_template("merchant/_bundle.html", build=build, action_form=ActionForm(),
                               appeal=db().get_one(Appeal, pictures_appeal.appeal_id))  # fmt: skip
    over = round(built.report["over_bytes"] / 1048576, 2)
    assert f"The PDF is {over} MB over the platform's size limit" in unescape(html)
