"""Configuration: defaults, then PORTAL_* environment variables, then explicit overrides."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from appeals.policies import POLICY_DEFAULTS

DEFAULTS: dict[str, Any] = {
    # Storage. DATABASE_URL unset: a SQLite file in DATA_DIR (the instance folder by default).
    "DATABASE_URL": None,
    "DATA_DIR": None,
    "REDIS_URL": None,
    # Sessions and cookies: secure by default; __Host- pins the cookie to this origin.
    "SESSION_COOKIE_NAME": "__Host-appeal_desk",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_PATH": "/",
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "REMEMBER_COOKIE_DURATION": timedelta(days=1),
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 3600,
    # Request limits (evidence uploads get their own, tighter, per-file caps).
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 200,
    # Accounts.
    "PASSWORD_HASH_PROFILE": "default",
    "LOGIN_RATE_LIMIT": "10 per 5 minutes",
    "RATE_LIMIT_PREFIX": "appeal-desk",
    "BABEL_DEFAULT_LOCALE": "en",
    "PAGE_SIZE": 25,
    # The rules (deadlines, service levels, windows, budgets, limits): appeals.policies.
    **POLICY_DEFAULTS,
    # Evidence blobs: in DATA_DIR/blobs unless an S3 bucket is configured.
    "S3_BUCKET": None,
    "S3_ENDPOINT_URL": None,
    "PREFERRED_URL_SCHEME": "https",
    # Bundles: how builds run (see jobs.py).
    "BUNDLE_QUEUE": None,
    "BUNDLE_QUEUE_NAME": "appeal-desk-bundles",
    "BUNDLE_THREADS": 2,
    "BUNDLE_SIGNING_KEY": None,  # the HMAC secret of old (/1, /2) bundles; default SECRET_KEY
    # Ed25519/P-256 bundle signing keys: files in a folder (DATA_DIR/keys), never the
    # database; the newest signs unless SIGNING_KEY_ID chooses one (`rotate-signing-key`).
    "SIGNING_KEYS_DIR": None,
    "SIGNING_KEY_ID": None,
    # Reading the text of pictures after intake (jobs.enqueue_reading); 0 turns it off.
    "READ_EVIDENCE": True,
    # Smaller copies of new pictures for the bundle's fit (jobs.enqueue_copies); 0: none.
    "PREPARE_COPIES": True,
    # Email notifications (sent from the outbox by `send-notifications` or the worker).
    "PUBLIC_URL": None,  # links in emails, e.g. https://appeals.example.com/
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_FROM": "appeal-desk@localhost",
    "SMTP_STARTTLS": False,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
}


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill app.config in order: defaults, PORTAL_* environment, overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PORTAL")
    if overrides:
        app.config.from_mapping(overrides)
    data_dir = Path(app.config["DATA_DIR"] or app.instance_path)
    app.config["DATA_DIR"] = data_dir
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{data_dir / 'portal.db'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _local_secret_key(data_dir)


def _local_secret_key(data_dir: Path) -> str:
    """A random key kept in the data folder, so a single machine needs no set-up."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
