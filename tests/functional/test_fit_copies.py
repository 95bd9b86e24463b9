"""Fit copies: smaller copies of each picture made after intake, which a bundle at the
platform's size limit takes as they are instead of encoding while the merchant waits."""

from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from appeals.bundle import Built
from appeals.models import AppealVersion, EvidenceItem, MaliciousCategory
from tests.bundles import flagged, submit
from tests.conftest import World, log_in, post_form
from tests.conftest import fresh_database as fresh_database_for
from tests.functional.test_bundle_fit import build_at, busy_photo, chat_screenshot, placed_images
from tests.functional.test_locker import upload

SCREENSHOTS = 4


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> dict[str, object]:
    """Copies on, as in production, unless a test says otherwise."""
    return {"PREPARE_COPIES": True, **getattr(request, "param", {})}


def merchant(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    return client


def upload_pictures(app: Flask, world: World) -> list[int]:
    """Chat screenshots (PNG) and product photos, one large, sent through the locker's form."""
    rng = random.Random(19)
    client = merchant(app)
    shots = [(chat_screenshot(rng), f"chat-{n}.png") for n in range(SCREENSHOTS)]
    photos = [(busy_photo(rng), "photo-0.jpg"), (busy_photo(rng), "photo-1.jpg"),
              (busy_photo(rng, (3300, 2200)), "photo-big.jpg")]  # fmt: skip
    for files, kind in ((shots, "chat_screenshot"), (photos, "product_photo")):
        response = upload(client, world.complaint_a.id, files, json=True, kind=kind)
        answer = response.get_json()
        response.request.input_stream.close()  # the test client's spooled multipart body
        assert all(result["accepted"] for result in answer), answer
    return item_ids(app, world)


def item_ids(app: Flask, world: World) -> list[int]:
    from merchant_portal.database import db

    with app.app_context():
        return list(
            db().scalars(
                select(EvidenceItem.id)
                .where(EvidenceItem.complaint_id == world.complaint_a.id,
                       EvidenceItem.id != world.evidence_a.id)
                .order_by(EvidenceItem.id)
            )
        )  # fmt: skip


def items(app: Flask, ids: list[int]) -> list[EvidenceItem]:
    from merchant_portal.database import db

    with app.app_context():
        found = list(db().scalars(select(EvidenceItem).where(EvidenceItem.id.in_(ids))))
        for item in found:
            db().expunge(item)
        return sorted(found, key=lambda item: item.id)


def submitted(app: Flask, world: World, ids: list[int]) -> AppealVersion:
    from merchant_portal.database import db

    with app.app_context():
        session, owner = db(), world.users["owner_a"]
        complaint = flagged(session, owner, world.complaint_a.id, MaliciousCategory.OTHER,
                            "The buyer threatened a bad review unless refunded.")  # fmt: skip
        version = submit(session, owner, complaint, MaliciousCategory.OTHER,
                         "The chat shows the threat; the photos show the goods.",
                         ["void_complaint"], [("Threat", "See the chat.", ids)])  # fmt: skip
        session.commit()
        session.refresh(version)
        session.expunge(version)
        return version


def blobs(app: Flask) -> Path:
    return Path(app.config["DATA_DIR"]) / "blobs"


def blob_path(app: Flask, key: str) -> Path:
    (found,) = [p for p in blobs(app).rglob(key) if p.is_file()]
    return found


def fitted(app: Flask, version: AppealVersion, share: float) -> tuple[Built, int]:
    roomy = build_at(app, version, "roomy", None)
    limit = int(roomy.pdf.stat().st_size * share)
    return build_at(app, version, "fitted", limit), limit


def test_intake_stores_smaller_copies_the_fit_is_likely_to_take(app: Flask, world: World) -> None:
    found = items(app, upload_pictures(app, world))

    for item in found:
        copies = item.fit_copies or []
        assert copies, f"{item.display_name} has copies"
        for copy in copies:
            path = blob_path(app, copy["key"])
            assert path.stat().st_size == copy["bytes"]
            with Image.open(path) as picture:
                assert picture.format == "JPEG"
                assert picture.size == (copy["width"], copy["height"])
            assert max(copy["width"], copy["height"]) == copy["side"]
    by_name = {item.display_name: item for item in found}
    big = by_name["photo-big.jpg"].fit_copies or []
    assert [(c["side"], c["quality"]) for c in big] == [(1600, 80), (1400, 80), (1200, 70)]
    small = by_name["photo-0.jpg"].fit_copies or []  # taken at 1600 px: nothing at 1600 again
    assert [(c["side"], c["quality"]) for c in small] == [(1400, 80), (1200, 70)]
    shot = by_name["chat-0.png"].fit_copies or []  # 720x1600: none at 2000 px
    assert [(c["side"], c["quality"]) for c in shot] == [(1600, 85), (1400, 75)]


def test_a_fitted_build_takes_the_prepared_copies_and_lands_under_the_limit(
    app: Flask, world: World
) -> None:
    ids = upload_pictures(app, world)
    version = submitted(app, world, ids)

    built, limit = fitted(app, version, 0.6)

    size = built.pdf.stat().st_size
    assert 0.90 * limit <= size <= limit, f"{size / limit:.1%} of the limit"
    (entry,) = built.report["fit"]
    assert entry["prepared"] >= 1
    assert entry["prepared"] == sum(kind["prepared"] for kind in entry["kinds"].values())
    copies = {(c["width"], c["height"]) for item in items(app, ids) for c in item.fit_copies or []}
    from_copies = [i for i in placed_images(built.pdf) if (i.width, i.height) in copies]
    assert len(from_copies) >= entry["prepared"]
    assert all(i.encoding == "jpeg" for i in from_copies)


def test_removing_a_picture_lets_the_sweep_take_its_copies_too(app: Flask, world: World) -> None:
    ids = upload_pictures(app, world)
    gone, kept = items(app, ids)[-1], items(app, ids)[0]
    client = merchant(app)

    response = post_form(client, f"/evidence/{gone.id}/remove", {},
                         page=f"/complaints/{world.complaint_a.id}/evidence")  # fmt: skip
    assert response.status_code == 302
    result = app.test_cli_runner().invoke(args=["sweep-orphans", "--min-age", "0"])

    assert result.exit_code == 0, result.output
    stored = {p.name for p in blobs(app).rglob("*") if p.is_file()}
    assert not {c["key"] for c in gone.fit_copies or []} & stored
    assert {c["key"] for c in kept.fit_copies or []} <= stored


@pytest.mark.parametrize("settings", [{"PREPARE_COPIES": False}], indirect=True)
def test_without_copies_the_build_encodes_what_it_needs_and_still_fits(
    app: Flask, world: World
) -> None:
    ids = upload_pictures(app, world)
    assert all(item.fit_copies is None for item in items(app, ids))
    version = submitted(app, world, ids)

    built, limit = fitted(app, version, 0.6)

    size = built.pdf.stat().st_size
    assert 0.90 * limit <= size <= limit, f"{size / limit:.1%} of the limit"
    (entry,) = built.report["fit"]
    assert entry["prepared"] == 0 and entry["images"] >= 1


@pytest.mark.parametrize("settings", [{"PREPARE_COPIES": False}], indirect=True)
def test_a_copy_that_cannot_be_made_leaves_the_picture_as_it_was(
    app: Flask, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    from merchant_portal import jobs

    ids = upload_pictures(app, world)
    broken, fine = items(app, ids)[-1], items(app, ids)[0]
    assert broken.page_key is not None
    blob_path(app, broken.page_key).write_bytes(b"not a picture any more")

    made = jobs.copies_now(app, [broken.id, fine.id])

    assert made == 1
    assert items(app, [broken.id])[0].fit_copies is None
    assert items(app, [fine.id])[0].fit_copies
    assert f"fit copies of evidence {broken.id} could not be made" in caplog.text


def test_a_redacted_picture_never_takes_a_copy_of_what_it_hides(
    app: Flask, world: World, tmp_path: Path
) -> None:
    ids = upload_pictures(app, world)
    shot = items(app, ids)[0]
    assert shot.fit_copies, "made before the merchant redacted it"
    url = f"/evidence/{shot.id}/redact"
    client = merchant(app)
    # The chat's title bar (the buyer's name) covered.
    assert post_form(client, url, {"boxes": "0, 0, 100, 6"}, page=url).status_code == 302
    version = submitted(app, world, ids)

    built, _ = fitted(app, version, 0.6)

    (entry,) = built.report["fit"]
    counts = entry["kinds"]["chat_screenshot"]
    assert counts["downscaled"] == SCREENSHOTS and counts["prepared"] == SCREENSHOTS - 1
    (page,) = [f["first_page"] for f in built.manifest["files"] if f["redacted"]]
    subprocess.run(["pdfimages", "-f", str(page), "-l", str(page), "-png", str(built.pdf),
                    str(tmp_path / "redacted")], check=True)  # fmt: skip
    (drawn,) = tmp_path.glob("redacted-*.png")
    with Image.open(drawn) as picture:
        gray = picture.convert("L")
        shade = gray.getpixel((gray.width // 2, gray.height * 3 // 100))
        assert isinstance(shade, int) and shade < 40, "the title bar is still covered"


def test_a_web_process_makes_the_copies_in_its_own_thread(tmp_path: Path) -> None:
    """With the thread queue the upload is answered first; the copies follow."""
    from appeals import migrate
    from merchant_portal import create_app, jobs
    from merchant_portal.database import db
    from tests.conftest import PortalClient, fresh_database, make_config

    with fresh_database(tmp_path) as url:
        app = create_app(make_config(tmp_path, DATABASE_URL=url, BUNDLE_QUEUE="thread",
                                     PREPARE_COPIES=True))  # fmt: skip
        app.test_client_class = PortalClient
        migrate.upgrade(app.config["DATABASE_ENGINE"])
        with app.app_context():
            world = World(db(), tmp_path)
            db().commit()
        client = merchant(app)
        photo = busy_photo(random.Random(3), (3300, 2200))
        response = upload(client, world.complaint_a.id, [(photo, "big.jpg")], json=True,
                          kind="product_photo")  # fmt: skip
        (answer,) = response.get_json()
        response.request.input_stream.close()
        assert answer["accepted"]

        jobs.wait_for_threads(app)

        with app.app_context():
            item = db().get_one(EvidenceItem, answer["id"])
            assert [(c["side"], c["quality"]) for c in item.fit_copies or []] == [
                (1600, 80), (1400, 80), (1200, 70)
            ]  # fmt: skip
        app.config["DATABASE_ENGINE"].dispose()


def fresh_app(tmp_path: Path, url: str, **extra: object) -> Flask:
    from appeals import migrate
    from merchant_portal import create_app
    from tests.conftest import PortalClient, make_config

    app = create_app(make_config(tmp_path, DATABASE_URL=url, **extra))
    app.test_client_class = PortalClient
    migrate.upgrade(app.config["DATABASE_ENGINE"])
    return app


def upload_photo(app: Flask, world: World, seed: int) -> int:
    photo = busy_photo(random.Random(seed), (3300, 2200))
    response = upload(merchant(app), world.complaint_a.id, [(photo, f"big-{seed}.jpg")],
                      json=True, kind="product_photo")  # fmt: skip
    (answer,) = response.get_json()
    response.request.input_stream.close()
    assert answer["accepted"], answer
    return int(answer["id"])


def copies_of(app: Flask, item_id: int) -> list[tuple[int, int]] | None:
    from merchant_portal.database import db

    with app.app_context():
        copies = db().get_one(EvidenceItem, item_id).fit_copies
        return None if copies is None else [(c["side"], c["quality"]) for c in copies]


def test_copies_a_process_died_before_making_are_made_at_the_next_start(tmp_path: Path) -> None:
    """A picture uploaded just before its process died (here: with copies off) gets its
    copies from the next web process, at its first request; one too small for any copy is
    marked as needing none, so that no later start asks again."""
    from merchant_portal import jobs
    from merchant_portal.database import db

    with fresh_database_for(tmp_path) as url:
        before = fresh_app(tmp_path, url, BUNDLE_QUEUE="thread", PREPARE_COPIES=False)
        with before.app_context():
            world = World(db(), tmp_path)
            db().commit()
        big = upload_photo(before, world, 5)
        tiny = io.BytesIO()
        Image.new("RGB", (480, 320), (200, 90, 40)).save(tiny, "PNG")
        response = upload(merchant(before), world.complaint_a.id, [(tiny.getvalue(), "t.png")],
                          json=True, kind="product_photo")  # fmt: skip
        (answer,) = response.get_json()
        response.request.input_stream.close()
        small = int(answer["id"])
        jobs.wait_for_threads(before)
        assert copies_of(before, big) is None and copies_of(before, small) is None
        before.config["DATABASE_ENGINE"].dispose()

        after = fresh_app(tmp_path, url, BUNDLE_QUEUE="thread", PREPARE_COPIES=True)
        after.test_client().get("/login")  # the first request of the new process
        jobs.wait_for_threads(after)

        assert copies_of(after, big) == [(1600, 80), (1400, 80), (1200, 70)]
        assert copies_of(after, small) == []
        with after.app_context():
            from appeals import fit_copies

            assert fit_copies.waiting(db()) == []
        after.config["DATABASE_ENGINE"].dispose()


def test_the_redis_worker_makes_the_copies_and_those_left_undone(
    tmp_path: Path, redis_url: str
) -> None:
    """On the Redis queue the web process only queues the copies; a `worker` makes them,
    and at its start also those of a picture whose process never queued them."""
    import os
    import time

    from merchant_portal import jobs
    from merchant_portal.database import db

    with fresh_database_for(tmp_path) as url:
        name = f"test-copies-{os.getpid()}-{time.monotonic_ns()}"
        queue = {"BUNDLE_QUEUE": "redis", "REDIS_URL": redis_url, "BUNDLE_QUEUE_NAME": name}
        off = fresh_app(tmp_path, url, PREPARE_COPIES=False, **queue)
        with off.app_context():
            world = World(db(), tmp_path)
            db().commit()
        left_undone = upload_photo(off, world, 6)
        off.config["DATABASE_ENGINE"].dispose()

        app = fresh_app(tmp_path, url, PREPARE_COPIES=True, **queue)
        queued = upload_photo(app, world, 7)
        time.sleep(0.3)
        assert copies_of(app, queued) is None, "nothing is made without a worker"

        consumer = jobs.serve_worker(app)
        consumer.start()
        try:
            jobs.resume_background(app)  # what the `worker` command does at its start
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and None in (
                copies_of(app, queued),
                copies_of(app, left_undone),
            ):
                time.sleep(0.2)
            for item_id in (queued, left_undone):
                assert copies_of(app, item_id) == [(1600, 80), (1400, 80), (1200, 70)]
        finally:
            consumer.stop(graceful=True)
            app.config["DATABASE_ENGINE"].dispose()
