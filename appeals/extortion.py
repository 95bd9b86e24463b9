"""Extortion found by what the buyer says: a demand for money tied to a threat.

A line is extortion when, in the buyer's own words, a demand (compensation, a refund,
cash back, "three times the price") comes with a threat (a bad review, a complaint,
12315, the media, a lawsuit) in the same message, or the threat follows the demand within
the buyer's next two messages. The seller's lines never count, and neither does an
ordinary chat that mentions 好评, a price difference (差价) or a refund on its own: each of
those is one half at most.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from evidence.chats import Message

THREAT = re.compile(
    r"差评|中评|一星|1星|负面评价|投诉|12315|12345|工商局?|市场监管|消协|消费者协会|曝光|媒体|记者|"
    r"微博|发到网上|举报|起诉|打官司|律师|法院|告你|"
    r"bad review|1-star|one[- ]star|negative review|report you|expose|the media|sue|lawyer|"
    r"chargeback|dispute with",
    re.IGNORECASE,
)
# A demand for money beyond the order's own refund: enough with any threat.
STRONG_DEMAND = re.compile(
    r"赔偿|赔钱|赔我|赔付|补偿|假一赔|[三十]倍|退一赔|返现|红包|打钱|转账|给我\s*\d+|\d+\s*[块元]|"
    r"私了|compensat|pay me|\$\s?\d+|\d+\s?(?:dollars|usd|eur)",
    re.IGNORECASE,
)
# A refund alone is what complaints ask for; it is extortion only on a condition.
DEMAND = re.compile(r"全额退款|退款|退钱|refund|money back", re.IGNORECASE)
CONDITION = re.compile(
    r"不.{0,12}(?:就|我就|的话)|否则|要不然|不然|要么|除非|如果不|不给|"
    r"or (?:else|i will|i'll)|otherwise|unless|if you don'?t",
    re.IGNORECASE,
)
# Words that make a praise or a price question out of what looks like one half.
_HARMLESS = re.compile(r"好评返现|给个好评|五星好评|差价|退差价|price difference", re.IGNORECASE)


@dataclass(frozen=True)
class Line:
    """One thing the buyer said, with where it came from."""

    source: str  # the file's display name, or "complaint"
    item_id: int | None
    line: int
    speaker: str
    at: str | None  # ISO 8601, UTC
    text: str


def buyer_messages(messages: Iterable[Message], buyer: str | None) -> list[Message]:
    """The buyer's messages: not the seller's side, and the buyer's name when it is known."""
    chosen = [m for m in messages if not m.self_side and m.kind == "text"]
    if buyer:
        named = [m for m in chosen if _same(m.speaker, buyer)]
        if named:
            return named
    speakers = {m.speaker for m in chosen}
    return chosen if len(speakers) <= 1 else [m for m in chosen if not _looks_like_staff(m.speaker)]


def _same(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return unicodedata.normalize("NFKC", text).strip().casefold()

    return norm(a) == norm(b)


def _looks_like_staff(speaker: str) -> bool:
    return bool(
        re.search(r"客服|旗舰店|专营店|专卖店|官方|店铺|小二|shop|store|support", speaker, re.I)
    )


def _clean(line: Line) -> str:
    text = _HARMLESS.sub("", line.text)
    # A complaint is a complaint: in its own text "投诉" threatens nothing.
    return text.replace("投诉", "") if line.source == "complaint" else text


def _threat(line: Line) -> bool:
    return bool(THREAT.search(_clean(line)))


def _demand(line: Line, conditional: bool) -> bool:
    text = _clean(line)
    return bool(STRONG_DEMAND.search(text) or (DEMAND.search(text) and conditional))


def extortion_lines(lines: list[Line]) -> list[Line]:
    """The lines (in order) where a demand and a threat meet."""
    found: list[Line] = []
    for index, line in enumerate(lines):
        if not _threat(line):
            continue
        conditional = bool(CONDITION.search(_clean(line)))
        if _demand(line, conditional):
            found.append(line)
            continue
        earlier = [e for e in lines[max(0, index - 2) : index] if e.source == line.source]
        demand = next((e for e in reversed(earlier) if _demand(e, conditional)), None)
        if demand is not None:
            if demand not in found:
                found.append(demand)
            found.append(line)
    return found
