"""Blob storage behind one interface: a local folder, an S3-compatible bucket, or memory.

Keys are made here, from the content's SHA-256, never from an uploaded name. A blob is
written completely (temp file, fsync, rename, directory fsync) before anything refers to
it; a crash leaves at most an orphan, which `sweep` removes, and a partial file under
`tmp/` named for its writer's lease (evidence.scratch), which `sweep_partial` removes once
its writer is dead or, for one it cannot judge, old.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, Protocol

from evidence import scratch
from evidence.scratch import Removed, filesystem_now

__all__ = ["BlobStore", "LocalStore", "MemoryStore", "Removed", "S3Store", "filesystem_now"]

CHUNK = 1024 * 1024
_KEY = re.compile(r"^[0-9a-f]{64}$")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """Keys are SHA-256 hex digests; anything else never reaches a path or a bucket."""
    if not _KEY.match(key):
        raise ValueError("not a blob key")
    return key


class BlobStore(Protocol):
    """Where blobs live. put() returns the content's key; the same content, the same key."""

    def put(self, source: Path) -> str: ...

    def open(self, key: str) -> IO[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...

    def age_seconds(self, key: str) -> float: ...

    def size(self, key: str) -> int: ...

    def sweep_partial(self, min_age_seconds: float) -> list[Removed]: ...


class LocalStore:
    """A content-addressed folder: <root>/ab/cd/<sha256>."""

    def __init__(self, root: Path, owners: Path | None = None) -> None:
        self.root = root
        # Writers' leases (evidence.scratch) live outside the folder of blobs.
        self.owners = owners or scratch.leases_beside(root)
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, source: Path) -> str:
        key = file_sha256(source)
        final = self._path(key)
        if final.exists():
            return key
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = scratch.scratch_path(self.root / "tmp", key, self.owners)
        try:
            with source.open("rb") as reader, partial.open("xb") as writer:
                while chunk := reader.read(CHUNK):
                    writer.write(chunk)
                writer.flush()
                os.fsync(writer.fileno())
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        directory = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return key

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if _KEY.match(path.name):
                yield path.name

    def age_seconds(self, key: str) -> float:
        return filesystem_now(self.root) - self._path(key).stat().st_mtime

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def sweep_partial(self, min_age_seconds: float) -> list[Removed]:
        """Remove what killed writers left under tmp/ (a live writer's file stays)."""
        return scratch.sweep(self.root / "tmp", "partial blob", min_age_seconds, self.owners)


class MemoryStore:
    """Blobs in a dict, for unit tests."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, float]] = {}

    def put(self, source: Path) -> str:
        data = source.read_bytes()
        key = hashlib.sha256(data).hexdigest()
        self.blobs.setdefault(key, (data, time.time()))
        return key

    def open(self, key: str) -> IO[bytes]:
        return io.BytesIO(self.blobs[check_key(key)][0])

    def exists(self, key: str) -> bool:
        return check_key(key) in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(check_key(key), None)

    def keys(self) -> Iterator[str]:
        yield from list(self.blobs)

    def age_seconds(self, key: str) -> float:
        return time.time() - self.blobs[check_key(key)][1]

    def size(self, key: str) -> int:
        return len(self.blobs[check_key(key)][0])

    def sweep_partial(self, min_age_seconds: float) -> list[Removed]:
        return []


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Ceph...), blobs under `prefix`."""

    def __init__(self, bucket: str, client: Any, prefix: str = "blobs/") -> None:
        self.bucket, self.client, self.prefix = bucket, client, prefix

    @classmethod
    def from_endpoint(cls, bucket: str, endpoint_url: str | None, **credentials: str) -> S3Store:
        import boto3
        from botocore.config import Config

        config = Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            # Non-AWS stores often reject the default CRC32 checksum headers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = boto3.client("s3", endpoint_url=endpoint_url, config=config, **credentials)
        return cls(bucket, client)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, source: Path) -> str:
        key = file_sha256(source)
        if not self.exists(key):
            with source.open("rb") as handle:
                self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=handle)
        return key

    def open(self, key: str) -> IO[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        return io.BytesIO(body.read())

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if _KEY.match(name):
                    yield name

    def age_seconds(self, key: str) -> float:
        """The age on the object store's own clock (its Date against LastModified)."""
        head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        modified: float = head["LastModified"].timestamp()
        served = head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        now = parsedate_to_datetime(served).timestamp() if served else time.time()
        return now - modified

    def size(self, key: str) -> int:
        head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        return int(head["ContentLength"])

    def sweep_partial(self, min_age_seconds: float) -> list[Removed]:
        """Nothing to sweep: put() is one PutObject request, and the store keeps nothing of
        a request that did not complete (no multipart uploads are ever started)."""
        return []


def sweep(store: BlobStore, referenced: set[str], min_age_seconds: float = 3600) -> list[str]:
    """Delete blobs no row references, once old enough not to be a write in progress."""
    return [found.name for found in sweep_orphans(store, referenced, min_age_seconds)]


def sweep_orphans(
    store: BlobStore, referenced: set[str], min_age_seconds: float = 3600
) -> list[Removed]:
    """`sweep`, saying how many bytes each removed blob held."""
    removed = []
    for key in list(store.keys()):
        if key in referenced:
            continue
        with contextlib.suppress(FileNotFoundError, KeyError):
            if store.age_seconds(key) >= min_age_seconds:
                size = store.size(key)
                store.delete(key)
                removed.append(Removed("orphan blob", key, size))
    return removed
