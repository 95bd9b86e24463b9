"""Bundles of a submitted appeal: the PDF, the ZIP and its manifest, verification, access."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from appeals.bundle import KeyFolder, Trust, verify
from appeals.models import AppealVersion, BundleBuild, EvidenceItem
from merchant_portal.context import context, policies
from tests.bundles import submitted_appeal
from tests.conftest import World, csrf_token, log_in

FOOTER = re.compile(r"(AP-\d{4}-\d{6}) · (Cover|Matrix|Index|[A-Z]-\d+|Dossier) · (\d+)/(\d+)")
FORBIDDEN_KEYS = {"/JS", "/JavaScript", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile",
                  "/EmbeddedFiles", "/RichMedia", "/AcroForm", "/XFA", "/URI", "/SubmitForm",
                  "/Annots"}  # fmt: skip


def api(app: Flask, world: World, who: str, path: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    return client.get(path, headers={"Authorization": f"Bearer {world.tokens[who][1]}"})


def download(app: Flask, world: World, version: AppealVersion, kind: str, who: str = "owner_a"):  # type: ignore[no-untyped-def]
    response = api(app, world, who, f"/api/v1/appeals/{version.appeal_id}/bundle.{kind}")
    body = response.get_data()
    response.close()
    assert response.status_code == 200, body[:300]
    return response, body


@pytest.fixture
def pdf(app: Flask, world: World, version: AppealVersion) -> bytes:
    response, body = download(app, world, version, "pdf")
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    return body


@pytest.fixture
def archive(app: Flask, world: World, version: AppealVersion) -> bytes:
    response, body = download(app, world, version, "zip")
    assert response.mimetype == "application/zip"
    return body


def key_of(app: Flask) -> Trust:
    """What the portal checks bundles against: its published keys (and its old HMAC key)."""
    with app.app_context():
        return context().bundle_trust()


def signature_field_only(key: str, value: object) -> bool:
    """The PAdES signature's form: signature fields alone, and their widgets (no actions)."""
    value = value.get_object()  # type: ignore[attr-defined]
    if key == "/AcroForm":
        fields = [f.get_object() for f in value.get("/Fields", [])]
        return "/XFA" not in value and all(f.get("/FT") == "/Sig" for f in fields)
    if key == "/Annots":
        return all(a.get_object().get("/Subtype") == "/Widget"
                   and a.get_object().get("/FT") == "/Sig" for a in value)  # fmt: skip
    return False


def manifest_of(archive: bytes) -> dict:  # type: ignore[type-arg]
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        return json.loads(bundle.read("manifest.json"))  # type: ignore[no-any-return]


def test_every_page_has_its_footer_and_the_page_count_adds_up(pdf: bytes, archive: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    manifest = manifest_of(archive)
    total = len(reader.pages)
    exhibit_pages = sum(entry["pages"] for entry in manifest["files"])
    assert total == manifest["bundle_pdf"]["pages"]
    assert total >= 3 + exhibit_pages + 1  # cover, matrix, index, exhibits, dossier
    labels = []
    for number, page in enumerate(reader.pages, start=1):
        found = FOOTER.findall(page.extract_text())
        assert found, f"page {number} has no footer"
        appeal, label, shown, count = found[-1]
        assert (appeal, int(shown), int(count)) == (manifest["appeal"], number, total)
        labels.append(label)
    assert labels[:3] == ["Cover", "Matrix", "Index"] and labels[-1] == "Dossier"
    for entry in manifest["files"]:
        first = entry["first_page"]
        assert labels[first - 1 : first - 1 + entry["pages"]] == [entry["label"]] * entry["pages"]


def test_bookmarks_lead_to_each_exhibit_and_metadata_names_the_appeal(
    pdf: bytes, archive: bytes
) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    manifest = manifest_of(archive)
    outline = reader.outline
    titles = [item.title for item in outline if not isinstance(item, list)]
    assert titles[0].startswith("Appeal evidence bundle") and "申诉证据包" in titles[0]
    assert any(t.startswith("Rebuttal matrix") for t in titles)
    assert any(t.startswith("Exhibit index") for t in titles)
    assert titles[-1].startswith("Complainant dossier")
    children = next(item for item in outline if isinstance(item, list))
    assert len(children) == len(manifest["files"])
    for child, entry in zip(children, manifest["files"], strict=True):
        assert child.title.startswith(entry["label"] + " ")
        assert reader.get_destination_page_number(child) == entry["first_page"] - 1
    assert manifest["appeal"] in reader.metadata.title
    assert reader.metadata.creator == "Appeal Desk"
    assert reader.page_mode == "/UseOutlines"


def test_chinese_and_english_text_are_extractable_with_an_embedded_font(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "申诉证据包" in text and "Appeal evidence bundle" in text
    assert "买家以差评相威胁" in text  # the statement
    assert "不给我全额退款" in text  # the chat export, rendered as text
    assert "蓝色保温杯" in text  # the order history, rendered as a table
    assert "签收记录显示已签收" in text  # the rebuttal matrix
    # The flag's reasons, which the flag form promises reviewers will read, and the
    # buyer's own complaint text are on the cover.
    assert "threatened a bad review unless refunded in full" in text
    assert "Why the merchant flagged it as malicious" in text
    assert "The complaint, as the buyer wrote it" in text
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            if font["/BaseFont"] == "/Helvetica":
                continue  # the footer's standard font (ASCII and the middle dot only)
            descriptor = font.get("/FontDescriptor")
            if descriptor is None:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
            fonts.add(str(font["/BaseFont"]))
    assert fonts and all("WenQuanYi" in name for name in fonts)


def test_no_active_content_anywhere_in_the_pdf(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    found: list[str] = []
    seen: set[int] = set()
    stack: list[object] = [reader.trailer]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            stack.append(reader.get_object(number))
        except Exception:  # noqa: S112 (free object numbers)
            continue
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):  # StreamObject too
            for key, value in obj.items():
                if key in FORBIDDEN_KEYS and not signature_field_only(key, value):
                    found.append(key)
                if key == "/S" and value in ("/JavaScript", "/Launch", "/URI", "/SubmitForm"):
                    found.append(str(value))
                if key != "/Parent":
                    stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    assert found == []
    assert b"/JavaScript" not in pdf and b"/OpenAction" not in pdf


def test_photos_arrive_upright_and_without_their_exif_or_gps(pdf: bytes, archive: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    manifest = manifest_of(archive)
    photo = next(e for e in manifest["files"] if e["kind"] == "product_photo")
    page = reader.pages[photo["first_page"] - 1]
    images = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
    picture = next(i for i in images if isinstance(i, StreamObject) and i["/Subtype"] == "/Image")
    # Taken 1600x1200 with EXIF orientation 6 (turned a quarter): upright it is portrait.
    assert picture["/Width"] < picture["/Height"]
    assert b"Exif" not in pdf and b"PhoneMaker" not in pdf


def test_manifest_hashes_match_the_originals_and_the_pdf(
    app: Flask, version: AppealVersion, pdf: bytes, archive: bytes
) -> None:
    manifest = manifest_of(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        names = set(bundle.namelist())
        assert names == {"bundle.pdf", "manifest.json"} | {f["path"] for f in manifest["files"]}
        assert all(f["path"].startswith("originals/") for f in manifest["files"])
        with app.app_context():
            from merchant_portal.database import db

            stored = {item.id: item for item in db().query(EvidenceItem)}
        exhibits = {e["label"]: e for e in version.content["exhibits"]}
        for entry in manifest["files"]:
            data = bundle.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["size"]
            original = stored[exhibits[entry["label"]]["evidence_id"]]
            assert entry["original_sha256"] == original.sha256
        assert (
            hashlib.sha256(bundle.read("bundle.pdf")).hexdigest()
            == (manifest["bundle_pdf"]["sha256"])
        )
    assert hashlib.sha256(pdf).hexdigest() == manifest["bundle_pdf"]["sha256"]
    assert manifest["signature"]["algorithm"] == "Ed25519"
    assert verify(io.BytesIO(archive), key_of(app)).intact


def rewrite(archive: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    """The ZIP again, with `change(name, data)` deciding each member (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info))
            if data is not None:
                target.writestr(info, data)
    return out.getvalue()


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_one_changed_byte_in_any_file_is_found(app: Flask, archive: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        names = bundle.namelist()
    for name in names:
        tampered = rewrite(
            archive, lambda n, d, name=name: flip(d, len(d) // 2) if n == name else d
        )
        result = verify(io.BytesIO(tampered), key_of(app))
        assert not result.intact, name
        if name == "manifest.json":
            assert result.signature in ("invalid", "missing") or result.problems
        else:
            assert result.changed == [name] and result.signature == "valid"
            assert not result.missing and not result.added


def test_a_dropped_or_an_added_file_is_found(app: Flask, archive: bytes) -> None:
    victim = next(f["path"] for f in manifest_of(archive)["files"])
    dropped = verify(io.BytesIO(rewrite(archive, lambda n, d: None if n == victim else d)),
                     key_of(app))  # fmt: skip
    assert dropped.missing == [victim] and not dropped.intact and not dropped.changed

    out = io.BytesIO(archive)
    with zipfile.ZipFile(out, "a") as bundle:
        bundle.writestr("originals/Z-9 planted.png", b"not evidence")
    added = verify(io.BytesIO(out.getvalue()), key_of(app))
    assert added.added == ["originals/Z-9 planted.png"] and not added.intact


def test_a_rewritten_manifest_breaks_the_signature(
    app: Flask, archive: bytes, tmp_path: Path
) -> None:
    def forge(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["files"][0]["caption"] = "changed afterwards"
        return json.dumps(manifest).encode()

    result = verify(io.BytesIO(rewrite(archive, forge)), key_of(app))
    assert result.signature == "invalid" and not result.intact
    another_portal = KeyFolder(tmp_path / "another portal")
    another_portal.signer()
    other_key = verify(io.BytesIO(archive), Trust(another_portal.public_keys()))
    assert other_key.signature == "unknown_key" and not other_key.intact


def test_a_flipped_byte_in_the_zip_file_itself_is_found(app: Flask, archive: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        info = bundle.getinfo("bundle.pdf")
    # Inside the stored PDF's data: the CRC no longer matches, the member reads as changed.
    at = info.header_offset + 30 + len(info.filename.encode()) + 1000
    result = verify(io.BytesIO(flip(archive, at)), key_of(app))
    assert result.changed == ["bundle.pdf"] and not result.intact
    garbage = verify(io.BytesIO(b"PK\x03\x04 not really"), key_of(app))
    assert garbage.problems == ["not_a_zip"] and not garbage.intact


def test_the_bundle_is_built_once_per_version_and_reused(
    app: Flask, world: World, version: AppealVersion, pdf: bytes
) -> None:
    again, body = download(app, world, version, "pdf", who="staff_a")
    assert body == pdf and again.headers["Digest"] == f"sha-256={hashlib.sha256(pdf).hexdigest()}"
    with app.app_context():
        from merchant_portal.database import db

        builds = db().query(BundleBuild).all()
        assert [(b.version_id, b.attempts, b.state.value) for b in builds] == [
            (version.id, 1, "ready")
        ]


def test_only_the_shop_and_the_assigned_reviewer_download(
    app: Flask, world: World, version: AppealVersion
) -> None:
    path = f"/api/v1/appeals/{version.appeal_id}/bundle.pdf"
    for who, status in (("owner_b", 404), ("reviewer", 404), ("admin", 403), ("platform", 403)):
        response = api(app, world, who, path)
        assert response.status_code == status, who
        assert response.mimetype == "application/problem+json"
    with app.app_context():
        from appeals.models import Appeal
        from merchant_portal.database import db

        db().get_one(Appeal, version.appeal_id).reviewer_id = world.users["reviewer"].id
        db().commit()
    response, body = download(app, world, version, "zip", who="reviewer")
    assert body[:2] == b"PK"
    assert api(app, world, "senior", path).status_code == 404


def test_the_api_answers_409_before_submission(app: Flask, world: World) -> None:
    response = api(app, world, "owner_a", f"/api/v1/appeals/{world.appeal_a.id}/bundle.zip")
    assert response.status_code == 409
    assert "not been submitted" in response.get_json()["detail"]


def test_redacted_images_leave_the_shop_redacted(app: Flask, world: World) -> None:
    from appeals import appeal, complaints, locker
    from appeals.models import EvidenceKind, MaliciousCategory
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store
    from tests.bundles import screenshot

    with app.app_context():
        owner = world.users["owner_a"]
        complaint = complaints.get_complaint(db(), owner, world.complaint_a.id)
        complaints.flag_complaint(db(), owner, complaint, MaliciousCategory.OTHER,
                                  "Buyer phone number must not leave the shop.")  # fmt: skip
        workdir = Path(app.config["DATA_DIR"]) / "quarantine"
        item = locker.receive_file(
            db(), owner, complaint, io.BytesIO(screenshot()), filename="phone.png",
            kind=EvidenceKind.CHAT_SCREENSHOT, caption="", store=blob_store(), workdir=workdir,
            policy=policies().locker,
        )  # fmt: skip
        locker.redact_item(db(), owner, item, [[0.0, 0.0, 0.5, 0.25]], store=blob_store(),
                           workdir=workdir)  # fmt: skip
        draft = appeal.start_appeal(db(), owner, complaint.id)
        appeal.update_draft(db(), owner, draft, category=MaliciousCategory.OTHER,
                            statement="The buyer's phone is covered in the screenshot.",
                            remedies=["void_complaint"], rows=[("x", "y", [item.id])])  # fmt: skip
        version = appeal.submit_appeal(
            db(), owner, draft, profile=policies().budget, review_policy=policies().review
        )
        db().commit()
        redacted_key, original = item.redacted_key, item.sha256
    _response, body = download(app, world, version, "zip")
    manifest = manifest_of(body)
    (entry,) = manifest["files"]
    assert entry["redacted"] and entry["sha256"] == redacted_key
    assert entry["original_sha256"] == original and "(redacted)" in entry["path"]
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        assert hashlib.sha256(bundle.read(entry["path"])).hexdigest() == redacted_key


def test_the_automatic_fit_downscales_to_the_platform_limit(app: Flask, world: World) -> None:
    from appeals.bundle import build
    from merchant_portal import jobs
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store

    with app.app_context():
        found = submitted_appeal(
            db(), world.users["owner_a"], world.complaint_a.id, blob_store(),
            Path(app.config["DATA_DIR"]) / "quarantine",
        )  # fmt: skip
        db().commit()
        settings = jobs.settings()
        roomy = build(db(), found, blob_store(), Path(app.config["DATA_DIR"]) / "roomy",
                      key=settings.key, profile=settings.profile, font=settings.font,
                      time_zone=settings.time_zone)  # fmt: skip
        from dataclasses import replace

        tight = replace(settings.profile, max_bytes=roomy.pdf.stat().st_size // 2)
        fitted = build(db(), found, blob_store(), Path(app.config["DATA_DIR"]) / "tight",
                       key=settings.key, profile=tight, font=settings.font,
                       time_zone=settings.time_zone)  # fmt: skip
    assert roomy.report["fit"] == []
    assert fitted.report["fit"], "the fit reports what it changed"
    step = fitted.report["fit"][-1]
    assert step["images"] >= 1 and step["after_bytes"] < step["before_bytes"]
    assert fitted.pdf.stat().st_size < roomy.pdf.stat().st_size
    assert fitted.pages == roomy.pages
    assert manifest_of(fitted.zip.read_bytes())["fit"] == fitted.report["fit"]


def merchant(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    log_in(client, world.users["owner_a"].email)
    return client


def test_the_appeal_page_builds_and_offers_the_downloads(
    app: Flask, world: World, version: AppealVersion
) -> None:
    client = merchant(app, world)
    page = client.get(f"/appeals/{version.appeal_id}").get_data(as_text=True)
    assert "Build the bundle" in page
    response = client.post(
        f"/appeals/{version.appeal_id}/bundle",
        data={"csrf_token": csrf_token(client, f"/appeals/{version.appeal_id}")},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#bundle")
    page = client.get(f"/appeals/{version.appeal_id}").get_data(as_text=True)
    assert "Download PDF" in page and "Download ZIP" in page
    status = client.get(f"/appeals/{version.appeal_id}/bundle").get_json()
    assert status["state"] == "ready" and status["percent"] == 100 and status["pages"] > 5
    pdf = client.get(status["pdf_url"])
    assert pdf.status_code == 200 and pdf.get_data()[:5] == b"%PDF-"
    assert pdf.headers["Cache-Control"] == "private, no-store"
    pdf.close()


def test_downloading_before_a_build_explains_and_does_not_fail(
    app: Flask, world: World, version: AppealVersion
) -> None:
    client = merchant(app, world)
    response = client.get(f"/appeals/{version.appeal_id}/bundle.zip")
    assert response.status_code == 409
    assert "No bundle has been built" in response.get_data(as_text=True)


def test_reviewers_verify_an_uploaded_bundle(app: Flask, world: World, archive: bytes) -> None:
    client = app.test_client()
    log_in(client, world.users["reviewer"].email)
    token = csrf_token(client, "/review/verify")

    def upload(data: bytes) -> str:
        response = client.post(
            "/review/verify",
            data={"csrf_token": token, "bundle": (io.BytesIO(data), "bundle.zip")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert 'data-intact="yes"' in upload(archive) and "Valid: signed by this portal" in upload(
        archive
    )
    victim = next(n for n in zipfile.ZipFile(io.BytesIO(archive)).namelist() if "originals/" in n)
    tampered = upload(rewrite(archive, lambda n, d: flip(d, 10) if n == victim else d))
    assert 'data-intact="no"' in tampered and victim.split("/")[1] in tampered
    assert "This is not a ZIP file." in upload(b"hello")
    missing = client.post("/review/verify", data={"csrf_token": token})
    assert missing.status_code == 422 and "Choose the bundle" in missing.get_data(as_text=True)


def test_withdraw_a_draft_keeps_the_reason_and_locks_it(app: Flask, world: World) -> None:
    client = merchant(app, world)
    url = f"/appeals/{world.appeal_a.id}/withdraw"
    assert "Withdraw appeal" in client.get(url).get_data(as_text=True)
    too_long = client.post(url, data={"csrf_token": csrf_token(client, url), "reason": "x" * 1001})
    assert too_long.status_code == 422 and "x" * 1001 in too_long.get_data(as_text=True)
    done = client.post(
        url, data={"csrf_token": csrf_token(client, url), "reason": "Settled with the buyer."}
    )
    assert done.status_code == 302
    page = client.get(f"/appeals/{world.appeal_a.id}").get_data(as_text=True)
    assert "Withdrawn" in page and "Settled with the buyer." in page
    assert "Withdraw this appeal" not in page
    again = client.get(url)
    assert again.status_code == 302
    with app.app_context():
        from appeals.models import Appeal, AuditEvent
        from merchant_portal.database import db

        assert db().get_one(Appeal, world.appeal_a.id).state.value == "withdrawn"
        assert db().query(AuditEvent).filter_by(action="appeal.withdraw").count() == 1


def test_large_photos_get_a_page_copy_at_upload_and_pass_straight_into_the_pdf(
    app: Flask, world: World
) -> None:
    from appeals import complaints, locker
    from appeals.models import EvidenceKind
    from merchant_portal.database import db
    from merchant_portal.locker import blob_store
    from tests.bundles import photo

    with app.app_context():
        owner = world.users["owner_a"]
        complaint = complaints.get_complaint(db(), owner, world.complaint_a.id)
        workdir = Path(app.config["DATA_DIR"]) / "q"

        def upload(data: bytes, name: str) -> EvidenceItem:
            return locker.receive_file(
                db(), owner, complaint, io.BytesIO(data), filename=name,
                kind=EvidenceKind.PRODUCT_PHOTO, caption="", store=blob_store(), workdir=workdir,
                policy=policies().locker,
            )  # fmt: skip

        big = upload(photo((4000, 3000), orientation=6), "big.jpg")
        opaque = Image.new("RGBA", (300, 600), (10, 20, 30, 255))
        buffer = io.BytesIO()
        opaque.save(buffer, "PNG")
        screenshot = upload(buffer.getvalue(), "screen.png")
        assert big.page_key and (big.width, big.height) == (3000, 4000)
        with blob_store().open(big.page_key) as handle, Image.open(handle) as page:
            assert page.format == "JPEG" and page.size == (1500, 2000)  # upright, 2000 px
            assert not page.getexif()
        # A screenshot saved with an alpha channel that hides nothing is kept as plain RGB,
        # and small opaque images need no copy: they go into the PDF as they are.
        assert screenshot.page_key is None
        with blob_store().open(screenshot.normalized_key) as handle, Image.open(handle) as copy:
            assert copy.mode == "RGB"
        assert big.page_key in big.blob_keys()


def test_the_verify_page_takes_bundles_larger_than_the_usual_request_cap(
    app: Flask, world: World, archive: bytes
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = len(archive) // 4  # the usual cap, made small
    client = app.test_client()
    log_in(client, world.users["reviewer"].email)
    token = csrf_token(client, "/review/verify")
    response = client.post(
        "/review/verify",
        data={"csrf_token": token, "bundle": (io.BytesIO(archive), "bundle.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and 'data-intact="yes"' in response.get_data(as_text=True)
    other = client.post("/account/preferences", data={"csrf_token": token, "x": "y" * len(archive)})
    assert other.status_code == 413  # everywhere else the usual cap holds
