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
from reportlab.lib.pagesizes import A4, landscape
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
    """A table with a repeated header row; nothing in it is ever cut.

    With `wrap` (or `widths`) each cell is a Paragraph, with fallback fonts; without, cells
    are plain strings broken by break_lines, fast enough for thousands of rows, the columns
    sized to their contents, on landscape pages when portrait cannot hold them, and in
    groups of columns (`bands_caption` above each) when even landscape cannot.
    """

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # fractions of the text width
    wrap: bool = True
    size: float = 8.0
    bands_caption: str = "Columns {columns} of {total}"


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
        # In table cells, a right indent of one character takes the punctuation that
        # reportlab's CJK wrap hangs past the line's end, so it stays inside its column.
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10.5, rightIndent=8),
        "head": ParagraphStyle(
            "head", parent=base, fontSize=8, leading=10.5, textColor=MUTED, rightIndent=8
        ),
        "value": ParagraphStyle("value", parent=base, rightIndent=9.5),
        "line": ParagraphStyle("line", parent=base, fontSize=8, leading=10.5),
    }


@functools.cache
def _coverage() -> frozenset[int]:
    """The CJK font's characters."""
    registered = pdfmetrics.getFont(font())
    assert isinstance(registered, TTFont)
    return frozenset(registered.face.charToGlyph)


@functools.cache
def _fallback_font(number: int) -> tuple[str, frozenset[int]] | None:
    """A fallback font registered, with its characters; None if it is not installed."""
    path = FALLBACK_CANDIDATES[number]
    if not Path(path).is_file():
        return None
    name = f"BundleFallback{number}"
    fallback = TTFont(name, path)
    pdfmetrics.registerFont(fallback)
    return name, frozenset(fallback.face.charToGlyph)


def _fallback_for(code: int) -> str | None:
    """The fallback font that has this character, loading only what it takes: reportlab
    holds a font whole, and the Hanazono fonts weigh 53 MB (about 90 MiB in memory), so a
    dash or a triangle is looked for in the 3 MB symbol font first, and a rare ideograph in
    the font of its own plane (B: Extension B and later; A: the rest)."""
    hanazono_b, hanazono_a, symbols = 0, 1, 2
    if code >= 0x20000:
        order = (hanazono_b, hanazono_a, symbols)
    elif 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
        order = (hanazono_a, hanazono_b, symbols)
    else:
        order = (symbols, hanazono_a, hanazono_b)
    for number in order:
        found = _fallback_font(number)
        if found is not None and code in found[1]:
            return found[0]
    return None


def markup(text: str) -> str:
    """Paragraph markup for text: escaped, and each run the CJK font lacks in a fallback."""
    main = _coverage()
    if all(ord(char) in main for char in text):
        return escape(text)
    parts: list[str] = []
    for char in text:
        code = ord(char)
        name = None
        if code not in main and char not in "\n\t ":
            name = _fallback_for(code)
        parts.append(f'<font name="{name}">{escape(char)}</font>' if name else escape(char))
    return "".join(parts)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(markup(text).replace("\n", "<br/>"), style)


def _clip(text: str, width: float, size: float) -> str:
    """Cut a caption to one line of the width, marking the cut with an ellipsis."""
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


@functools.cache
def _char_width(char: str) -> float:
    """A character's advance in the CJK font at size 1 (the font has no kerning)."""
    return pdfmetrics.stringWidth(char, font(), 1.0)


_OPENERS = "（《“‘「『【〔"


def _ideograph(char: str) -> bool:
    """Chinese characters and kana: a line may break before and after each."""
    return "\u3040" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000"


def _ends_break(char: str) -> bool:
    """Whether a line may break after this character: an ideograph or a closing mark."""
    wide_mark = "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef"
    return _ideograph(char) or (wide_mark and char not in _OPENERS)


def break_lines(text: str, width: float, size: float) -> list[str]:
    """The text in lines no wider than `width` at `size`: broken at spaces and between
    Chinese characters, and inside a run wider than the line (a waybill, an order number)
    at any character, so that nothing is ever cut."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = " ".join(paragraph.split())
        if pdfmetrics.stringWidth(words, font(), size) <= width:
            lines.append(words)
            continue
        line, used, cut = "", 0.0, 0  # cut: where this line may break; 0 for nowhere yet
        for char in words:
            advance = _char_width(char) * size
            if char == " ":
                if used + advance > width:
                    lines.append(line)
                    line, used, cut = "", 0.0, 0
                elif line:
                    line, used, cut = line + char, used + advance, len(line) + 1
                continue
            while line and used + advance > width:
                if _ideograph(char) or not cut:
                    cut = len(line)
                lines.append(line[:cut].rstrip())
                line = line[cut:]
                used, cut = sum(_char_width(c) for c in line) * size, 0
            line, used = line + char, used + advance
            if _ends_break(char):
                cut = len(line)
        lines.append(line.rstrip())
    return lines


PORTRAIT_COLUMNS = 6  # a table with no more columns than this stays on portrait pages
WIDEST_COLUMN = 0.4  # of the text width: a long address wraps rather than taking the page
BAND_COLUMN = 130.0  # points: what a column may take when columns are grouped (a waybill)
PAD = 6.0  # a cell's left and right padding together
SAMPLE_ROWS = 400  # rows measured for the column widths (every row is wrapped)


def _natural_widths(block: Grid, width: float) -> list[float]:
    """Each column's width if nothing had to wrap, padding included, capped."""
    name = font()
    columns = len(block.header)
    natural = [0.0] * columns
    for row in [block.header, *block.rows[:SAMPLE_ROWS]]:
        for index, cell in enumerate(row[:columns]):
            natural[index] = max(
                natural[index], pdfmetrics.stringWidth(str(cell), name, block.size)
            )
    return [min(n + PAD + 1, width * WIDEST_COLUMN) for n in natural]


def _shares(natural: Sequence[float], width: float) -> list[float]:
    """Column widths filling `width`: the natural widths, widened alike when they fit;
    else every column narrower than some cap keeps its own width (numbers and dates stay
    on one line) and the widest ones share the rest, to wrap."""
    total = sum(natural)
    if total <= width:
        return (
            [n * width / total for n in natural] if total else [width / len(natural)] * len(natural)
        )
    spent, cap = 0.0, width / len(natural)
    ordered = sorted(natural)
    for index, value in enumerate(ordered):
        left = len(ordered) - index
        if spent + value * left > width:
            cap = (width - spent) / left
            break
        spent += value
    return [min(n, cap) for n in natural]


def _bands(natural: Sequence[float], width: float) -> list[list[int]]:
    """Columns in groups that each fit the width legibly; the first column (the order
    number, as exports put it first) is repeated in every group so rows can be followed."""
    wanted = [min(n, BAND_COLUMN) for n in natural]
    if sum(wanted) <= width or len(natural) <= 1:
        return [list(range(len(natural)))]
    bands: list[list[int]] = []
    band, used = [0], wanted[0]
    for index in range(1, len(natural)):
        if used + wanted[index] > width and len(band) > 1:
            bands.append(band)
            band, used = [0], wanted[0]
        band.append(index)
        used += wanted[index]
    bands.append(band)
    return bands


def wants_landscape(block: Grid) -> bool:
    """A table set in plain strings with more columns than portrait pages hold legibly."""
    if block.wrap or block.widths or len(block.header) <= PORTRAIT_COLUMNS:
        return False
    portrait = PAGE[0] - 2 * MARGIN
    return sum(_natural_widths(block, portrait)) > portrait


def _grid(block: Grid, styles: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    if block.widths or block.wrap:
        columns = max(1, len(block.header))
        fractions = block.widths or [1 / columns] * columns
        return [_paragraph_table(block, styles, [width * f for f in fractions])]
    natural = _natural_widths(block, width)
    bands = _bands(natural, width)
    story: list[Flowable] = []
    for number, band in enumerate(bands):
        if len(bands) > 1:
            shown = _column_list(band)
            caption = block.bands_caption.format(columns=shown, total=len(block.header))
            if number:
                story.append(Spacer(1, 4 * mm))
            story.append(_para(caption, styles["muted"]))
        widths = _shares([natural[i] for i in band], width)
        story.append(_plain_table(block, band, widths))
    return story


def _column_list(band: Sequence[int]) -> str:
    """Column numbers as a reader counts them: `1, 13–24`."""
    runs: list[list[int]] = []
    for index in band:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ", ".join(
        str(run[0] + 1) if len(run) == 1 else f"{run[0] + 1}–{run[-1] + 1}" for run in runs
    )


def _plain_table(block: Grid, band: Sequence[int], widths: Sequence[float]) -> Flowable:
    """Plain strings broken into lines by break_lines: hundreds of rows render in
    milliseconds, and every character of every cell is on the page."""
    size = block.size

    def cells(row: Sequence[Any]) -> list[str]:
        return [
            "\n".join(break_lines(str(row[i]) if i < len(row) else "", w - PAD, size))
            for i, w in zip(band, widths, strict=True)
        ]

    rows = [cells(block.header), *(cells(row) for row in block.rows)]
    table = LongTable(rows, colWidths=list(widths), repeatRows=1)
    table.setStyle(_table_style(size, leading=size * 1.25))
    return table


def _paragraph_table(
    block: Grid, styles: dict[str, ParagraphStyle], widths: Sequence[float]
) -> Flowable:
    header: list[Any] = [_para(cell, styles["head"]) for cell in block.header]
    body: list[list[Any]] = [
        [_para(str(cell), styles["cell"]) for cell in row] for row in block.rows
    ]
    table = LongTable([header, *body], colWidths=list(widths), repeatRows=1)
    table.setStyle(_table_style(block.size))
    return table


def _table_style(size: float, leading: float | None = None) -> TableStyle:
    commands: list[Any] = [
        ("FONT", (0, 0), (-1, -1), font(), size),
        ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD / 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD / 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if leading:
        commands.append(("LEADING", (0, 0), (-1, -1), leading))
    return TableStyle(commands)


def _fields(block: Fields, styles: dict[str, ParagraphStyle], width: float) -> Flowable:
    rows = [
        [_para(label, styles["head"]), _para(value, styles["value"])]
        for label, value in block.pairs
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
    """Write the document as an A4 PDF at `out`, landscape if one of its tables needs it;
    the number of pages written."""
    styles = _styles()
    grids = (block for block in document.blocks if isinstance(block, Grid))
    size = landscape(PAGE) if any(wants_landscape(grid) for grid in grids) else PAGE
    width = size[0] - 2 * MARGIN
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
            story.extend(_grid(block, styles, width))
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
        str(out), pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
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
    main = _coverage()
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
