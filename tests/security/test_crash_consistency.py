"""Crash consistency of uploads: blob first, row second, the sweeper for what is left.

A failure between publishing the blobs and committing the row leaves no row and only
orphan blobs, which the sweep removes; a worker killed mid-upload leaves a quarantine
file, which the sweep removes too. No row ever points at a missing blob.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from appeals import audit
from appeals.models import EvidenceItem
from merchant_portal.database import db
from merchant_portal.locker import blob_store
from tests.conftest import World, csrf_token, free_port, log_in
from tests.factories import png_bytes


def every_row_has_its_blobs(app: Flask) -> None:
    with app.app_context():
        store = blob_store()
        for item in db().scalars(select(EvidenceItem)):
            for key in item.blob_keys():
                assert store.exists(key), f"row {item.id} points at a missing blob"


def test_failure_between_blob_and_row_leaves_only_orphans_that_the_sweep_removes(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    log_in(client, "owner_a@test.example")
    url = f"/complaints/{world.complaint_a.id}/evidence"
    token = csrf_token(client, url)

    def power_cut(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the process died after the blobs were written")

    monkeypatch.setattr(audit, "record", power_cut)
    response = client.post(
        url,
        data={
            "files": [(io.BytesIO(png_bytes((77, 33))), "x.png")],
            "kind": "other",
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 500
    monkeypatch.undo()
    with app.app_context():
        assert db().scalar(select(func.count()).select_from(EvidenceItem)) == 1  # the world's own
    every_row_has_its_blobs(app)
    result = app.test_cli_runner().invoke(args=["sweep-orphans", "--min-age", "0"])
    assert result.output.startswith(("2 orphan", "3 orphan")), result.output
    every_row_has_its_blobs(app)
    assert client.get(url).status_code == 200, "the portal keeps serving"


def test_worker_killed_mid_upload_leaves_nothing_after_the_sweep(tmp_path: Path) -> None:
    from tests.conftest import fresh_database

    with fresh_database(tmp_path) as url:
        env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_DATA_DIR": str(tmp_path),
               "PORTAL_PASSWORD_HASH_PROFILE": "cheapest"}  # fmt: skip
        script = str(Path(sys.executable).parent / "merchant-portal")
        subprocess.run([script, "init-db"], env=env, check=True, capture_output=True)
        subprocess.run([script, "demo"], env=env, check=True, capture_output=True)
        before = _evidence_rows(url)  # the demo's own exhibits
        port = free_port()
        server = subprocess.Popen(
            [script, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            session_cookie, token = _sign_in(port)
            with socket.create_connection(("127.0.0.1", port)) as raw:
                body_head = (
                    f'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                    '--B\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
                    '--B\r\nContent-Disposition: form-data; name="files"; filename="big.png"\r\n'
                    "Content-Type: image/png\r\n\r\n"
                ).encode()
                total = len(body_head) + 20 * 1024 * 1024
                raw.sendall(
                    f"POST /complaints/1/evidence HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Cookie: {session_cookie}\r\nReferer: http://127.0.0.1:{port}/\r\n"
                    "Content-Type: multipart/form-data; boundary=B\r\n"
                    f"Content-Length: {total}\r\n\r\n".encode()
                    + body_head
                    + png_bytes((10, 10))
                    + b"\0" * (8 * 1024 * 1024)
                )
                time.sleep(0.5)  # about half of the body is in; the worker is streaming it
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
        result = subprocess.run(
            [script, "sweep-orphans", "--min-age", "0"], env=env, capture_output=True, text=True
        )
        assert "0 orphan blobs removed" in result.stdout
        quarantine = tmp_path / "quarantine"
        assert not quarantine.exists() or list(quarantine.iterdir()) == []
        assert _evidence_rows(url) == before, "no row for an upload that never finished"
        if url.startswith("sqlite"):
            import sqlite3
            from contextlib import closing

            with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as check:
                assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _evidence_rows(url: str) -> str:
    """The evidence rows in the database, counted by a separate process."""
    return subprocess.run(
        [sys.executable, "-c",
         "import sys; from sqlalchemy import create_engine, text; "
         "e = create_engine(sys.argv[1]); c = e.connect(); "
         "print(c.execute(text('SELECT count(*) FROM evidence_item')).scalar())", url],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def _sign_in(port: int) -> tuple[str, str]:
    """Sign in over real HTTP; returns the session cookie and a CSRF token."""
    import http.client
    import re
    from urllib.parse import urlencode

    def request(method: str, path: str, cookie: str = "", body: str = "") -> tuple[str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            headers = {"Cookie": cookie, "Referer": f"http://127.0.0.1:{port}/"}
            if body:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            cookie_out = response.getheader("Set-Cookie", "").split(";")[0]
            return cookie_out, response.read().decode()
        finally:
            connection.close()

    for _ in range(100):
        try:
            cookie, page = request("GET", "/login")
            break
        except OSError:
            time.sleep(0.1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    form = urlencode(
        {
            "email": "owner@bloom.example",
            "password": "demo-password-2026",
            "csrf_token": token.group(1),
        }
    )
    cookie, _ = request("POST", "/login", cookie, form)
    _, page = request("GET", "/complaints/1/evidence", cookie)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    return cookie, token.group(1)
