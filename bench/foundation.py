"""Foundation figures: password hashing cost, and server time of sign-in, inbox and API.

Run: .venv/bin/python bench/foundation.py [--database-url URL] [--rounds N]
Prints medians and p95 in milliseconds, and the ratios that matter.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from figures import report, timed
from flask import Flask
from flask.testing import FlaskClient

from appeals import migrate, passwords
from appeals.db import make_engine, make_session_factory
from appeals.policies import DEFAULT_POLICIES
from merchant_portal import create_app
from merchant_portal.demo import DEMO_PASSWORD, load_demo


def sign_in(app: Flask, client: FlaskClient | None = None) -> float:
    """Sign in with a fresh session; returns the milliseconds the POST took."""
    client = client or app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    form = {"email": "owner@volt.example", "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    start = time.perf_counter()
    response = client.post("/login", data=form, headers={"Referer": "https://localhost/"})
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 302
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    print("== password hashing (argon2id)")
    passwords.use_profile("default")
    default = report("hash, default profile", timed(lambda: passwords.hash_password("x" * 12), 20))
    stored = passwords.hash_password("x" * 12)
    verify = report(
        "verify, default profile", timed(lambda: passwords.verify_password(stored, "x" * 12), 20)
    )
    passwords.use_profile("cheapest")
    cheap = report("hash, test profile", timed(lambda: passwords.hash_password("x" * 12), 200))
    print(f"{'default / test profile':<42} {default / cheap:8.0f} x")

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        with make_session_factory(engine)() as session:
            load_demo(session, DEFAULT_POLICIES)
            session.commit()
        engine.dispose()
        app = create_app(
            {
                "DATABASE_URL": url,
                "DATA_DIR": folder,
                "PASSWORD_HASH_PROFILE": "default",
                "LOGIN_RATE_LIMIT": "100000 per minute",
            }
        )
        print(f"== requests ({url.split(':')[0]}; in-process WSGI, no network)")
        login = report("POST /login (argon2 default)", [sign_in(app) for _ in range(20)])
        client = app.test_client()
        sign_in(app, client)
        report(
            "GET /inbox (14 complaints, page 1)", timed(lambda: client.get("/inbox"), args.rounds)
        )
        report("GET /complaints/1", timed(lambda: client.get("/complaints/1"), args.rounds))
        with app.app_context():
            from appeals import accounts
            from appeals.accounts import SYSTEM
            from merchant_portal.database import db

            user = accounts.find_user_by_email(db(), SYSTEM, "owner@volt.example")
            _token, secret = accounts.create_api_token(db(), user, "bench")
            db().commit()
        api = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        report("GET /api/v1/me", timed(lambda: api.get("/api/v1/me", headers=headers), args.rounds))
        print(f"{'share of sign-in spent verifying':<42} {verify / login:8.0%}")
        app.config["DATABASE_ENGINE"].dispose()


if __name__ == "__main__":
    main()
