"""Real processes killed with SIGKILL inside a blob write, a row write, a build, a
quarantine write, a reading and a verify upload.

Nothing is mocked: each child runs the product's own code on a real database and data
folder, the test waits until the child is provably inside the step (a partial file that
grows, a file the child touches, a build row and its scratch folder), kills it, and then
checks what an operator would: the database and the blobs agree, `sweep-orphans` removes
every leftover at once (and nothing of a living process, however old), and a killed build,
or one queued that no process holds, is taken over by the next start and finishes.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import CSRF_INPUT, free_port, fresh_database
from tests.factories import png_bytes

SCRIPT = str(Path(sys.executable).parent / "merchant-portal")


@dataclass
class Site:
    """A portal installed the operator's way: its environment, database and data folder."""

    env: dict[str, str]
    url: str
    data: Path

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [SCRIPT, *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), params)]
        finally:
            engine.dispose()

    def every_row_has_its_blobs(self) -> None:
        for row in self.query(
            "SELECT id, blob_key, normalized_key, thumbnail_key, content_key, page_key,"
            " redacted_key FROM evidence_item"
        ):
            for key in (k for k in row[1:] if isinstance(k, str)):
                assert blob_path(self.data, key).is_file(), f"row {row[0]} lost blob {key}"
        for keys in self.query("SELECT pdf_key, zip_key FROM bundle_build"):
            for key in (k for k in keys if isinstance(k, str)):
                assert blob_path(self.data, key).is_file(), "a bundle lost its file"

    def check_integrity(self) -> None:
        if self.url.startswith("sqlite"):
            assert self.query("PRAGMA integrity_check") == [("ok",)]


def blob_path(data: Path, key: str) -> Path:
    return data / "blobs" / key[:2] / key[2:4] / key


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    data = tmp_path / "data"
    with fresh_database(tmp_path) as url:
        env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_DATA_DIR": str(data),
               "PORTAL_PASSWORD_HASH_PROFILE": "cheapest", "PORTAL_BUNDLE_QUEUE": "thread",
               "PORTAL_READ_EVIDENCE": "0"}  # fmt: skip
        env.pop("PORTAL_REDIS_URL", None)
        found = Site(env, url, data)
        found.cli("init-db")
        found.cli("demo")
        yield found


def wait_for(
    check: Callable[[], object], seconds: float, what: str,
    child: subprocess.Popen[bytes] | None = None,
) -> object:  # fmt: skip
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert child is None or child.poll() is None, f"the child died before {what}"
        if found := check():
            return found
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {what}")


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child and everything it started (a server's workers too)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def swept(output: str, kind: str) -> int:
    found = re.search(rf"{kind}: (\d+) removed, (\d+) bytes", output)
    assert found, output
    return int(found.group(1))


BLOB_WRITER = """
import sys
from pathlib import Path
from evidence.storage import LocalStore
LocalStore(Path(sys.argv[1])).put(Path(sys.argv[2]))
"""


def test_a_blob_write_killed_midway_leaves_a_partial_that_only_its_death_lets_the_sweep_remove(
    site: Site, tmp_path: Path
) -> None:
    source = tmp_path / "upload.fifo"
    os.mkfifo(source)
    content = os.urandom(3 * 2**20)
    key = hashlib.sha256(content).hexdigest()
    child = subprocess.Popen(
        [sys.executable, "-c", BLOB_WRITER, str(site.data / "blobs"), str(source)],
        env=site.env, start_new_session=True,
    )  # fmt: skip
    try:
        with source.open("wb") as hashing:  # the store reads the whole file once to hash it
            hashing.write(content)
        # Hashed once it makes the blob's folder; only then is the second open its copy's.
        wait_for(blob_path(site.data, key).parent.is_dir, 30, "the hash pass to end", child)
        with source.open("wb") as copying:  # then again to copy it: we hand over half
            copying.write(content[: 3 * 2**19])
            partial = wait_for(
                lambda: [p for p in (site.data / "blobs" / "tmp").glob(f"{key}~*")
                         if p.stat().st_size >= 2**20],
                30, "the partial blob", child,
            )  # fmt: skip
            beside = site.cli("sweep-orphans", "--min-age", "0")
            assert swept(beside, "partial blob") == 0, "a living writer's file stays"
            assert all(p.exists() for p in partial)  # type: ignore[attr-defined]
            kill(child)
    finally:
        if child.poll() is None:
            kill(child)
    assert not blob_path(site.data, key).exists(), "nothing published under the real name"
    after = site.cli("sweep-orphans")  # the default hour: the writer is dead, not old
    assert swept(after, "partial blob") == 1, after
    assert re.search(r"partial blob: 1 removed, (\d+) bytes", after).group(1) != "0"  # type: ignore[union-attr]
    assert list((site.data / "blobs" / "tmp").iterdir()) == []
    assert [p.name for p in (site.data / ".owners").iterdir()] == [], "the dead lease goes too"
    site.every_row_has_its_blobs()


ROW_WRITER = """
import io, sys, time
from pathlib import Path
from sqlalchemy import select
from appeals import locker
from appeals.models import Appeal, Complaint, EvidenceKind, User
from merchant_portal import create_app
from merchant_portal.context import context, policies
from merchant_portal.database import db
app = create_app()
with app.app_context():
    owner = db().scalar(select(User).where(User.email == "owner@bloom.example"))
    open_one = select(Complaint.id).where(Complaint.shop_id == owner.shop_id,
                                          Complaint.id.not_in(select(Appeal.complaint_id)))
    complaint = locker.locker_complaint(db(), owner, db().scalar(open_one.order_by(Complaint.id)))
    db().rollback()
    locker.receive_file(
        db(), owner, complaint, io.BytesIO(Path(sys.argv[1]).read_bytes()), filename="kill.png",
        kind=EvidenceKind.OTHER, caption="", store=context().store,
        workdir=context().quarantine, policy=policies().locker,
    )
    db().flush()  # the row is written, its transaction not yet committed
    Path(sys.argv[2]).touch()
    time.sleep(300)
"""


def test_a_row_write_killed_before_its_commit_leaves_only_orphans_the_sweep_removes(
    site: Site, tmp_path: Path
) -> None:
    picture = tmp_path / "kill.png"
    picture.write_bytes(png_bytes((91, 17)))
    key = hashlib.sha256(picture.read_bytes()).hexdigest()
    rows = site.query("SELECT count(*) FROM evidence_item")
    flushed = tmp_path / "flushed"
    child = subprocess.Popen(
        [sys.executable, "-c", ROW_WRITER, str(picture), str(flushed)],
        env=site.env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(flushed.exists, 60, "the child inside its row write", child)
        assert blob_path(site.data, key).is_file(), "blobs are stored before the row"
        kill(child)
    finally:
        if child.poll() is None:
            kill(child)
    assert site.query("SELECT count(*) FROM evidence_item") == rows, "no row was committed"
    site.every_row_has_its_blobs()
    site.check_integrity()
    output = site.cli("sweep-orphans", "--min-age", "0")
    assert swept(output, "orphan blob") >= 1, output
    assert not blob_path(site.data, key).exists()
    assert list((site.data / "quarantine").iterdir()) == []
    site.every_row_has_its_blobs()
    assert site.cli("verify-audit").startswith("Audit trail intact")


def serve(site: Site, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [SCRIPT, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=site.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def get(port: int, path: str, token: str) -> tuple[int, bytes]:
    for _ in range(200):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            return response.status, response.read()
        except OSError:
            time.sleep(0.05)
        finally:
            connection.close()
    raise AssertionError("the server never answered")


def test_a_build_killed_midway_is_taken_over_and_its_scratch_swept_by_the_next_start(
    site: Site,
) -> None:
    token = site.cli("create-token", "owner@bloom.example").strip().splitlines()[-1]
    ((appeal_id,),) = site.query("SELECT appeal_id FROM appeal_version LIMIT 1")
    path = f"/api/v1/appeals/{appeal_id}/bundle.pdf"
    work = site.data / "bundles-work"
    port = free_port()
    server = serve(site, port)
    try:
        status, _ = get(port, path, token)
        assert status == 202
        running = wait_for(
            lambda: site.query(
                "SELECT id, owner FROM bundle_build WHERE state = 'running' AND done > 0"
            ), 120, "the build under way", server,
        )  # fmt: skip
        kill(server)
    finally:
        if server.poll() is None:
            kill(server)
    ((build_id, dead_owner),) = cast(list[tuple[object, object]], running)
    assert dead_owner, "the running build names its process"
    assert [p.name for p in work.glob(f"bundle-{build_id}~*")], "the killed build's scratch"
    assert get_state(site, build_id) == "running", "as the portal said before: 202 running"

    started = time.monotonic()
    server = serve(site, port)
    try:
        wait_for(lambda: site.query("SELECT 1 FROM bundle_build WHERE owner IS NULL "
                                    "OR owner != :dead OR state != 'running'", dead=dead_owner),
                 60, "the takeover")  # fmt: skip
        taken_over = time.monotonic() - started
        wait_for(lambda: get_state(site, build_id) == "ready", 180, "the taken-over build")
        finished = time.monotonic() - started
        status, pdf = get(port, path, token)
        assert status == 200 and pdf[:5] == b"%PDF-"
        ((attempts,),) = site.query("SELECT attempts FROM bundle_build")
        assert attempts == 2
        # The restart itself removed what the dead build left: nothing is left to sweep.
        assert list(work.glob("bundle-*")) == [], "the dead build's folder went at the start"
        output = site.cli("sweep-orphans")  # beside the living server, the default hour
        assert swept(output, "bundle scratch") == 0, output
        leases = [p.name for p in (site.data / ".owners").iterdir()]
        assert dead_owner not in leases and leases, "the dead lease goes, the living stays"
        assert swept(site.cli("sweep-orphans", "--min-age", "0"), "orphan blob") == 0
    finally:
        kill(server)
    site.every_row_has_its_blobs()
    site.check_integrity()
    print(f"\ntakeover {taken_over:.2f} s after the restart, ready after {finished:.2f} s")


def get_state(site: Site, build_id: object) -> object:
    ((state,),) = site.query("SELECT state FROM bundle_build WHERE id = :id", id=build_id)
    return state


def running_in(process: subprocess.Popen[bytes], command: str) -> bool:
    """Whether a process of the child's group runs `command`."""
    for entry in Path("/proc").iterdir():
        try:
            ours = entry.name.isdigit() and os.getpgid(int(entry.name)) == process.pid
            if ours and command.encode() in (entry / "cmdline").read_bytes():
                return True
        except OSError:  # gone meanwhile
            continue
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """Freeze the child (SIGSTOP): alive, its leases held, but doing nothing meanwhile."""
    os.killpg(process.pid, signal.SIGSTOP)


QUARANTINE_WRITER = """
import sys
from pathlib import Path
from evidence.intake import quarantine
with open(sys.argv[2], "rb") as upload:
    quarantine(upload, Path(sys.argv[1]), 2**30)
"""


def test_a_quarantine_write_killed_midway_is_swept_at_once_and_a_living_one_never(
    site: Site, tmp_path: Path
) -> None:
    source = tmp_path / "upload.fifo"
    os.mkfifo(source)
    folder = site.data / "quarantine"
    child = subprocess.Popen(
        [sys.executable, "-c", QUARANTINE_WRITER, str(folder), str(source)],
        env=site.env, start_new_session=True,
    )  # fmt: skip
    try:
        with source.open("wb") as upload:
            upload.write(os.urandom(2**20))
            upload.flush()
            held = cast(list[Path], wait_for(
                lambda: [p for p in folder.glob("q~*") if p.stat().st_size >= 2**20],
                30, "the upload in quarantine", child,
            ))  # fmt: skip
            hours_ago = time.time() - 7200
            os.utime(held[0], (hours_ago, hours_ago))  # older than the sweep's hour
            for beside in (site.cli("sweep-orphans"), site.cli("sweep-orphans", "--min-age", "0")):
                assert swept(beside, "quarantine") == 0, "a living writer's file stays"
            assert held[0].exists()
            kill(child)
    finally:
        if child.poll() is None:
            kill(child)
    after = site.cli("sweep-orphans", "--min-age", "86400")  # its writer is dead, not old
    assert swept(after, "quarantine") == 1, after
    assert list(folder.iterdir()) == []
    assert [p.name for p in (site.data / ".owners").iterdir()] == [], "the dead lease goes too"


READER = """
from sqlalchemy import select
from appeals.models import EvidenceItem
from merchant_portal import create_app, jobs
from merchant_portal.database import db
app = create_app()
with app.app_context():
    pictures = select(EvidenceItem.id).where(EvidenceItem.media_type.like("image/%"))
    ids = list(db().scalars(pictures))
    db().rollback()
jobs.read_now(app, ids)
"""


def test_a_reading_killed_midway_leaves_a_work_folder_the_sweep_removes_at_once(
    site: Site,
) -> None:
    work = site.data / "reading-work"
    child = subprocess.Popen(
        [sys.executable, "-c", READER], env=site.env, start_new_session=True
    )  # fmt: skip
    try:
        copied = wait_for(lambda: list(work.glob("reader~*/read-*/*/source")), 120,
                          "the pictures copied out for reading", child)  # fmt: skip
        # Frozen once its sandboxed reader runs: out of every transaction by then (a frozen
        # transaction would hold SQLite's write lock against the sweep).
        wait_for(lambda: running_in(child, "evidence.sandbox"), 60, "the reader's child", child)
        stop(child)
        beside = site.cli("sweep-orphans", "--min-age", "0")
        assert swept(beside, "reading work") == 0, "a living reader's folder stays"
        assert all(p.exists() for p in cast(list[Path], copied))
        kill(child)
    finally:
        if child.poll() is None:
            kill(child)
    assert list(work.iterdir()), "the killed reading left its folder"
    after = site.cli("sweep-orphans")  # the default hour: the reader is dead, not old
    assert swept(after, "reading work") == 1, after
    assert list(work.iterdir()) == []


def slow_bundle(path: Path) -> None:
    """A ZIP that the verify form takes a moment over: a large member the manifest names."""
    manifest = {"format": "appeal-desk-bundle/3", "bundle_pdf": {"sha256": "0" * 64}}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as bundle:
        bundle.writestr("manifest.json", json.dumps(manifest))
        bundle.writestr("bundle.pdf", bytes(48 * 2**20))


class Browser(requests.Session):
    """A browser over loopback http, which sends its Secure session cookie back anyway."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


def signed_in(port: int, email: str) -> Browser:
    """A browser's session, signed in through the login form."""
    browser = Browser()
    page = browser.get(f"http://127.0.0.1:{port}/login", timeout=30)
    token = CSRF_INPUT.search(page.text)
    assert token, page.text[:300]
    answer = browser.post(
        f"http://127.0.0.1:{port}/login", allow_redirects=False, timeout=30,
        data={"email": email, "password": "demo-password-2026", "csrf_token": token.group(1)},
    )  # fmt: skip
    assert answer.status_code == 302, answer.text[:300]
    return browser


def test_a_verify_upload_killed_midway_leaves_only_what_the_sweep_removes_at_once(
    site: Site, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.zip"
    slow_bundle(bundle)
    folder = site.data / "quarantine"
    port = free_port()
    server = serve(site, port)
    try:
        get(port, "/login", "")  # up
        browser = signed_in(port, "reviewer@platform.example")
        page = browser.get(f"http://127.0.0.1:{port}/review/verify", timeout=30)
        token = CSRF_INPUT.search(page.text)
        assert page.status_code == 200 and token, page.text[:300]

        answers: list[object] = []

        def upload() -> None:
            with bundle.open("rb") as handle:
                try:
                    answers.append(browser.post(
                        f"http://127.0.0.1:{port}/review/verify", timeout=120,
                        data={"csrf_token": token.group(1)}, files={"bundle": handle},
                    ))  # fmt: skip
                except requests.RequestException as error:  # the server is killed
                    answers.append(error)

        posting = threading.Thread(target=upload, daemon=True)
        posting.start()
        held = wait_for(
            lambda: list(folder.glob("q~*")) or answers, 60, "the upload being verified", server
        )
        answered = list(answers)
        kill(server)
        assert not answered, f"answered before it was seen: {answered}"
        assert all(p.exists() for p in cast(list[Path], held)), "the killed verify left it"
        posting.join(30)
    finally:
        if server.poll() is None:
            kill(server)
    after = site.cli("sweep-orphans")  # the default hour: the server is dead, not old
    assert swept(after, "quarantine") == 1, after
    assert list(folder.iterdir()) == []


def test_a_queued_build_no_process_holds_is_taken_by_one_of_two_workers_at_their_start(
    site: Site,
    redis_url: str,
    tmp_path: Path,
) -> None:
    from huey import RedisHuey  # type: ignore[import-untyped]

    name = f"crash-{secrets.token_hex(4)}"
    site.env.update(PORTAL_REDIS_URL=redis_url, PORTAL_BUNDLE_QUEUE="redis",
                    PORTAL_BUNDLE_QUEUE_NAME=name)  # fmt: skip
    token = site.cli("create-token", "owner@bloom.example").strip().splitlines()[-1]
    ((appeal_id,),) = site.query("SELECT appeal_id FROM appeal_version LIMIT 1")
    port = free_port()
    server = serve(site, port)
    try:
        status, _ = get(port, f"/api/v1/appeals/{appeal_id}/bundle.pdf", token)
        assert status == 202
    finally:
        kill(server)
    huey = RedisHuey(name, url=redis_url)
    beside = site.cli("sweep-orphans")  # takes over what no process has, as a start does
    assert "taken over" not in beside and huey.pending_count() == 1, "it waits its turn"
    # What a worker does when it takes the build off the queue; it dies before its claim.
    assert huey.storage.dequeue() is not None and huey.pending_count() == 0
    ((build_id, state, owner),) = site.query("SELECT id, state, owner FROM bundle_build")
    assert (state, owner) == ("queued", None), "no process holds it, none will build it"

    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    started = time.monotonic()
    with contextlib.ExitStack() as outputs:
        workers = [
            subprocess.Popen([SCRIPT, "worker"], env=site.env,
                             stdout=outputs.enter_context(log.open("wb")),
                             stderr=subprocess.STDOUT, start_new_session=True)
            for log in logs
        ]  # fmt: skip
        try:
            wait_for(lambda: get_state(site, build_id) != "queued", 60, "the takeover")
            taken_over = time.monotonic() - started
            wait_for(lambda: get_state(site, build_id) == "ready", 180, "the taken-over build")
            finished = time.monotonic() - started
            # Builds give way to the pages of web processes on the same machine (each
            # worker lowers itself once it has started, the slower one a little later).
            lowered = [min(19, os.getpriority(os.PRIO_PROCESS, 0) + 5)] * 2
            wait_for(lambda: [os.getpriority(os.PRIO_PROCESS, w.pid) for w in workers] == lowered,
                     60, "both workers at nice +5")  # fmt: skip
        finally:
            for worker in workers:
                kill(worker)
    ((attempts,),) = site.query("SELECT attempts FROM bundle_build")
    assert attempts == 1, "built once"
    said = [log.read_text() for log in logs]
    takeovers = sum(text.count(f"bundle build {build_id}: its process died") for text in said)
    assert takeovers == 1, "of two workers starting at once, one takes it: " + "\n".join(said)
    site.every_row_has_its_blobs()
    huey.storage.flush_queue()
    print(f"\ntaken over {taken_over:.2f} s after the workers' start, ready after {finished:.2f} s")
