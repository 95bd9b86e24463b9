"""Every screen of the case fits a 1366x768 laptop and a 390x844 phone without scrolling
sideways, in both languages, and a refused ruling puts its errors and the form in view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_review_journey import PHONE, sign_in, upload
from tests.factories import png_bytes

pytestmark = pytest.mark.usefixtures("cjk_font")
LAPTOP = {"width": 1366, "height": 768}
SIZES = [("laptop", LAPTOP), ("phone", PHONE)]


def assert_fits(page: Page, what: str) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    shown = page.evaluate("window.innerWidth")
    assert wide <= shown, f"{what} scrolls sideways: {wide} px on a {shown} px screen"


def in_view(page: Page, selector: str) -> bool:
    return bool(
        page.locator(selector).first.evaluate(
            """el => { const r = el.getBoundingClientRect();
                       return r.bottom > 0 && r.top < window.innerHeight && r.height > 0; }"""
        )
    )


@pytest.mark.parametrize(("size", "viewport"), SIZES)
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_merchant_pages_of_a_case_fit(
    browser: Browser, live_url: str, shots: Path, size: str, viewport: dict[str, int], locale: str
) -> None:
    context, page = sign_in(browser, live_url, "owner@bloom.example", locale, viewport)
    page.goto(live_url + "/inbox?status=all")
    assert_fits(page, "the inbox")
    hrefs = page.locator("table.inbox tbody a[href^='/complaints/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    complaint = next(h for h in hrefs if re.fullmatch(r"/complaints/\d+", h))
    page.goto(live_url + complaint)
    assert_fits(page, "the complaint page")
    expect(page.get_by_test_id("next-step")).to_be_visible()
    appeal = page.locator("a[href^='/appeals/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    page.goto(live_url + complaint + "/evidence")
    assert_fits(page, "the evidence locker")
    page.screenshot(path=shots / f"locker-{size}-{locale}.png", full_page=True)
    if appeal:
        page.goto(live_url + appeal[0])
        assert_fits(page, "the appeal page")
        page.screenshot(path=shots / f"appeal-{size}-{locale}.png", full_page=True)
    context.close()


@pytest.fixture(scope="module")
def submitted(browser: Browser, live_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An appeal a merchant submitted through the pages, on a complaint nobody else uses."""
    chat = tmp_path_factory.mktemp("fit") / "聊天记录.png"
    chat.write_bytes(png_bytes((390, 700), "honeydew"))
    context, page = sign_in(browser, live_url, "owner@bloom.example", "en-US")
    page.goto(live_url + "/inbox?flagged=no")
    hrefs = page.locator("table.inbox tbody a[href^='/complaints/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    for href in hrefs:
        page.goto(live_url + href)
        if page.locator("form[action$='/appeal'] button").count():
            break
    else:
        pytest.fail("no open complaint left to appeal in the demo")
    complaint_id = href.rsplit("/", 1)[1]
    upload(page, live_url, complaint_id, chat, "chat_screenshot")
    page.goto(live_url + href)
    page.locator("form[action$='/appeal'] button").click()  # start the appeal
    page.locator("#category").select_option("other")
    page.locator("#statement").fill("The buyer threatened a bad review for a refund.")
    page.locator("input[name=remedies]").first.check()
    page.locator("#rows-0-allegation").fill("The item arrived damaged")
    page.locator("#rows-0-answer").fill("The chat shows the threat, not a damaged item.")
    page.locator("[data-row]").first.locator(".pick", has_text="聊天记录").locator("input").check()
    page.locator("#appeal-form [type=submit]").click()
    page.get_by_test_id("review-and-submit").click()
    page.get_by_test_id("confirm-submit").click()
    expect(page.get_by_test_id("appeal-state")).to_have_text(re.compile("Submitted|已提交"))
    number = re.search(r"AP-\d{4}-\d{6}", page.content())
    assert number
    context.close()
    return number.group(0)


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_refused_ruling_shows_every_error_with_the_form_in_view(
    browser: Browser,
    live_url: str,
    shots: Path,
    size: str,
    viewport: dict[str, int],
    submitted: str,
) -> None:
    context, page = sign_in(browser, live_url, "reviewer@platform.example", "en-US", viewport)
    page.goto(live_url + "/review/")
    assert_fits(page, "the review queue")
    page.get_by_role("link", name=submitted).click()
    if page.get_by_test_id("claim").count():
        page.get_by_test_id("claim").click()
    expect(page.locator("#ruling-form")).to_have_count(1)
    assert_fits(page, "the review screen")
    # The evidence viewer sits beside the rows on a laptop, below them on a phone.
    viewer = page.get_by_test_id("evidence-viewer").bounding_box()
    rows = page.locator("#rows").bounding_box()
    assert viewer and rows
    if size == "laptop":
        assert viewer["x"] > rows["x"] + rows["width"] - 1, "the viewer is beside the rows"
    page.screenshot(path=shots / f"review-{size}.png", full_page=True)
    # The ruling is at hand wherever the reviewer reads.
    page.locator("#rows").scroll_into_view_if_needed()
    assert in_view(page, "[data-testid=ruling-bar]")

    page.locator("[data-row-decision] textarea").first.fill("The chat shows the threat.")
    page.get_by_test_id("rule-bar").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    assert in_view(page, "#error-summary"), "the errors are in view after the refusal"
    assert in_view(page, "[data-testid=ruling-bar]"), "the ruling form is at hand"
    expect(summary).to_contain_text("Choose the outcome.")
    expect(summary).to_contain_text("Name the rule applied.")
    assert_fits(page, "the refused review screen")
    # What was typed is kept, and each message leads to its field.
    expect(page.locator("[data-row-decision] textarea").first).to_have_value(
        "The chat shows the threat."
    )
    summary.get_by_role("link", name="Name the rule applied.").click()
    expect(page.locator("#rule_applied")).to_be_focused()
    assert in_view(page, "#rule_applied")
    page.screenshot(path=shots / f"review-refused-{size}.png")
    context.close()
