"""A merchant imports an order export, finds a complaint, flags it and reads the dossier."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from merchant_portal.demo import DEMO_PASSWORD
from tests.factories import ZH_HEADER, order_row, write_csv

pytestmark = pytest.mark.usefixtures("cjk_font")

TEXT = {
    "en": {
        "import": "Import orders", "file": "Order export (CSV or XLSX)",
        "upload": "Upload and preview",
        "search": "Complaint or order number", "apply": "Apply", "category": "Why is it malicious?",
        "reasons": "Your reasons", "flag": "Flag as malicious", "dossier": "Complainant dossier",
        "flagged": "Complaint flagged as malicious.", "complaints": "Complaints",
    },
    "zh-CN": {
        "import": "导入订单", "file": "订单导出文件（CSV 或 XLSX）", "upload": "上传并预览",
        "search": "投诉编号或订单号", "apply": "筛选", "category": "恶意投诉类型",
        "reasons": "您的理由", "flag": "标记为恶意投诉", "dossier": "投诉人档案",
        "flagged": "已将该投诉标记为恶意投诉。", "complaints": "投诉",
    },
}  # fmt: skip


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_import_find_flag_and_read_the_dossier(
    browser: Browser, live_url: str, shots: Path, tmp_path: Path, locale: str
) -> None:
    text = TEXT[locale]
    shop_key = "volt" if locale == "en" else "bloom"
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_url + "/login")
    page.locator("#email").fill(f"staff@{shop_key}.example")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#password").press("Enter")
    if locale == "en":
        page.get_by_role("button", name="English").click()
    else:
        page.get_by_role("button", name="中文").click()

    # Import an export whose orders include one the complaints already name.
    number = f"{shop_key.upper()}20261000"
    export = write_csv(
        tmp_path / "订单导出.csv",
        ZH_HEADER,
        [order_row(number, "buyer-003"), order_row(f"NEW-{locale}-1", "buyer-900")],
    )
    page.get_by_role("link", name=text["import"]).first.click()
    page.get_by_label(text["file"]).set_input_files(str(export))
    page.get_by_role("button", name=text["upload"]).click()
    expect(page.get_by_test_id("orders-to-import")).to_have_text("2")
    page.screenshot(path=shots / f"import-preview-{locale}.png", full_page=True)
    page.locator("form[action$='/apply'] button").click()
    expect(page.get_by_role("status").first).to_contain_text("1")

    # Find the complaint about that order and flag it.
    page.get_by_role("link", name=text["complaints"], exact=True).click()
    page.get_by_label(text["search"]).fill(number)
    page.get_by_role("button", name=text["apply"]).click()
    links = page.locator("table.inbox tbody tr a")
    expect(links).to_have_count(1)
    links.first.click()
    expect(page.get_by_role("heading", name=text["dossier"])).to_be_visible()
    page.get_by_label(text["category"]).select_option("extortion")
    page.get_by_label(text["reasons"]).fill("买家威胁不退款就给差评 / threatened a bad review.")
    page.get_by_role("button", name=text["flag"]).click()
    expect(page.get_by_role("status").first).to_have_text(text["flagged"])
    expect(page.locator("#dossier .signal").first).to_be_visible()
    page.screenshot(path=shots / f"complaint-flagged-{locale}.png", full_page=True)
    context.close()
