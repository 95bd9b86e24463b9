"""Reading tabular exports (CSV and XLSX order histories) without trusting them.

Everything comes back as text: numbers, dates and formulas alike stay literal strings, so
a cell such as ``=HYPERLINK(...)`` is data, never something evaluated or re-exported live.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO

from evidence.errors import RejectedUpload

ZIP_MAGIC = b"PK\x03\x04"


def N_(message: str) -> str:
    """Mark a message for translation by the portal."""
    return message


@dataclass(frozen=True)
class TableLimits:
    """What a tabular upload may be; past any of these it is refused before parsing."""

    max_bytes: int  # the configured upload cap (PORTAL_IMPORT_MAX_BYTES)
    max_rows: int = 100_000
    max_columns: int = 64
    max_cell_chars: int = 4_000
    xlsx_max_uncompressed: int = 200 * 1024 * 1024
    xlsx_max_members: int = 500
    xlsx_max_ratio: int = 100


@dataclass(frozen=True)
class Table:
    """A header row and data rows; `first_row` is the file's line number of rows[0]."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    first_row: int = 2


def read_table(path: Path, limits: TableLimits) -> Table:
    """Read a CSV or XLSX file into text cells, refusing anything else or anything too big."""
    size = path.stat().st_size
    if size == 0:
        raise RejectedUpload("empty", N_("The file is empty."))
    if size > limits.max_bytes:
        raise RejectedUpload(
            "too_large", N_("The file is larger than %(mb)d MB."), mb=limits.max_bytes // 2**20
        )
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == ZIP_MAGIC:
        return _read_xlsx(path, limits)
    return _read_csv(path.read_bytes(), limits)


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030, refusing binary content."""
    if b"\x00" in data[:65536]:
        raise RejectedUpload(
            "unsupported_type", N_("This is not a CSV or XLSX file (it holds binary data).")
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RejectedUpload(
        "encoding", N_("The text encoding is not recognised; save the file as UTF-8.")
    )


def _read_csv(data: bytes, limits: TableLimits) -> Table:
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[list[str]] = []
    try:
        for row in reader:
            _check_row(row, len(rows) + 1, limits)
            rows.append([cell.strip() for cell in row])
    except csv.Error as error:
        raise RejectedUpload(
            "malformed_csv", N_("Line %(line)d is not valid CSV."), line=reader.line_num
        ) from error
    return _table(rows)


def _check_row(row: list[str], number: int, limits: TableLimits) -> None:
    if number > limits.max_rows + 1:
        raise RejectedUpload(
            "too_many_rows", N_("The file has more than %(max)d rows."), max=limits.max_rows
        )
    if len(row) > limits.max_columns:
        raise RejectedUpload(
            "too_many_columns",
            N_("Row %(row)d has more than %(max)d columns."),
            row=number,
            max=limits.max_columns,
        )
    if any(len(cell) > limits.max_cell_chars for cell in row):
        raise RejectedUpload(
            "cell_too_long",
            N_("Row %(row)d has a cell longer than %(max)d characters."),
            row=number,
            max=limits.max_cell_chars,
        )


def _table(rows: list[list[str]]) -> Table:
    rows = [row for row in rows if any(cell for cell in row)]
    if not rows:
        raise RejectedUpload("empty", N_("The file has no rows."))
    return Table(header=rows[0], rows=rows[1:])


def check_xlsx_container(path: Path, limits: TableLimits) -> None:
    """Refuse an XLSX whose ZIP directory declares a bomb, before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise RejectedUpload("malformed_xlsx", N_("The XLSX file is damaged.")) from error
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise RejectedUpload("unsupported_type", N_("This ZIP file is not an XLSX workbook."))
    if len(members) > limits.xlsx_max_members:
        raise RejectedUpload("xlsx_bomb", N_("The XLSX file has too many parts."))
    declared = sum(member.file_size for member in members)
    compressed = sum(member.compress_size for member in members) or 1
    if declared > limits.xlsx_max_uncompressed or declared / compressed > limits.xlsx_max_ratio:
        raise RejectedUpload(
            "xlsx_bomb", N_("The XLSX file would expand to an unsafe size; it was not opened.")
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise RejectedUpload("encrypted", N_("The XLSX file is password-protected."))


def _read_xlsx(path: Path, limits: TableLimits) -> Table:
    check_xlsx_container(path, limits)
    with path.open("rb") as handle:  # a file object: openpyxl would judge a path by its suffix
        return _read_workbook(handle, limits)


def _read_workbook(handle: BinaryIO, limits: TableLimits) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many unrelated types on damaged files
        raise RejectedUpload("malformed_xlsx", N_("The XLSX file is damaged.")) from error
    try:
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        # Rows are read as they come; the sheet's declared dimension is never trusted.
        for values in sheet.iter_rows(values_only=True):
            row = [cell_text(value) for value in values]
            while row and not row[-1]:
                row.pop()
            _check_row(row, len(rows) + 1, limits)
            rows.append(row)
    except RejectedUpload:
        raise
    except Exception as error:
        raise RejectedUpload("malformed_xlsx", N_("The XLSX file is damaged.")) from error
    finally:
        workbook.close()
    return _table(rows)


def cell_text(value: object) -> str:
    """A spreadsheet value as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
