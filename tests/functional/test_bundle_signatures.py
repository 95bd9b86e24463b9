"""Bundles anyone can check: the published keys, verify-bundle with the public key alone, and
a PDF whose PAdES signature a standard reader (poppler's pdfsig) shows intact, by its signer."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from appeals.bundle import Trust, verify
from appeals.models import AppealVersion
from merchant_portal import create_app
from merchant_portal.context import context
from tests.conftest import World, make_config


def download(app: Flask, world: World, version: AppealVersion, kind: str) -> bytes:
    token = world.tokens["owner_a"][1]
    response = app.test_client().get(
        f"/api/v1/appeals/{version.appeal_id}/bundle.{kind}",
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.get_data()
    response.close()
    assert response.status_code == 200, body[:300]
    return body


@pytest.fixture
def archive(app: Flask, world: World, version: AppealVersion, tmp_path: Path) -> Path:
    path = tmp_path / "bundle.zip"
    path.write_bytes(download(app, world, version, "zip"))
    return path


@pytest.fixture
def published(app: Flask, tmp_path: Path) -> Path:
    """The keys as anyone downloads them, without signing in."""
    response = app.test_client().get("/api/v1/signing-keys")
    assert response.status_code == 200 and response.mimetype == "application/json"
    path = tmp_path / "signing-keys.json"
    path.write_bytes(response.get_data())
    return path


def manifest_of(archive: Path) -> dict:  # type: ignore[type-arg]
    with zipfile.ZipFile(archive) as bundle:
        return json.loads(bundle.read("manifest.json"))  # type: ignore[no-any-return]


def pdfsig(pdf: bytes, folder: Path) -> str:
    path = folder / "to-check.pdf"
    path.write_bytes(pdf)
    shown = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return shown.stdout + shown.stderr


def test_the_manifest_is_signed_with_the_published_key(
    app: Flask, archive: Path, published: Path
) -> None:
    keys = json.loads(published.read_text())
    manifest = manifest_of(archive)
    signature = manifest["signature"]
    assert manifest["format"] == "appeal-desk-bundle/3"
    assert signature["algorithm"] == "Ed25519"
    assert signature["key_id"] == keys["active_key_id"]
    [listed] = [k for k in keys["keys"] if k["key_id"] == signature["key_id"]]
    assert listed["active"] and listed["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in published.read_text()
    with app.app_context():
        result = verify(archive, context().bundle_trust())
    assert result.intact and (result.algorithm, result.key_id) == ("Ed25519", listed["key_id"])


def test_the_pdf_carries_a_signature_pdf_readers_show_valid_and_one_changed_byte_breaks_it(
    app: Flask, world: World, version: AppealVersion, archive: Path, tmp_path: Path
) -> None:
    pdf = download(app, world, version, "pdf")
    manifest = manifest_of(archive)
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.read("bundle.pdf") == pdf
    assert hashlib.sha256(pdf).hexdigest() == manifest["bundle_pdf"]["sha256"]  # the signed one
    shown = pdfsig(pdf, tmp_path)
    assert "Signature is Valid" in shown, shown
    assert f"Appeal Desk bundle signing {manifest['signature']['key_id']}" in shown
    assert "Total document signed" in shown
    inside = pdf.index(b"stream", len(pdf) // 3) + 200  # inside an exhibit's page content
    flipped = pdf[:inside] + bytes([pdf[inside] ^ 0x01]) + pdf[inside + 1 :]
    broken = pdfsig(flipped, tmp_path)
    assert "Signature is Valid" not in broken and "Digest Mismatch" in broken, broken


def offline_app(tmp_path: Path) -> Flask:
    """Another machine's portal: its own empty data folder, secret and database, no keys."""
    folder = tmp_path / "elsewhere"
    config = make_config(folder, SECRET_KEY="not the portal's", READ_EVIDENCE=False)
    config["DATABASE_URL"] = f"sqlite:///{folder / 'never-created.db'}"
    return create_app(config)


def test_verify_bundle_with_the_public_key_alone(
    archive: Path, published: Path, tmp_path: Path
) -> None:
    elsewhere = offline_app(tmp_path)
    runner = elsewhere.test_cli_runner()
    pem = tmp_path / "key.pem"
    pem.write_text(json.loads(published.read_text())["keys"][0]["public_key_pem"])
    for key_file in (published, pem):
        good = runner.invoke(args=["verify-bundle", str(archive), "--public-key", str(key_file)])
        assert good.exit_code == 0, good.output
        assert "signature: valid" in good.output and "signed with: Ed25519 key" in good.output
        assert good.output.rstrip().endswith("INTACT: every file matches the manifest and the "
                                             "signature holds.")  # fmt: skip
    assert not (tmp_path / "elsewhere" / "never-created.db").exists()
    assert not (tmp_path / "elsewhere" / "keys").exists()

    # Without the key, that portal cannot vouch for the bundle: its own keys are others.
    unknown = runner.invoke(args=["verify-bundle", str(archive)])
    assert unknown.exit_code == 1 and "signature: unknown_key" in unknown.output

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data + b"!" if info.filename == "bundle.pdf" else data)
    bad = runner.invoke(args=["verify-bundle", str(tampered), "--public-key", str(published)])
    assert bad.exit_code == 1 and "changed: bundle.pdf" in bad.output and "NOT INTACT" in bad.output
    junk = runner.invoke(args=["verify-bundle", str(archive), "--public-key", str(archive)])
    assert junk.exit_code == 1 and "Error:" in junk.output


def test_after_rotation_new_bundles_use_the_new_key_and_old_ones_still_verify(
    app: Flask, archive: Path, tmp_path: Path
) -> None:
    old_key = manifest_of(archive)["signature"]["key_id"]
    rotated = app.test_cli_runner().invoke(args=["rotate-signing-key"])
    assert rotated.exit_code == 0, rotated.output
    new_key = rotated.output.strip().splitlines()[-1]
    assert len(new_key) == 16 and new_key != old_key
    keys = app.test_client().get("/api/v1/signing-keys").get_json()
    assert keys["active_key_id"] == new_key
    assert {k["key_id"]: k["active"] for k in keys["keys"]} == {new_key: True, old_key: False}
    with app.app_context():
        assert context().signing_key.key_id == new_key
        assert verify(archive, context().bundle_trust()).intact
    published = tmp_path / "after-rotation.json"
    published.write_text(json.dumps(keys))
    still = app.test_cli_runner().invoke(
        args=["verify-bundle", str(archive), "--public-key", str(published)]
    )
    assert still.exit_code == 0 and f"Ed25519 key {old_key}" in still.output


def test_a_bundle_sealed_with_the_old_hmac_verifies_at_the_portal_and_says_so(
    app: Flask, archive: Path, tmp_path: Path
) -> None:
    from appeals.bundle.verification import hmac_seal

    with app.app_context():
        secret = context().legacy_signing_key
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(old, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["format"] = "appeal-desk-bundle/2"
                manifest["signature"] = hmac_seal(manifest, secret)
                data = json.dumps(manifest).encode()
            target.writestr(info, data)
    checked = app.test_cli_runner().invoke(args=["verify-bundle", str(old)])
    assert checked.exit_code == 0, checked.output
    assert "signed with: HMAC-SHA256 key" in checked.output
    assert verify(io.BytesIO(old.read_bytes()), Trust({})).signature == "unknown_key"


def test_the_signing_keys_are_in_the_openapi_document(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/signing-keys"]["get"]
    assert "200" in operation["responses"] and not operation.get("security")
