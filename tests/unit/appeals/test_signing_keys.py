"""The platform's signing keys: a key folder, rotation, and checking bundles with the public key."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from reportlab.pdfgen import canvas

from appeals.bundle import verify_offline
from appeals.bundle.keys import KeyFolder, SigningKeyError
from appeals.bundle.verification import Trust, hmac_seal, legacy_signing_key, verify
from appeals.clock import utcnow

ROOT = Path(__file__).resolve().parents[3]
OFFLINE = ROOT / "appeals" / "bundle" / "verify_offline.py"


def bundle(path: Path, folder: KeyFolder, change: Any = None) -> Path:
    """A small bundle ZIP as the portal writes it: a PDF, one file, a signed manifest."""
    pdf, photo = b"%PDF-1.7 a bundle", b"a photo"
    files = [{"label": "A-1", "kind": "product_photo", "sha256": hashlib.sha256(photo).hexdigest(),
              "path": "originals/A-1.jpg"}]  # fmt: skip
    manifest: dict[str, Any] = {
        "format": "appeal-desk-bundle/3", "appeal": "AP-2026-000001", "version": 1,
        "files_sha256": verify_offline.files_digest(files), "files": files,
        "bundle_pdf": {"path": "bundle.pdf", "sha256": hashlib.sha256(pdf).hexdigest()},
    }  # fmt: skip
    if change:
        change(manifest)
    if "signature" not in manifest:
        manifest["signature"] = folder.signer().seal(manifest)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bundle.pdf", pdf)
        archive.writestr("originals/A-1.jpg", photo)
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return path


def published_file(folder: KeyFolder, path: Path) -> Path:
    path.write_text(json.dumps(folder.published()))
    return path


def test_the_first_key_is_made_at_first_use_in_files_only_the_owner_reads(tmp_path: Path) -> None:
    folder = KeyFolder(tmp_path / "keys")
    assert folder.keys() == [] and not (tmp_path / "keys").exists()
    key = folder.signer()
    files = list((tmp_path / "keys").glob("*.pem"))
    assert [f.name for f in files] == [f"{key.key_id}.pem"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    raw = key.manifest_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16]
    again = KeyFolder(tmp_path / "keys")  # another process, the same key
    assert again.signer().key_id == key.key_id and len(again.keys()) == 1
    assert key.signer_name == f"Appeal Desk bundle signing {key.key_id}"


def test_after_a_rotation_the_new_key_signs_and_every_key_stays_published(
    tmp_path: Path,
) -> None:
    folder = KeyFolder(tmp_path / "keys")
    old = folder.signer()
    new = folder.rotate()
    assert new.key_id != old.key_id and folder.signer().key_id == new.key_id
    published = folder.published()
    assert published["active_key_id"] == new.key_id
    assert [(k["key_id"], k["active"]) for k in published["keys"]] == [
        (new.key_id, True), (old.key_id, False)
    ]  # fmt: skip
    assert all(k["algorithm"] == "Ed25519" for k in published["keys"])
    assert "PRIVATE" not in json.dumps(published)
    keys = published_file(folder, tmp_path / "keys.json")
    signed_before = bundle(tmp_path / "old.zip", KeyFolder(tmp_path / "keys", old.key_id))
    result = verify_offline.verify(
        signed_before,
        verify_offline.ed25519_check(verify_offline.load_public_keys(keys.read_bytes())),
    )
    assert result.intact and result.key_id == old.key_id
    chosen = KeyFolder(tmp_path / "keys", chosen=old.key_id)
    assert chosen.signer().key_id == old.key_id
    with pytest.raises(SigningKeyError):
        KeyFolder(tmp_path / "keys", chosen="0" * 16).signer()


def test_a_changed_manifest_or_another_platforms_key_does_not_verify(tmp_path: Path) -> None:
    folder, other = KeyFolder(tmp_path / "keys"), KeyFolder(tmp_path / "other")
    signed = bundle(tmp_path / "good.zip", folder)
    trust = Trust(folder.public_keys())
    good = verify(signed, trust)
    assert good.intact and (good.signature, good.algorithm) == ("valid", "Ed25519")

    def forge(manifest: dict[str, Any]) -> None:
        manifest["signature"] = folder.signer().seal(manifest)
        manifest["version"] = 2

    forged = verify(bundle(tmp_path / "forged.zip", folder, forge), trust)
    assert forged.signature == "invalid" and "manifest.json" in forged.changed
    foreign = verify(bundle(tmp_path / "foreign.zip", other), trust)
    assert foreign.signature == "unknown_key" and not foreign.intact


def test_old_hmac_bundles_verify_with_the_portals_secret_only(tmp_path: Path) -> None:
    folder, secret = KeyFolder(tmp_path / "keys"), legacy_signing_key("the portal's secret")

    def old_format(manifest: dict[str, Any]) -> None:
        manifest["format"] = "appeal-desk-bundle/2"
        manifest["signature"] = hmac_seal(manifest, secret)

    old = bundle(tmp_path / "old.zip", folder, old_format)
    portal = verify(old, Trust(folder.public_keys(), secret))
    assert portal.intact and portal.algorithm == "HMAC-SHA256"
    assert verify(old, Trust(folder.public_keys())).signature == "unknown_key"

    def downgraded(manifest: dict[str, Any]) -> None:  # an HMAC seal on a /3 manifest
        manifest["signature"] = hmac_seal(manifest, secret)

    new_with_hmac = verify(bundle(tmp_path / "new.zip", folder, downgraded), Trust({}, secret))
    assert new_with_hmac.signature == "invalid" and not new_with_hmac.intact


def test_public_keys_load_from_the_published_json_or_a_pem_file(tmp_path: Path) -> None:
    folder = KeyFolder(tmp_path / "keys")
    key = folder.signer()
    published = folder.published()
    assert list(verify_offline.load_public_keys(json.dumps(published).encode())) == [key.key_id]
    pem = published["keys"][0]["public_key_pem"].encode()
    assert list(verify_offline.load_public_keys(pem)) == [key.key_id]
    published["keys"][0]["key_id"] = "f" * 16  # a listed id is not believed, it is recomputed
    assert list(verify_offline.load_public_keys(json.dumps(published).encode())) == [key.key_id]
    cert = published["keys"][0]["pdf_certificate_pem"].encode()
    for garbage in (b"{}", b"not a key", cert):
        with pytest.raises(verify_offline.KeysUnreadable):
            verify_offline.load_public_keys(garbage)


CHECK_IMPORTS = """
import runpy, sys
sys.argv = ["verify_offline.py", *sys.argv[1:]]
try:
    runpy.run_path({path!r}, run_name="__main__")
except SystemExit as done:
    code = done.code
roots = {{name.split(".")[0] for name in sys.modules}}
# cryptography and its OpenSSL binding; __main__; setuptools' hook, loaded by site itself.
allowed = {{"cryptography", "_cffi_backend", "_openssl", "__main__", "_distutils_hack"}}
print("IMPORTED", sorted(roots - sys.stdlib_module_names - allowed))
sys.exit(code)
"""


def test_the_standalone_verifier_needs_only_the_standard_library_and_cryptography(
    tmp_path: Path,
) -> None:
    folder = KeyFolder(tmp_path / "keys")
    archive = bundle(tmp_path / "bundle.zip", folder)
    keys = published_file(folder, tmp_path / "keys.json")
    script = CHECK_IMPORTS.format(path=str(OFFLINE))
    run = subprocess.run(
        [sys.executable, "-I", "-c", script, str(archive), str(keys)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "INTACT: every file matches" in run.stdout
    assert "IMPORTED []" in run.stdout
    with zipfile.ZipFile(archive, "a") as changed:
        changed.writestr("originals/Z-9 planted.png", b"x")
    broken = subprocess.run(
        [sys.executable, str(OFFLINE), str(archive), str(keys)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert broken.returncode == 1 and "added: originals/Z-9 planted.png" in broken.stdout
    unreadable = subprocess.run(
        [sys.executable, str(OFFLINE), str(archive), str(archive)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert unreadable.returncode == 2 and "cannot read the public keys" in unreadable.stderr


def test_a_signed_pdf_shows_valid_in_pdfsig_and_names_the_signer(tmp_path: Path) -> None:
    key = KeyFolder(tmp_path / "keys").signer()
    pdf = tmp_path / "bundle.pdf"
    page = canvas.Canvas(str(pdf))
    page.drawString(100, 700, "Exhibit A-1")
    page.save()
    key.sign_pdf(pdf, utcnow())
    shown = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in shown.stdout, shown.stdout + shown.stderr
    assert f"Appeal Desk bundle signing {key.key_id}" in shown.stdout
    assert "Total document signed" in shown.stdout
