"""A merchant builds an appeal from a flagged complaint, watches readiness and budget, submits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from merchant_portal.demo import DEMO_PASSWORD
from tests.conftest import require
from tests.factories import png_bytes

pytestmark = pytest.mark.usefixtures("cjk_font")


def test_build_watch_readiness_and_submit(
    browser: Browser, live_url: str, shots: Path, tmp_path: Path
) -> None:
    chat, review = tmp_path / "threat.png", tmp_path / "review.png"
    chat.write_bytes(png_bytes((390, 700), "honeydew"))
    review.write_bytes(png_bytes((390, 500), "mistyrose"))
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_url + "/login")
    page.get_by_label("Email").fill("owner@volt.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.get_by_label("Flag").select_option("yes")
    page.get_by_role("button", name="Apply").click()
    page.locator("table.inbox tbody a").first.click()

    page.get_by_role("link", name="Evidence locker").click()
    for path, kind in ((chat, "chat_screenshot"), (review, "review_capture")):
        page.get_by_label("What the files show").select_option(kind)
        page.get_by_label("Files", exact=True).set_input_files(str(path))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator(".upload-result.accepted", has_text=path.name)).to_be_visible()
    page.get_by_role("link", name="Complaint and dossier").click()
    start = page.get_by_role("button", name="Start the appeal")
    start.or_(page.get_by_role("link", name="Open the appeal")).click()

    expect(page.get_by_test_id("appeal-state")).to_have_text("Draft")
    expect(page.get_by_role("link", name="Review and submit")).to_have_attribute(
        "aria-disabled", "true"
    )
    page.get_by_label("Statement of facts").fill(
        "The buyer demanded a refund and threatened a one-star review."
    )
    page.get_by_label("Void the complaint").check()
    page.get_by_label("What the complaint alleges").first.fill("The shop was rude")
    page.get_by_label("Your answer").first.fill("The chat shows the buyer's threat, not rudeness.")
    picker = page.locator("[data-row]").first.locator(".exhibit-picker")
    for name in ("threat.png", "review.png"):
        picker.locator(".pick", has_text=name).locator("input").check()
    # The builder is live: the autosave brings readiness and the budget up to date.
    expect(page.locator("#autosave")).to_contain_text("Saved at", timeout=10_000)
    expect(page.get_by_text("Everything a reviewer needs is here.")).to_be_visible()
    expect(page.get_by_test_id("budget-files")).to_contain_text("2 / ")
    # A row is added in place, lettered after the others, and removed without a reload.
    rows = page.locator("[data-row]").count()
    page.get_by_role("button", name="Add a row").click()
    expect(page.locator("[data-row]")).to_have_count(rows + 1)
    expect(page.locator("[data-row]").nth(rows).locator("legend").first).to_have_text(
        f"Row {'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[rows]}"
    )
    page.locator("[data-row]").nth(rows).get_by_role("button", name="Remove this row").click()
    expect(page.locator("[data-row]:visible")).to_have_count(rows)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Everything a reviewer needs is here.")).to_be_visible()
    expect(page.locator(".budget-line progress").nth(2)).to_have_attribute("value", "2")
    page.screenshot(path=shots / "appeal-ready-en.png", full_page=True)

    page.get_by_role("link", name="Review and submit").click()
    page.get_by_test_id("confirm-submit").click()
    expect(page.get_by_test_id("appeal-state")).to_have_text("Submitted")
    expect(page.get_by_text("Submitted version 1")).to_be_visible()
    page.screenshot(path=shots / "appeal-submitted-en.png", full_page=True)

    # The bundle builds in the background; the page follows it and then offers the files.
    page.get_by_test_id("build-bundle").click()
    expect(page.get_by_test_id("download-pdf")).to_be_visible(timeout=60_000)
    page.screenshot(path=shots / "appeal-bundle-ready-en.png", full_page=True)
    with page.expect_download() as pdf_download:
        page.get_by_test_id("download-pdf").click()
    pdf = tmp_path / "bundle.pdf"
    pdf_download.value.save_as(pdf)
    with page.expect_download() as zip_download:
        page.get_by_test_id("download-zip").click()
    archive = tmp_path / "bundle.zip"
    zip_download.value.save_as(archive)
    assert pdf_download.value.suggested_filename.endswith("-v1-bundle.pdf")
    cover = look_at_first_page(pdf, shots / "bundle-page-1.png")
    assert "Appeal evidence bundle" in cover and "申诉证据包" in cover
    pages = len(PdfReader(pdf).pages)
    expect(page.get_by_test_id("bundle-pages")).to_have_text(str(pages))
    context.close()

    # A reviewer checks the downloaded ZIP on the verification page.
    reviewer = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = reviewer.new_page()
    page.goto(live_url + "/login")
    page.locator("#email").fill("reviewer@platform.example")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#password").press("Enter")
    page.goto(live_url + "/review/verify")
    page.locator("#bundle").set_input_files(str(archive))
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-intact", "yes")
    expect(page.get_by_test_id("verify-signature")).to_have_text("有效：由本系统签名")
    page.screenshot(path=shots / "verify-intact-zh.png", full_page=True)
    reviewer.close()


def look_at_first_page(pdf: Path, png: Path) -> str:
    """Render page 1 as an image (as a reader would see it) and return its text."""
    pdftoppm = shutil.which("pdftoppm")
    require(pdftoppm is not None, "pdftoppm is missing: apt-get install poppler-utils")
    assert pdftoppm is not None
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(png.with_suffix(""))],
        check=True, timeout=60,
    )  # fmt: skip
    with Image.open(png) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert abs(width / height - 210 / 297) < 0.01, "an A4 page"
        ink = sum(1 for value in gray.tobytes() if value < 128)
        assert ink > 0.002 * width * height, "the cover shows text, not a blank page"
    return PdfReader(pdf).pages[0].extract_text()
