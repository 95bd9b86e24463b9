"""Chat screenshots drawn the way 千牛 and WeChat draw them, with what they say known.

The readers of pictures are tested and measured on these: each picture comes with its
truth (who said what, when, and where every line of text was drawn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SIZE = (1080, 2400)


@dataclass(frozen=True)
class Said:
    """One message as drawn: `seller` is the right-hand side (the account that took the picture)."""

    seller: bool
    text: str
    at: str | None = None  # the time written above the message, as the app writes it


@dataclass
class Drawn:
    """A line of text drawn on the picture and the box (x0, y0, x1, y1) it fills."""

    text: str
    box: tuple[int, int, int, int]
    role: str  # "message", "name", "time", "title"
    message: int | None = None


@dataclass
class Shot:
    image: Image.Image
    layout: str
    theme: str
    said: list[Said]
    lines: list[Drawn] = field(default_factory=list)

    def save(self, path: Path) -> Path:
        self.image.save(path, "PNG")
        return path


THEMES = {
    # background, other side's bubble, own bubble, text on other / own, grey lines
    ("wechat", "light"): ("#EDEDED", "#FFFFFF", "#95EC69", "#191919", "#191919", "#A0A0A0"),
    ("wechat", "dark"): ("#111111", "#2C2C2C", "#3EB575", "#D5D5D5", "#0D0D0D", "#6F6F6F"),
    ("qianniu", "light"): ("#F4F5F7", "#FFFFFF", "#D6E8FF", "#1F1F1F", "#1F1F1F", "#8C8C8C"),
    ("qianniu", "dark"): ("#17181A", "#2B2C2F", "#1D4F8C", "#E6E6E6", "#F2F2F2", "#7A7A7A"),
}


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=font) > width and current:
            lines.append(current)
            current = char.lstrip()
        else:
            current += char
    if current:
        lines.append(current)
    return lines


def render(
    said: list[Said],
    *,
    layout: str = "wechat",
    theme: str = "light",
    title: str = "买家",
    buyer: str = "tb_buyer",
    seller: str = "小店:客服",
    size: tuple[int, int] = SIZE,
) -> Shot:
    """Draw a conversation as a phone screenshot of `layout` in `theme`."""
    back, other, own, ink_other, ink_own, grey = THEMES[(layout, theme)]
    width, height = size
    scale = width / 1080
    image = Image.new("RGB", size, back)
    draw = ImageDraw.Draw(image)
    body = ImageFont.truetype(FONT, round(48 * scale))
    small = ImageFont.truetype(FONT, round(34 * scale))
    shot = Shot(image, layout, theme, said)

    def text(x: int, y: int, words: str, font: ImageFont.FreeTypeFont, ink: str, role: str,
             message: int | None = None) -> None:  # fmt: skip
        draw.text((x, y), words, font=font, fill=ink)
        left, top, right, bottom = draw.textbbox((x, y), words, font=font)
        shot.lines.append(Drawn(words, (left, top, right, bottom), role, message))

    bar = round(230 * scale)
    draw.rectangle((0, 0, width, bar), fill=back if layout == "wechat" else own)
    title_w = draw.textlength(title, font=body)
    text(int((width - title_w) / 2), round(140 * scale), title, body, ink_other, "title")
    draw.line((0, bar, width, bar), fill=grey, width=1)
    y = bar + round(40 * scale)
    avatar = round(120 * scale)
    margin = round(36 * scale)
    pad = round(30 * scale)
    line_h = round(66 * scale)
    max_text = round(width * 0.58)
    for index, message in enumerate(said):
        if message.at and layout == "wechat":
            stamp_w = draw.textlength(message.at, font=small)
            text(int((width - stamp_w) / 2), y, message.at, small, grey, "time")
            y += round(80 * scale)
        if layout == "qianniu":
            name = seller if message.seller else buyer
            head = f"{name} {message.at}" if message.at else name
            head_w = draw.textlength(head, font=small)
            x = (
                width - margin - avatar - pad - int(head_w)
                if message.seller
                else margin + avatar + pad
            )
            text(x, y, head, small, grey, "name")
            y += round(56 * scale)
        rows = _wrap(draw, message.text, body, max_text)
        text_w = max(int(draw.textlength(row, font=body)) for row in rows)
        bubble_w, bubble_h = text_w + 2 * pad, len(rows) * line_h + 2 * pad - round(10 * scale)
        if message.seller:
            ax = width - margin - avatar
            bx = ax - round(24 * scale) - bubble_w
        else:
            ax = margin
            bx = ax + avatar + round(24 * scale)
        if y + max(bubble_h, avatar) > height - round(200 * scale):
            break
        draw.rounded_rectangle((ax, y, ax + avatar, y + avatar), radius=round(12 * scale),
                               fill="#7FA7D9" if message.seller else "#E0A96D")  # fmt: skip
        fill = own if message.seller else other
        draw.rounded_rectangle((bx, y, bx + bubble_w, y + bubble_h), radius=round(14 * scale),
                               fill=fill)  # fmt: skip
        ink = ink_own if message.seller else ink_other
        for row_index, row in enumerate(rows):
            text(bx + pad, y + pad - round(6 * scale) + row_index * line_h, row, body, ink,
                 "message", index)  # fmt: skip
        y += max(bubble_h, avatar) + round(44 * scale)
    draw.rectangle((0, height - round(160 * scale), width, height), fill=grey if theme == "light"
                   else "#1E1E1E")  # fmt: skip
    return shot


# A conversation with an extortion in it, a phone number and an order number.
EXTORTION = [
    Said(False, "你好，我买的杯子收到了，有个小划痕", "2026-11-03 14:20:05"),
    Said(True, "亲，非常抱歉，可以拍照看一下吗？我们给您补发", "2026-11-03 14:21:10"),
    Said(False, "订单号3587214093316572，不用补发了", "2026-11-03 14:22:30"),
    Said(False, "给我赔500块，不然我就给差评，还去12315投诉你们", "2026-11-03 14:23:05"),
    Said(True, "亲，我们可以按平台规则退货退款", "2026-11-03 14:24:40"),
    Said(False, "我电话15867123409，你们自己看着办", "2026-11-03 14:25:12"),
]
