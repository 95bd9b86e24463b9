"""Bundle builds as jobs on their own database: a background thread, a Redis queue with a
real worker, failures and retries, and the operator commands."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

from flask import Flask
from pypdf import PdfReader

from appeals import migrate
from appeals.models import BundleBuild
from tests.bundles import submitted_appeal
from tests.conftest import World, fresh_database, make_config


def seeded_app(tmp_path: Path, url: str, **extra: object) -> tuple[Flask, World, int]:
    from merchant_portal import create_app
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    app = create_app(make_config(tmp_path, DATABASE_URL=url, **extra))
    migrate.upgrade(app.config["DATABASE_ENGINE"])
    with app.app_context():
        world = World(db(), tmp_path)
        version = submitted_appeal(
            db(), world.users["owner_a"], world.complaint_a.id, blob_store(), tmp_path / "q"
        )
        db().commit()
        return app, world, version.appeal_id


def poll(app: Flask, world: World, path: str, seconds: float = 90) -> tuple[list[dict], bytes]:  # type: ignore[type-arg]
    """GET until the file comes (200), collecting the 202 progress answers on the way."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['owner_a'][1]}"}
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = client.get(path, headers=headers)
        body = response.get_data()
        response.close()
        if response.status_code == 200:
            return seen, body
        assert response.status_code == 202, body[:300]
        assert response.headers["Retry-After"]
        seen.append(response.get_json())
        time.sleep(0.2)
    raise AssertionError(f"no bundle after {seconds} s: {seen[-1:]}")


def test_the_thread_queue_builds_in_the_background(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        app, world, appeal_id = seeded_app(tmp_path, url, BUNDLE_QUEUE="thread")
        try:
            progress, pdf = poll(app, world, f"/api/v1/appeals/{appeal_id}/bundle.pdf")
            assert progress, "the first answer is 202: the build runs behind the request"
            assert progress[0]["state"] in ("queued", "running", "ready")
            assert all(0 <= p["percent"] <= 100 for p in progress)
            assert len(PdfReader(io.BytesIO(pdf)).pages) > 5
            _, archive = poll(app, world, f"/api/v1/appeals/{appeal_id}/bundle.zip")
            assert "manifest.json" in zipfile.ZipFile(io.BytesIO(archive)).namelist()
            with app.app_context():
                from merchant_portal.database import db

                (build,) = db().query(BundleBuild).all()
                assert build.attempts == 1 and build.done == build.steps > 0
                assert (
                    build.started_at and build.finished_at and build.finished_at >= build.started_at
                )
        finally:
            from merchant_portal import jobs

            jobs.wait_for_threads(app)
            app.config["DATABASE_ENGINE"].dispose()


def test_the_redis_queue_is_built_by_a_separate_worker(tmp_path: Path, redis_url: str) -> None:
    from merchant_portal import jobs

    with fresh_database(tmp_path) as url:
        name = f"test-bundles-{os.getpid()}-{time.monotonic_ns()}"
        app, world, appeal_id = seeded_app(
            tmp_path, url, BUNDLE_QUEUE="redis", REDIS_URL=redis_url, BUNDLE_QUEUE_NAME=name
        )
        path = f"/api/v1/appeals/{appeal_id}/bundle.pdf"
        client = app.test_client()
        headers = {"Authorization": f"Bearer {world.tokens['owner_a'][1]}"}
        first = client.get(path, headers=headers)
        assert first.status_code == 202 and first.get_json()["state"] == "queued"
        time.sleep(0.5)
        still = client.get(path, headers=headers)
        assert still.status_code == 202, "nothing builds without a worker"
        consumer = jobs.serve_worker(app)
        consumer.start()
        try:
            _, pdf = poll(app, world, path)
            assert pdf[:5] == b"%PDF-"
        finally:
            consumer.stop(graceful=True)
            app.config["DATABASE_ENGINE"].dispose()


def test_a_failing_build_is_retried_then_reported(app: Flask, world: World) -> None:
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    with app.app_context():
        version = submitted_appeal(
            db(), world.users["owner_a"], world.complaint_a.id, blob_store(),
            Path(app.config["DATA_DIR"]) / "q",
        )  # fmt: skip
        db().commit()
        victim = version.content["exhibits"][0]
    # The stored original changes under the portal's feet (a disk fault, or tampering).
    blob = Path(app.config["DATA_DIR"]) / "blobs" / victim["sha256"][:2] / victim["sha256"][2:4]
    (blob / victim["sha256"]).write_bytes(b"something else")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['owner_a'][1]}"}
    for _ in range(4):
        response = client.get(f"/api/v1/appeals/{version.appeal_id}/bundle.zip", headers=headers)
        assert response.status_code == 503
        assert response.get_json()["code"] == "bundle_failed"
    with app.app_context():
        (build,) = db().query(BundleBuild).all()
        assert build.state.value == "failed" and build.attempts == 3
        assert victim["label"] in (build.error or "")


def test_a_lost_build_is_queued_again(app: Flask, world: World) -> None:
    from datetime import timedelta

    from appeals import builds
    from appeals.clock import utcnow
    from appeals.models import Appeal, BuildState
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    with app.app_context():
        owner = world.users["owner_a"]
        version = submitted_appeal(db(), owner, world.complaint_a.id, blob_store(),
                                   Path(app.config["DATA_DIR"]) / "q")  # fmt: skip
        appeal = db().get_one(Appeal, version.appeal_id)
        build, start = builds.request_build(db(), owner, appeal)
        assert start
        build.state = BuildState.RUNNING
        assert builds.request_build(db(), owner, appeal) == (build, False)
        build.heartbeat_at = utcnow() - timedelta(minutes=6)  # its process died
        again, restart = builds.request_build(db(), owner, appeal)
        assert again.id == build.id and restart and again.state is BuildState.QUEUED


def cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def test_build_and_verify_bundles_from_the_command_line(
    app: Flask, world: World, tmp_path: Path
) -> None:
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    with app.app_context():
        version = submitted_appeal(
            db(), world.users["owner_a"], world.complaint_a.id, blob_store(), tmp_path / "q"
        )
        db().commit()
        appeal_id = version.appeal_id
    out = tmp_path / "out"
    built = cli(app, "build-bundle", str(appeal_id), "--out", str(out))
    assert built.exit_code == 0, built.output
    archive = next(out.glob("*.zip"))
    assert archive.name.endswith("-v1-bundle.zip") and next(out.glob("*.pdf"))
    assert not list(out.glob(".*partial"))
    good = cli(app, "verify-bundle", str(archive))
    assert good.exit_code == 0 and "INTACT" in good.output and "signature: valid" in good.output

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(
                info, data + b"!" if info.filename.startswith("originals/A-1") else data
            )
    bad = cli(app, "verify-bundle", str(tampered))
    assert bad.exit_code == 1 and "NOT INTACT" in bad.output
    assert "changed: originals/A-1" in bad.output

    unknown = cli(app, "build-bundle", "999999", "--out", str(out))
    assert unknown.exit_code != 0 and "No appeal with id 999999" in unknown.output
    worker = cli(app, "worker")
    assert worker.exit_code != 0 and "PORTAL_REDIS_URL" in worker.output
