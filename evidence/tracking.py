"""Courier traces read as tracking events: when, what happened, who signed.

Takes the text sellers paste from a courier's site or app (SF, ZTO, YTO, Yunda, STO, JD,
EMS / China Post, J&T, Cainiao stations and lockers), one event per line with its time
(`2024-03-01 10:12:33 快件已发往…`, the date alone on a line above time-only lines, or a
year-less `03-01 10:12`), and the JSON of trace APIs (Kuaidi100's `data: [{time, context}]`,
Kdniao's `Traces: [{AcceptTime, AcceptStation}]`). Each event gets a state by the
couriers' own words, most specific first; waybill numbers found in the text are listed so
the trace can be linked to its order.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class TrackState(StrEnum):
    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AT_STATION = "at_station"  # held at a station or locker, waiting to be picked up
    SIGNED = "signed"
    RETURNED = "returned"
    PROBLEM = "problem"
    OTHER = "other"


# Most specific first: "签收人凭取货码签收" is signed, not waiting at the station.
_RULES: tuple[tuple[TrackState, tuple[str, ...]], ...] = (
    (TrackState.RETURNED, ("退回", "退签", "拒签", "拒收", "退件", "退货签收", "已销单", "已拦截",
                           "returned to sender", "refused")),
    (TrackState.PROBLEM, ("投递失败", "派送失败", "派送不成功", "派件异常", "无人接收", "疑难",
                          "问题件", "无法联系", "地址不详", "电话错误", "破损", "超时未取",
                          "delivery failed", "exception")),
    (TrackState.SIGNED, ("已签收", "签收人", "本人签收", "他人代签", "代签", "已妥投", "妥投",
                         "投递并签收", "已取件", "已取出", "取件成功", "已领取", "signed",
                         "delivered")),
    (TrackState.AT_STATION, ("驿站", "代收点", "快递柜", "丰巢", "自提柜", "智能柜", "取件码",
                             "提货码", "取货码", "待取件", "请及时取件", "已入柜", "暂存",
                             "代收", "上门自提", "兔喜", "速递易", "pickup point", "locker")),
    (TrackState.OUT_FOR_DELIVERY, ("派件中", "派送中", "正在派件", "正在派送", "为您派送",
                                   "开始配送", "已出发", "安排投递", "正在投递", "派件员",
                                   "快递员", "配送员", "out for delivery")),
    (TrackState.COLLECTED, ("已揽收", "揽收", "已收件", "收取快件", "已收寄", "已揽件", "揽件",
                            "已打包", "picked up", "collected")),
    (TrackState.IN_TRANSIT, ("运输中", "已发出", "发往", "到达", "已到达", "离开", "转运",
                             "中转", "分拣", "在途", "已装车", "处理中心", "分拨", "已收入",
                             "in transit", "departed", "arrived")),
)  # fmt: skip

# Waybill numbers as the couriers issue them (public auto-detect tables; heuristics).
WAYBILL = re.compile(
    r"(?<![0-9A-Za-z])(?:SF\d{12,13}|YT\d{13}|JT\d{12,13}|JD[A-Z0-9]{2}\d{11}|JD[XK]\d{12}|"
    r"DPK\d{11,12}|[A-Z]{2}\d{9}[A-Z]{2}|\d{12,15})(?![0-9A-Za-z])"
)
_STAMP = re.compile(
    r"(?P<date>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}[-/月]\d{1,2}日?)?\s*"
    r"(?P<time>\d{1,2}:\d{2}(?::\d{1,2})?)"
)
_DATE_ALONE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s+\S*)?\s*$")
_SIGNER = re.compile(r"签收人\s*[:：]?\s*(?:是\s*)?【?([^，,。\s】]{1,20})")


@dataclass(frozen=True)
class TrackEvent:
    line: int
    at: datetime | None  # UTC
    state: TrackState
    text: str
    signer: str | None = None


@dataclass(frozen=True)
class Trace:
    events: list[TrackEvent]  # in time order
    waybills: list[str]

    def first(self, *states: TrackState) -> TrackEvent | None:
        return next((event for event in self.events if event.state in states), None)


def state_of(text: str) -> TrackState:
    lowered = unicodedata.normalize("NFKC", text).casefold()
    for state, words in _RULES:
        if any(word in lowered for word in words):
            return state
    return TrackState.OTHER


def read_trace(text: str, zone: ZoneInfo, *, year: int | None = None) -> Trace:
    """The events of a courier trace; `year` completes dates written without one."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    events = _from_json(text, zone) or _from_lines(text, zone, year)
    events.sort(key=lambda e: (e.at or datetime.min.replace(tzinfo=UTC), e.line))
    waybills = list(dict.fromkeys(WAYBILL.findall(unicodedata.normalize("NFKC", text))))
    return Trace(events, waybills)


def _event(line: int, at: datetime | None, text: str) -> TrackEvent:
    text = text.strip(" \t|,，;；-")
    signer = _SIGNER.search(text)
    who = signer.group(1).removesuffix("签收") or signer.group(1) if signer else None
    return TrackEvent(line, at, state_of(text), text, who)


def _from_lines(text: str, zone: ZoneInfo, year: int | None) -> list[TrackEvent]:
    events: list[TrackEvent] = []
    day: tuple[int, int, int] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = unicodedata.normalize("NFKC", raw).strip()
        if not line:
            continue
        alone = _DATE_ALONE.match(line)
        if alone:
            day = (int(alone[1]), int(alone[2]), int(alone[3]))
            continue
        match = _STAMP.search(line)
        if match is None or match.start() > 12:
            if events and not match:  # the event above, carried onto a second line
                last = events[-1]
                events[-1] = _event(last.line, last.at, f"{last.text} {line}")
            continue
        at = _moment(match["date"], match["time"], day, zone, year)
        rest = (line[: match.start()] + " " + line[match.end() :]).strip()
        if rest:
            events.append(_event(number, at, rest))
    return events


def _moment(
    date: str | None, clock: str, day: tuple[int, int, int] | None, zone: ZoneInfo, year: int | None
) -> datetime | None:
    numbers = [int(n) for n in re.findall(r"\d+", date or "")]
    if len(numbers) == 3:
        y, m, d = numbers
    elif len(numbers) == 2 and year:
        y, (m, d) = year, numbers
    elif not numbers and day:
        y, m, d = day
    else:
        return None
    parts = [int(n) for n in clock.split(":")] + [0]
    try:
        return datetime(y, m, d, parts[0], parts[1], parts[2], tzinfo=zone).astimezone(UTC)
    except ValueError:
        return None


def _from_json(text: str, zone: ZoneInfo) -> list[TrackEvent]:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return []
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return []
    if isinstance(data, dict):
        for key in ("lastResult", "result"):
            if isinstance(data.get(key), dict):
                data = data[key]
        data = data.get("data") or data.get("Traces") or data.get("traces") or []
    events = []
    if not isinstance(data, list):
        return []
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            continue
        when = str(entry.get("ftime") or entry.get("time") or entry.get("AcceptTime") or
                   entry.get("acceptTime") or "")  # fmt: skip
        what = str(entry.get("context") or entry.get("AcceptStation") or
                   entry.get("acceptStation") or "")  # fmt: skip
        match = _STAMP.search(when)
        at = _moment(match["date"], match["time"], None, zone, None) if match else None
        if what:
            events.append(_event(number, at, what))
    return events
