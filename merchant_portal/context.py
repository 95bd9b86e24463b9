"""The application context: what every door's use cases are wired with, built once.

`build_context` reads a loaded configuration (the app's, or any mapping of the same
settings, as the benches use) into the rules (`Policies`), the blob store, the data folder,
the bundle signing keys (a key folder, never the database), the fingerprint key and the
bundle queue. The web app builds it in
its factory, and the API, the CLI, the worker and the tick all run inside that app, so
every door reads the same object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from appeals.bundle import KeyFolder, SigningKey, Trust, signing_key
from appeals.policies import Policies
from evidence.storage import BlobStore, LocalStore, S3Store

QUEUES = ("thread", "redis", "inline")


@dataclass(frozen=True)
class PortalContext:
    """The configured rules and the parts the use cases need, for one app."""

    policies: Policies
    store: BlobStore
    data_dir: Path
    signing_keys: KeyFolder
    legacy_signing_key: bytes  # the HMAC key that sealed bundles of formats /1 and /2
    fingerprint_key: bytes
    queue: str
    reads: bool  # read the text of new pictures after intake (appeals.reading)
    # Signed checkpoints of the audit chain's head, outside the database (appeals.checkpoints).
    checkpoints: Path = Path()

    @property
    def quarantine(self) -> Path:
        """Where uploads wait while they are typed and decoded."""
        return self.data_dir / "quarantine"

    @property
    def signing_key(self) -> SigningKey:
        """The key that signs bundles now (made in the key folder at first use)."""
        return self.signing_keys.signer()

    def bundle_trust(self) -> Trust:
        """What bundles are checked against: every published key and the old HMAC key."""
        return Trust(self.signing_keys.public_keys(), self.legacy_signing_key)

    @property
    def bundle_workdir(self) -> Path:
        return self.data_dir / "bundles-work"


def build_context(settings: Mapping[str, Any]) -> PortalContext:
    """The context of a configuration whose DATA_DIR and SECRET_KEY are set."""
    data_dir = Path(settings["DATA_DIR"])
    secret = str(settings["SECRET_KEY"]).encode()
    return PortalContext(
        policies=Policies.from_settings(settings),
        store=_blob_store(settings, data_dir),
        data_dir=data_dir,
        signing_keys=KeyFolder(
            Path(settings.get("SIGNING_KEYS_DIR") or data_dir / "keys"),
            settings.get("SIGNING_KEY_ID"),
        ),
        legacy_signing_key=signing_key(
            settings.get("BUNDLE_SIGNING_KEY") or settings["SECRET_KEY"]
        ),
        # Keys buyer phone and address fingerprints; derived so there is one secret to keep.
        fingerprint_key=hashlib.sha256(b"appeal-desk fingerprints:" + secret).digest(),
        queue=_queue(settings),
        reads=str(settings.get("READ_EVIDENCE", True)).lower() not in ("0", "false", "no", "off"),
        checkpoints=Path(settings.get("CHECKPOINTS_DIR") or data_dir / "checkpoints"),
    )


def _blob_store(settings: Mapping[str, Any], data_dir: Path) -> BlobStore:
    """An S3-compatible bucket when one is configured, else a local folder."""
    if settings.get("S3_BUCKET"):
        return S3Store.from_endpoint(settings["S3_BUCKET"], settings.get("S3_ENDPOINT_URL"))
    return LocalStore(data_dir / "blobs")


def _queue(settings: Mapping[str, Any]) -> str:
    queue = str(
        settings.get("BUNDLE_QUEUE") or ("redis" if settings.get("REDIS_URL") else "thread")
    )
    if queue not in QUEUES:
        raise RuntimeError(f"PORTAL_BUNDLE_QUEUE must be one of {', '.join(QUEUES)}, not {queue!r}")
    if queue == "redis" and not settings.get("REDIS_URL"):
        raise RuntimeError("PORTAL_BUNDLE_QUEUE=redis needs PORTAL_REDIS_URL")
    return queue


def context(app: Flask | None = None) -> PortalContext:
    """This app's context (built once, at start-up)."""
    found: PortalContext = (app or current_app).extensions["appeal_desk.context"]
    return found


def policies(app: Flask | None = None) -> Policies:
    """The configured rules of this app."""
    return context(app).policies
