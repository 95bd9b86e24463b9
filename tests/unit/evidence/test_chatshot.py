"""Chat screenshots read as messages: each on its side, as written, at its time, and nothing
else (time stamps, titles, name lines, the app's bars) read as a message.

Pictures are drawn by tests/chatshots.py (WeChat and 千牛, light and dark) and read by the
real OCR once per picture. The smaller cases lay OCR lines by hand over painted bubbles.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from evidence.chats import Message
from evidence.chatshot import OTHER_SPEAKER, SELF_SPEAKER, ShotMessage, read_chatshot
from evidence.ocr import TextLine, read_picture
from tests.chatshots import EXTORTION, Said, Shot, render

ZONE = ZoneInfo("Asia/Shanghai")
# Several messages in a row from each side, a long bubble, English wrapped over lines, short
# own replies hugging the right, and the 12-hour, relative and time-only times apps write.
BARGAIN = [
    Said(False, "Hi, is this still available? I need two pieces by Friday please",
         "2026年11月3日 下午2:23"),
    Said(False, "在吗"),
    Said(False, "能便宜点吗"),
    Said(True, "好的", "2026年11月3日 下午2:25"),
    Said(True, "亲，这款是新品，目前已经是活动价了，满两件还可以再减十元，下单前记得领取店铺"
         "优惠券哦，有问题随时联系我们"),
    Said(False, "OK thanks", "昨天 14:30"),
    Said(True, "收到，谢谢", "14:31"),
]  # fmt: skip
CONVERSATIONS = {"extortion": EXTORTION, "bargain": BARGAIN}
CASES = [
    (conversation, layout, theme)
    for conversation in CONVERSATIONS
    for layout in ("wechat", "qianniu")
    for theme in ("light", "dark")
]
# Times as written, as instants; None: a day (昨天) or no day at all, which no picture places.
INSTANTS = {
    "2026年11月3日 下午2:23": datetime(2026, 11, 3, 6, 23, tzinfo=UTC),
    "2026年11月3日 下午2:25": datetime(2026, 11, 3, 6, 25, tzinfo=UTC),
    "昨天 14:30": None,
    "14:31": None,
}


@dataclass(frozen=True)
class Reading:
    shot: Shot
    lines: list[TextLine]
    messages: list[ShotMessage]


Read = Callable[[str, str, str], Reading]


@pytest.fixture(scope="module")
def readings() -> Read:
    """Each picture is drawn and read once for the module (OCR takes about a second)."""
    cache: dict[tuple[str, str, str], Reading] = {}

    def read(conversation: str, layout: str, theme: str) -> Reading:
        key = (conversation, layout, theme)
        if key not in cache:
            shot = render(CONVERSATIONS[conversation], layout=layout, theme=theme)
            lines = read_picture(shot.image)
            cache[key] = Reading(shot, lines, read_chatshot(shot.image, lines, ZONE))
        return cache[key]

    return read


def plain(text: str) -> str:
    """Words without punctuation or spaces, as OCR variants (，/, and 一/-) compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("一", "-")
    return "".join(char for char in text if unicodedata.category(char)[0] not in "PZS")


def instant(written: str | None) -> datetime | None:
    if written is None or written in INSTANTS:
        return INSTANTS.get(written or "")
    return datetime.strptime(written, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZONE).astimezone(UTC)


def expected_times(said: list[Said], layout: str) -> list[datetime | None]:
    """WeChat's stamp times every message below it; 千牛 writes each message's own time."""
    if layout == "qianniu":
        return [instant(message.at) for message in said]
    times, current = [], None
    for message in said:
        current = instant(message.at) if message.at else current
        times.append(current)
    return times


@pytest.mark.parametrize(("conversation", "layout", "theme"), CASES)
def test_every_message_is_read_on_its_side(
    readings: Read, conversation: str, layout: str, theme: str
) -> None:
    reading = readings(conversation, layout, theme)
    assert [m.self_side for m in reading.messages] == [s.seller for s in reading.shot.said]


@pytest.mark.parametrize(("conversation", "layout", "theme"), CASES)
def test_every_message_reads_as_written(
    readings: Read, conversation: str, layout: str, theme: str
) -> None:
    reading = readings(conversation, layout, theme)
    read = [plain(m.text) for m in reading.messages]
    written = [plain(s.text) for s in reading.shot.said]
    assert len(read) == len(written)
    # The reader may miss a character (OCR), never a line or a bubble: each message holds
    # at least 95% of what was written, and every number in it exactly.
    for got, want in zip(read, written, strict=True):
        assert SequenceMatcher(None, got, want).ratio() >= 0.95, (got, want)
        assert re.findall(r"\d+", got) == re.findall(r"\d+", want)
    assert [m.line for m in reading.messages] == list(range(1, len(reading.shot.said) + 1))


@pytest.mark.parametrize(("conversation", "layout", "theme"), CASES)
def test_messages_are_at_the_instant_written_above_them(
    readings: Read, conversation: str, layout: str, theme: str
) -> None:
    reading = readings(conversation, layout, theme)
    assert [m.at for m in reading.messages] == expected_times(reading.shot.said, layout)


@pytest.mark.parametrize(("conversation", "layout", "theme"), CASES)
def test_stamps_titles_and_name_lines_are_not_message_text(
    readings: Read, conversation: str, layout: str, theme: str
) -> None:
    reading = readings(conversation, layout, theme)
    chrome = [plain(drawn.text) for drawn in reading.shot.lines if drawn.role != "message"]
    assert chrome
    for message in reading.messages:
        assert not [words for words in chrome if words in plain(message.text)]


@pytest.mark.parametrize(("conversation", "layout", "theme"), CASES)
def test_speakers_are_the_names_written_or_the_sides(
    readings: Read, conversation: str, layout: str, theme: str
) -> None:
    reading = readings(conversation, layout, theme)
    if layout == "qianniu":  # OCR may read 小店:客服 as 小店：客服
        wanted = ["小店:客服" if s.seller else "tb_buyer" for s in reading.shot.said]
    else:
        wanted = [SELF_SPEAKER if s.seller else OTHER_SPEAKER for s in reading.shot.said]
    assert [m.speaker for m in reading.messages] == wanted


@pytest.mark.parametrize(("conversation", "layout", "theme"), CASES)
def test_each_box_covers_its_bubble_text(
    readings: Read, conversation: str, layout: str, theme: str
) -> None:
    reading = readings(conversation, layout, theme)
    width, height = reading.shot.image.size
    for message in reading.messages:
        left, top, box_width, box_height = message.box
        for drawn in (d for d in reading.shot.lines if d.message == message.line - 1):
            x, y = (
                (drawn.box[0] + drawn.box[2]) / 2 / width,
                (drawn.box[1] + drawn.box[3]) / 2 / height,
            )
            assert left <= x <= left + box_width and top <= y <= top + box_height
        assert all(0 <= index < len(reading.lines) for index in message.lines)


def test_a_message_is_handed_to_the_dossier_as_a_chat_message(readings: Read) -> None:
    message = readings("extortion", "qianniu", "light").messages[5]
    assert message.as_message() == Message(
        6, "tb_buyer", message.text, datetime(2026, 11, 3, 6, 25, 12, tzinfo=UTC), "text", False
    )
    assert "15867123409" in message.text


def test_a_cropped_shrunk_jpeg_reads_the_messages_it_shows() -> None:
    shot = render(EXTORTION, layout="wechat", theme="dark")
    crop = shot.image.crop((0, 500, 1080, 1500)).resize((720, 667))
    saved = io.BytesIO()
    crop.save(saved, "JPEG", quality=70)
    picture = Image.open(io.BytesIO(saved.getvalue()))
    messages = read_chatshot(picture, read_picture(picture), ZONE)
    cut = {d.message for d in shot.lines if d.box[1] < 500 or d.box[3] > 1500}
    inside = sorted({d.message for d in shot.lines if d.message is not None} - cut)
    assert [plain(m.text) for m in messages] == [plain(EXTORTION[i].text) for i in inside]
    assert [m.self_side for m in messages] == [EXTORTION[i].seller for i in inside]
    assert [m.at for m in messages] == [instant(EXTORTION[i].at) for i in inside]


# Hand-laid OCR lines over painted bubbles: no OCR, the reading rules alone.

GREEN, WHITE, PAGE = "#95EC69", "#FFFFFF", "#EDEDED"
Laid = tuple[str, tuple[int, int, int, int]]  # a line's text and its box in pixels


def piece(text: str, x: int, y: int, *, right: bool = False) -> Laid:
    """A line as OCR boxes it, 48 px characters (Latin 26 px); `x` is its right edge if `right`."""
    width = sum(48 if unicodedata.east_asian_width(c) in "WF" else 26 for c in text)
    left = x - width if right else x
    return text, (left, y, left + width, y + 58)


def centred(text: str, y: int) -> Laid:
    width = sum(48 if unicodedata.east_asian_width(c) in "WF" else 26 for c in text)
    return piece(text, 540 - width // 2, y)


def screen(*laid: tuple[Laid, str | None]) -> list[ShotMessage]:
    """Read lines laid on a 1080x2400 page, each on a bubble of its fill (None: the page)."""
    picture = Image.new("RGB", (1080, 2400), PAGE)
    draw = ImageDraw.Draw(picture)
    lines = []
    for (text, (x0, y0, x1, y1)), fill in laid:
        if fill:
            draw.rectangle((x0 - 30, y0 - 25, x1 + 30, y1 + 25), fill=fill)
        lines.append(
            TextLine(text, (x0 / 1080, y0 / 2400, (x1 - x0) / 1080, (y1 - y0) / 2400), 0.99)
        )
    return read_chatshot(picture, lines, ZONE)


@pytest.mark.parametrize(
    ("stamp", "at"),
    [
        ("2026-11-03 14:20:05", datetime(2026, 11, 3, 6, 20, 5, tzinfo=UTC)),
        ("2026年11月3日 下午2:23", datetime(2026, 11, 3, 6, 23, tzinfo=UTC)),
        ("2026/11/3 中午12:30", datetime(2026, 11, 3, 4, 30, tzinfo=UTC)),
        ("2026年11月3日 中午1:05", datetime(2026, 11, 3, 5, 5, tzinfo=UTC)),
        ("2026年11月3日 凌晨12:30", datetime(2026, 11, 2, 16, 30, tzinfo=UTC)),
        ("2026-11-03 9:10 PM", datetime(2026, 11, 3, 13, 10, tzinfo=UTC)),
        ("Nov 3, 2026 9:10 AM", datetime(2026, 11, 3, 1, 10, tzinfo=UTC)),
        ("昨天 14:23", None),
        ("11月3日 下午2:23", None),
        ("14:23", None),
        ("星期二 09:10", None),
        ("Yesterday 9:41 PM", None),
        ("今天", None),
    ],
)
def test_a_stamp_times_the_message_below_and_is_no_message(stamp: str, at: datetime | None) -> None:
    messages = screen((centred(stamp, 400), None), (piece("你好", 210, 520), WHITE))
    assert [(m.text, m.at, m.self_side) for m in messages] == [("你好", at, False)]


def test_a_stamp_lasts_until_the_next_one() -> None:
    messages = screen(
        (centred("2026-11-03 14:20:05", 400), None),
        (piece("在吗", 210, 520), WHITE),
        (piece("在的", 870, 700, right=True), GREEN),
        (centred("14:31", 880), None),
        (piece("好", 210, 1000), WHITE),
    )
    first = datetime(2026, 11, 3, 6, 20, 5, tzinfo=UTC)
    assert [(m.text, m.at) for m in messages] == [("在吗", first), ("在的", first), ("好", None)]


@pytest.mark.parametrize(
    "header",
    [
        [piece("小店:客服 2026-11-03 14:21:10", 420, 400)],
        [piece("小店：客服2026-11-03 14:21:10", 420, 400)],  # glued, full-width colon
        [piece("小店：客服", 420, 400), piece("2026-11-03 14:21:10", 600, 402)],  # split
    ],
)
def test_a_name_line_names_and_times_the_bubble_below(header: list[Laid]) -> None:
    laid = [(line, None) for line in header]
    messages = screen(*laid, (piece("亲，在的", 870, 520, right=True), GREEN))
    assert [(m.speaker, m.text, m.at, m.self_side) for m in messages] == [
        ("小店:客服", "亲，在的", datetime(2026, 11, 3, 6, 21, 10, tzinfo=UTC), True)
    ]
    assert messages[0].lines == tuple(range(len(header) + 1))


@pytest.mark.parametrize(
    "cut", [[piece("tb_buyer", 210, 2000)], [piece("tb_buyer 2026-11-03 14:25:12", 210, 2000)]]
)
def test_a_name_line_whose_bubble_the_screen_cut_off_is_no_message(cut: list[Laid]) -> None:
    messages = screen((piece("在吗", 210, 500), WHITE), *[(line, None) for line in cut])
    assert [m.text for m in messages] == ["在吗"]


def test_a_nickname_above_a_bubble_is_its_speaker() -> None:
    messages = screen((piece("张三", 210, 420), None), (piece("大家好", 210, 510), WHITE))
    assert [(m.speaker, m.text) for m in messages] == [("张三", "大家好")]


@pytest.mark.parametrize(
    ("rows", "text"),
    [
        (["Could you send", "it today?"], "Could you send it today?"),
        (["你好，我买的杯子收到了，有", "个小划痕"], "你好，我买的杯子收到了，有个小划痕"),
        (["订单号35872140", "93316572，谢谢"], "订单号3587214093316572，谢谢"),
        (["退货地址是", "Room 5, Lane 8"], "退货地址是Room 5, Lane 8"),
    ],
)
def test_the_lines_of_a_bubble_join_into_one_message(rows: list[str], text: str) -> None:
    laid = [(piece(row, 210, 500 + 66 * number), WHITE) for number, row in enumerate(rows)]
    assert [m.text for m in screen(*laid)] == [text]


def test_two_bubbles_in_a_row_stay_two_messages() -> None:
    messages = screen((piece("在吗", 210, 500), WHITE), (piece("在吗在吗", 210, 660), WHITE))
    assert [m.text for m in messages] == ["在吗", "在吗在吗"]


def test_the_bars_of_the_app_are_not_read() -> None:
    messages = screen(
        (piece("14:23", 40, 20), None),  # status bar
        (centred("买家", 150), None),  # title
        (piece("你好", 210, 520), WHITE),
        (piece("按住 说话", 400, 2300), None),  # input bar
    )
    assert [m.text for m in messages] == ["你好"]


def test_the_bubble_colour_decides_when_lines_fill_the_width() -> None:
    wide = "亲，我们可以按平台规则退货"
    messages = screen((piece(wide, 200, 500), GREEN), (piece(wide, 210, 700), WHITE))
    assert [m.self_side for m in messages] == [True, False]


def test_without_bubbles_the_edge_decides() -> None:
    messages = screen((piece("你好", 150, 500), None), (piece("您好", 930, 700, right=True), None))
    assert [(m.self_side, m.speaker) for m in messages] == [
        (False, OTHER_SPEAKER),
        (True, SELF_SPEAKER),
    ]


def test_recall_notices_are_recalled_messages_and_other_notices_are_not_read() -> None:
    messages = screen(
        (piece("在吗", 210, 400), WHITE),
        (centred("对方撤回了一条消息", 560), None),
        (centred("你撤回了一条消息", 680), None),
        (centred("以下是新消息", 800), None),
        (piece("好", 870, 920, right=True), GREEN),
    )
    assert [(m.kind, m.self_side, m.speaker) for m in messages] == [
        ("text", False, OTHER_SPEAKER),
        ("recalled", False, OTHER_SPEAKER),
        ("recalled", True, SELF_SPEAKER),
        ("text", True, SELF_SPEAKER),
    ]


@pytest.mark.parametrize("size", [(1080, 2400), (1, 1), (300, 100)])
def test_a_picture_without_text_has_no_messages(size: tuple[int, int]) -> None:
    assert read_chatshot(Image.new("RGB", size, PAGE), [], ZONE) == []
