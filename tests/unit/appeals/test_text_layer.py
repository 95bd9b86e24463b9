"""The bundle PDF is searchable: text read from pictures and scanned pages lies invisibly
over them, where the words are, and never where a redaction box covers them."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, RectangleObject
from sqlalchemy.orm import Session

from appeals import accounts, appeal, complaints
from appeals.accounts import SYSTEM
from appeals.bundle import Built, build
from appeals.bundle.keys import KeyFolder
from appeals.bundle.plan import reading_lines
from appeals.clock import utcnow
from appeals.models import (
    ComplaintChannel,
    ComplaintType,
    EvidenceItem,
    EvidenceKind,
    MaliciousCategory,
    Provenance,
    ReadingState,
)
from appeals.permissions import Role
from appeals.policies import DEFAULT_POLICIES
from evidence.assemble import FOOTER_BAND, HEADER_BAND, scan_file
from evidence.pdfpages import image_frame
from evidence.storage import LocalStore
from tests.conftest import require

require(bool(subprocess.run(["which", "pdftotext"], capture_output=True).stdout), "no pdftotext")

PICTURE = (900, 1600)  # a phone screenshot, taller than the page's image box is wide
A4 = (595.2756, 841.8898)
POINT = 4.0  # how far pdftotext's word boxes may stray from the reading's, in points
THREAT = "给我赔500块"
ORDER = "订单号 202611250017"
PHONE = "13812345678"
SCANNED = "SF1234567890123 已签收"
TURNED = "Received by 张三"


def line(text: str, box: list[float]) -> dict[str, Any]:
    return {"text": text, "box": box, "confidence": 0.98}


SCREENSHOT_LINES = [
    line(THREAT, [0.1, 0.2, 0.5, 0.03]),
    line(ORDER, [0.1, 0.5, 0.7, 0.025]),
    line(f"电话 {PHONE}", [0.1, 0.7, 0.6, 0.025]),
]
REDACTION = [[0.25, 0.6875, 0.5, 0.0625]]  # over the phone number's line only


@dataclass
class Case:
    session: Session
    owner: Any
    complaint: Any
    store: LocalStore
    folder: Path


@pytest.fixture
def case(session: Session, tmp_path: Path) -> Case:
    from appeals import passwords

    passwords.use_profile("cheapest")
    shop = accounts.create_shop(session, SYSTEM, "Searchable Shop")
    owner = accounts.create_user(
        session, SYSTEM, email="text@x.example", role=Role.MERCHANT_OWNER,
        password="long password 1", shop=shop,
    )  # fmt: skip
    order = complaints.record_order(
        session, shop, number="O-1", buyer_ref="buyer-x", items=[], total_amount=Decimal("10")
    )
    complaint = complaints.record_complaint(
        session, shop, external_id="CP-TEXT", type=ComplaintType.NOT_RECEIVED,
        channel=ComplaintChannel.ONLINE, description="never arrived", buyer_ref="buyer-x",
        received_at=utcnow() - timedelta(days=1), order=order,
        policy=DEFAULT_POLICIES.deadlines,
    )  # fmt: skip
    complaints.flag_complaint(
        session, owner, complaint, MaliciousCategory.OTHER,
        "The buyer asked for money not to leave a bad review.",
    )  # fmt: skip
    return Case(session, owner, complaint, LocalStore(tmp_path / "blobs"), tmp_path)


def stored(case: Case, name: str, data: bytes) -> str:
    path = case.folder / f"{hashlib.sha256(data).hexdigest()[:12]}-{name}"
    path.write_bytes(data)
    return case.store.put(path)


def reading(case: Case, pages: dict[int, list[dict[str, Any]]]) -> str:
    body = {"format": 1, "reader": "test", "pages": [
        {"page": number, "width": 1000, "height": 1000, "lines": lines}
        for number, lines in pages.items()
    ]}  # fmt: skip
    return stored(case, "reading.json", json.dumps(body).encode())


def picture_item(
    case: Case, *, redacted: bool = False, shade: int = 255, **extra: Any
) -> EvidenceItem:
    """A screenshot stored as the locker keeps one, optionally with its redacted copy."""
    image = Image.new("RGB", PICTURE, (shade, shade, shade))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    key = stored(case, "shot.png", buffer.getvalue())
    if redacted:
        for left, top, width, height in REDACTION:
            x, y = int(left * PICTURE[0]), int(top * PICTURE[1])
            image.paste("black", (x, y, x + int(width * PICTURE[0]), y + int(height * PICTURE[1])))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        extra |= {
            "redacted_key": stored(case, "shot-redacted.png", buffer.getvalue()),
            "redaction": REDACTION,
            "redacted_at": utcnow(),
        }
    return add_item(case, "image/png", key, EvidenceKind.CHAT_SCREENSHOT, width=PICTURE[0],
                    height=PICTURE[1], normalized_key=key, page_key=key, **extra)  # fmt: skip


def scanned_item(case: Case, rotate: int = 90, **extra: Any) -> EvidenceItem:
    """A scanned receipt of two pages: upright A4, then a page with a cropbox (600 x 440
    points inside its 700 x 500 media box) turned by `rotate`."""
    writer = PdfWriter()
    writer.add_blank_page(width=A4[0], height=A4[1])
    turned = writer.add_blank_page(width=700, height=500)
    turned.cropbox = RectangleObject((50, 40, 650, 480))
    turned[NameObject("/Rotate")] = NumberObject(rotate)
    buffer = io.BytesIO()
    writer.write(buffer)
    key = stored(case, f"scan-{rotate}.pdf", buffer.getvalue())
    return add_item(case, "application/pdf", key, EvidenceKind.SHIPPING_RECEIPT, pages=2, **extra)


def add_item(
    case: Case, media_type: str, key: str, kind: EvidenceKind, **columns: Any
) -> EvidenceItem:
    item = EvidenceItem(
        shop_id=case.complaint.shop_id, complaint_id=case.complaint.id, kind=kind,
        caption=f"{kind.value} {key[:8]}", display_name=f"{kind.value}.bin", media_type=media_type,
        size=1, sha256=key, blob_key=key, provenance=Provenance.MERCHANT_UPLOADED, **columns,
    )  # fmt: skip
    case.session.add(item)
    case.session.flush()
    return item


def read_by(case: Case, pages: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {"reading_key": reading(case, pages), "reading_state": ReadingState.DONE}


def bundle(case: Case, items: list[EvidenceItem]) -> tuple[Built, dict[str, int]]:
    """Cite the items in one row, submit, build; the bundle and each exhibit's first page."""
    draft = appeal.start_appeal(case.session, case.owner, case.complaint.id)
    appeal.update_draft(
        case.session, case.owner, draft, category=MaliciousCategory.OTHER,
        statement="The buyer demanded money under threat of a bad review.",
        remedies=["void_complaint"],
        rows=[("Threat", "The pictures show the demand.", [item.id for item in items])],
    )  # fmt: skip
    version = appeal.submit_appeal(
        case.session, case.owner, draft, profile=DEFAULT_POLICIES.budget,
        review_policy=DEFAULT_POLICIES.review,
    )  # fmt: skip
    built = build(
        case.session, version, case.store, case.folder / "bundle",
        key=KeyFolder(case.folder / "keys").signer(),
        profile=DEFAULT_POLICIES.budget, font=None, time_zone="Asia/Shanghai",
    )  # fmt: skip
    firsts = {str(entry["caption"]): entry["first_page"] for entry in built.manifest["files"]}
    return built, firsts


def page_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    run = subprocess.run(["pdftotext", *pages, str(pdf), "-"], capture_output=True, check=True)
    return run.stdout.decode()


def pages_with(pdf: Path, phrase: str, total: int) -> list[int]:
    return [n for n in range(1, total + 1) if phrase in page_text(pdf, n)]


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def words(pdf: Path, page: int) -> dict[str, tuple[float, float, float, float]]:
    """Each word on a page with its box in points from the top left of the page as shown
    (cropbox, rotation), as pdftotext reads it."""
    run = subprocess.run(
        ["pdftotext", "-bbox", "-cropbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    found = WORD.findall(run.stdout.decode())
    return {text: (float(a), float(b), float(c), float(d)) for a, b, c, d, text in found}


def assert_near(
    found: tuple[float, float, float, float], expected: tuple[float, float, float, float]
) -> None:
    x0, y0, x1, y1 = found
    left, top, right, bottom = expected
    assert abs(x0 - left) < POINT and abs(x1 - right) < POINT, (found, expected)
    # The word's height comes from the font's ascent and descent: its middle is the box's.
    assert abs((y0 + y1) / 2 - (top + bottom) / 2) < POINT, (found, expected)
    assert top - POINT < y0 < y1 < bottom + POINT, (found, expected)


def expected_on_image(box: list[float]) -> tuple[float, float, float, float]:
    """Where a line's box is on the A4 page, in points from its top left."""
    frame = image_frame(*PICTURE)
    left = frame.x + box[0] * frame.width
    top = A4[1] - frame.y - frame.height + box[1] * frame.height
    return left, top, left + box[2] * frame.width, top + box[3] * frame.height


def test_a_screenshot_reading_is_searchable_on_its_own_page_where_the_words_are(
    case: Case,
) -> None:
    shot = picture_item(case, **read_by(case, {1: SCREENSHOT_LINES}))
    plain = picture_item(case, shade=240)  # no reading: its page keeps only its caption
    built, firsts = bundle(case, [shot, plain])
    page = firsts[shot.caption]
    for phrase in (THREAT, ORDER, PHONE):
        assert pages_with(built.pdf, phrase, built.pages) == [page], phrase
    found = words(built.pdf, page)
    assert_near(found[THREAT], expected_on_image(SCREENSHOT_LINES[0]["box"]))
    # "订单号 202611250017": two words that between them span the line's box.
    box = expected_on_image(SCREENSHOT_LINES[1]["box"])
    label, number = found["订单号"], found["202611250017"]
    assert abs(label[0] - box[0]) < POINT and abs(number[2] - box[2]) < POINT
    assert label[2] < number[0]
    assert_near((label[0], label[1], number[2], number[3]), box)
    assert_no_active_content(built.pdf)


def test_a_redacted_line_never_reaches_the_pdf_but_the_others_do(case: Case) -> None:
    shot = picture_item(case, redacted=True, **read_by(case, {1: SCREENSHOT_LINES}))
    built, firsts = bundle(case, [shot])
    text = page_text(built.pdf)
    assert PHONE not in text and "电话" not in text
    assert pages_with(built.pdf, THREAT, built.pages) == [firsts[shot.caption]]
    assert ORDER in page_text(built.pdf, firsts[shot.caption])
    assert PHONE.encode() not in built.pdf.read_bytes()


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_scanned_pdf_pages_get_their_text_upright_and_turned(case: Case, rotate: int) -> None:
    upright_box, turned_box = [0.1, 0.1, 0.6, 0.03], [0.2, 0.5, 0.5, 0.05]
    pages = {1: [line(SCANNED, upright_box)], 2: [line(TURNED, turned_box)]}
    scan = scanned_item(case, rotate, **read_by(case, pages))
    built, firsts = bundle(case, [scan])
    first = firsts[scan.caption]
    assert pages_with(built.pdf, "SF1234567890123", built.pages) == [first]
    assert pages_with(built.pdf, TURNED, built.pages) == [first + 1]
    assert "已签收" in page_text(built.pdf, first)
    # Appended PDF pages are shrunk and moved down to free the header's and footer's bands.
    for page, (width, height), box, word in (
        (first, A4, upright_box, "SF1234567890123"),
        (first + 1, (600, 440) if rotate == 180 else (440, 600), turned_box, "Received"),
    ):
        scale = 1 - (HEADER_BAND + FOOTER_BAND) / height
        x0 = width / 2 + (box[0] * width - width / 2) * scale
        top = HEADER_BAND + box[1] * height * scale
        expected = (x0, top, x0, top + box[3] * height * scale)
        found = words(built.pdf, page)[word]
        assert abs(found[0] - expected[0]) < POINT, (word, found, expected)
        assert expected[1] - POINT < found[1] < found[3] < expected[3] + POINT, (word, found)
    assert_no_active_content(built.pdf)


def assert_no_active_content(pdf: Path) -> None:
    """Nothing active but the PAdES signature's own form: signature fields alone."""
    from pypdf import PdfReader

    found = scan_file(pdf)
    assert all(path.endswith("/Root/AcroForm") for path in found), found
    form = PdfReader(pdf).trailer["/Root"].get("/AcroForm")
    if form is not None:
        fields = [f.get_object() for f in form.get_object().get("/Fields", [])]
        assert fields and all(f.get("/FT") == "/Sig" for f in fields)


def test_characters_the_font_lacks_are_left_out_of_the_layer(case: Case) -> None:
    shot = picture_item(case, **read_by(case, {1: [line("𠮷野家 退款 😀", [0.1, 0.1, 0.5, 0.03])]}))
    built, firsts = bundle(case, [shot])
    assert "野家 退款" in page_text(built.pdf, firsts[shot.caption])


def reading_body(**fields: Any) -> bytes:
    return json.dumps({"format": 1, "reader": "test", **fields}).encode()


GOOD = reading_body(pages=[{"page": 1, "lines": SCREENSHOT_LINES}])
MISSING = b""  # the key names a blob the store does not hold
BAD_BOX = {"text": THREAT, "box": "left"}


UNUSABLE = {
    "never read": (None, None),
    "queued": (ReadingState.QUEUED, GOOD),
    "failed": (ReadingState.FAILED, GOOD),
    "blob missing": (ReadingState.DONE, MISSING),
    "not json": (ReadingState.DONE, b"{not json"),
    "not utf-8": (ReadingState.DONE, b"\xff\xfe{}"),
    "unknown format": (ReadingState.DONE, json.dumps({"format": 2, "pages": []}).encode()),
    "bad box": (ReadingState.DONE, reading_body(pages=[{"page": 1, "lines": [BAD_BOX]}])),
    "bad line": (ReadingState.DONE, reading_body(pages=[{"page": 1, "lines": [THREAT]}])),
    "bad pages": (ReadingState.DONE, reading_body(pages={"page": 1})),
}


def unusable(case: Case, name: str) -> dict[str, Any]:
    """The reading columns of an item whose reading (if any) cannot be used."""
    state, body = UNUSABLE[name]
    if body is None:
        return {}
    key = stored(case, "reading.json", body) if body else "0" * 64
    return {"reading_key": key, "reading_state": state}


@pytest.mark.parametrize("name", UNUSABLE)
def test_an_unusable_reading_gives_no_lines(case: Case, name: str) -> None:
    assert reading_lines(picture_item(case, **unusable(case, name)), case.store) == {}
    assert reading_lines(scanned_item(case, **unusable(case, name)), case.store) == {}


@pytest.mark.parametrize("name", ["never read", "queued", "blob missing", "not json"])
def test_without_a_usable_reading_the_bundle_renders_as_before(case: Case, name: str) -> None:
    shot = picture_item(case, **unusable(case, name))
    scan = scanned_item(case, **unusable(case, name))
    built, firsts = bundle(case, [shot, scan])
    assert THREAT not in page_text(built.pdf)
    assert not (case.folder / "bundle" / "scanned-text.pdf").exists()
    for first in (firsts[shot.caption], firsts[scan.caption]):
        contents = PdfReader(built.pdf).pages[first - 1].get_contents()
        assert contents is not None and b" Tr" not in contents.get_data()  # no text layer


def test_reading_lines_drop_every_line_a_redaction_box_touches(case: Case) -> None:
    edge = line("touching", [0.0, 0.5625, 0.25, 0.125])  # its corner is the box's corner
    shot = picture_item(case, redacted=True, **read_by(case, {1: [*SCREENSHOT_LINES, edge]}))
    assert [text for text, _box in reading_lines(shot, case.store)[1]] == [THREAT, ORDER]
