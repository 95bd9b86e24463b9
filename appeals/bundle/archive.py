"""The bundle ZIP: the PDF and the exhibits' files, and a manifest whose signature seals them.

The manifest is signed with the platform's Ed25519 key (appeals.bundle.keys), so anyone
holding the published public key can check it (appeals.bundle.verify_offline).

The files leave the shop without their GPS and device fields unless the merchant chose, for
that file, to keep them; the manifest gives for each the hash of the copy shipped, the hash
of the shop's original (which stays in the locker untouched) and what was taken out.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from appeals.bundle.keys import SigningKey
from appeals.bundle.plan import Exhibit
from appeals.bundle.verify_offline import MANIFEST, PDF_NAME, files_digest
from appeals.errors import N_, Conflict
from appeals.models import Appeal, AppealVersion
from evidence.metadata import STRIPPABLE, MetadataError, Piece, identifying_removed
from evidence.storage import CHUNK, BlobStore

# /2: a file's sha256 is that of the copy shipped, which may differ from original_sha256
# (metadata taken out, said in "metadata"); /1 bundles still verify by the same rules.
# /3: the manifest signed with Ed25519 (was an HMAC of the portal's secret, which /1 and /2
# bundles keep and still verify with), and bundle.pdf carrying a PAdES signature.
FORMAT = "appeal-desk-bundle/3"
__all__ = ["FORMAT", "MANIFEST", "PDF_NAME", "files_digest", "manifest_of", "write_zip"]
# Media types already compressed: stored in the ZIP as they are (deflating them costs
# 14x the time and saves about 2%).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STORED_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/webp", "image/heic", "application/pdf", XLSX}
)


def manifest_of(
    appeal: Appeal,
    version: AppealVersion,
    files: list[dict[str, Any]],
    pdf: Path,
    pages: int,
    report: dict[str, Any],
) -> dict[str, Any]:
    digest = hashlib.sha256()
    with pdf.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return {
        "format": FORMAT,
        "appeal": appeal.number,
        "appeal_id": appeal.id,
        "complaint": appeal.complaint.external_id,
        "version": version.number,
        "content_sha256": version.content_sha256,
        "submitted_at": version.submitted_at.astimezone(UTC).isoformat(),
        "files_sha256": files_digest(files),
        "bundle_pdf": {
            "path": PDF_NAME,
            "size": pdf.stat().st_size,
            "sha256": digest.hexdigest(),
            "pages": pages,
        },
        "files": files,
        "fit": report["fit"],
    }


def write_zip(
    archive: Path,
    pdf: Path,
    exhibits: list[Exhibit],
    files: list[dict[str, Any]],
    manifest: dict[str, Any],
    store: BlobStore,
    when: datetime,
    key: SigningKey,
) -> None:
    """PDF and files stored, text deflated; each copy hashed as it is written.

    Pictures lose their GPS and device fields here (see `shipped_copy`); each entry of
    `files` is given the shipped copy's hash, size and what was taken out.
    """
    stamp = when.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(archive, "w", allowZip64=True) as bundle:
        bundle.write(pdf, PDF_NAME, compress_type=zipfile.ZIP_STORED)
        for exhibit, entry in zip(exhibits, files, strict=True):
            info = zipfile.ZipInfo(entry["path"], date_time=stamp)
            info.compress_type = (
                zipfile.ZIP_STORED if entry["media_type"] in STORED_TYPES else zipfile.ZIP_DEFLATED
            )
            digest, size = hashlib.sha256(), 0
            with (
                shipped_copy(exhibit, entry, store) as reader,
                bundle.open(info, "w", force_zip64=True) as writer,
            ):
                while chunk := reader.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    writer.write(chunk)
            if digest.hexdigest() != entry["sha256"]:
                raise _changed(exhibit)
            entry["size"] = size
        manifest["signature"] = key.seal(manifest)
        info = zipfile.ZipInfo(MANIFEST, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        bundle.writestr(info, json.dumps(manifest, ensure_ascii=False, indent=2))


def _changed(exhibit: Exhibit) -> Conflict:
    return Conflict(
        N_("The stored file of exhibit %(label)s no longer matches its hash."),
        label=exhibit.label,
    )


@contextmanager
def shipped_copy(
    exhibit: Exhibit, entry: dict[str, Any], store: BlobStore
) -> Iterator[IO[bytes] | _Pieces]:
    """The exhibit's file as it leaves the shop; sets the entry's sha256 and "metadata".

    A picture without its GPS and device fields, unless the merchant chose to keep them; a
    redacted copy as it is (redrawn by the platform, it carries no metadata at all); any
    other file as it is. The entry's sha256 must be the shop's copy's on entry.
    """
    kept = exhibit.item.keep_metadata and not exhibit.redacted
    entry["metadata"] = {"removed": [], "kept_by_merchant": kept}
    if kept or exhibit.redacted or entry["media_type"] not in STRIPPABLE:
        with store.open(exhibit.source_key) as reader:
            yield reader
        return
    with store.open(exhibit.source_key) as reader:
        data = reader.read()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise _changed(exhibit)
    try:
        pieces, removed = identifying_removed(data, entry["media_type"])
    except MetadataError:
        raise Conflict(
            N_(
                "The camera and location data of exhibit %(label)s cannot be taken out "
                "without changing the picture; replace the file or choose to keep that data."
            ),
            label=exhibit.label,
        ) from None
    entry["metadata"]["removed"] = removed
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    entry["sha256"] = digest.hexdigest()
    yield _Pieces(pieces)


class _Pieces:
    """Pieces of a file read one after another, never joined: the picture they are views
    of is not copied whole."""

    def __init__(self, pieces: list[Piece]) -> None:
        self._pieces = [memoryview(piece) for piece in reversed(pieces)]

    def read(self, size: int = -1) -> bytes:
        while self._pieces and not len(self._pieces[-1]):
            self._pieces.pop()
        if not self._pieces:
            return b""
        piece = self._pieces[-1]
        taken = piece if size < 0 else piece[:size]
        self._pieces[-1] = piece[len(taken) :]
        return bytes(taken)
