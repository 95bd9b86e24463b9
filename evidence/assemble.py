"""Putting the bundle PDF together with pypdf: pages in order, headers and footers,
bookmarks, no scripts.

Headers and footers go straight into each page's content (wrapped in q/Q, turned with the
page's /Rotate), never as merged overlay pages; so does the invisible text read from a
scanned page, as a form XObject with its own resources, placed with the same turn. Appended
PDF pages are shrunk a little and moved down, so that the header and the footer each have
their own band and never cover evidence. Image streams prepared on disk are copied into
the output only while it is written, so memory does not grow with the number of images.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
)
from reportlab.pdfbase.pdfmetrics import stringWidth

from evidence.pdfimage import PreparedImage
from evidence.pdfpages import PAGE, image_frame

FOOTER_FONT = "/FAppealDeskFooter"
FOOTER_SIZE = 8
FOOTER_BAND = 26.0  # points kept free at the bottom of every appended page
HEADER_BAND = 22.0  # and at its top, for the header
HEADER_MARGIN = 18 * 72 / 25.4  # the header's left and right margin: the pages' own 18 mm

# Keys that make a PDF do something rather than show something.
ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/OpenAction", "/AA", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
     "/RichMedia", "/XFA", "/AcroForm", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
     "/Sound", "/Movie", "/URI"}
)  # fmt: skip
ACTIVE_VALUES = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/URI",
                           "/GoToR", "/GoToE", "/RichMedia", "/FileAttachment", "/Movie",
                           "/Sound", "/Screen", "/3D"})  # fmt: skip
# Page keys that carry interaction; evidence pages keep only what they show.
DROPPED_PAGE_KEYS = ("/Annots", "/AA", "/B", "/Trans", "/PresSteps")


class FileStream(EncodedStreamObject):
    """A stream whose bytes stay in a file until the PDF is written."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._data = b""

    def write_to_stream(self, stream: Any, encryption_key: Any = None) -> None:
        self[NameObject("/Length")] = NumberObject(self.path.stat().st_size)
        DictionaryObject.write_to_stream(self, stream)
        del self["/Length"]
        stream.write(b"\nstream\n")
        with self.path.open("rb") as handle:
            shutil.copyfileobj(handle, stream, 1024 * 1024)
        stream.write(b"\nendstream")


@dataclass(frozen=True)
class Display:
    """A page as a reader shows it: its size in points, and the matrix that takes points
    measured from its displayed lower left corner into the page's own space."""

    width: float
    height: float
    matrix: tuple[float, float, float, float, float, float]


def display_of(page: PageObject) -> Display | None:
    """How `page` is shown (cropbox and /Rotate applied); None for a turn that is not a
    quarter, which readers themselves disagree on."""
    x0, y0, x1, y1, rotate = _shown_box(page)
    matrix = {
        0: (1.0, 0.0, 0.0, 1.0, x0, y0),
        90: (0.0, 1.0, -1.0, 0.0, x1, y0),
        180: (-1.0, 0.0, 0.0, -1.0, x1, y1),
        270: (0.0, -1.0, 1.0, 0.0, x0, y1),
    }.get(rotate)
    if matrix is None:
        return None
    upright = rotate in (0, 180)
    return Display(x1 - x0 if upright else y1 - y0, y1 - y0 if upright else x1 - x0, matrix)


def _shown_box(page: PageObject) -> tuple[float, float, float, float, int]:
    box = page.cropbox
    x0, y0, x1, y1 = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    return x0, y0, x1, y1, int(page.get("/Rotate", 0) or 0) % 360


def assemblable_pages(path: Path) -> int:
    """The page count of a PDF, once each page has been taken as `Assembler.add_pdf` takes it.

    Every object a page refers to is read here, so a file that would stop the bundle (a
    stream longer than the file, a broken object) fails before the plan counts its pages.
    """
    trial = PdfWriter()
    reader = PdfReader(path)
    for page in reader.pages:
        for key in DROPPED_PAGE_KEYS:
            if key in page:
                del page[key]
        _shown_box(trial.add_page(page))
    return len(reader.pages)


@dataclass
class Bookmark:
    title: str
    page: int
    children: list[Bookmark]


class Assembler:
    """Collects pages, each with the label its footer shows, then writes the PDF once."""

    def __init__(self) -> None:
        self.writer = PdfWriter()
        self.labels: list[str] = []
        self.titles: list[str] = []  # what the header names each page's part by
        self.shrink: list[bool] = []
        self.bookmarks: list[Bookmark] = []
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
        self._font = self.writer._add_object(font)

    @property
    def page_count(self) -> int:
        return len(self.labels)

    def add_pdf(
        self,
        path: Path,
        label: str,
        *,
        shrink: bool,
        layers: Mapping[int, PageObject] | None = None,
        title: str | None = None,
    ) -> int:
        """Append every page of a PDF; the index of its first page.

        `title` names the part in the header (the label if None). `layers` maps page
        indexes to pages of invisible text, drawn as the page is shown (see display_of),
        which are laid over those pages.
        """
        first = self.page_count
        reader = PdfReader(path)
        for index, page in enumerate(reader.pages):
            for key in DROPPED_PAGE_KEYS:
                if key in page:
                    del page[key]
            added = self.writer.add_page(page)
            if layers and index in layers:
                self._lay_text(added, layers[index])
            self.labels.append(label)
            self.titles.append(title or label)
            self.shrink.append(shrink)
        return first

    def _lay_text(self, page: PageObject, layer: PageObject) -> None:
        """Draw `layer` over `page` as a form XObject, turned as the page is shown."""
        display = display_of(page)
        contents = layer.get_contents()
        if display is None or contents is None:
            return
        form = DecodedStreamObject()
        form.set_data(contents.get_data())
        resources = layer.get("/Resources")
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(
                    FloatObject(v) for v in (0, 0, display.width, display.height)
                ),
                NameObject("/Matrix"): ArrayObject(FloatObject(v) for v in display.matrix),
                NameObject("/Resources"): (
                    resources.get_object().clone(self.writer)
                    if resources is not None
                    else DictionaryObject()
                ),
            }
        )
        # Named after the bundle page, as pages of one PDF often share their resources.
        name = NameObject(f"/XAppealDeskText{self.page_count}")
        reference = self.writer._add_object(form.flate_encode())
        _subdictionary(_resources(page), "/XObject")[name] = reference
        self._append_content(page, f"q {name} Do Q\n".encode())

    def add_image_page(
        self, base: PageObject | None, image: PreparedImage, label: str, title: str | None = None
    ) -> int:
        """One A4 page with the image fitted below the caption already drawn on `base`.

        The image goes beneath what `base` holds, so that the invisible text drawn there
        lies over it, where readers look for text to select.
        """
        if base is None:
            page = PageObject.create_blank_page(width=PAGE[0], height=PAGE[1])
        else:
            for key in DROPPED_PAGE_KEYS:
                if key in base:
                    del base[key]
            page = base
        stream = FileStream(image.path)
        stream[NameObject("/Type")] = NameObject("/XObject")
        stream[NameObject("/Subtype")] = NameObject("/Image")
        stream[NameObject("/Width")] = NumberObject(image.width)
        stream[NameObject("/Height")] = NumberObject(image.height)
        stream[NameObject("/ColorSpace")] = NameObject(
            "/DeviceGray" if image.colors == 1 else "/DeviceRGB"
        )
        stream[NameObject("/BitsPerComponent")] = NumberObject(8)
        stream[NameObject("/Filter")] = NameObject(image.filter)
        if image.predictor:
            stream[NameObject("/DecodeParms")] = DictionaryObject(
                {
                    NameObject("/Predictor"): NumberObject(15),
                    NameObject("/Colors"): NumberObject(image.colors),
                    NameObject("/BitsPerComponent"): NumberObject(8),
                    NameObject("/Columns"): NumberObject(image.width),
                }
            )
        reference = self.writer._add_object(stream)
        frame = image_frame(image.width, image.height)
        drawing = (
            f"q {frame.width:.3f} 0 0 {frame.height:.3f} {frame.x:.3f} {frame.y:.3f} cm"
            " /ImExhibit Do Q\n"
        )
        added = self.writer.add_page(page)
        _subdictionary(_resources(added), "/XObject")[NameObject("/ImExhibit")] = reference
        self._append_content(added, b"", drawing.encode())
        self.labels.append(label)
        self.titles.append(title or label)
        self.shrink.append(False)
        return self.page_count - 1

    def bookmark(self, title: str, page: int, parent: Bookmark | None = None) -> Bookmark:
        mark = Bookmark(title, page, [])
        (parent.children if parent else self.bookmarks).append(mark)
        return mark

    def _append_content(self, page: PageObject, data: bytes, prefix: bytes | None = None) -> None:
        contents = page.get("/Contents")
        parts: list[PdfObject] = []
        if contents is not None:
            resolved = contents.get_object()
            if isinstance(resolved, ArrayObject):
                parts.extend(resolved)
            else:
                parts.append(
                    contents
                    if isinstance(contents, IndirectObject)
                    else self.writer._add_object(resolved)
                )
        before = DecodedStreamObject()
        before.set_data(b"q\n" + (prefix or b""))
        after = DecodedStreamObject()
        after.set_data(b"\nQ\n" + data)
        page[NameObject("/Contents")] = ArrayObject(
            [self.writer._add_object(before), *parts, self.writer._add_object(after)]
        )

    def _stamp(self, page: PageObject, header: tuple[str, str], footer: str, shrink: bool) -> None:
        """Draw the header (left and right parts) and the footer upright on the page as
        shown; when `shrink`, first scale its content about its displayed top centre and
        move it down, freeing a band at the top and one at the bottom for them."""
        display = display_of(page) or _unturned(page)
        width, height, matrix = display.width, display.height, display.matrix
        prefix = b""
        if shrink:
            scale = 1 - (HEADER_BAND + FOOTER_BAND) / height
            shown = (scale, 0.0, 0.0, scale, width / 2 * (1 - scale),
                     height - HEADER_BAND - scale * height)  # fmt: skip
            content = _then(_then(_inverse(matrix), shown), matrix)
            a, b, c, d, e, f = content
            prefix = f"{a:.5f} {b:.5f} {c:.5f} {d:.5f} {e:.3f} {f:.3f} cm\n".encode()
        left, right = header
        margin = min(HEADER_MARGIN, width / 10)
        placed = [
            (footer, (width - _width(footer)) / 2, 12.0),
            (left, margin, height - 14.0),
            (right, width - margin - _width(right), height - 14.0),
        ]
        drawn = b"q BT 0.32 0.38 0.43 rg " + FOOTER_FONT.encode() + b" %d Tf " % FOOTER_SIZE
        for text, x, y in placed:
            a, b, c, d, e, f = _then((1.0, 0.0, 0.0, 1.0, x, y), matrix)
            drawn += f"{a:g} {b:g} {c:g} {d:g} {e:.2f} {f:.2f} Tm ".encode()
            drawn += b"(" + _pdf_string(text) + b") Tj "
        _subdictionary(_resources(page), "/Font")[NameObject(FOOTER_FONT)] = self._font
        self._append_content(page, drawn + b"ET Q\n", prefix)

    def write(self, out: Path, *, prefix: str, metadata: dict[str, str]) -> None:
        """Stamp the header `prefix · title`, `Page i of N` and the footer `prefix · label ·
        i/N` on every page, add bookmarks and metadata, write `out`."""
        total = self.page_count
        for index, page in enumerate(self.writer.pages):
            label, number = self.labels[index], index + 1
            header = (f"{prefix} · {self.titles[index]}", f"Page {number} of {total}")
            self._stamp(page, header, f"{prefix} · {label} · {number}/{total}",
                        self.shrink[index])  # fmt: skip
        self._write_outline(self.bookmarks, None)
        self.writer.add_metadata(metadata)
        self.writer.page_mode = "/UseOutlines"
        found = list(active_content(self.writer._objects))
        if found:
            raise ValueError(f"active content in bundle: {found[:5]}")
        with out.open("wb") as handle:
            self.writer.write(handle)

    def _write_outline(self, marks: list[Bookmark], parent: IndirectObject | None) -> None:
        for mark in marks:
            node = self.writer.add_outline_item(
                title=mark.title, page_number=mark.page, parent=parent, is_open=False
            )
            self._write_outline(mark.children, node)


Matrix = tuple[float, float, float, float, float, float]


def _then(first: Matrix, second: Matrix) -> Matrix:
    """The PDF matrix that applies `first`, then `second` (row vectors, as `cm` does)."""
    a, b, c, d, e, f = first
    p, q, r, s, t, u = second
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)  # fmt: skip


def _inverse(matrix: Matrix) -> Matrix:
    a, b, c, d, e, f = matrix
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    return (ia, ib, ic, id_, -(e * ia + f * ic), -(e * ib + f * id_))


def _unturned(page: PageObject) -> Display:
    """A page whose turn is not a quarter, stamped as if it had none."""
    x0, y0, x1, y1, _rotate = _shown_box(page)
    return Display(x1 - x0, y1 - y0, (1.0, 0.0, 0.0, 1.0, x0, y0))


def _width(text: str) -> float:
    return float(stringWidth(text, "Helvetica", FOOTER_SIZE))


def _pdf_string(text: str) -> bytes:
    """Text for a Helvetica string: what WinAnsi lacks (Chinese in a caption) is left out."""
    encoded = text.encode("cp1252", errors="ignore")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _subdictionary(parent: DictionaryObject, key: str) -> DictionaryObject:
    """parent[key] as a dictionary, created if missing (it may be an indirect object)."""
    found = parent.get(key)
    if found is None:
        found = DictionaryObject()
        parent[NameObject(key)] = found
    resolved = found.get_object()
    assert isinstance(resolved, DictionaryObject)
    return resolved


def _resources(page: PageObject) -> DictionaryObject:
    return _subdictionary(page, "/Resources")


def active_content(objects: Any) -> Iterator[str]:
    """Every key or action type that would make the PDF act rather than show, by path."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, Any]] = [(f"obj{i}", obj) for i, obj in enumerate(objects)]
    while stack:
        path, obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (id(obj.pdf), obj.idnum)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in ACTIVE_KEYS:
                    yield f"{path}{key}"
                if key in ("/S", "/Subtype") and value in ACTIVE_VALUES:
                    yield f"{path}{key}{value}"
                if key != "/Parent":
                    stack.append((f"{path}{key}", value))
        elif isinstance(obj, ArrayObject):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(obj))


def scan_file(path: Path) -> list[str]:
    """Walk every object of a written PDF for active content (used on bundles and in tests)."""
    reader = PdfReader(path)
    objects = [reader.trailer]
    return list(active_content(objects))
