"""Reading tabular exports (CSV and XLSX order histories) without trusting them.

Everything comes back as text: numbers, dates and formulas alike stay literal strings, so
a cell such as ``=HYPERLINK(...)`` is data, never something evaluated or re-exported live.
Rows are read as they come, so a million-row export never sits in memory whole.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from evidence.errors import RejectedUpload

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
_SAMPLE = 64 * 1024
_CHUNK = 1024 * 1024
_STRIP = " \r\n\u3000\ufeff\u200b"


def N_(message: str) -> str:
    """Mark a message for translation by the portal."""
    return message


@dataclass(frozen=True)
class TableLimits:
    """What a tabular upload may be; past any of these it is refused before parsing."""

    max_bytes: int  # the configured upload cap (PORTAL_IMPORT_MAX_BYTES)
    max_rows: int = 100_000
    max_columns: int = 256  # Shopify's export has about 80 columns, Douyin's about 70
    max_cell_chars: int = 4_000
    xlsx_max_uncompressed: int = 200 * 1024 * 1024
    xlsx_max_members: int = 500
    xlsx_max_ratio: int = 100


@dataclass(frozen=True)
class Table:
    """A header row and data rows."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


def read_table(path: Path, limits: TableLimits) -> Table:
    """Read a CSV or XLSX file into text cells, refusing anything else or anything too big."""
    rows = [row for row in iter_rows(path, limits) if any(row)]
    if not rows:
        raise RejectedUpload("empty", N_("The file has no rows."))
    return Table(header=rows[0], rows=rows[1:])


def iter_rows(path: Path, limits: TableLimits) -> Iterator[list[str]]:
    """Every row of a CSV or XLSX file as text cells, as it comes (bounded memory).

    The size, the encoding and the container are checked before the first row is given;
    row, column and cell limits on each row.
    """
    size = path.stat().st_size
    if size == 0:
        raise RejectedUpload("empty", N_("The file is empty."))
    if size > limits.max_bytes:
        raise RejectedUpload(
            "too_large", N_("The file is larger than %(mb)d MB."), mb=limits.max_bytes // 2**20
        )
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
    if head.startswith(ZIP_MAGIC):
        check_xlsx_container(path, limits)
        return _xlsx_rows(path, limits)
    if head.startswith(OLE_MAGIC):
        raise RejectedUpload(
            "legacy_excel",
            N_("This is an old Excel (.xls) workbook; save it as .xlsx or CSV and upload that."),
        )
    return _csv_rows(path, text_encoding(path, head), limits)


def text_encoding(path: Path, head: bytes) -> str:
    """A text export's encoding: by its BOM, UTF-16 by its zero bytes, UTF-8, else GB18030.

    GB18030 rather than GBK, so that characters outside GBK survive. The whole file is
    checked, in chunks: a file that is UTF-8 at the start and something else later is
    read as the encoding that fits all of it, or refused, never half garbled.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _whole_file_decodes(path, "utf-16")
    if head.startswith(codecs.BOM_UTF8):
        return _whole_file_decodes(path, "utf-8-sig")
    if b"\x00" in head:
        utf16 = _utf16_without_bom(head)
        if utf16:
            return _whole_file_decodes(path, utf16)
        raise RejectedUpload(
            "unsupported_type", N_("This is not a CSV or XLSX file (it holds binary data).")
        )
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise RejectedUpload(
        "encoding", N_("The text encoding is not recognised; save the file as UTF-8.")
    )


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM has a zero in most odd (LE) or even (BE) bytes."""
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.3 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.3 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                if "\x00" in decoder.decode(chunk):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _whole_file_decodes(path: Path, encoding: str) -> str:
    if not _decodes(path, encoding):
        raise RejectedUpload(
            "encoding", N_("The text encoding is not recognised; save the file as UTF-8.")
        )
    return encoding


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with a BOM or GB18030; refuse binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" in data[:65536]:
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


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter used most on the first lines: comma, tab or semicolon.

    Not csv.Sniffer: on a sample without a doubled quote it decides the file has none,
    and then cuts every later cell that holds one at its next comma.
    """
    best, best_count = ",", 0
    for delimiter in (",", "\t", ";"):
        count = max((line.count(delimiter) for line in lines), default=0)
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _csv_rows(path: Path, encoding: str, limits: TableLimits) -> Iterator[list[str]]:
    with path.open("r", encoding=encoding, newline="") as handle:
        # Excel's CSV: doubled quotes inside quoted cells, quoted cells across lines.
        reader = csv.reader(
            handle, csv.excel, delimiter=sniff_delimiter(_first_lines(handle)), strict=False
        )
        number = 0
        try:
            for row in reader:
                number += 1
                _check_row(row, number, limits)
                yield [cell.strip(_STRIP) for cell in row]
        except csv.Error as error:
            raise RejectedUpload(
                "malformed_csv", N_("Line %(line)d is not valid CSV."), line=reader.line_num
            ) from error
        except UnicodeDecodeError as error:  # pragma: no cover - the whole file was checked
            raise RejectedUpload(
                "encoding", N_("The text encoding is not recognised; save the file as UTF-8.")
            ) from error


def _first_lines(handle: Any) -> list[str]:
    lines = [handle.readline(_SAMPLE) for _ in range(5)]
    handle.seek(0)
    return lines


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


def _xlsx_rows(path: Path, limits: TableLimits) -> Iterator[list[str]]:
    import openpyxl

    # A file object: openpyxl would judge a path by its suffix.
    with path.open("rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=False)
        except Exception as error:  # openpyxl raises many unrelated types on damaged files
            raise RejectedUpload("malformed_xlsx", N_("The XLSX file is damaged.")) from error
        try:
            if not workbook.worksheets:
                raise RejectedUpload("malformed_xlsx", N_("The XLSX file has no sheet."))
            yield from _sheet_rows(workbook.worksheets[0], limits)
        finally:
            workbook.close()


def _sheet_rows(sheet: Any, limits: TableLimits) -> Iterator[list[str]]:
    number = 0
    try:
        # Rows are read as they come; the sheet's declared dimension is never trusted.
        for values in sheet.iter_rows(values_only=True):
            row = [cell_text(value) for value in values]
            while row and not row[-1]:
                row.pop()
            number += 1
            _check_row(row, number, limits)
            yield row
    except RejectedUpload:
        raise
    except Exception as error:
        raise RejectedUpload("malformed_xlsx", N_("The XLSX file is damaged.")) from error


def cell_text(value: object) -> str:
    """A spreadsheet value as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if abs(value) >= 2**53:
            # Past 2**53 a float has lost digits: an id Excel stored as a number. It reads as
            # Excel shows it (2.76612345678901E+18) so the importer can name it, never as
            # plausible wrong digits.
            return f"{value:.15G}"
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip(_STRIP)
