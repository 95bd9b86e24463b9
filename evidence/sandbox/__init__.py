"""The child process that decodes an untrusted file, under memory, CPU and time limits.

Run as ``python -m evidence.sandbox``: reads one JSON job on stdin, writes derived files
into the job's folder and one JSON result on stdout. A crafted file can crash or hang
only this process; the parent reads a missing or broken answer as a refusal.

This package is the child's entry: the job's dispatch, the limits it sets on itself, and
the fork server. What it makes of each kind of file is in images (pictures, with rawcopy),
documents (PDFs, tables, text) and reading (text read from pictures and scans).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from evidence.errors import RejectedUpload
from evidence.sandbox.documents import inspect_pdf, inspect_table, inspect_text
from evidence.sandbox.images import (
    IMAGE_FORMATS,
    PAGE_QUALITY,
    PAGE_SIDE,
    PASS_BYTES,
    PASS_SIDE,
    THUMBNAIL,
    inspect_image,
)
from evidence.sandbox.messages import N_
from evidence.sandbox.reading import READ_PAGES, SCANNED_TEXT, read_file

__all__ = [
    "IMAGE_FORMATS",
    "N_",
    "PAGE_QUALITY",
    "PAGE_SIDE",
    "PASS_BYTES",
    "PASS_SIDE",
    "PRELOAD",
    "READ_PAGES",
    "SCANNED_TEXT",
    "THUMBNAIL",
    "answer",
    "inspect_image",
    "inspect_pdf",
    "inspect_table",
    "inspect_text",
    "limit_self",
    "main",
    "read_file",
    "run",
    "serve_forks",
]


def run(job: dict[str, Any]) -> dict[str, Any]:
    if job.get("task") == "read":
        return read_file(job)
    path, out, media_type, limits = (
        Path(job["path"]),
        Path(job["out"]),
        job["media_type"],
        job["limits"],
    )
    if media_type in IMAGE_FORMATS:
        return inspect_image(path, media_type, out, limits)
    if media_type == "application/pdf":
        return inspect_pdf(path, out, limits)
    if media_type == "text/plain":
        return inspect_text(path, out, limits)
    return inspect_table(path, out, limits)


def answer(job: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"ok": True, **run(job)}
    except RejectedUpload as refused:
        return {
            "ok": False,
            "code": refused.code,
            "message": refused.message,
            "params": refused.params,
        }


def limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    """The budget of one decode (evidence.inspect.InspectLimits), set by the child on itself
    before it reads its job, so that no byte of the file is decoded outside it."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# What a forking parent imports once, so that each child starts decoding at once: Pillow's
# common formats and pypdf. Never pillow_heif (a child imports it for a HEIC file alone).
PRELOAD = ("PIL.Image", "PIL.ImageOps", "PIL.PngImagePlugin", "PIL.JpegImagePlugin",
           "PIL.WebPImagePlugin", "pypdf", "evidence.pdfstreams")  # fmt: skip


def serve_forks() -> None:
    """One request per line in, one answer per line out; each request runs in a child forked
    from here, which limits itself before it opens the file and is gone when it answers.

    This process reads no uploaded byte: only the requests' paths and limits. A child that
    crashes, hangs past its wall time or answers nonsense costs only itself.
    """
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(_forked(json.loads(line))) + "\n")
            sys.stdout.flush()


def _forked(request: dict[str, Any]) -> dict[str, Any]:
    """The child's answer, or {"timeout": True} or {"crashed": True}."""
    import os
    import select
    import signal
    import time

    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        status = 1
        try:
            os.close(readable)
            limit_self(request["memory_bytes"], request["cpu_seconds"])
            data = json.dumps(answer(request["job"])).encode()
            while data:
                data = data[os.write(writable, data) :]
            status = 0
        finally:
            os._exit(status)
    os.close(writable)
    deadline = time.monotonic() + request["wall_seconds"]
    chunks: list[bytes] = []
    timed_out = False
    with os.fdopen(readable, "rb", buffering=0) as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([pipe], [], [], left)[0]:
                timed_out = True
                break
            chunk = pipe.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        return {"timeout": True}
    try:
        found = json.loads(b"".join(chunks)) if status == 0 else None
    except json.JSONDecodeError:
        found = None
    return found if isinstance(found, dict) else {"crashed": True}


def main() -> None:
    args = sys.argv[1:]
    if args == ["--fork-server"]:
        serve_forks()
        return
    if args[:1] == ["--limits"]:
        memory_bytes, cpu_seconds = (int(value) for value in args[1].split(","))
        limit_self(memory_bytes, cpu_seconds)
        args = args[2:]
    if args == ["--many"]:
        # One job per line in, one answer per line out, flushed as each is done: the parent
        # gives each job its own time and reads progress as it comes.
        for line in sys.stdin:
            if line.strip():
                sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
                sys.stdout.flush()
        return
    sys.stdout.write(json.dumps(answer(json.loads(sys.stdin.read()))))
