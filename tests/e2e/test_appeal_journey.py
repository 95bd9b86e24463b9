"""A merchant builds an appeal from a flagged complaint, watches readiness and budget, submits."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from merchant_portal.demo import DEMO_PASSWORD
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
    page.get_by_label("Exhibits that prove it").first.select_option(
        label=["threat.png", "review.png"]
    )
    expect(page.locator("#autosave")).to_contain_text("Saved at", timeout=10_000)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Everything a reviewer needs is here.")).to_be_visible()
    expect(page.locator(".budget-line progress").nth(2)).to_have_attribute("value", "2")
    page.screenshot(path=shots / "appeal-ready-en.png", full_page=True)

    page.get_by_role("link", name="Review and submit").click()
    page.get_by_test_id("confirm-submit").click()
    expect(page.get_by_test_id("appeal-state")).to_have_text("Submitted")
    expect(page.get_by_text("Submitted version 1")).to_be_visible()
    page.screenshot(path=shots / "appeal-submitted-en.png", full_page=True)
    context.close()
