"""Running the sandboxed decode and reading its answer."""

from __future__ import annotations

import atexit
import json
import os
import resource
import select
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence.errors import RejectedUpload
from evidence.tables import N_

# The child imports this package from where it is installed or checked out.
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class InspectLimits:
    """The budget of one decode: what the child may use before it is killed or refuses."""

    memory_bytes: int = 768 * 1024 * 1024
    cpu_seconds: int = 10
    wall_seconds: float = 20.0
    max_pixels: int = 40_000_000
    max_pages: int = 200
    max_lines: int = 200_000
    max_bytes: int = 50 * 1024 * 1024
    # What a PDF's drawn streams may unpack to: all together, any one, and in how long
    # (inside cpu_seconds, so that a crafted file gets its own message, not "too slow").
    pdf_content_bytes: int = 200 * 1024 * 1024
    pdf_stream_bytes: int = 100 * 1024 * 1024
    pdf_seconds: float = 8.0


@dataclass(frozen=True)
class Inspection:
    """What the decode found and made: sizes, pages or rows, and derived files in `folder`."""

    media_type: str
    folder: Path
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    rows: int | None = None
    derived: dict[str, str] = field(default_factory=dict)

    def derived_path(self, name: str) -> Path | None:
        return self.folder / self.derived[name] if name in self.derived else None


def inspect(path: Path, media_type: str, out: Path, limits: InspectLimits) -> Inspection:
    """Decode the file fully in a limited child process; refuse it if the child fails."""
    out.mkdir(parents=True, exist_ok=True)
    job = {
        "path": str(path), "out": str(out), "media_type": media_type,
        "limits": {"max_pixels": limits.max_pixels, "max_pages": limits.max_pages,
                   "max_lines": limits.max_lines, "max_bytes": limits.max_bytes,
                   "pdf_content_bytes": limits.pdf_content_bytes,
                   "pdf_stream_bytes": limits.pdf_stream_bytes, "pdf_seconds": limits.pdf_seconds},
    }  # fmt: skip
    answer = _forks.run(job, limits)
    if answer is not None and answer.get("timeout"):
        raise RejectedUpload(
            "too_slow", N_("The file took too long to process; it may be damaged or crafted.")
        )
    if not isinstance(answer, dict) or "ok" not in answer:
        raise RejectedUpload(
            "processing_failed",
            N_("The file could not be processed safely; it may be damaged or crafted."),
        )
    if not answer["ok"]:
        raise RejectedUpload(answer["code"], answer["message"], **answer.get("params", {}))
    return Inspection(
        media_type=media_type, folder=out, width=answer.get("width"), height=answer.get("height"),
        pages=answer.get("pages"), rows=answer.get("rows"), derived=answer.get("derived", {}),
    )  # fmt: skip


class _ForkServers:
    """Sandbox parents (`python -m evidence.sandbox --fork-server`), started on first use and
    kept: each has imported the decoders once and forks a fresh limited child per file, so
    an upload does not wait for a Python start-up and Pillow's import (70-100 ms).

    One server per concurrent caller (a server answers one request at a time); a server
    that dies, or does not answer in time, is killed and replaced by the next caller.
    """

    def __init__(self) -> None:
        self._idle: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def run(self, job: dict[str, Any], limits: InspectLimits) -> dict[str, Any] | None:
        server = self._take()
        request = {
            "job": job, "memory_bytes": limits.memory_bytes,
            "cpu_seconds": limits.cpu_seconds, "wall_seconds": limits.wall_seconds,
        }  # fmt: skip
        assert server.stdin is not None and server.stdout is not None
        try:
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            # The server kills a child at its wall time; this only catches a stuck server.
            if not select.select([server.stdout], [], [], limits.wall_seconds + 10)[0]:
                raise TimeoutError
            line = server.stdout.readline()
            found = json.loads(line)
        except (OSError, ValueError, TimeoutError):
            server.kill()
            server.wait()
            server.stdin.close()
            server.stdout.close()
            return None
        self._give_back(server)
        return found if isinstance(found, dict) else None

    def _take(self) -> subprocess.Popen[str]:
        with self._lock:
            self._forget_if_forked()
            while self._idle:
                server = self._idle.pop()
                if server.poll() is None:
                    return server
        return self._start()

    def prestart(self) -> None:
        """Have one server ready, unless one is."""
        with self._lock:
            self._forget_if_forked()
            if not any(server.poll() is None for server in self._idle):
                self._idle.append(self._start())

    def _forget_if_forked(self) -> None:
        if self._pid != os.getpid():  # forked (a pre-forking server): not our pipes
            self._idle, self._pid = [], os.getpid()

    @staticmethod
    def _start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "evidence.sandbox", "--fork-server"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env={"PYTHONPATH": str(_PACKAGE_ROOT), "PATH": "/usr/bin:/bin",
                            "GLIBC_TUNABLES": _LARGE_PAGES},
        )  # fmt: skip

    def _give_back(self, server: subprocess.Popen[str]) -> None:
        with self._lock:
            if self._pid == os.getpid():
                self._idle.append(server)

    def close(self) -> None:
        """End the idle servers (each ends when its input closes)."""
        with self._lock:
            idle, self._idle = (self._idle, []) if self._pid == os.getpid() else ([], [])
        for server in idle:
            assert server.stdin is not None and server.stdout is not None
            server.stdin.close()
            server.wait()
            server.stdout.close()


# Each child is fresh, so every page it decodes into is a new page, and faulting them in
# 4 KiB at a time was a fifth of a 12 MP photo's decode on the 2-core bench machine (28,000
# faults, about 40 ms). With this, glibc's malloc asks for transparent huge pages (madvise)
# for what it maps: the same memory, the same limits, in 2 MiB pages. Where the kernel
# gives none (transparent_hugepage=never) or glibc is older than 2.35, nothing changes.
_LARGE_PAGES = "glibc.malloc.hugetlb=1"

_forks = _ForkServers()
atexit.register(_forks.close)


def start_sandbox() -> None:
    """Start a sandbox parent now, ahead of the first upload (a server worker's warm-up), so
    that its Python start and Pillow's import are not the first uploader's wait."""
    _forks.prestart()


@dataclass(frozen=True)
class ReadLimits:
    """The budget of reading text from pictures: per file, in one child for a batch."""

    memory_bytes: int = 2048 * 1024 * 1024  # onnxruntime maps its models and arenas
    cpu_seconds_per_file: int = 30
    wall_seconds_per_file: float = 60.0
    max_pixels: int = 40_000_000
    batch: int = 20


def _limit_reading(limits: ReadLimits, files: int) -> None:  # pragma: no cover (in the child)
    cpu = limits.cpu_seconds_per_file * files + 10
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def read_many(
    jobs: list[dict[str, Any]], limits: ReadLimits
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Read each job's file in a limited child, yielding (index, answer) as each is done.

    A job is {"path", "out", "media_type"} plus, for photos whose facts are wanted,
    {"original", "original_type"}. One child reads a batch (the OCR models load once); a
    file that takes longer than its time, or a child that dies, fails that file alone and
    a new child goes on with the rest.
    """
    queue = list(enumerate(jobs))
    while queue:
        batch, queue = queue[: limits.batch], queue[limits.batch :]
        for done, answer in _read_batch(batch, limits):
            yield done, answer
            batch = [entry for entry in batch if entry[0] != done]
        queue = batch + queue  # what a killed child left unread


def _read_batch(
    batch: list[tuple[int, dict[str, Any]]], limits: ReadLimits
) -> Iterator[tuple[int, dict[str, Any]]]:
    lines = "".join(
        json.dumps({**job, "task": "read", "limits": {"max_pixels": limits.max_pixels}}) + "\n"
        for _, job in batch
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "evidence.sandbox", "--many"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        preexec_fn=lambda: _limit_reading(limits, len(batch)),
        env={"PYTHONPATH": str(_PACKAGE_ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(lines)
        child.stdin.close()
    except BrokenPipeError:
        pass
    watch = selectors.DefaultSelector()
    watch.register(child.stdout, selectors.EVENT_READ)
    try:
        for index, _job in batch:
            # The first file also pays for loading the models.
            deadline = time.monotonic() + limits.wall_seconds_per_file
            line = ""
            while time.monotonic() < deadline and not line.endswith("\n"):
                if watch.select(timeout=max(0.0, deadline - time.monotonic())):
                    chunk = child.stdout.readline()
                    if not chunk:
                        break
                    line += chunk
            if not line.endswith("\n"):
                code = "too_slow" if time.monotonic() >= deadline else "processing_failed"
                yield index, {"ok": False, "code": code}
                return  # the child is killed below; the caller starts another for the rest
            try:
                answer = json.loads(line)
            except json.JSONDecodeError:
                answer = {"ok": False, "code": "processing_failed"}
            yield index, answer if isinstance(answer, dict) else {"ok": False}
    finally:
        watch.close()
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
