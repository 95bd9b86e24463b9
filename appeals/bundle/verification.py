"""Checking a bundle ZIP: every member against the manifest, the manifest against its seal.

Formats /1 and /2 are checked alike: each member against its entry's sha256 (the copy
shipped), and the cover's files digest against the entries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from appeals.bundle.archive import MANIFEST, PDF_NAME, files_digest, key_id, sign
from evidence.storage import CHUNK

MAX_MEMBERS = 10_000
MAX_MANIFEST_BYTES = 5_000_000
MAX_READ_BYTES = 8 * 1024**3


@dataclass
class Verification:
    """What verify-bundle found: intact, or exactly what changed and whether the seal holds."""

    signature: str  # "valid", "invalid", "unknown_key" or "missing"
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

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


def verify(archive: Path | IO[bytes], key: bytes) -> Verification:
    """Check a bundle ZIP against its manifest and the manifest against its signature."""
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
        result = Verification(_check_signature(manifest, key), manifest=manifest)
        if result.signature == "invalid":
            result.changed.append(MANIFEST)
        expected = _expected_hashes(manifest, result)
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
        if manifest.get("files_sha256") != files_digest(
            [f for f in manifest.get("files", []) if isinstance(f, dict) and _has_fields(f)]
        ):
            result.problems.append("manifest_inconsistent")
        return result


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


def _check_signature(manifest: dict[str, Any], key: bytes) -> str:
    signature = manifest.get("signature")
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        return "missing"
    if signature.get("key_id") != key_id(key):
        return "unknown_key"
    expected = sign(manifest, key)["value"]
    return "valid" if hmac.compare_digest(expected, signature["value"]) else "invalid"


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
    """The member's SHA-256, reading at most `budget` bytes in all; None-like on damage."""
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
