"""Undoing what spreadsheets do to the cells of an export, and reading the values in them.

Platforms guard ids against Excel (`="2766…"`, a leading `'` or tab), Excel re-saves dates
as serials and long ids as `2.77E+18`, amounts come with currency signs and thousands
separators, and phone numbers arrive in full width, with spaces, or masked. Each function
here takes the text of one cell and gives the value, or raises ValueError with a message
(marked for translation) and its parameters.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo


def N_(message: str) -> str:
    return message


_GUARD = re.compile(r'^=\s*"(.*)"$', re.DOTALL)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
_ID_PREFIX = re.compile(r"^(?:no|nº|单号|运单号|快递单号)\s*[.:：#]?\s*", re.IGNORECASE)
_MASK = re.compile(r"\*{2,}|\u2217{2,}|＊{2,}|x{4,}", re.IGNORECASE)
_CIPHERTEXT = re.compile(r"^[#~$][A-Za-z0-9+/=_#~$-]{16,}[#~$=]?$|^[A-Za-z0-9+/]{32,}={0,2}$")


def unguard(text: str) -> str:
    """A cell without Excel's text guards: `="…"`, invisible marks, tabs and stray spaces."""
    if text.isprintable() and not text.startswith(("=", " ")) and not text.endswith(" "):
        return text  # the common cell: nothing to undo
    text = text.translate(_INVISIBLE).strip(" \t\r\n\u3000\u00a0")
    match = _GUARD.match(text)
    if match:
        text = match.group(1).replace('""', '"').strip(" \t\u3000\u00a0")
    return text


def clean_id(text: str) -> str:
    """An order number, sub-order id or waybill: unguarded, width-normalised, no `No:`.

    An id Excel already turned into a number in scientific notation cannot be recovered:
    it is refused, named, rather than stored as other digits.
    """
    text = unicodedata.normalize("NFKC", unguard(text)).lstrip("'").strip()
    text = _ID_PREFIX.sub("", text)
    if _SCIENTIFIC.match(text):
        raise ValueError(
            N_(
                "Excel turned this id into a rounded number (%(value)s); its digits are lost."
                " Export the file again and open it without re-saving, or format the column"
                " as text."
            ),
            {"value": text[:40]},
        )
    return text


def is_masked(text: str | None) -> bool:
    """A value the platform masked (`138****5678`, `张**`) or encrypted per order.

    Such a value is kept as the file shows it but never compared as an identity.
    """
    if not text:
        return False
    text = text.strip()
    return bool(
        _MASK.search(text)
        or _CIPHERTEXT.match(text)
        or text.startswith(("##", "$$", "~~"))
        or "密文" in text
    )


def clean_phone(text: str) -> str:
    """A phone number as digits (and a leading +), or the masked text as it was."""
    text = unicodedata.normalize("NFKC", unguard(text)).lstrip("'").strip()
    if is_masked(text):
        return text
    digits = re.sub(r"[\s\-–—.()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def money(text: str) -> Decimal:
    """An amount: currency signs, codes, spaces and thousands separators removed."""
    cleaned = unicodedata.normalize("NFKC", unguard(text))
    cleaned = re.sub(r"[¥$€£,\s]|CNY|RMB|USD|EUR|GBP|HKD|元", "", cleaned, flags=re.IGNORECASE)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(N_("Not an amount: %(value)s"), {"value": text[:40]}) from None
    if not value.is_finite() or abs(value) >= Decimal("1e10"):
        raise ValueError(N_("Not an amount: %(value)s"), {"value": text[:40]})
    return value.quantize(Decimal("0.01"))


def quantity(text: str) -> int:
    try:
        value = Decimal(unicodedata.normalize("NFKC", unguard(text)).replace(",", ""))
        whole = int(value)
    except (InvalidOperation, ValueError):
        raise ValueError(N_("Not a whole number: %(value)s"), {"value": text[:40]}) from None
    if whole != value or not 0 <= whole <= 100_000:
        raise ValueError(N_("Not a whole number: %(value)s"), {"value": text[:40]})
    return whole


_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日",
    "%Y-%m-%d %H:%M:%S %z",  # Shopify: 2026-11-02 09:30:12 +0800
)
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EMPTY_TIMES = {"0000-00-00 00:00:00", "0000-00-00", "1970-01-01 08:00:00", "-", "--", "无"}


def moment(text: str, zone: ZoneInfo) -> datetime | None:
    """A time as the export writes it (in the shop's zone when it names none), in UTC.

    Takes ISO 8601, the Chinese platforms' layouts, Excel's re-saved layouts (single-digit
    months and days, `.000` fractions) and Excel's serial day numbers. Placeholders for
    "no time" (`0000-00-00`, `-`) are None.
    """
    value = unicodedata.normalize("NFKC", unguard(text)).strip()
    if value in _EMPTY_TIMES or not value:
        return None
    if re.fullmatch(r"\d{5}(?:\.\d+)?", value):  # Excel's serial day number
        parsed: datetime | None = _EXCEL_EPOCH + timedelta(days=float(value))
    else:
        parsed = _parse(re.sub(r"\.\d{1,6}(?=$|\s|[+-]\d\d:?\d\d$|Z$)", "", value))
    if parsed is None or not 2000 <= parsed.year <= 2100:
        raise ValueError(N_("Not a date and time: %(value)s"), {"value": text[:40]})
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None
