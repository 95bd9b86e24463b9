"""The rebuttal's rows: how many an appeal may have and the label each one goes by.

The builder, the ruling form, the API and the bundle PDF all name rows through here, so a
row has the same label everywhere and every row that can be submitted can be ruled on.
"""

from __future__ import annotations

MAX_ROWS = 30


def row_label(position: int) -> str:
    """The label of the row at a 0-based position: A..Z, then AA, AB, ... (spreadsheet style)."""
    if position < 0:
        raise ValueError("row positions start at 0")
    label = ""
    number = position + 1
    while number:
        number, rest = divmod(number - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def row_labels(count: int) -> list[str]:
    """The labels of the first `count` rows."""
    return [row_label(position) for position in range(count)]


# The API's pattern for a row label, wide enough for MAX_ROWS.
ROW_LABEL_PATTERN = "^[A-Z]{1,2}$"
