"""A chat screenshot is read in the background, its phone number covered on the merchant's
word, and the bundle's page of that picture can be searched for what the buyer wrote."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from appeals.clock import utcnow
from merchant_portal.demo import DEMO_PASSWORD
from tests.chatshots import EXTORTION, render
from tests.conftest import require
from tests.factories import png_bytes

pytestmark = pytest.mark.usefixtures("cjk_font")


def pdf_pages_text(pdf: Path) -> list[str]:
    """The text of each page as poppler's pdftotext reads it (what a PDF reader searches)."""
    tool = shutil.which("pdftotext")
    require(tool is not None, "pdftotext (poppler-utils) is needed to read the bundle's text")
    assert tool is not None
    text = subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    return text.split("\f")


def sign_in(page: Page, live_url: str, email: str) -> None:
    page.goto(live_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("Password").press("Enter")
    # In English, whatever language an earlier journey left on the account.
    page.locator("form.lang-switch button[value=en]").click()


def test_a_read_screenshot_is_redacted_on_request_and_searchable_in_the_bundle(
    browser: Browser, live_url: str, shots: Path, tmp_path: Path
) -> None:
    picture = tmp_path / "威胁聊天.png"
    render(EXTORTION, layout="wechat", theme="light").save(picture)
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    # The platform records a complaint of its own for this journey (by its admin form).
    sign_in(page, live_url, "admin@platform.example")
    page.goto(live_url + "/admin/complaints/new")
    page.get_by_label("Shop").select_option(label="Shenzhen Volt Electronics 深圳伏特电子")
    page.get_by_label("Complaint number").fill("CP-READ-E2E")
    page.get_by_label("Type", exact=True).select_option("not_as_described")
    page.get_by_label("Channel").select_option("online")
    page.get_by_label("Buyer").fill("tb_buyer")
    received = utcnow().astimezone(ZoneInfo("Asia/Shanghai")) - timedelta(hours=2)
    page.get_by_label("Received at").fill(received.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Description").fill("杯子有划痕 The cup is scratched.")
    page.get_by_role("button", name="Record complaint").click()
    page.get_by_role("button", name="Sign out").or_(
        page.get_by_role("link", name="Sign out")
    ).click()
    sign_in(page, live_url, "owner@volt.example")
    page.goto(live_url + "/inbox?q=CP-READ-E2E")
    page.get_by_role("link", name="CP-READ-E2E").click()
    page.get_by_role("link", name="Evidence locker").click()

    review = tmp_path / "review.png"
    review.write_bytes(png_bytes((390, 300), "mistyrose"))
    for path, kind in ((picture, "chat_screenshot"), (review, "review_capture")):
        page.get_by_label("What the files show").select_option(kind)
        page.get_by_label("Files", exact=True).set_input_files(str(path))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator(".upload-result.accepted", has_text=path.name)).to_be_visible()
    page.reload()
    row = page.get_by_test_id("evidence-item").filter(has_text=picture.name)
    # The page follows the reading as it happens in the background.
    expect(row.get_by_test_id("reading-state")).to_have_attribute("data-reading", "done",
                                                                 timeout=90_000)  # fmt: skip
    page.screenshot(path=shots / "locker-read-en.png", full_page=True)
    row.get_by_role("link", name="See suggested redactions").click()

    suggestion = page.get_by_test_id("suggestion").filter(has_text="15867123409")
    expect(suggestion).to_contain_text("Phone number")
    suggestion.get_by_label("Cover").check()
    expect(page.locator(".suggest-box.suggest-accepted")).to_have_count(1)
    page.screenshot(path=shots / "redact-suggested-en.png", full_page=True)
    page.get_by_role("button", name="Save the redacted copy").click()
    expect(page.get_by_text("Redacted copy saved")).to_be_visible()
    expect(page.get_by_test_id("redacted-preview")).to_be_visible()

    # The appeal cites the screenshot; its bundle is built and downloaded.
    page.get_by_role("link", name="Evidence locker").click()
    page.get_by_role("link", name="Complaint and dossier").click()
    expect(page.locator('[data-code="extortion"]')).to_contain_text("给我赔500块")
    flag = page.get_by_role("button", name="Flag as malicious")
    if flag.count():
        page.get_by_label("Why is it malicious?").select_option("extortion")
        page.get_by_label("Your reasons").fill("The buyer demanded 500 yuan under threat.")
        flag.click()
    page.get_by_role("button", name="Start the appeal").click()
    page.get_by_label("Statement of facts").fill(
        "The buyer demanded 500 yuan and threatened a bad review and a 12315 complaint."
    )
    page.get_by_label("Void the complaint").check()
    page.get_by_label("What the complaint alleges").first.fill("The colour differs")
    page.get_by_label("Your answer").first.fill("The chat shows a demand for money, not a fault.")
    picker = page.locator("[data-row]").first.locator(".exhibit-picker")
    for name in (picture.name, "review.png"):
        picker.locator(".pick", has_text=name).locator("input").check()
    page.get_by_role("button", name="Save draft").click()
    page.screenshot(path=shots / "appeal-with-screenshot-en.png", full_page=True)
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_test_id("confirm-submit").click()
    expect(page.get_by_test_id("appeal-state")).to_have_text("Submitted")
    page.get_by_test_id("build-bundle").click()
    expect(page.get_by_test_id("download-pdf")).to_be_visible(timeout=90_000)
    with page.expect_download() as download:
        page.get_by_test_id("download-pdf").click()
    pdf = tmp_path / "bundle.pdf"
    download.value.save_as(pdf)
    context.close()

    pages = pdf_pages_text(pdf)
    # The picture's page: its caption names the file; the buyer's words are on it, as text.
    exhibit = next(i for i, text in enumerate(pages) if picture.name in text and "A-1 ·" in text)
    assert "给我赔500块" in pages[exhibit].replace(" ", "")
    assert "3587214093316572" in pages[exhibit].replace(" ", "")
    # Only there: not another page (the dossier quotes it, so leave out its pages).
    others = [i for i, text in enumerate(pages) if "给我赔500块" in text.replace(" ", "")]
    assert exhibit in others
    # The covered phone number is in no text layer anywhere.
    assert all("15867123409" not in text.replace(" ", "") for text in pages)
