"""Hostile PDFs: refused at intake by both doors with their own code, and a cited exhibit that
still fails at build time becomes a placeholder page instead of sinking the bundle."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
import zlib
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from appeals.models import AppealVersion, EvidenceItem, Notification
from merchant_portal.database import db
from tests.conftest import World, csrf_token, log_in
from tests.factories import pdf_bytes, png_bytes


def _pdf(content_dict: bytes, content: bytes, resources: bytes = b"<< >>", *extra: bytes) -> bytes:
    """A one-page PDF written by hand, so that its streams say what the test wants."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources "
        + resources
        + b" >>",
        content_dict + b"\nstream\n" + content + b"\nendstream",
        *extra,
    ]
    body, offsets = b"%PDF-1.7\n", []
    for number, data in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + data + b"\nendobj\n"
    xref, size = len(body), len(objects) + 1
    body += b"xref\n0 %d\n0000000000 65535 f \n" % size
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return body + b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)


def flate_bomb(megabytes: int = 400) -> bytes:
    """A page whose content stream is a few hundred kB and inflates to `megabytes` MB."""
    packer = zlib.compressobj(9)
    spaces = b" " * 2**20
    data = packer.compress(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n")
    data += b"".join(packer.compress(spaces) for _ in range(megabytes)) + packer.flush()
    return _pdf(b"<< /Length %d /Filter /FlateDecode >>" % len(data), data)


def absurd_length() -> bytes:
    return _pdf(b"<< /Length 1000000000000 >>", b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET")


def huge_image(side: int = 60_000) -> bytes:
    """A page drawing a 60000 x 60000 image whose stream is a few bytes."""
    data = zlib.compress(b"")
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 1 /Filter /FlateDecode /Length %d >>\nstream\n"
        % (side, side, len(data))
        + data
        + b"\nendstream"
    )
    drawing = b"q 500 0 0 500 50 200 cm /Im0 Do Q"
    return _pdf(
        b"<< /Length %d >>" % len(drawing), drawing, b"<< /XObject << /Im0 5 0 R >> >>", image
    )


HOSTILE = {
    "flate bomb": (flate_bomb, "pdf_too_complex", "unpacks to more than 100 MB"),
    "absurd stream length": (absurd_length, "pdf_stream_too_large", "longer than the whole file"),
    "huge image": (huge_image, "too_many_pixels", "An image in the PDF is 3600 megapixels"),
}


@pytest.fixture(scope="module")
def hostile() -> dict[str, bytes]:
    return {name: make() for name, (make, _code, _says) in HOSTILE.items()}


def merchant(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    return client


def items(app: Flask) -> int:
    with app.app_context():
        return (db().scalar(select(func.count()).select_from(EvidenceItem)) or 0) - 1


def stored_files(app: Flask, world: World) -> list[Path]:
    root = Path(app.config["DATA_DIR"]) / "blobs"
    return [p for p in root.rglob("*") if p.is_file() and p.name != world.evidence_a.blob_key]


def by_form(app: Flask, world: World, data: bytes, name: str) -> tuple[int, dict[str, str]]:
    client = merchant(app)
    url = f"/complaints/{world.complaint_a.id}/evidence"
    response = client.post(
        url, content_type="multipart/form-data", headers={"Accept": "application/json"},
        data={"files": [(io.BytesIO(data), name)], "kind": "shipping_receipt", "caption": "",
              "csrf_token": csrf_token(client, url)},
    )  # fmt: skip
    return response.status_code, response.get_json()[0]


def by_api(app: Flask, world: World, data: bytes, name: str) -> tuple[int, dict[str, str]]:
    response = app.test_client().post(
        f"/api/v1/complaints/{world.complaint_a.id}/evidence",
        headers={"Authorization": f"Bearer {world.tokens['owner_a'][1]}"},
        data={"file": (io.BytesIO(data), name), "kind": "shipping_receipt"},
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_json()


@pytest.mark.parametrize("door", [by_form, by_api], ids=["form", "api"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_pdfs_are_refused_with_their_own_code_and_leave_nothing(
    app: Flask, world: World, hostile: dict[str, bytes], name: str, door
) -> None:  # type: ignore[no-untyped-def]
    _make, code, says = HOSTILE[name]
    status, answer = door(app, world, hostile[name], "receipt.pdf")
    assert status == 422
    assert answer["code"] == code and says in (answer.get("message") or answer.get("detail"))
    assert items(app) == 0 and stored_files(app, world) == []
    quarantine = Path(app.config["DATA_DIR"]) / "quarantine"
    assert not quarantine.exists() or list(quarantine.iterdir()) == []
    # The server goes on serving, and an honest PDF still goes in.
    assert door(app, world, pdf_bytes(3), "honest.pdf")[0] in (200, 201)
    assert items(app) == 1


def test_the_api_gives_every_refusal_the_forms_code(app: Flask, world: World) -> None:
    answers = [door(app, world, b"MZ\x90\x00" + bytes(2000), "x.png") for door in (by_form, by_api)]
    assert [(status, answer["code"]) for status, answer in answers] == [
        (422, "unsupported_type"),
        (422, "unsupported_type"),
    ]
    assert answers[1][1]["type"].endswith("/unsupported_type")


def test_a_full_width_traversal_name_downloads_as_one_plain_file_name(
    app: Flask, world: World
) -> None:
    status, answer = by_form(app, world, png_bytes(), "．．／．．／etc／passwd.png")
    assert status == 200 and answer["accepted"] is True
    with app.app_context():
        item = db().scalar(select(EvidenceItem).order_by(EvidenceItem.id.desc()).limit(1))
        assert item is not None
    response = merchant(app).get(f"/evidence/{item.id}/original")
    response.close()
    disposition = response.headers["Content-Disposition"]
    names = [part.split("=", 1)[1].strip('"') for part in disposition.split("; ")[1:]]
    names = [unquote(name.removeprefix("UTF-8''")) for name in names]
    assert names and all("/" not in n and "\\" not in n and ".." not in n for n in names), names
    assert all("／" not in n and "．．" not in n for n in names), names
    assert names[0] == "etc_passwd.png"


def test_a_cited_exhibit_whose_file_is_gone_gets_a_placeholder_page(
    app: Flask, world: World, version: AppealVersion, tmp_path: Path
) -> None:
    with app.app_context():
        receipt = db().scalar(
            select(EvidenceItem).where(EvidenceItem.display_name == "receipt.pdf")
        )
        assert receipt is not None
        label = next(e["label"] for e in version.content["exhibits"]
                     if e["evidence_id"] == receipt.id)  # fmt: skip
        blob = next((Path(app.config["DATA_DIR"]) / "blobs").rglob(receipt.blob_key))
    blob.unlink()  # the stored file can no longer be read

    api = app.test_client()
    bearer = {"Authorization": f"Bearer {world.tokens['owner_a'][1]}"}
    response = api.get(f"/api/v1/appeals/{version.appeal_id}/bundle.pdf", headers=bearer)
    body = response.get_data()
    response.close()
    assert response.status_code == 200, body[:300]
    (tmp_path / "bundle.pdf").write_bytes(body)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "bundle.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "This exhibit could not be included in the bundle" in text
    assert "此证据无法放入证据包" in text
    assert "receipt.pdf" in text and f"· {label} ·" in text

    response = api.get(f"/api/v1/appeals/{version.appeal_id}/bundle.zip", headers=bearer)
    archive = response.get_data()
    response.close()
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        entry = next(f for f in manifest["files"] if f["label"] == label)
        assert entry["unavailable"] is True and entry["path"].endswith("(unavailable).txt")
        assert "could not be included" in bundle.read(entry["path"]).decode()
    with app.app_context():
        told = db().scalars(select(Notification).where(Notification.kind == "bundle_incomplete"))
        assert {n.params["labels"] for n in told} == {label}
    # The merchant reads it in words: on the appeal page and in the notification.
    merchant = app.test_client()
    log_in(merchant, world.users["owner_a"].email)
    page = merchant.get(f"/appeals/{version.appeal_id}").get_data(as_text=True)
    assert 'data-testid="bundle-incomplete"' in page and label in page
    bell = merchant.get("/notifications").get_data(as_text=True)
    assert "could not be included in its bundle" in bell
