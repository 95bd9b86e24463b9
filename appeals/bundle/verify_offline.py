"""Check an Appeal Desk bundle offline, with the platform's published public key alone.

    python verify_offline.py BUNDLE.zip KEYS.json      (or a public key's PEM file)

KEYS.json is what the portal publishes at /api/v1/signing-keys. This file needs Python 3.11
and the `cryptography` package and nothing else of the portal: a court or a buyer may copy
it out and run it alone. Exit status 0: intact; 1: not intact; 2: the keys could not be read.

The portal's own verify-bundle uses the same checks (appeals.bundle.verification).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MANIFEST = "manifest.json"
PDF_NAME = "bundle.pdf"
ED25519 = "Ed25519"
MAX_MEMBERS = 10_000
MAX_MANIFEST_BYTES = 5_000_000
MAX_READ_BYTES = 8 * 1024**3
CHUNK = 1024 * 1024

PublicKeys = Mapping[str, Ed25519PublicKey]
# A check of the manifest's signature block: (status, algorithm checked, key id).
SealCheck = Callable[[dict[str, Any]], tuple[str, str | None, str | None]]


class KeysUnreadable(ValueError):
    """The key file is neither the portal's published JSON nor a public key's PEM."""


def canonical(data: Any) -> bytes:
    """The bytes a manifest's signature covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def unsigned(manifest: Mapping[str, Any]) -> bytes:
    """The manifest without its signature block, in canonical form."""
    return canonical({name: value for name, value in manifest.items() if name != "signature"})


def key_id_of(public: Ed25519PublicKey) -> str:
    """A public key's id: the first 16 hex digits of the SHA-256 of its 32 raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def files_digest(files: list[dict[str, Any]]) -> str:
    """The exhibit manifest's own digest, printed on the cover.

    Over each file's label, kind and the hash of the shop's copy it was made from (the
    redacted copy, else the original), so that it is known before metadata is taken out
    while the PDF is written; the shipped copies' hashes are sealed by the signature. For
    every bundle of format /1 this is the same value as before.
    """
    rows = [[f["label"], f["kind"], _source_sha256(f)] for f in files]
    return hashlib.sha256(canonical(rows)).hexdigest()


def _source_sha256(entry: dict[str, Any]) -> Any:
    if entry.get("redacted") or not isinstance(entry.get("original_sha256"), str):
        return entry["sha256"]
    return entry["original_sha256"]


def load_public_keys(data: bytes) -> dict[str, Ed25519PublicKey]:
    """Public keys by id, from the portal's published JSON or from one PEM public key."""
    text = data.decode("utf-8", "replace").strip()
    if text.startswith("-----BEGIN"):
        try:
            public = serialization.load_pem_public_key(data)
        except ValueError:
            raise KeysUnreadable("not a PEM public key") from None
        if not isinstance(public, Ed25519PublicKey):
            raise KeysUnreadable("not an Ed25519 public key")
        return {key_id_of(public): public}
    try:
        listed = json.loads(text)["keys"]
        found = [_published_key(entry) for entry in listed]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise KeysUnreadable("neither the published keys' JSON nor a PEM public key") from None
    # The id is recomputed from the key: a listed id that does not match is not trusted.
    return {key_id_of(public): public for public in found}


def _published_key(entry: dict[str, Any]) -> Ed25519PublicKey:
    if entry["algorithm"] != ED25519:
        raise ValueError(entry["algorithm"])
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["public_key"], validate=True))


def ed25519_check(keys: PublicKeys) -> SealCheck:
    """A check of Ed25519 signature blocks against these public keys."""

    def check(manifest: dict[str, Any]) -> tuple[str, str | None, str | None]:
        signature = manifest.get("signature")
        if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
            return "missing", None, None
        said, algorithm = signature.get("key_id"), signature.get("algorithm")
        if not isinstance(said, str) or algorithm != ED25519 or said not in keys:
            return "unknown_key", _text(algorithm), _text(said)
        try:
            keys[said].verify(
                base64.b64decode(signature["value"], validate=True), unsigned(manifest)
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return "invalid", ED25519, said
        return "valid", ED25519, said

    return check


def _text(value: Any) -> str | None:
    return value[:100] if isinstance(value, str) else None


@dataclass
class Verification:
    """What verify-bundle found: intact, or exactly what changed and whether the seal holds."""

    signature: str  # "valid", "invalid", "unknown_key" or "missing"
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    algorithm: str | None = None  # the kind of signature checked: "Ed25519" or "HMAC-SHA256"
    key_id: str | None = None

    @property
    def intact(self) -> bool:
        return self.signature == "valid" and not (
            self.changed or self.missing or self.added or self.problems
        )

    def to_json(self) -> dict[str, Any]:
        manifest = self.manifest or {}
        return {
            "intact": self.intact,
            "signature": self.signature,
            "algorithm": self.algorithm,
            "key_id": self.key_id,
            "changed": self.changed,
            "missing": self.missing,
            "added": self.added,
            "problems": self.problems,
            "appeal": manifest.get("appeal"),
            "version": manifest.get("version"),
            "metadata": self.metadata(),
        }

    def metadata(self) -> list[dict[str, Any]]:
        """What the manifest says was taken out of each file, or that the merchant kept it."""
        found = []
        for entry in (self.manifest or {}).get("files", []):
            said = entry.get("metadata") if isinstance(entry, dict) else None
            if isinstance(said, dict) and isinstance(entry.get("path"), str):
                removed = said.get("removed")
                found.append({
                    "path": entry["path"],
                    "removed": [str(name) for name in removed] if isinstance(removed, list) else [],
                    "kept_by_merchant": said.get("kept_by_merchant") is True,
                })  # fmt: skip
        return found


def verify(archive: Path | IO[bytes], check: SealCheck) -> Verification:
    """Check a bundle ZIP against its manifest and the manifest with `check`."""
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        return Verification("missing", problems=["not_a_zip"])
    with bundle:
        members = bundle.infolist()
        if len(members) > MAX_MEMBERS:
            return Verification("missing", problems=["too_many_files"])
        manifest = _read_manifest(bundle)
        if manifest is None:
            return Verification("missing", problems=["manifest_unreadable"])
        status, algorithm, key_id = check(manifest)
        result = Verification(status, manifest=manifest, algorithm=algorithm, key_id=key_id)
        if result.signature == "invalid":
            result.changed.append(MANIFEST)
        _check_members(bundle, members, _expected_hashes(manifest, result), result)
        if manifest.get("files_sha256") != files_digest(
            [f for f in manifest.get("files", []) if isinstance(f, dict) and _has_fields(f)]
        ):
            result.problems.append("manifest_inconsistent")
        return result


def _check_members(
    bundle: zipfile.ZipFile,
    members: list[zipfile.ZipInfo],
    expected: dict[str, str],
    result: Verification,
) -> None:
    seen: set[str] = set()
    budget = MAX_READ_BYTES
    for member in members:
        name = member.filename
        if name == MANIFEST and name not in seen:
            seen.add(name)
            continue
        if member.is_dir():
            continue
        if name not in expected or name in seen:
            result.added.append(name)
            continue
        seen.add(name)
        digest, budget = _member_sha256(bundle, member, budget)
        if digest != expected[name]:
            result.changed.append(name)
    result.missing.extend(name for name in expected if name not in seen)


def _read_manifest(bundle: zipfile.ZipFile) -> dict[str, Any] | None:
    try:
        info = bundle.getinfo(MANIFEST)
        if info.file_size > MAX_MANIFEST_BYTES:
            return None
        with bundle.open(info) as handle:
            data = json.loads(handle.read(MAX_MANIFEST_BYTES + 1))
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        return None
    return data if isinstance(data, dict) else None


def _has_fields(entry: dict[str, Any]) -> bool:
    return all(isinstance(entry.get(name), str) for name in ("label", "kind", "sha256", "path"))


def _expected_hashes(manifest: dict[str, Any], result: Verification) -> dict[str, str]:
    expected: dict[str, str] = {}
    pdf = manifest.get("bundle_pdf")
    if isinstance(pdf, dict) and isinstance(pdf.get("sha256"), str):
        expected[PDF_NAME] = pdf["sha256"]
    else:
        result.problems.append("manifest_without_pdf")
    for entry in manifest.get("files", []):
        if isinstance(entry, dict) and _has_fields(entry):
            expected[entry["path"]] = entry["sha256"]
        else:
            result.problems.append("manifest_entry_unreadable")
    return expected


def _member_sha256(
    bundle: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int
) -> tuple[str, int]:
    """The member's SHA-256, reading at most `budget` bytes in all; a marker on damage."""
    digest = hashlib.sha256()
    try:
        with bundle.open(member) as handle:
            while chunk := handle.read(CHUNK):
                budget -= len(chunk)
                if budget < 0:
                    return "too_large", budget
                digest.update(chunk)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
        return "unreadable", budget
    return digest.hexdigest(), budget


def report(result: Verification) -> list[str]:
    """The lines verify-bundle prints for a result, the last one saying INTACT or NOT INTACT."""
    manifest = result.manifest or {}
    lines = []
    if manifest:
        lines.append(f"Appeal {manifest.get('appeal')} version {manifest.get('version')}")
    lines.append(f"signature: {result.signature}")
    if result.algorithm:
        lines.append(f"signed with: {result.algorithm} key {result.key_id}")
    for title, names in (("changed", result.changed), ("missing", result.missing),
                         ("added", result.added), ("problem", result.problems)):  # fmt: skip
        lines.extend(f"{title}: {name}" for name in names)
    for said in result.metadata():
        removed = "removed " + ", ".join(said["removed"]) if said["removed"] else "none to remove"
        what = "kept by the merchant" if said["kept_by_merchant"] else removed
        lines.append(f"metadata: {said['path']}: {what}")
    if result.intact:
        lines.append("INTACT: every file matches the manifest and the signature holds.")
    else:
        lines.append("NOT INTACT")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line: verify_offline.py BUNDLE.zip KEYS; the exit status says the verdict."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        keys = load_public_keys(Path(args[1]).read_bytes())
    except (OSError, KeysUnreadable) as error:
        print(f"cannot read the public keys in {args[1]}: {error}", file=sys.stderr)
        return 2
    result = verify(Path(args[0]), ed25519_check(keys))
    print("\n".join(report(result)))
    return 0 if result.intact else 1


if __name__ == "__main__":
    sys.exit(main())
