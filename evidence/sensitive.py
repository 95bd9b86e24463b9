"""Personal data in read text (OCR lines of a picture), and boxes that would cover it.

Rules, on text folded to half width character by character (so positions hold):
- phone: Chinese mobiles, 1[3-9] and 9 more digits, maybe after +86/86 and grouped with
  spaces or dashes; landlines with an area code, 0571-88889999 or (021) 62345678. Not
  when the digits run on (an order or waybill number) or follow an order-number label;
- id_card: 18-character resident ID numbers with a province code, a real birth date
  (1900-2099) and the ISO 7064 MOD 11-2 check character;
- bank_card: 16 to 19 digits, maybe grouped by four, passing Luhn, unless an order-number
  or waybill label stands right before them (订单号, 运单号, order, waybill, ...);
- address: after an address label (地址, 收货地址) the rest of the sentence; else from a
  province or a `XX市/区/县/镇` to the last street, number or building (路 街 号 栋 单元
  室 ...) and the number after it, when a digit, a province or two administrative units
  make it an address rather than words like 区别 or 知道;
- email; and the names given (the buyer's nickname, the order's receiver) as written,
  after NFKC, a Latin name not inside a longer word; names under 2 characters are ignored.
A stretch of text is suggested once: digits and e-mails belong to one kind only, and no two
suggestions cover the same characters of a line. A box covers just the matched characters:
the line's box cut in proportion to character widths (CJK and full-width count 2, others 1),
widened by half a unit each side within the line's box.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from evidence.ocr import TextLine

Box = tuple[float, float, float, float]  # left, top, width, height as fractions of the picture
Span = tuple[str, int, int]  # kind, start, end in a line's text
KINDS = ("phone", "id_card", "bank_card", "address", "name", "email")
# Kinds that own their characters: a phone number inside a card number is not a phone.
_EXCLUSIVE = {"email", "id_card", "bank_card", "phone"}

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])[1-8]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
_CARD = re.compile(r"(?<![\d-])(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?)(?![\d-])")
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?!\d)")
_LANDLINE = re.compile(
    r"(?<![\d-])(?:\(0\d{2,3}\) ?|0\d{2,3}[ -])[2-9]\d{6,7}(?:-\d{1,4})?(?![\d-])"
)
_ORDER_LABEL = re.compile(
    r"(?:单号|订单编号|订单|交易号|流水号|order|waybill|tracking|awb)(?:\s*(?:no|number|id))?"
    r"[^\d]{0,4}$",
    re.IGNORECASE,
)
_PROVINCE = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北"
    "|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_ADDRESS_LABEL = re.compile(r"(?:收货|收件|寄件|发货|送货|联系|详细|家庭)?地址\s*[:：]?\s*")
_ADDRESS_START = re.compile(rf"{_PROVINCE}|[\u4e00-\u9fff]{{2}}(?:市|区|县|镇)")
_PROVINCE_FIRST = re.compile(_PROVINCE)
_SENTENCE_END = re.compile(r"[。！？!?；;]")
# A street, number or building, and the house number or letters right after it.
_PLACE_END = re.compile(r"(?:路|街|道|巷|弄|村|号|栋|幢|单元|室|楼|小区|大厦)[0-9A-Za-z#-]*")
_UNIT = re.compile(r"省|市|区|县|镇|乡|旗")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Suggestion:
    """Personal data found on a picture, and a box (fractions) that would cover it."""

    id: str  # stable across readings of the same picture: kind, text and box
    kind: str
    text: str
    box: Box


def suggest(lines: list[TextLine], names: Sequence[str] = ()) -> list[Suggestion]:
    """Redaction boxes for the personal data in OCR lines, in reading order."""
    found: list[Suggestion] = []
    previous = ""
    for line in lines:
        folded = _fold(line.text)
        for kind, start, end in _spans(folded, names, previous):
            box = _sub_box(line, start, end)
            found.append(Suggestion(_id(kind, line.text[start:end], box), kind,
                                    line.text[start:end], box))  # fmt: skip
        previous = folded
    return found


def suggest_text(text: str, names: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The personal data in plain text (a chat export): (kind, text) in reading order."""
    return [(kind, text[start:end]) for kind, start, end in _spans(_fold(text), names, "")]


def _spans(text: str, names: Sequence[str], previous: str) -> list[Span]:
    """Every kind's matches, each stretch once, ordered by where they start."""
    taken: list[Span] = []
    candidates = [
        *(("email", m.start(), m.end()) for m in _EMAIL.finditer(text)),
        *(("id_card", m.start(), m.end()) for m in _ID_CARD.finditer(text) if _is_id(m[0])),
        *(("bank_card", m.start(), m.end()) for m in _CARD.finditer(text)
          if _luhn(m[0]) and not _labelled_order(text, m.start(), previous)),
        *(("phone", m.start(), m.end()) for pattern in (_MOBILE, _LANDLINE)
          for m in pattern.finditer(text) if not _labelled_order(text, m.start(), previous)),
        *_addresses(text),
        *_names(text, names),
    ]  # fmt: skip
    for kind, start, end in candidates:
        clash = any(
            (start, end) == (s, e)
            or (kind in _EXCLUSIVE and other in _EXCLUSIVE and start < e and s < end)
            for other, s, e in taken
        )
        if not clash:
            taken.append((kind, start, end))
    return sorted(taken, key=lambda span: (span[1], span[2]))


def _fold(text: str) -> str:
    """NFKC one character at a time, so that folded positions are the text's positions."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _is_id(number: str) -> bool:
    """Resident ID: a real birth date and the ISO 7064 MOD 11-2 check character."""
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def _luhn(number: str) -> bool:
    digits = [int(char) for char in number if char.isdigit()]
    if not 16 <= len(digits) <= 19:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _labelled_order(text: str, start: int, previous: str) -> bool:
    """An order or waybill number label right before the digits, or ending the line above."""
    before = text[max(0, start - 24) : start]
    return bool(
        _ORDER_LABEL.search(before) or (not before.strip() and _ORDER_LABEL.search(previous))
    )


def _addresses(text: str) -> list[Span]:
    """After an address label, the rest of the sentence; else province or city to the number."""
    label = _ADDRESS_LABEL.search(text)
    if label:
        stop = _SENTENCE_END.search(text, label.end())
        end = stop.start() if stop else len(text)
        begin = label.end()
    else:
        start = _ADDRESS_START.search(text)
        places = list(_PLACE_END.finditer(text, start.start())) if start else []
        if start is None or not places:
            return []
        begin, end = start.start(), places[-1].end()
        body = text[begin:end]
        strong = bool(re.search(r"\d", body)) or bool(_PROVINCE_FIRST.match(body))
        if not strong and len(_UNIT.findall(body)) < 2:
            return []
    while end > begin and text[end - 1] in " ，,:：":
        end -= 1
    return [("address", begin, end)] if end > begin else []


def _names(text: str, names: Sequence[str]) -> list[Span]:
    spans = []
    for name in names:
        wanted = _fold(unicodedata.normalize("NFKC", name)).strip()
        if len(wanted) < 2:
            continue
        start = text.find(wanted)
        while start >= 0:
            end = start + len(wanted)
            if _whole_word(text, start, end):
                spans.append(("name", start, end))
            start = text.find(wanted, start + 1)
    return spans


def _whole_word(text: str, start: int, end: int) -> bool:
    """A Latin name does not run on into letters (tom in tomorrow); OCR glues digits on."""

    def latin(char: str) -> bool:
        return char.isascii() and char.isalpha()

    before = start > 0 and latin(text[start - 1]) and latin(text[start])
    after = end < len(text) and latin(text[end]) and latin(text[end - 1])
    return not (before or after)


def _sub_box(line: TextLine, start: int, end: int) -> Box:
    """The part of the line's box over characters [start, end), by their widths."""
    units = [2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line.text]
    total = sum(units) or 1
    left, top, width, height = line.box
    unit = width / total
    x0 = max(left, left + unit * (sum(units[:start]) - 0.5))
    x1 = min(left + width, left + unit * (sum(units[:end]) + 0.5))
    x0, x1 = max(0.0, x0), min(1.0, x1)
    y0, y1 = max(0.0, top), min(1.0, top + height)
    return (x0, y0, x1 - x0, y1 - y0)


def _id(kind: str, text: str, box: Box) -> str:
    key = "\x1f".join([kind, text, *(f"{value:.4f}" for value in box)])
    return hashlib.blake2s(key.encode(), digest_size=6).hexdigest()
