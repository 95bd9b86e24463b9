"""The whole journey in Chromium: the merchant flags, uploads, builds and submits; the
reviewer asks; the merchant answers; the reviewer rules; the merchant appeals again; a
senior reviewer rules; both download the bundle. The merchant works in Chinese."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from merchant_portal.demo import DEMO_PASSWORD
from tests.factories import png_bytes

pytestmark = pytest.mark.usefixtures("cjk_font")


def waybill_pdf() -> bytes:
    """A two-page courier receipt with text on it."""
    import io

    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for page in (1, 2):
        canvas.setFont("Helvetica-Bold", 28)
        canvas.drawString(60, 760, f"WAYBILL SF1234567890 - page {page}")
        canvas.setFont("Helvetica", 16)
        for line in range(20):
            canvas.drawString(
                60, 700 - line * 28, f"Signed by the buyer on 2026-11-20, item {line}"
            )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


PHONE = {"width": 390, "height": 844}


def sign_in(
    browser: Browser, live_url: str, email: str, locale: str, viewport: dict[str, int] | None = None
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        locale=locale, viewport=viewport or {"width": 1366, "height": 900}
    )
    page = context.new_page()
    page.goto(live_url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.locator("#password")).to_have_count(0)
    return context, page


def upload(page: Page, live_url: str, complaint_id: str, path: Path, kind: str) -> None:
    page.goto(f"{live_url}/complaints/{complaint_id}/evidence")
    page.locator("#kind").select_option(kind)
    page.locator("#files").set_input_files(str(path))
    page.locator("#evidence-form [type=submit]").click()
    expect(page.locator(".upload-result.accepted", has_text=path.name)).to_be_visible()


def test_merchant_reviewer_and_senior_reach_a_final_ruling(
    browser: Browser, live_url: str, shots: Path, tmp_path: Path
) -> None:
    files = {}
    for name, size, color in (("威胁聊天.png", (390, 800), "lavender"),
                              ("差评截图.png", (390, 500), "mistyrose"),
                              ("签收照片.png", (600, 450), "wheat")):  # fmt: skip
        files[name] = tmp_path / name
        files[name].write_bytes(png_bytes(size, color))
    files["waybill.pdf"] = tmp_path / "waybill.pdf"
    files["waybill.pdf"].write_bytes(waybill_pdf())

    # The merchant (Chinese) gathers evidence for the flagged complaint and submits.
    merchant_context, merchant = sign_in(browser, live_url, "owner@bloom.example", "zh-CN")
    merchant.goto(live_url + "/inbox?flagged=yes")
    merchant.locator("table.inbox tbody a").first.click()
    complaint_id = re.search(r"/complaints/(\d+)", merchant.url).group(1)  # type: ignore[union-attr]
    upload(merchant, live_url, complaint_id, files["威胁聊天.png"], "chat_screenshot")
    upload(merchant, live_url, complaint_id, files["差评截图.png"], "review_capture")
    upload(merchant, live_url, complaint_id, files["waybill.pdf"], "shipping_receipt")
    merchant.goto(f"{live_url}/complaints/{complaint_id}")
    merchant.locator("a[href^='/appeals/']").first.click()
    appeal_url = merchant.url.split("#")[0]
    # The exhibit picker shows each locker file with its thumbnail and kind.
    picker = merchant.locator("[data-row]").first.locator(".exhibit-picker")
    expect(picker.locator(".pick")).to_have_count(3)
    expect(picker.locator(".pick img").first).to_be_visible()
    for name in ("威胁聊天", "差评截图", "waybill"):
        picker.locator(".pick", has_text=name).locator("input").check()
    expect(picker.locator("[data-picked-count]")).to_contain_text("3")
    merchant.locator("#appeal-form [type=submit]").first.click()
    expect(merchant.locator(".ready-line")).to_be_visible()
    merchant.goto(appeal_url + "/submit")
    merchant.get_by_test_id("confirm-submit").click()
    expect(merchant.get_by_test_id("build-bundle")).to_be_visible()
    number = re.search(r"AP-\d{4}-\d{6}", merchant.content()).group(0)  # type: ignore[union-attr]
    merchant.get_by_test_id("build-bundle").click()
    expect(merchant.get_by_test_id("download-zip")).to_be_visible(timeout=60_000)
    merchant.screenshot(path=shots / "1-merchant-submitted-zh.png", full_page=True)

    # The reviewer claims it from the queue and asks a question.
    reviewer_context, reviewer = sign_in(browser, live_url, "reviewer@platform.example", "en-US")
    reviewer.goto(live_url + "/review/")
    row = reviewer.locator("table.queue tr", has_text=number)
    row.get_by_role("button", name="Claim").click()
    expect(reviewer.get_by_test_id("appeal-state")).to_have_text("In review")
    review_url = reviewer.url.split("#")[0]
    # The receipt's pages are drawn in place (pdf.js), not just offered for download.
    pdf_box = reviewer.locator(".pdf-pages").first
    expect(pdf_box).to_have_attribute("data-rendered", "2", timeout=20_000)
    inked = pdf_box.locator("canvas").first.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
                  return dark; }"""
    )
    assert inked > 200, "the first page shows its text"
    reviewer.screenshot(path=shots / "2-review-screen-en.png", full_page=True)
    reviewer.locator("#question").fill(
        "Please send the courier's delivery photo with the signature."
    )
    reviewer.get_by_test_id("ask").click()
    expect(reviewer.get_by_test_id("appeal-state")).to_have_text("Information requested")

    # The merchant sees the question with its deadline, adds a file and answers.
    merchant.goto(appeal_url)
    expect(merchant.get_by_test_id("info-request")).to_contain_text("delivery photo")
    merchant.screenshot(path=shots / "3-merchant-question-zh.png", full_page=True)
    upload(merchant, live_url, complaint_id, files["签收照片.png"], "delivery_proof")
    merchant.goto(appeal_url)
    merchant.locator("#answer").fill(
        "附上快递员拍摄的签收照片。The courier's photo with the signature."
    )
    merchant.locator("input[name=evidence]").first.check()
    merchant.get_by_test_id("send-answer").click()
    expect(merchant.get_by_test_id("timeline")).to_contain_text("店铺以新版本作出答复")

    # The reviewer sees what is new and rules, with a reason for every row.
    reviewer.goto(review_url)
    expect(reviewer.get_by_test_id("new-since")).to_contain_text("B-1")
    reviewer.locator("input[name=outcome][value=partially_upheld]").check()
    reviewer.locator("input[name=row_A][value=accept]").check()
    reviewer.locator("#reason_A").fill("The chat shows the threat of a bad review.")
    reviewer.locator("input[name=row_B][value=reject]").check()
    reviewer.locator("#reason_B").fill("The photo does not show the date of delivery.")
    reviewer.locator("#rule_applied").fill("Platform rules 4.2 (malicious reviews)")
    reviewer.locator("input[name=b_remove_review]").check()
    reviewer.locator("input[name=m_warning]").check()
    reviewer.locator("#summary").fill("The review is removed; the delivery claim is not proven.")
    reviewer.get_by_test_id("rule").click()
    expect(reviewer.get_by_test_id("ruling-1")).to_contain_text("Partially upheld")
    reviewer.screenshot(path=shots / "4-ruling-en.png", full_page=True)

    # The merchant reads the ruling and appeals once more.
    merchant.goto(appeal_url)
    expect(merchant.get_by_test_id("ruling-1")).to_contain_text("The photo does not show")
    merchant.locator("#statement").fill(
        "快递签收记录显示 11 月 20 日已签收，详见新的说明。The signed record shows delivery."
    )
    merchant.get_by_test_id("send-reappeal").click()
    expect(merchant.get_by_test_id("timeline")).to_contain_text("店铺已再次申诉")
    merchant.screenshot(path=shots / "5-merchant-reappealed-zh.png", full_page=True)

    # A senior reviewer (not the first) takes the second instance and rules: final.
    senior_context, senior = sign_in(browser, live_url, "senior@platform.example", "en-US")
    senior.goto(review_url)
    expect(senior.get_by_test_id("new-since")).to_have_text("row C")  # the second appeal's text
    senior.get_by_test_id("claim").click()
    senior.locator("input[name=outcome][value=upheld]").check()
    for key in ("A", "B", "C"):
        senior.locator(f"input[name=row_{key}][value=accept]").check()
        senior.locator(f"#reason_{key}").fill(f"Row {key} is proven on the whole file.")
    senior.locator("#rule_applied").fill("Platform rules 4.2")
    senior.locator("input[name=b_void_complaint]").check()
    senior.locator("#summary").fill("On the new information, the complaint was malicious.")
    senior.get_by_test_id("rule").click()
    expect(senior.get_by_test_id("appeal-state")).to_have_text("Final")
    senior.get_by_test_id("build-bundle").click()
    expect(senior.get_by_test_id("download-zip")).to_be_visible(timeout=60_000)
    with senior.expect_download() as reviewer_zip:
        senior.get_by_test_id("download-zip").click()
    reviewer_zip.value.save_as(tmp_path / "senior.zip")
    senior.screenshot(path=shots / "6-senior-final-en.png", full_page=True)

    # Both download the bundle of the final version.
    merchant.goto(appeal_url)
    expect(merchant.get_by_test_id("ruling-2")).to_be_visible()
    merchant.get_by_test_id("build-bundle").or_(merchant.get_by_test_id("download-zip")).click()
    expect(merchant.get_by_test_id("download-zip")).to_be_visible(timeout=60_000)
    with merchant.expect_download() as merchant_zip:
        merchant.get_by_test_id("download-zip").click()
    merchant_zip.value.save_as(tmp_path / "merchant.zip")
    merchant.screenshot(path=shots / "7-merchant-final-zh.png", full_page=True)
    for name in ("senior.zip", "merchant.zip"):
        with zipfile.ZipFile(tmp_path / name) as bundle:
            assert '"version": 3' in bundle.read("manifest.json").decode()
    assert (tmp_path / "senior.zip").read_bytes() == (tmp_path / "merchant.zip").read_bytes()
    # The dashboards chart what happened, in each viewer's language.
    merchant.goto(live_url + "/dashboard")
    expect(merchant.locator("svg.chart").first).to_be_visible()
    merchant.screenshot(path=shots / "8-merchant-dashboard-zh.png", full_page=True)
    senior.goto(live_url + "/review/dashboard")
    expect(senior.get_by_test_id("sla")).to_contain_text("%")
    senior.screenshot(path=shots / "9-platform-dashboard-en.png", full_page=True)
    senior.goto(live_url + "/review/")
    senior.screenshot(path=shots / "10-queue-en.png", full_page=True)
    phone, small = sign_in(browser, live_url, "owner@bloom.example", "zh-CN", PHONE)
    small.goto(appeal_url)
    expect(small.get_by_test_id("ruling-2")).to_be_visible()
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    small.screenshot(path=shots / "11-merchant-final-phone-zh.png", full_page=True)
    reviewer_phone, small = sign_in(browser, live_url, "senior@platform.example", "en-US", PHONE)
    small.goto(review_url)
    expect(small.get_by_test_id("ruling-2")).to_be_visible()
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    small.screenshot(path=shots / "12-review-phone-en.png", full_page=True)
    for context in (merchant_context, reviewer_context, senior_context, phone, reviewer_phone):
        context.close()
