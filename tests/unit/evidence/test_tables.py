"""Reading order exports: encodings, formulas kept literal, and refusals before parsing."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.errors import RejectedUpload
from evidence.names import sanitize_display_name
from evidence.tables import TableLimits, read_table
from tests.factories import ZH_HEADER, order_row, write_csv, write_xlsx, xlsx_bomb

LIMITS = TableLimits(max_bytes=20 * 1024 * 1024)  # the portal's default upload cap


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_the_encodings_platforms_export(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "o.csv", ZH_HEADER, [order_row("A1", "买家甲")], encoding)
    table = read_table(path, LIMITS)
    assert table.header[0] == "订单号" and table.rows[0][1] == "买家甲"


def test_semicolon_and_tab_separated_files(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("订单号;买家\nA1;b\n", encoding="utf-8")
    assert read_table(path, LIMITS).rows == [["A1", "b"]]


def test_xlsx_formulas_are_read_as_their_literal_text(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", ["订单号", "买家"], [["=1+1", '=HYPERLINK("x")']])
    assert read_table(path, LIMITS).rows == [["=1+1", '=HYPERLINK("x")']]


def test_xlsx_that_lies_about_its_dimension_is_read_by_its_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "d.xlsx", ["订单号", "买家"], [["A1", "b"]])
    patched = tmp_path / "lie.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b'ref="A1:B2"', b'ref="A1:XFD1048576"')
            target.writestr(item, data)
    assert read_table(patched, LIMITS).rows == [["A1", "b"]]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "unsupported_type"),
        (lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "malformed_xlsx"),
        (lambda p: xlsx_bomb(p), "xlsx_bomb"),
        (lambda p: p.write_bytes(b"a,b\n" + b'"unterminated\n' * 3), None),
    ],
)
def test_hostile_files_are_refused_with_their_reason(tmp_path: Path, make, code) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x"
    make(path)
    if code is None:
        read_table(
            path, LIMITS
        )  # an unterminated quote is read to the end of the file, not a crash
        return
    with pytest.raises(RejectedUpload) as refused:
        read_table(path, LIMITS)
    assert refused.value.code == code


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    with pytest.raises(RejectedUpload, match="not an XLSX workbook"):
        read_table(path, LIMITS)


def test_row_column_and_size_caps(tmp_path: Path) -> None:
    limits = TableLimits(max_rows=3, max_columns=3, max_cell_chars=5, max_bytes=200)
    cases = {
        "too_many_rows": "a,b\n" + "1,2\n" * 5,
        "too_many_columns": "a,b,c,d\n",
        "cell_too_long": "a,b\n123456,x\n",
        "too_large": "a,b\n" + "1,2\n" * 100,
    }
    for code, text in cases.items():
        path = tmp_path / f"{code}.csv"
        path.write_text(text)
        with pytest.raises(RejectedUpload) as refused:
            read_table(path, limits)
        assert refused.value.code == code


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_are_read_or_refused_never_crash(tmp_path_factory, data: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("fuzz") / "f"
    path.write_bytes(data)
    try:
        read_table(path, LIMITS)
    except RejectedUpload as refused:
        assert refused.code


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_display_names_are_safe_bounded_and_stable(name: str) -> None:
    safe = sanitize_display_name(name)
    assert safe and len(safe.encode()) <= 255
    assert not any(char in safe for char in "/\\\x00\r\n")
    assert sanitize_display_name(safe) == safe


def test_a_mark_after_a_removed_character_is_composed_at_once() -> None:
    """Found by the property above: the name must not change when it is cleaned again."""
    once = sanitize_display_name("N\U00018d09\u0300")
    assert once == "\u01f8" and sanitize_display_name(once) == once
