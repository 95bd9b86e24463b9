"""Receiving an uploaded file: streamed to disk under a server-made name, with a size cap."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from werkzeug.datastructures import FileStorage

from evidence.errors import RejectedUpload
from evidence.tables import N_

CHUNK = 1024 * 1024


def save_upload(upload: FileStorage, folder: Path, max_bytes: int) -> tuple[str, Path]:
    """Stream an upload into `folder`; returns the stored name and path. Names are ours only."""
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    final = folder / stored_name
    partial = folder / f".{stored_name}.part"
    size = 0
    try:
        with partial.open("wb") as handle:
            while chunk := upload.stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise RejectedUpload(
                        "too_large", N_("The file is larger than %(mb)d MB."), mb=max_bytes // 2**20
                    )
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if size == 0:
            raise RejectedUpload("empty", N_("The file is empty."))
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return stored_name, final
