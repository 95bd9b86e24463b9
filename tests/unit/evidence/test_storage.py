"""One contract for every blob store: local folder, memory, and S3 (moto_server, or a real
endpoint given by PORTAL_TEST_S3_ENDPOINT_URL)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidence.storage import BlobStore, LocalStore, MemoryStore, S3Store, sweep
from tests.conftest import require


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("PORTAL_TEST_S3_ENDPOINT_URL")
    if given:
        yield given
        return
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    require(server is not None, "moto_server is missing: pip install 'moto[server]'")
    assert server is not None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    try:
        for _ in range(100):
            with socket.socket() as check:
                if check.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def make_s3(endpoint: str) -> S3Store:
    credentials = {
        "aws_access_key_id": os.environ.get("PORTAL_TEST_S3_KEY", "testing"),
        "aws_secret_access_key": os.environ.get("PORTAL_TEST_S3_SECRET", "testing"),
        "region_name": "us-east-1",
    }
    store = S3Store.from_endpoint("appeal-desk-test", endpoint, **credentials)
    with contextlib.suppress(Exception):  # the bucket may exist on a real endpoint
        store.client.create_bucket(Bucket=store.bucket)
    store.prefix = f"test-{time.time_ns()}/"
    return store


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalStore(tmp_path / "blobs")
    if request.param == "memory":
        return MemoryStore()
    return make_s3(request.getfixturevalue("s3_endpoint"))


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / f"src-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    return path


def test_put_is_content_addressed_and_idempotent(store: BlobStore, tmp_path: Path) -> None:
    data = "证据 evidence".encode() * 1000
    key = store.put(write(tmp_path, data))
    assert key == hashlib.sha256(data).hexdigest()
    assert store.put(write(tmp_path, data)) == key
    with store.open(key) as handle:
        assert handle.read() == data
    assert store.exists(key) and list(store.keys()) == [key]


def test_delete_and_missing_keys(store: BlobStore, tmp_path: Path) -> None:
    key = store.put(write(tmp_path, b"x"))
    store.delete(key)
    assert not store.exists(key) and list(store.keys()) == []
    with pytest.raises(ValueError):
        store.exists("../../etc/passwd")


def test_sweep_removes_only_unreferenced_old_blobs(store: BlobStore, tmp_path: Path) -> None:
    kept = store.put(write(tmp_path, b"kept"))
    orphan = store.put(write(tmp_path, b"orphan"))
    assert sweep(store, {kept}, min_age_seconds=3600) == [], "young blobs may be writes in progress"
    assert sweep(store, {kept}, min_age_seconds=0) == [orphan]
    assert store.exists(kept) and not store.exists(orphan)


def test_local_store_leaves_no_temp_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    store.put(write(tmp_path, b"abc"))
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
