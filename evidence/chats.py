"""Chat exports read as messages: who spoke, when, and what they said.

Layouts taken (from the exporters' own code and samples):
- a header line `speaker  2024-3-5 14:22:10` (time last, maybe glued to the name), then the
  text: Qianniu / Wangwang copied records, JD's session blocks;
- a header line `2023-05-01 12:00:00 speaker` (time first), then the text: WeChat exports of
  MemoTrace (留痕) / WeChatMsg;
- one line per message: `time | speaker | text`, `[time] speaker: text`, `speaker (time):text`
  (WechatExporter), `time speaker: text` (Wangwang's message manager), WhatsApp's
  `date, time - speaker: text` and `[date, time] speaker: text`;
- CSV exports with a header: MemoTrace (StrContent, IsSender, StrTime, NickName) and
  PyWxDump (msg, is_sender, talker, CreateTime).
Lines without a header continue the message above. Recalled messages stay recalled
("撤回了一条消息"), placeholders ([图片], <Media omitted>) stay placeholders, and the
conversation is sorted by time (stable for messages without one).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from evidence.cells import moment

# A date and time as chat tools write them: 2024-03-05 14:22:10, 2024/3/5 14:22, 2024年3月5日.
_DATE = r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
_STAMP = rf"{_DATE}[ T]?{_TIME}"
_WA_DATE = r"\d{1,4}[-/.]\s?\d{1,2}[-/.]\s?\d{1,4}"
_WA_TIME = r"\d{1,2}[.:]\d{2}(?:[.:]\d{2})?(?:[\s\u202f\u00a0]?[apAP]\.?\s?[mM]\.?)?"

_LINE_LAYOUTS = (
    # time | speaker | text
    re.compile(rf"^\s*(?P<time>{_STAMP})\s*[|｜]\s*(?P<speaker>[^|｜]{{1,80}}?)\s*[|｜]\s?(?P<text>.*)$"),
    # [time] speaker: text  /  time speaker: text (Wangwang message manager)
    re.compile(rf"^\s*\[?(?P<time>{_STAMP})\]?\s+(?P<speaker>[^:：\s][^:：]{{0,80}}?)[:：]\s?(?P<text>.*)$"),
    # speaker (time):text  (WechatExporter, Wangwang's 单聊 export)
    re.compile(rf"^\s*(?P<speaker>[^()（）]{{1,80}}?)\s?[(（](?P<time>{_STAMP})[)）]\s?[:：]\s?(?P<text>.*)$"),
    # WhatsApp: 12/31/23, 9:41 PM - Name: text   /   [31/12/2023, 21:41:05] Name: text
    re.compile(rf"^\s*(?P<time>{_WA_DATE},?\s{_WA_TIME})\s-\s(?P<speaker>[^:]{{1,80}}?):\s(?P<text>.*)$"),
    re.compile(rf"^\s*\[(?P<time>{_WA_DATE},?\s{_WA_TIME})\]\s(?P<speaker>[^:]{{1,80}}?):\s(?P<text>.*)$"),
    # speaker 10:02 text: a hand-copied chat with the time of day only
    re.compile(r"^\s*(?P<speaker>[^\s\d:：][^\s:：]{0,39})\s+(?P<clock>\d{1,2}:\d{2}(?::\d{2})?)\s+(?P<text>\S.*)$"),
)  # fmt: skip
# speaker ... time (time last), or time ... speaker, alone on a line; the text follows.
_HEAD_TIME_LAST = re.compile(rf"^\s*(?P<speaker>\S.{{0,80}}?)\s*(?P<time>{_STAMP})\s*$")
_HEAD_TIME_FIRST = re.compile(rf"^\s*(?P<time>{_STAMP})\s+(?P<speaker>\S.{{0,80}}?)\s*$")
_NOISE = re.compile(
    r"^\s*(?:/\*+.*\*+/|以下为一通会话|会话结束|-{5,}|={5,}|已读|未读|发送中|没有更多内容了|"
    r"Messages and calls are end-to-end encrypted)",
)
RECALLED = re.compile(
    r"撤回了一条消息|recalled a message|This message was deleted|You deleted this"
)
PLACEHOLDER = re.compile(
    r"^\s*(?:\[(?:图片|语音|视频|表情|表情包|文件|动画表情|位置|链接|音乐分享|红包|转账)\]|"
    r"<?(?:Media omitted|省略多媒体文件|image omitted|video omitted|audio omitted|sticker omitted|"
    r"GIF omitted|document omitted)>?|图片|视频|语音|表情)\s*$",
    re.IGNORECASE,
)
_RECALL_LINE = re.compile(r"^\s*(?P<speaker>.{0,80}?)\s*撤回了一条消息\s*$")
SELF_NAMES = {"我", "me", "you", "你", "self"}


@dataclass(frozen=True)
class Message:
    """One message: `line` is where its words start in the file, `at` is UTC (None: none)."""

    line: int
    speaker: str
    text: str
    at: datetime | None
    kind: str = "text"  # "text", "placeholder", "recalled"
    self_side: bool = False  # sent from the exporting account (IsSender, 我, 店铺:子账号)


def read_chat(text: str, zone: ZoneInfo) -> list[Message]:
    """The messages of a chat export, in time order; [] when it is no chat layout known."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub(r"[\u200e\u200f\u202a-\u202c]", "", text)
    found = _from_csv(text, zone)
    if found is None:
        found = max(
            (_by_lines(text, zone), _by_headers(text, zone, _HEAD_TIME_LAST),
             _by_headers(text, zone, _HEAD_TIME_FIRST)),
            key=len,
        )  # fmt: skip
    ordered = sorted(
        enumerate(found), key=lambda pair: (pair[1].at or datetime.min.replace(tzinfo=UTC), pair[0])
    )
    return [message for _, message in ordered]


def _message(line: int, speaker: str, body: str, at: datetime | None, own: bool) -> Message:
    body = body.strip()
    speaker = speaker.strip()
    kind = (
        "recalled"
        if RECALLED.search(body)
        else "placeholder"
        if PLACEHOLDER.match(body)
        else "text"
    )
    own = own or speaker.casefold() in SELF_NAMES or _seller_account(speaker)
    return Message(line, speaker, body, at, kind, own)


def _seller_account(speaker: str) -> bool:
    """Qianniu names a seller's sub-account `店铺名:子账号`; JD `店铺-客服`, `jimi_…`."""
    return bool(re.fullmatch(r"[^:：\s]+[:：][^:：\s]+", speaker) or speaker.startswith("jimi_"))


def _by_lines(text: str, zone: ZoneInfo) -> list[Message]:
    messages: list[Message] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip() or _NOISE.match(raw):
            continue
        for layout in _LINE_LAYOUTS:
            match = layout.match(raw)
            if match and "clock" in match.groupdict():  # no date: kept in file order
                messages.append(_message(number, match["speaker"], match["text"], None, False))
                break
            if match:
                at = _when(match["time"], zone)
                if at is not None:
                    messages.append(_message(number, match["speaker"], match["text"], at, False))
                    break
        else:
            recall = _RECALL_LINE.match(raw)
            if recall and messages:
                who = recall["speaker"].strip(' "“”') or messages[-1].speaker
                messages.append(_message(number, who, raw.strip(), messages[-1].at, False))
            elif messages:  # a continuation line of the message above
                last = messages[-1]
                messages[-1] = _message(last.line, last.speaker, f"{last.text}\n{raw}", last.at,
                                        last.self_side)  # fmt: skip
    return messages


def _by_headers(text: str, zone: ZoneInfo, header: re.Pattern[str]) -> list[Message]:
    messages: list[Message] = []
    current: tuple[int, str, datetime | None] | None = None
    body: list[str] = []

    first_line = 0  # where the words start: the line a reader is sent to

    def close() -> None:
        if current is not None and (body or RECALLED.search(current[1])):
            messages.append(_message(first_line or current[0], current[1],
                                     "\n".join(body) or current[1], current[2], False))  # fmt: skip

    for number, raw in enumerate(text.split("\n"), start=1):
        if _NOISE.match(raw):
            continue
        match = header.match(raw)
        at = _when(match["time"], zone) if match else None
        if match and at is not None:
            close()
            current, body, first_line = (number, match["speaker"], at), [], 0
        elif current is not None and _RECALL_LINE.match(raw):
            # `昵称 撤回了一条消息`: a message of its own, at the time of the one above
            close()
            match = _RECALL_LINE.match(raw)
            assert match is not None
            who = match["speaker"].strip(' "“”') or current[1]
            messages.append(_message(number, who, raw.strip(), current[2], False))
            current, body = None, []
        elif current is not None and raw.strip():
            first_line = first_line or number
            body.append(raw.rstrip())
    close()
    return messages


def _from_csv(text: str, zone: ZoneInfo) -> list[Message] | None:
    first = text.lstrip("\ufeff").split("\n", 1)[0].casefold()
    columns: tuple[str, str, str, tuple[str, ...]]
    if "strcontent" in first and "issender" in first:
        columns = ("strcontent", "issender", "strtime", ("nickname", "remark", "sender"))
    elif "msg" in first and "is_sender" in first:
        columns = ("msg", "is_sender", "createtime", ("talker",))
    else:
        return None
    body, own, stamp, names = columns
    rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    messages = []
    for number, row in enumerate(rows, start=2):
        row = {key.casefold(): (value or "") for key, value in row.items() if key}
        is_self = row.get(own, "").strip() in {"1", "true", "True"}
        speaker = next((row[n] for n in names if row.get(n)), "") or ("我" if is_self else "")
        messages.append(
            _message(number, speaker or ("我" if is_self else "?"), row.get(body, ""),
                     _when(row.get(stamp, ""), zone), is_self)
        )  # fmt: skip
    return messages


def _when(text: str, zone: ZoneInfo) -> datetime | None:
    """A chat time as UTC; times without a zone are the shop's.

    The layouts of exports and platforms are read as the order import reads them; what is
    left is WhatsApp's locale layouts (12/31/23, 9:41 PM; 31.12.2023, 21:41:05).
    """
    try:
        found = moment(text, zone)
    except ValueError:
        found = None
    if found is not None:
        return found
    value = unicodedata.normalize("NFKC", text).strip().replace("\u202f", " ")
    value = re.sub(r"\s+", " ", value.replace("/", "-"))
    match = re.fullmatch(
        r"(\d{1,4})[-.]\s?(\d{1,2})[-.]\s?(\d{1,4}),? (\d{1,2})[.:](\d{2})(?:[.:](\d{2}))?"
        r" ?([ap])?\.? ?m?\.?",
        value,
        re.IGNORECASE,
    )
    if not match:
        return None
    a, b, c, h, mi = (int(g) for g in match.groups()[:5])
    s = int(match[6] or 0)
    if match[7]:
        h = h % 12 + (12 if match[7].lower() == "p" else 0)
    if a > 31:
        y, mo, d = a, b, c
    else:
        y = c + 2000 if c < 100 else c
        mo, d = (a, b) if b > 12 else (b, a)  # day first unless the second part is a day
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=zone).astimezone(UTC)
    except ValueError:
        return None
