"""Checking a bundle ZIP: every member against the manifest, the manifest against its seal.

Formats /1, /2 and /3 are checked alike: each member against its entry's sha256 (the copy
shipped), and the cover's files digest against the entries. The seal of /3 is an Ed25519
signature, checked with the published public keys (as `verify_offline` does, alone); /1 and
/2 were sealed with an HMAC of the portal's secret and only the portal can check them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from appeals.bundle.verify_offline import (
    PublicKeys,
    SealCheck,
    Verification,
    ed25519_check,
    unsigned,
)
from appeals.bundle.verify_offline import verify as verify_with

HMAC = "HMAC-SHA256"
HMAC_FORMATS = ("appeal-desk-bundle/1", "appeal-desk-bundle/2")

__all__ = ["Trust", "Verification", "hmac_key_id", "hmac_seal", "legacy_signing_key", "verify"]


def legacy_signing_key(secret: str | bytes) -> bytes:
    """The HMAC key of bundles of formats /1 and /2, derived from the portal's secret key."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"appeal-desk bundle signature v1", hashlib.sha256).digest()


def hmac_key_id(key: bytes) -> str:
    return hashlib.sha256(b"key-id:" + key).hexdigest()[:16]


def hmac_seal(manifest: dict[str, Any], key: bytes) -> dict[str, str]:
    """The HMAC signature block bundles of formats /1 and /2 carry."""
    digest = hmac.new(key, unsigned(manifest), hashlib.sha256).hexdigest()
    return {"algorithm": HMAC, "key_id": hmac_key_id(key), "value": digest}


@dataclass(frozen=True)
class Trust:
    """What a bundle's seal is checked against: public keys by id, and the old HMAC key."""

    public_keys: PublicKeys = field(default_factory=dict)
    hmac_key: bytes | None = None


def verify(archive: Path | IO[bytes], trust: Trust | bytes) -> Verification:
    """Check a bundle ZIP against its manifest and the manifest against its signature.

    `trust` as bytes is an HMAC key alone (bundles of formats /1 and /2).
    """
    if isinstance(trust, bytes):
        trust = Trust(hmac_key=trust)
    return verify_with(archive, _seal_check(trust))


def _seal_check(trust: Trust) -> SealCheck:
    public = ed25519_check(trust.public_keys)

    def check(manifest: dict[str, Any]) -> tuple[str, str | None, str | None]:
        signature = manifest.get("signature")
        if isinstance(signature, dict) and signature.get("algorithm") == HMAC:
            return _hmac_check(manifest, signature, trust.hmac_key)
        return public(manifest)

    return check


def _hmac_check(
    manifest: dict[str, Any], signature: dict[str, Any], key: bytes | None
) -> tuple[str, str | None, str | None]:
    said = signature.get("key_id")
    if not isinstance(signature.get("value"), str):
        return "missing", None, None
    if key is None or said != hmac_key_id(key):
        return "unknown_key", HMAC, said if isinstance(said, str) else None
    # From /3 on bundles are signed with a public key: an HMAC seal on one is not the portal's.
    if manifest.get("format") not in HMAC_FORMATS:
        return "invalid", HMAC, said
    expected = hmac_seal(manifest, key)["value"]
    valid = hmac.compare_digest(expected, signature["value"])
    return ("valid" if valid else "invalid"), HMAC, said
