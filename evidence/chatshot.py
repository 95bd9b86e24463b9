"""Chat screenshots read as messages: who spoke, on which side, when, and what they said.

A phone chat screen is read from its OCR lines (evidence.ocr) and its pixels:
- chrome: the status and title bars above, the input bar below. Their edges are the first
  full-width rows of one colour other than the page's (a separator line, a coloured bar)
  near the top and the bottom; a phone-shaped picture without such rows loses its top 9%
  and bottom 6%. A line whose centre lies outside the body is dropped;
- time stamps: a line that is only a date or a time, centred or off any bubble, times the
  messages below it. Only a stamp with a year and a time of day gives an instant: 昨天,
  星期二, 11月3日 name a day that the picture cannot place, so `at` stays None;
- name lines: `name time` off any bubble (千牛's `tb_buyer 2026-11-03 14:20:05`) names the
  speaker and time of the bubble below; in a picture with bubbles, a line off any
  bubble right above one (a group chat's nickname) names the speaker of that one;
- bubbles: the other lines, left-aligned together with small gaps on one fill colour. The
  side is voted by geometry (which edge of the screen the bubble and its name line hug)
  and by the fill: when the bubbles come in colours, the most colourful one is the
  account's own (WeChat's green, 千牛's blue, WhatsApp's green, iMessage's blue).
Own messages are the right-hand side: the account that took the screenshot, the seller.
A speaker not written on the screen is "我" for the own side, the name chat exports give
the exporting account (evidence.chats.SELF_NAMES), and "对方" for the other side, as WeChat
calls the other party in its own notices ("对方撤回了一条消息").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy
from PIL import Image

from evidence.cells import moment
from evidence.chats import PLACEHOLDER, RECALLED, Message
from evidence.ocr import TextLine

Box = tuple[float, float, float, float]  # left, top, width, height as fractions of the picture
Colour = tuple[int, int, int]
Pixels = numpy.ndarray[Any, numpy.dtype[numpy.uint8]]

SELF_SPEAKER = "我"
OTHER_SPEAKER = "对方"
TOP_BAND, BOTTOM_BAND = 0.09, 0.06
# Fills closer than this (largest channel difference) are one colour: 千牛's light page and
# its white bubbles differ by 11.
SAME_FILL = 6
# The own bubble is this much more colourful (max - min channel) than the other side's.
COLOURFUL = 20

_DAY_WORD = (
    r"今天|昨天|前天|(?:星期|周|礼拜)[一二三四五六日天]|today|yesterday"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|wed|thu|fri|sat|sun"
)
_MONTH = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_WHEN = re.compile(
    r"^(?P<head>.*?)\s*(?:"
    r"(?:(?P<y>\d{4})\s?[-/.年]\s?)?(?P<mo>\d{1,2})\s?[-/.月]\s?(?P<d>\d{1,2})\s?日?"
    rf"|(?P<month>{_MONTH})[a-z]*\.?\s?(?P<md>\d{{1,2}}),?(?:\s(?P<my>\d{{4}}))?"
    rf"|(?P<word>{_DAY_WORD})\.?"
    r")?[\s,]*(?:(?P<half>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?\s?"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\s?(?P<ap>[ap])\.?m\.?)?)?[\s.,。]*$",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[，。！？!?;；、]")
_MONTHS = _MONTH.split("|")


@dataclass(frozen=True)
class ShotMessage:
    """A message read off a screenshot, with where it is and which OCR lines it came from."""

    line: int  # 1-based position of the message in the picture
    speaker: str
    text: str
    at: datetime | None
    kind: str  # "text", "placeholder", "recalled"
    self_side: bool
    box: Box  # covers its name line and its text
    lines: tuple[int, ...]  # indices into the OCR lines

    def as_message(self) -> Message:
        """The message as chat exports give it to the dossier."""
        return Message(self.line, self.speaker, self.text, self.at, self.kind, self.self_side)


@dataclass
class _Row:
    """OCR pieces side by side on one height, in pixels, with the fill behind them."""

    pieces: list[tuple[float, int, str]]  # left, OCR index, text
    left: float
    top: float
    right: float
    bottom: float
    fill: Colour = (0, 0, 0)
    on_bubble: bool = False

    @property
    def text(self) -> str:
        return _join([text for _, _, text in sorted(self.pieces)], wrapped=False)

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class _Bubble:
    rows: list[_Row]
    speaker: str | None
    at: datetime | None
    header: _Row | None = None
    own: bool | None = None  # known from the words (a recall notice)
    kind: str = "text"


@dataclass(frozen=True)
class _When:
    head: str
    at: datetime | None
    clock: bool


def read_chatshot(picture: Image.Image, lines: list[TextLine], zone: ZoneInfo) -> list[ShotMessage]:
    """The messages of a chat screenshot, top to bottom; times without a zone are `zone`'s."""
    pixels: Pixels = numpy.asarray(picture.convert("RGB"))
    height, width = pixels.shape[:2]
    page = _page_fill(pixels)
    top, bottom = _body(pixels, page)
    rows = _rows(lines, width, height, top, bottom)
    for row in rows:
        row.fill = _fill(pixels, row.left, row.top, row.right, row.bottom)
        row.on_bubble = _distance(row.fill, page) > SAME_FILL
    bubbles = _bubbles(rows, width, zone)
    sides = _sides(pixels, bubbles, page, width)
    pairs = enumerate(zip(bubbles, sides, strict=True), start=1)
    return [_message(number, bubble, own, width, height) for number, (bubble, own) in pairs]


def _bubbles(rows: list[_Row], width: int, zone: ZoneInfo) -> list[_Bubble]:
    """Rows read in order: stamps set the time, name lines wait for their bubble."""
    bubbles: list[_Bubble] = []
    stamp_at: datetime | None = None
    header: tuple[_Row, str, datetime | None] | None = None
    has_bubbles = any(row.on_bubble for row in rows)
    current: _Bubble | None = None  # the bubble the next line may continue
    for index, row in enumerate(rows):
        text = unicodedata.normalize("NFKC", row.text)
        centred = abs(row.left + row.right - width) < 0.12 * width
        when = _when(text, zone)
        recalled = RECALLED.search(text)
        if when and not when.head and (centred or not row.on_bubble):
            stamp_at, header, current = when.at, None, None
        elif recalled and (centred or not row.on_bubble):
            bubbles.append(_recall(row, text[: recalled.start()], stamp_at))
            current = None
        elif when and when.clock and _speaker_like(when.head) and not row.on_bubble:
            header, current = (row, when.head, when.at), None
        elif has_bubbles and not row.on_bubble and _names_next(rows, index, width):
            header, current = (row, text, stamp_at), None
        elif has_bubbles and not row.on_bubble and (centred or index == len(rows) - 1):
            # A system notice ("以下是新消息", "你已添加了…"), or a name line whose bubble
            # the screen's bottom edge cut off.
            current = None
        elif current is not None and _continues(current.rows[-1], row):
            current.rows.append(row)
        else:
            name_row, speaker, at = header if header else (None, None, stamp_at)
            current = _Bubble([row], speaker, at, name_row)
            bubbles.append(current)
            header = None
    return bubbles


def _recall(row: _Row, who: str, at: datetime | None) -> _Bubble:
    """A recall notice: "对方撤回了一条消息", "你撤回了一条消息", "tb_buyer 撤回了一条消息"."""
    who = who.strip(" \"“”'")
    own = who.casefold() in {"你", "you", "我"}
    speaker = SELF_SPEAKER if own else (who or OTHER_SPEAKER)
    return _Bubble([row], speaker, at, own=own, kind="recalled")


def _names_next(rows: list[_Row], index: int, width: int) -> bool:
    """A line off the bubbles right above one: a nickname (group chats, 千牛 without time)."""
    if index + 1 >= len(rows):
        return False
    row, below = rows[index], rows[index + 1]
    return (
        below.on_bubble
        and 0 <= below.top - row.bottom < row.height
        and _speaker_like(unicodedata.normalize("NFKC", row.text))
        and abs(row.left + row.right - width) >= 0.12 * width
    )


def _speaker_like(text: str) -> bool:
    return 0 < len(text) <= 40 and not _SENTENCE.search(text)


def _continues(above: _Row, row: _Row) -> bool:
    """The next line of the same bubble: close below, same left edge, same fill."""
    size = min(above.height, row.height)
    return (
        -0.3 * size < row.top - above.bottom < 0.6 * size
        and abs(row.left - above.left) < 0.6 * size
        and row.on_bubble == above.on_bubble
        and _distance(row.fill, above.fill) <= 2 * SAME_FILL
    )


def _when(text: str, zone: ZoneInfo) -> _When | None:
    """The date or time a line ends with, and what comes before it; None when it has none."""
    match = _WHEN.match(text) if len(text) <= 80 else None
    if match is None or not any(match[key] for key in ("mo", "month", "word", "h")):
        return None
    if match["mo"]:
        month, day = int(match["mo"]), int(match["d"])
    elif match["month"]:
        month, day = _MONTHS.index(match["month"][:3].lower()) + 1, int(match["md"])
    else:
        month = day = 1
    hour, minute, second = (int(match[key] or 0) for key in ("h", "mi", "s"))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 59):
        return None
    year = match["y"] or match["my"]
    at = None
    if year and match["h"]:
        hour = _hour(hour, match["half"], match["ap"])
        try:
            at = moment(f"{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}", zone)
        except ValueError:
            at = None
    return _When(match["head"].strip(), at, bool(match["h"]))


def _hour(hour: int, half: str | None, ap: str | None) -> int:
    """A 12-hour clock read as 24 hours: 下午2:23 is 14:23, 中午1:05 is 13:05, 凌晨12:30 0:30."""
    if half in ("下午", "傍晚", "晚上") or (ap or "").lower() == "p":
        return hour + 12 if hour < 12 else hour
    if half == "中午":
        return hour + 12 if hour < 11 else hour
    if half or ap:
        return 0 if hour == 12 else hour
    return hour


def _sides(pixels: Pixels, bubbles: list[_Bubble], page: Colour, width: int) -> list[bool]:
    """Each bubble's side, voted by the edge it hugs and the colour it is filled with."""
    fills = [_fill(pixels, *_span(bubble.rows)) for bubble in bubbles]
    filled = [_distance(fill, page) > SAME_FILL for fill in fills]
    shades: list[Colour] = []
    for fill, is_filled in zip(fills, filled, strict=True):
        if is_filled and all(_distance(fill, shade) > 4 * SAME_FILL for shade in shades):
            shades.append(fill)
    sides = []
    for bubble, fill, is_filled in zip(bubbles, fills, filled, strict=True):
        if bubble.own is not None:
            sides.append(bubble.own)
            continue
        rows = bubble.rows + ([bubble.header] if bubble.header else [])
        left, _top, right, _bottom = _span(rows)
        geometry = max(-1.0, min(1.0, (left - (width - right)) / (0.1 * width)))
        colour = _colour_vote(fill, shades) if is_filled else 0.0
        sides.append(geometry + colour > 0)
    return sides


def _colour_vote(fill: Colour, shades: list[Colour]) -> float:
    """+ for the own side's colour, - for the other's; strong when both sides are seen."""
    chroma = [max(shade) - min(shade) for shade in shades]
    mine = min(range(len(shades)), key=lambda i: _distance(fill, shades[i]))
    if len(shades) >= 2:
        if max(chroma) - min(chroma) < COLOURFUL:
            return 0.0
        return 2.0 if chroma[mine] == max(chroma) else -2.0
    if chroma[mine] >= 25:
        return 0.5
    return -0.5 if chroma[mine] <= 12 else 0.0


def _message(number: int, bubble: _Bubble, own: bool, width: int, height: int) -> ShotMessage:
    text = _join([row.text for row in bubble.rows], wrapped=True)
    kind = bubble.kind
    if RECALLED.search(text):
        kind = "recalled"
    elif PLACEHOLDER.match(text):
        kind = "placeholder"
    speaker = bubble.speaker or (SELF_SPEAKER if own else OTHER_SPEAKER)
    rows = bubble.rows + ([bubble.header] if bubble.header else [])
    left, top, right, bottom = _span(rows)
    box = (left / width, top / height, (right - left) / width, (bottom - top) / height)
    indices = tuple(sorted(index for row in rows for _, index, _ in row.pieces))
    return ShotMessage(number, speaker, text, bubble.at, kind, own, box, indices)


def _rows(lines: list[TextLine], width: int, height: int, top: float, bottom: float) -> list[_Row]:
    """Lines inside the body, pieces on one height joined (OCR splits `name` and `time`)."""
    rows: list[_Row] = []
    for index, line in sorted(enumerate(lines), key=lambda pair: (pair[1].box[1], pair[1].box[0])):
        left, y0 = line.box[0] * width, line.box[1] * height
        right, y1 = left + line.box[2] * width, y0 + line.box[3] * height
        if not top <= (y0 + y1) / 2 <= bottom:
            continue
        row = next((r for r in rows[-3:] if _beside(r, left, y0, right, y1)), None)
        if row is None:
            rows.append(_Row([(left, index, line.text)], left, y0, right, y1))
            continue
        row.pieces.append((left, index, line.text))
        row.left, row.top = min(row.left, left), min(row.top, y0)
        row.right, row.bottom = max(row.right, right), max(row.bottom, y1)
    return sorted(rows, key=lambda row: row.top)


def _beside(row: _Row, left: float, top: float, right: float, bottom: float) -> bool:
    size = min(row.height, bottom - top)
    overlap = min(row.bottom, bottom) - max(row.top, top)
    gap = max(left - row.right, row.left - right, 0.0)
    return overlap > 0.5 * size and gap < 2 * size


def _join(parts: list[str], *, wrapped: bool) -> str:
    """Text pieces as one: no space at CJK, a space between Latin words.

    A wrapped digit run (an order number broken over two lines) is kept whole; pieces side
    by side on one line were apart on the screen, so their digits were too.
    """
    text = ""
    for part in (part.strip() for part in parts):
        if not part:
            continue
        latin = text and not _wide(text[-1]) and not _wide(part[0])
        if latin and not (wrapped and text[-1].isdigit() and part[0].isdigit()):
            text += " "
        text += part
    return text


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _span(rows: list[_Row]) -> tuple[float, float, float, float]:
    return (min(row.left for row in rows), min(row.top for row in rows),
            max(row.right for row in rows), max(row.bottom for row in rows))  # fmt: skip


def _fill(pixels: Pixels, left: float, top: float, right: float, bottom: float) -> Colour:
    """The commonest colour of a region: the fill behind the text in it."""
    height, width = pixels.shape[:2]
    x0, x1 = max(0, int(left)), min(width, max(int(left) + 1, int(right)))
    y0, y1 = max(0, int(top)), min(height, max(int(top) + 1, int(bottom)))
    return _commonest(pixels[y0:y1:2, x0:x1:2].reshape(-1, 3))


def _commonest(region: Pixels) -> Colour:
    if region.size == 0:
        return (0, 0, 0)
    binned = region.astype(numpy.int32) // 4
    keys = binned[:, 0] * 4096 + binned[:, 1] * 64 + binned[:, 2]
    mode = int(numpy.bincount(keys).argmax())
    red, green, blue = (round(float(v)) for v in region[keys == mode].mean(axis=0))
    return (red, green, blue)


def _distance(one: Colour, other: Colour) -> int:
    return max(abs(a - b) for a, b in zip(one, other, strict=True))


def _page_fill(pixels: Pixels) -> Colour:
    """The page behind the bubbles: the colour of the screen's side margins."""
    height, width = pixels.shape[:2]
    strip = max(1, int(width * 0.015))
    body = pixels[int(height * 0.1) : int(height * 0.9)]
    margins = numpy.concatenate((body[::2, :strip], body[::2, width - strip :]), axis=1)
    return _commonest(margins.reshape(-1, 3))


def _body(pixels: Pixels, page: Colour) -> tuple[float, float]:
    """Where the conversation is, between the title bar and the input bar (pixel rows)."""
    height, width = pixels.shape[:2]
    zone = int(height * 0.15)
    tops = numpy.flatnonzero(_bar_rows(pixels[:zone], page))
    bottoms = numpy.flatnonzero(_bar_rows(pixels[height - zone :], page)) + height - zone
    top = float(tops[-1] + 1) if tops.size and tops[-1] >= 0.03 * height else None
    bottom = float(bottoms[0]) if bottoms.size and bottoms[0] <= 0.97 * height else None
    if height < 1.6 * width:  # not a whole phone screen: a crop keeps all it shows
        return top or 0.0, bottom or float(height)
    return top or TOP_BAND * height, bottom or (1 - BOTTOM_BAND) * height


def _bar_rows(band: Pixels, page: Colour) -> numpy.ndarray[Any, numpy.dtype[numpy.bool_]]:
    """Rows of one colour across the screen that is not the page's: a bar or a separator."""
    if band.shape[0] == 0 or band.shape[1] == 0:
        return numpy.zeros(band.shape[0], dtype=numpy.bool_)
    sample = band[:, ::4].astype(numpy.int16)
    middle = numpy.median(sample, axis=1)
    close = (numpy.abs(sample - middle[:, None, :]).max(axis=2) <= SAME_FILL).mean(axis=1)
    apart = numpy.abs(middle - numpy.array(page)).max(axis=1) > SAME_FILL
    return numpy.asarray((close >= 0.97) & apart)
