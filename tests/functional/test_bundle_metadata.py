"""What leaves the shop matches what the locker promises: no GPS or camera unless kept."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader

from appeals import appeal, complaints, locker
from appeals.bundle import verify
from appeals.models import AppealVersion, AuditEvent, EvidenceItem, EvidenceKind, MaliciousCategory
from merchant_portal.context import context, policies
from merchant_portal.database import db
from merchant_portal.locker import blob_store
from tests.conftest import World, log_in, post_form

GPS = {1: "N", 2: (31.0, 14.0, 5.5), 3: "E", 4: (121.0, 28.0, 1.0)}


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 12 Pro"
    exif[0x8825] = GPS
    exif.get_ifd(0x8769)[0xA431] = "SN-0042"
    return exif


def photo_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize((320, 240)).convert("RGB").save(
        buffer, "JPEG", quality=88, exif=camera_exif()
    )
    return buffer.getvalue()


def receipt_png() -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((200, 300)).convert("RGB").save(
        buffer, "PNG", exif=camera_exif()
    )
    data = buffer.getvalue()
    assert b"eXIf" in data
    return data


FILES = {"photo.jpg": photo_jpeg(), "receipt.png": receipt_png()}


def upload_both(app: Flask, world: World) -> dict[str, int]:
    with app.app_context():
        owner = world.users["owner_a"]
        complaint = complaints.get_complaint(db(), owner, world.complaint_a.id)
        ids = {}
        for name, data in FILES.items():
            item = locker.receive_file(
                db(), owner, complaint, io.BytesIO(data), filename=name,
                kind=EvidenceKind.PRODUCT_PHOTO, caption=name, store=blob_store(),
                workdir=Path(app.config["DATA_DIR"]) / "quarantine", policy=policies().locker,
            )  # fmt: skip
            ids[name] = item.id
        db().commit()
        return ids


def submit(app: Flask, world: World, ids: dict[str, int]) -> AppealVersion:
    with app.app_context():
        owner = world.users["owner_a"]
        complaint = complaints.get_complaint(db(), owner, world.complaint_a.id)
        complaints.flag_complaint(db(), owner, complaint, MaliciousCategory.OTHER,
                                  "The buyer claims the parcel never came.")  # fmt: skip
        draft = appeal.start_appeal(db(), owner, complaint.id)
        appeal.update_draft(db(), owner, draft, category=MaliciousCategory.OTHER,
                            statement="Photo and receipt of the parcel as shipped.",
                            remedies=["void_complaint"],
                            rows=[("Not received", "Both.", [*ids.values()])])  # fmt: skip
        version = appeal.submit_appeal(
            db(), owner, draft, profile=policies().budget, review_policy=policies().review
        )
        db().commit()
        db().refresh(version)
        return version


def bundle_zip(app: Flask, world: World, version: AppealVersion) -> bytes:
    client = app.test_client()
    response = client.get(
        f"/api/v1/appeals/{version.appeal_id}/bundle.zip",
        headers={"Authorization": f"Bearer {world.tokens['owner_a'][1]}"},
    )
    body = response.get_data()
    response.close()
    assert response.status_code == 200, body[:300]
    return body


def shipped(archive: bytes) -> tuple[dict, dict[str, bytes]]:  # type: ignore[type-arg]
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        by_caption = {f["caption"]: bundle.read(f["path"]) for f in manifest["files"]}
    return manifest, by_caption


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.tobytes()


def verify_from_the_command_line(app: Flask, tmp_path: Path, archive: bytes) -> str:
    path = tmp_path / "bundle.zip"
    path.write_bytes(archive)
    result = app.test_cli_runner().invoke(args=["verify-bundle", str(path)])
    assert result.exit_code == 0, result.output
    assert "INTACT" in result.output
    return result.output


def locker_original(app: Flask, item_id: int) -> bytes:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    body: bytes = fetched(client, f"/evidence/{item_id}/original")[1]
    return body


def fetched(client: FlaskClient, url: str):  # type: ignore[no-untyped-def]
    response = client.get(url)
    body = response.get_data()
    response.close()
    return response, body


def test_reviewers_copies_lose_gps_and_camera_while_the_locker_keeps_the_original(
    app: Flask, world: World, tmp_path: Path
) -> None:
    ids = upload_both(app, world)
    version = submit(app, world, ids)
    archive = bundle_zip(app, world, version)
    manifest, copies = shipped(archive)
    assert manifest["format"] == "appeal-desk-bundle/3"
    for name, original in FILES.items():
        copy = copies[name]
        with Image.open(io.BytesIO(copy)) as image:
            exif = image.getexif()
            assert not exif.get_ifd(0x8825) and 0x010F not in exif and 0x0110 not in exif
            assert exif.get(0x0112) == 6  # still shown upright
        assert pixels(copy) == pixels(original)
        for word in (b"PhoneMaker", b"Phone 12 Pro", b"SN-0042"):
            assert word not in copy
        entry = next(f for f in manifest["files"] if f["caption"] == name)
        assert entry["sha256"] == hashlib.sha256(copy).hexdigest()
        assert entry["original_sha256"] == hashlib.sha256(original).hexdigest()
        assert entry["sha256"] != entry["original_sha256"]
        assert {"GPSInfo", "Make", "Model", "BodySerialNumber"} <= set(entry["metadata"]["removed"])
        assert entry["metadata"]["kept_by_merchant"] is False
        with app.app_context():
            assert db().get_one(EvidenceItem, ids[name]).sha256 == entry["original_sha256"]
        assert locker_original(app, ids[name]) == original
    with app.app_context():
        assert verify(io.BytesIO(archive), context().bundle_trust()).intact
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        pdf = PdfReader(io.BytesIO(bundle.read("bundle.pdf")))
    assert pdf.metadata and pdf.metadata["/Keywords"] == manifest["files_sha256"]  # the cover's
    output = verify_from_the_command_line(app, tmp_path, archive)
    assert "removed GPSInfo" in output

    reviewer = app.test_client()
    log_in(reviewer, "reviewer@test.example")
    url = f"/review/appeals/{version.appeal_id}/exhibits/{ids['photo.jpg']}/original"
    download, body = fetched(reviewer, url)
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert body == copies["photo.jpg"]


def test_a_merchant_who_keeps_the_camera_data_ships_the_original_and_the_manifest_says_so(
    app: Flask, world: World, tmp_path: Path
) -> None:
    ids = upload_both(app, world)
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    page = f"/complaints/{world.complaint_a.id}/evidence"
    html = client.get(page).get_data(as_text=True)
    assert "Keep camera and location data in the copy reviewers get" in html
    kept = post_form(client, f"/evidence/{ids['photo.jpg']}/edit",
                     {"kind": "product_photo", "caption": "photo.jpg", "keep_metadata": "y"},
                     page)  # fmt: skip
    assert kept.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert re.search(rf'<input[^>]*checked[^>]*id="keep-metadata-{ids["photo.jpg"]}"', html)
    assert not re.search(rf'<input[^>]*checked[^>]*id="keep-metadata-{ids["receipt.png"]}"', html)
    with app.app_context():
        assert db().get_one(EvidenceItem, ids["photo.jpg"]).keep_metadata
        event = db().query(AuditEvent).filter_by(action="evidence.edited").one()
        assert event.before and event.before["keep_metadata"] is False
        assert event.after and event.after["keep_metadata"] is True

    version = submit(app, world, ids)
    archive = bundle_zip(app, world, version)
    manifest, copies = shipped(archive)
    assert copies["photo.jpg"] == FILES["photo.jpg"]
    photo = next(f for f in manifest["files"] if f["caption"] == "photo.jpg")
    assert photo["metadata"] == {"removed": [], "kept_by_merchant": True}
    assert photo["sha256"] == photo["original_sha256"]
    receipt = next(f for f in manifest["files"] if f["caption"] == "receipt.png")
    assert receipt["metadata"]["kept_by_merchant"] is False and receipt["metadata"]["removed"]
    output = verify_from_the_command_line(app, tmp_path, archive)
    assert "kept by the merchant" in output

    # Once a submitted version cites the file, the choice is frozen like its kind.
    refused = post_form(client, f"/evidence/{ids['photo.jpg']}/edit",
                        {"kind": "product_photo", "caption": "photo.jpg"}, page)  # fmt: skip
    assert refused.status_code == 422
    assert "can no longer change" in refused.get_data(as_text=True)
    with app.app_context():
        assert db().get_one(EvidenceItem, ids["photo.jpg"]).keep_metadata
