"""Every string the portal shows exists in Simplified Chinese, and the compiled catalogue
matches its source."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "merchant_portal/translations/zh_Hans_CN/LC_MESSAGES"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
METHODS = [
    ("**/merchant_portal/**.py", "python"),
    ("**/appeals/**.py", "python"),
    ("**/evidence/**.py", "python"),
    ("**/templates/**.html", "jinja2"),
]


def source_messages() -> set[object]:
    found: set[object] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords={**KEYWORDS}, options_map={}
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def load_po():  # type: ignore[no-untyped-def]
    with (CATALOGUE / "messages.po").open("rb") as handle:
        return read_po(handle)


def key(message_id: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return message_id if isinstance(message_id, str) else tuple(message_id)


def test_every_message_in_the_code_is_translated() -> None:
    catalogue = load_po()
    translated = {
        key(m.id)
        for m in catalogue
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
    }
    in_code = source_messages()
    assert "Sign in" in in_code and "Complaints against your shop" in in_code  # templates read
    missing = in_code - translated
    assert not missing, (
        f"untranslated (run `make translations`, then translate): {sorted(map(str, missing))}"
    )


def test_compiled_catalogue_is_up_to_date() -> None:
    source = {key(m.id): key(m.string) for m in load_po() if m.id}
    compiled_bytes = io.BytesIO((CATALOGUE / "messages.mo").read_bytes())
    compiled = {key(m.id): key(m.string) for m in read_mo(compiled_bytes) if m.id}
    assert compiled == source, "messages.mo is stale: run `make translations`"
