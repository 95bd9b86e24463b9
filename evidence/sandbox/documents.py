"""PDFs, tables and text in the child: checked against their limits, tables and text
written out as the portal shows them."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any, cast

from evidence.errors import RejectedUpload
from evidence.sandbox.messages import N_


def inspect_pdf(path: Path, out: Path, limits: dict[str, Any]) -> dict[str, Any]:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    with path.open("rb") as handle:
        if not handle.read(5) == b"%PDF-":
            raise RejectedUpload("malformed_pdf", N_("The PDF file is damaged."))
    try:
        # No stream is longer than the file that holds it.
        with apply_configuration(maximum_declared_stream_length=path.stat().st_size):
            pages = _read_pdf(PdfReader(path, strict=False), limits)
    except RejectedUpload:
        raise
    except FileNotDecryptedError:
        raise RejectedUpload(
            "encrypted", N_("The PDF is password-protected; upload a copy without a password.")
        ) from None
    except LimitReachedError as error:
        if "declared stream length" in str(error).lower():
            raise RejectedUpload(
                "pdf_stream_too_large",
                N_("A part of the PDF claims to be longer than the whole file; the file is "
                   "damaged or crafted. Print it to a new PDF and upload that."),
            ) from None  # fmt: skip
        raise RejectedUpload(
            "pdf_too_complex",
            N_("The PDF is too complex to be processed safely; print it to a new PDF first."),
        ) from None
    except (PyPdfError, DependencyError, RecursionError, ValueError, KeyError, TypeError,
            AttributeError, IndexError, zlib.error, MemoryError, OSError):  # fmt: skip
        raise RejectedUpload("malformed_pdf", N_("The PDF file is damaged.")) from None
    return {"pages": pages, "derived": {}}


def _read_pdf(reader: Any, limits: dict[str, Any]) -> int:
    """The page count, once the page tree, the catalog and every stream drawn pass."""
    from pypdf.generic import DictionaryObject

    from evidence.pdfstreams import StreamBudget, check_streams

    if reader.is_encrypted:
        raise RejectedUpload(
            "encrypted", N_("The PDF is password-protected; upload a copy without a password.")
        )
    pages = len(reader.pages)
    if pages > limits["max_pages"]:
        raise RejectedUpload(
            "too_many_pages", N_("The PDF has %(pages)d pages; the limit is %(max)d."),
            pages=pages, max=limits["max_pages"],
        )  # fmt: skip
    for page in reader.pages:
        page.mediabox  # noqa: B018 (touch every page object so broken trees fail here)
    root = cast(DictionaryObject, reader.trailer["/Root"].get_object())
    names = cast(DictionaryObject, root.get("/Names", DictionaryObject()))
    if "/OpenAction" in root or "/AA" in root or "/JavaScript" in names:
        raise RejectedUpload(
            "active_content",
            N_("The PDF contains scripts or automatic actions; print it to a new PDF first."),
        )
    check_streams(
        reader,
        StreamBudget(
            content_bytes=limits["pdf_content_bytes"], stream_bytes=limits["pdf_stream_bytes"],
            max_pixels=limits["max_pixels"], seconds=limits["pdf_seconds"],
        ),
    )  # fmt: skip
    return pages


def inspect_table(path: Path, out: Path, limits: dict[str, int]) -> dict[str, Any]:
    from evidence.tables import TableLimits, read_table

    table = read_table(path, TableLimits(max_bytes=limits["max_bytes"]))
    (out / "table.json").write_text(
        json.dumps({"header": table.header, "rows": table.rows[:5000]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return {"rows": len(table.rows), "derived": {"table": "table.json"}}


def inspect_text(path: Path, out: Path, limits: dict[str, int]) -> dict[str, Any]:
    from evidence.tables import decode_text

    text = decode_text(path.read_bytes())
    lines = text.splitlines()
    if len(lines) > limits["max_lines"]:
        raise RejectedUpload(
            "too_many_rows", N_("The file has more than %(max)d rows."), max=limits["max_lines"]
        )
    if any(len(line) > 20_000 for line in lines):
        raise RejectedUpload(
            "cell_too_long", N_("A line is longer than %(max)d characters."), max=20_000
        )
    (out / "text.txt").write_text("\n".join(lines), encoding="utf-8")
    return {"rows": len(lines), "derived": {"text": "text.txt"}}
