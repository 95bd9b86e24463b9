"""Generated A4 pages (cover, tables, text) with Chinese and Latin text in an embedded font.

The font is a TrueType CJK font embedded as a subset, so the bundle reads the same on any
machine; a non-embedded CID font (STSong-Light) would show blanks where the reader has no
Asian font pack. The font is loaded once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from evidence.redact import Box

FONT_NAME = "BundleCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
# Characters the CJK font lacks (CJK Extension B and later: 𠮷; emoji) are set in the first
# of these that has them, so that names and chats survive whole to the page and its text.
FALLBACK_CANDIDATES = (
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
)
PAGE = A4
MARGIN = 18 * mm
# The footer is stamped into every page later; generated content keeps clear of it.
BOTTOM = 22 * mm
CAPTION_BAND = 30.0  # points above an exhibit's image kept for its title and caption
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#f0f4f8")


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """reportlab's ToUnicode CMap, with characters past U+FFFF as UTF-16 surrogate pairs.

    reportlab 5.1 writes them as five hex digits, which readers cut to four: 𠮷 (U+20BB7)
    was copied out of a bundle as ₻ (U+20BB). The PDF format wants UTF-16BE.
    """
    entries = [
        f"<{index:02X}> <{chr(code).encode('utf-16-be').hex().upper()}>"
        for index, code in enumerate(subset)
    ]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
            "/CIDSystemInfo", f"<< /Registry ({fontname})", f"/Ordering ({fontname})",
            "/Supplement 0", ">> def", f"/CMapName /{fontname} def", "/CMapType 2 def",
            "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange", f"{len(entries)} beginbfchar", *entries, "endbfchar",
            "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
        ]
    )  # fmt: skip


ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # reportlab calls it by its module name


class FontMissing(RuntimeError):
    """No CJK TrueType font: bundles would show blanks in Chinese, so none are built."""


@functools.cache
def use_font(path: str | None) -> str:
    """Register the CJK font embedded in bundle pages: `path`, or the first one installed."""
    candidates = (path,) if path else FONT_CANDIDATES
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            pdfmetrics.registerFont(TTFont(FONT_NAME, candidate, subfontIndex=0))
            return FONT_NAME
    tried = ", ".join(c for c in candidates if c)
    raise FontMissing(
        f"No CJK TrueType font found (tried {tried}); install fonts-wqy-microhei "
        "or set PORTAL_BUNDLE_FONT."
    )


def font() -> str:
    """The registered CJK font's name for styles (the first installed one if none was set)."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        use_font(None)
    return FONT_NAME


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Text:
    text: str
    muted: bool = False
    size: float = 9.5


@dataclass(frozen=True)
class Fields:
    """Label and value pairs, as a two-column table."""

    pairs: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Grid:
    """A table with a repeated header row; long cells wrap (wrap=True) or are cut short."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # fractions of the text width
    wrap: bool = True
    size: float = 8.0


@dataclass(frozen=True)
class Lines:
    """Preformatted lines, such as a chat export."""

    lines: Sequence[str]


@dataclass(frozen=True)
class Gap:
    height: float = 4 * mm


Block = Heading | Text | Fields | Grid | Lines | Gap


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)


def _styles() -> dict[str, ParagraphStyle]:
    name = font()
    base = ParagraphStyle(
        "body", fontName=name, fontSize=9.5, leading=13, textColor=INK, wordWrap="CJK"
    )
    return {
        "body": base,
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED, fontSize=8.5, leading=11.5),
        "h1": ParagraphStyle("h1", parent=base, fontSize=17, leading=22, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12.5, leading=16, spaceBefore=8, spaceAfter=4
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10.5),
        "head": ParagraphStyle("head", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "line": ParagraphStyle("line", parent=base, fontSize=8, leading=10.5),
    }


@functools.cache
def _coverage() -> tuple[frozenset[int], tuple[tuple[str, frozenset[int]], ...]]:
    """The CJK font's characters, and each installed fallback font with its characters."""
    registered = pdfmetrics.getFont(font())
    assert isinstance(registered, TTFont)
    main = frozenset(registered.face.charToGlyph)
    fallbacks = []
    for number, path in enumerate(FALLBACK_CANDIDATES):
        if Path(path).is_file():
            name = f"BundleFallback{number}"
            fallback = TTFont(name, path)
            pdfmetrics.registerFont(fallback)
            fallbacks.append((name, frozenset(fallback.face.charToGlyph)))
    return main, tuple(fallbacks)


def markup(text: str) -> str:
    """Paragraph markup for text: escaped, and each run the CJK font lacks in a fallback."""
    main, fallbacks = _coverage()
    if all(ord(char) in main for char in text):
        return escape(text)
    parts: list[str] = []
    for char in text:
        code = ord(char)
        name = None
        if code not in main and char not in "\n\t ":
            name = next((n for n, chars in fallbacks if code in chars), None)
        parts.append(f'<font name="{name}">{escape(char)}</font>' if name else escape(char))
    return "".join(parts)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(markup(text).replace("\n", "<br/>"), style)


def _clip(text: str, width: float, size: float) -> str:
    """Cut a cell to one line of the column's width, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    name = font()
    if pdfmetrics.stringWidth(text, name, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if pdfmetrics.stringWidth(text[:middle] + "…", name, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


def _grid(block: Grid, styles: dict[str, ParagraphStyle], width: float) -> Flowable:
    columns = max(1, len(block.header))
    fractions = block.widths or [1 / columns] * columns
    widths = [width * fraction for fraction in fractions]
    pad = 6
    if block.wrap:
        header: list[Any] = [_para(cell, styles["head"]) for cell in block.header]
        body: list[list[Any]] = [
            [_para(str(cell), styles["cell"]) for cell in row] for row in block.rows
        ]
    else:
        # Plain strings, cut to the column: hundreds of rows render in milliseconds,
        # and the full rows travel in the ZIP's originals.
        header = [
            _clip(cell, w - pad, block.size) for cell, w in zip(block.header, widths, strict=False)
        ]
        body = [
            [_clip(str(cell), w - pad, block.size) for cell, w in zip(row, widths, strict=False)]
            for row in block.rows
        ]
    table = LongTable([header, *body], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font(), block.size),
                ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), pad / 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad / 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def _fields(block: Fields, styles: dict[str, ParagraphStyle], width: float) -> Flowable:
    rows = [
        [_para(label, styles["head"]), _para(value, styles["body"])] for label, value in block.pairs
    ]
    table = Table(rows, colWidths=[width * 0.3, width * 0.7])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def render(document: Document, out: Path) -> int:
    """Write the document as an A4 PDF at `out`; the number of pages written."""
    styles = _styles()
    width = PAGE[0] - 2 * MARGIN
    story: list[Flowable] = []
    for block in document.blocks:
        if isinstance(block, Heading):
            story.append(_para(block.text, styles["h1" if block.level == 1 else "h2"]))
        elif isinstance(block, Text):
            style = styles["muted" if block.muted else "body"]
            if block.size != style.fontSize:
                style = ParagraphStyle("sized", parent=style, fontSize=block.size,
                                       leading=block.size * 1.35)  # fmt: skip
            story.append(_para(block.text, style))
        elif isinstance(block, Fields):
            story.append(_fields(block, styles, width))
        elif isinstance(block, Grid):
            story.append(_grid(block, styles, width))
        elif isinstance(block, Lines):
            story.extend(_para(line or " ", styles["line"]) for line in block.lines)
        else:
            story.append(Spacer(1, block.height))
    if not story:
        story.append(Spacer(1, 1))
    pages = 0

    def count(_canvas: Any, _doc: Any) -> None:
        nonlocal pages
        pages += 1

    template = SimpleDocTemplate(
        str(out), pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=BOTTOM, title=document.title, author="Appeal Desk", creator="Appeal Desk",
        invariant=1,
    )  # fmt: skip
    template.build(story, onFirstPage=count, onLaterPages=count)
    return pages


@dataclass(frozen=True)
class Frame:
    """A rectangle on a page in points, from the page's lower left corner."""

    x: float
    y: float
    width: float
    height: float


# A line of text read from a picture, and its box as fractions of the picture.
PlacedLine = tuple[str, Box]


@dataclass(frozen=True)
class TextLayer:
    """Lines read from a picture, to be laid invisibly over the frame it is drawn in."""

    frame: Frame
    lines: Sequence[PlacedLine]


def image_frame(width: int, height: int) -> Frame:
    """Where an exhibit's image of `width` x `height` pixels is drawn on its A4 page: inside
    the margins, below the caption band, at the top, centred, keeping its aspect ratio."""
    box_width = PAGE[0] - 2 * MARGIN
    box_height = PAGE[1] - MARGIN - CAPTION_BAND - BOTTOM
    scale = min(box_width / width, box_height / height)
    drawn_width, drawn_height = width * scale, height * scale
    x = MARGIN + (box_width - drawn_width) / 2
    return Frame(x, BOTTOM + box_height - drawn_height, drawn_width, drawn_height)


def render_captions(
    captions: Sequence[tuple[str, str]],
    out: Path,
    layers: Sequence[TextLayer | None] | None = None,
) -> None:
    """One A4 page per image exhibit with only its title and caption at the top, and the
    invisible text read from its picture (`layers`, one per caption, None for none).

    The image is placed on the page afterwards; drawing the text here keeps the whole
    bundle on one embedded font.
    """
    from reportlab.pdfgen.canvas import Canvas

    name = font()
    canvas = Canvas(str(out), pagesize=PAGE, invariant=1)
    width = PAGE[0] - 2 * MARGIN
    for index, (title, caption) in enumerate(captions):
        canvas.setFillColor(INK)
        canvas.setFont(name, 11)
        canvas.drawString(MARGIN, PAGE[1] - MARGIN - 8, _clip(title, width, 11))
        if caption:
            canvas.setFillColor(MUTED)
            canvas.setFont(name, 8.5)
            canvas.drawString(MARGIN, PAGE[1] - MARGIN - 21, _clip(caption, width, 8.5))
        layer = layers[index] if layers else None
        if layer is not None:
            _draw_text_layer(canvas, layer)
        canvas.showPage()
    canvas.save()


def render_text_layers(
    pages: Sequence[tuple[tuple[float, float], Sequence[PlacedLine]]], out: Path
) -> None:
    """One page per entry, of the given size in points, holding only the invisible lines:
    laid over scanned PDF pages, whose own size and turn the caller takes care of."""
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(out), invariant=1)
    for (width, height), lines in pages:
        canvas.setPageSize((width, height))
        _draw_text_layer(canvas, TextLayer(Frame(0, 0, width, height), lines))
        canvas.showPage()
    canvas.save()


def _draw_text_layer(canvas: Any, layer: TextLayer) -> None:
    """Each line in text render mode 3 (invisible), set at 0.8 of its box's height, centred
    in it, and stretched horizontally to its box's width, so that search hits and selections
    fall on the words in the picture."""
    name = font()
    main, _fallbacks = _coverage()
    registered = pdfmetrics.getFont(name)
    assert isinstance(registered, TTFont)
    ascent, descent = registered.face.ascent / 1000, registered.face.descent / 1000  # < 0
    frame = layer.frame
    text = canvas.beginText()
    text.setTextRenderMode(3)
    for words, (left, top, box_width, box_height) in layer.lines:
        # Characters the font lacks would extract as nothing anyway; without them the
        # stretch is measured on what is really drawn.
        shown = "".join(char for char in words if ord(char) in main)
        height = box_height * frame.height
        size = 0.8 * height
        natural = pdfmetrics.stringWidth(shown, name, size) if size > 0 else 0
        if not shown.strip() or natural <= 0:
            continue
        bottom = frame.y + (1 - top - box_height) * frame.height
        baseline = bottom + (height - (ascent - descent) * size) / 2 - descent * size
        text.setFont(name, size)
        text.setHorizScale(100 * box_width * frame.width / natural)
        text.setTextOrigin(frame.x + left * frame.width, baseline)
        text.textOut(shown)
    canvas.drawText(text)
