"""Personal data found in read lines, with boxes over just its characters, and its near
misses (order numbers, wrong check digits, words that only look like places) left alone."""

from __future__ import annotations

import pytest
from PIL import ImageFont

from evidence.ocr import TextLine, read_picture
from evidence.sensitive import Box, Suggestion, suggest, suggest_text
from tests.chatshots import EXTORTION, FONT, Shot, render


@pytest.fixture(scope="module")
def extortion() -> tuple[Shot, list[TextLine]]:
    """The WeChat picture of the extortion and its real reading, made once (OCR is slow)."""
    shot = render(EXTORTION, layout="wechat", theme="light")
    return shot, read_picture(shot.image)


def line(text: str, top: float = 0.5, left: float = 0.1, width: float = 0.6) -> TextLine:
    return TextLine(text, (left, top, width, 0.02), 0.99)


def within(inner: Box, outer: Box) -> bool:
    return (
        outer[0] - 1e-9 <= inner[0]
        and outer[1] - 1e-9 <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2] + 1e-9
        and inner[1] + inner[3] <= outer[1] + outer[3] + 1e-9
    )


def id_number(first17: str) -> str:
    """An ID number with its ISO 7064 MOD 11-2 check character (weights 2^(17-i) mod 11)."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


def luhn_number(body: str) -> str:
    """`body` and the Luhn check digit that makes it pass."""
    for check in "0123456789":
        digits = [int(d) for d in body + check][::-1]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)
        )
        if total % 10 == 0:
            return body + check
    raise AssertionError


def test_the_phone_number_in_a_chat_picture_is_covered(
    extortion: tuple[Shot, list[TextLine]],
) -> None:
    shot, lines = extortion
    phones = [s for s in suggest(lines, names=["tb_buyer"]) if s.kind == "phone"]
    assert [s.text for s in phones] == ["15867123409"]
    holder = next(entry for entry in lines if "15867123409" in entry.text)
    assert within(phones[0].box, holder.box) and phones[0].box[2] < holder.box[2] * 0.6
    # The box lies over the digits as drawn: from after 我电话 to the end of the number.
    drawn = next(d for d in shot.lines if "15867123409" in d.text)
    font = ImageFont.truetype(FONT, 48)
    start = drawn.box[0] + font.getlength("我电话")
    end = start + font.getlength("15867123409")
    width = shot.image.width
    assert (
        phones[0].box[0] * width <= start + 2
        and end - 2 <= (phones[0].box[0] + phones[0].box[2]) * width
    )


def test_the_order_number_in_a_chat_picture_is_no_phone_or_card(
    extortion: tuple[Shot, list[TextLine]],
) -> None:
    _shot, lines = extortion
    order = next(entry for entry in lines if "3587214093316572" in entry.text)
    assert suggest([order]) == []
    assert [(s.kind, s.text) for s in suggest(lines)] == [("phone", "15867123409")]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("电话：158 6712 3409", "158 6712 3409"),
        ("call me +86 15867123409", "+86 15867123409"),
        ("86-158-6712-3409 找我", "86-158-6712-3409"),
        ("座机0571-88889999转分机", "0571-88889999"),
        ("(021) 62345678", "(021) 62345678"),
        ("我电话１５８６７１２３４０９", "１５８６７１２３４０９"),  # full-width digits
    ],
)
def test_phone_numbers_are_found_as_written(text: str, number: str) -> None:
    assert suggest_text(text) == [("phone", number)]


@pytest.mark.parametrize(
    "text",
    [
        "订单号3587214093316572，不用补发了",
        "订单 1358721409331657212",  # 19-digit order number with a mobile-like run inside
        "快递单号：SF1358672134091",
        "订单号：13587214093",  # a JD order number is 11 digits
        "1586712340912",
        "2026-11-03 14:20:05 还去12315投诉你们",
    ],
)
def test_order_numbers_and_other_digit_runs_are_not_phones(text: str) -> None:
    assert suggest_text(text) == []


def test_a_valid_id_number_is_found_and_a_wrong_check_character_is_not() -> None:
    valid = id_number("11010519491231002")
    wrong = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    assert suggest_text(f"身份证号{valid}，姓名张三") == [("id_card", valid)]
    assert suggest_text(f"身份证号{wrong}") == []
    assert suggest_text(id_number("11010519490230002")) == []  # 30 February: no birth date


def test_a_luhn_valid_card_is_found_and_an_invalid_one_is_not() -> None:
    card = luhn_number("622202123456789012")
    grouped = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert suggest_text(f"退款打到我卡上{card}") == [("bank_card", card)]
    assert suggest_text(f"卡号 {grouped}") == [("bank_card", grouped)]
    broken = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert suggest_text(f"退款打到我卡上{broken}") == []


@pytest.mark.parametrize(
    "label", ["订单号", "订单编号：", "运单号 ", "快递单号:", "Order No. ", "waybill: "]
)
def test_a_luhn_valid_number_labelled_as_an_order_is_no_card(label: str) -> None:
    number = luhn_number("358721409331657")
    assert suggest_text(f"{label}{number}") == []
    assert suggest([line(label.strip()), line(number, top=0.53)]) == []  # the label above


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "收货地址：浙江省杭州市西湖区文三路100号3栋2单元301室",
            "浙江省杭州市西湖区文三路100号3栋2单元301室",
        ),
        ("我住在浙江杭州西湖区文三路100号，快点发", "浙江杭州西湖区文三路100号"),
        ("上海市浦东新区世纪大道1号", "上海市浦东新区世纪大道1号"),
        ("地址: 幸福小区5栋", "幸福小区5栋"),
    ],
)
def test_address_lines_are_found(text: str, address: str) -> None:
    assert suggest_text(text) == [("address", address)]


@pytest.mark.parametrize("text", ["这个区别很大，路上小心", "我在杭州市知道了", "广州市天河区"])
def test_words_that_only_look_like_places_are_no_address(text: str) -> None:
    assert suggest_text(text) == []


def test_the_names_given_are_found_and_short_ones_ignored() -> None:
    lines = [
        line("tb_buyer2026-11-03 14:20:05", top=0.2),  # OCR glued the time on
        line("收件人：张三 电话见订单", top=0.3),
        line("王先生你好，tb_buyers 不是我", top=0.4),
    ]
    found = suggest(lines, names=["ｔｂ＿ｂｕｙｅｒ", "张三", "王", "张三"])
    assert [(s.kind, s.text) for s in found] == [("name", "tb_buyer"), ("name", "张三")]


def test_email_addresses_are_found_and_hold_the_phone_inside_them() -> None:
    assert suggest_text("邮箱 15867123409@qq.com 或 a.b@example.com.cn") == [
        ("email", "15867123409@qq.com"),
        ("email", "a.b@example.com.cn"),
    ]


def test_boxes_are_in_reading_order_inside_the_picture_and_each_once() -> None:
    lines = [
        line("张三 15867123409", top=0.0, left=0.0, width=0.5),
        line(
            "收货地址：浙江省杭州市西湖区文三路100号，张三 13912345678",
            top=0.98,
            left=0.3,
            width=0.7,
        ),
    ]
    found = suggest(lines, names=["张三", "张三"])
    assert [s.kind for s in found] == ["name", "phone", "address", "name", "phone"]
    keys = [(round(s.box[1], 6), s.box[0]) for s in found]
    assert keys == sorted(keys)
    assert all(min(s.box) >= 0 and s.box[2] > 0 and s.box[3] > 0 for s in found)
    assert all(s.box[0] + s.box[2] <= 1 and s.box[1] + s.box[3] <= 1 for s in found)
    assert all(within(s.box, lines[0 if s.box[1] < 0.5 else 1].box) for s in found)
    assert len({s.id for s in found}) == len(found) == len({(s.kind, s.box) for s in found})
    assert [s.id for s in suggest(lines, names=["张三"])] == [s.id for s in found]  # stable


def test_a_suggestion_carries_the_text_as_read() -> None:
    (found,) = suggest([line("电话１５８６７１２３４０９")])
    assert found == Suggestion(found.id, "phone", "１５８６７１２３４０９", found.box)
