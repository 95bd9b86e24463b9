"""A merchant drops a batch of files into the locker, watches each one, downloads an original."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from merchant_portal.demo import DEMO_PASSWORD
from tests.factories import HTML, jpeg_with_gps, pdf_bytes, png_bytes

pytestmark = pytest.mark.usefixtures("cjk_font")


def test_batch_upload_with_progress_refusals_and_download(
    browser: Browser, live_url: str, shots: Path, tmp_path: Path
) -> None:
    files = {
        "聊天截图.png": png_bytes((390, 844), "white"),
        "签收照片.jpg": jpeg_with_gps(),
        "发货单.pdf": pdf_bytes(2),
        "not-a-photo.png": HTML,
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.goto(live_url + "/login")
    page.get_by_label("邮箱").fill("owner@bloom.example")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.locator("table.inbox a").first.click()
    page.get_by_role("link", name="证据库").click()

    page.get_by_label("证据类型").select_option("chat_screenshot")
    page.get_by_label("说明").fill("买家在聊天中的威胁")
    page.get_by_label("文件").set_input_files(paths)
    page.get_by_role("button", name="上传").click()
    results = page.locator("#upload-results .upload-result")
    expect(results.locator(".result-mark", has_text="✓")).to_have_count(3, timeout=20_000)
    refused = page.locator("#upload-results .upload-result.refused")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("不接受网页和 SVG 图片")
    page.screenshot(path=shots / "locker-results-zh.png", full_page=True)

    # Drag and drop: a file dropped on the zone is sent the same way, with its own result.
    dropped = base64.b64encode(png_bytes((300, 500), "lightyellow")).decode()
    transfer = page.evaluate_handle(
        """(payload) => {
            const transfer = new DataTransfer();
            const bytes = Uint8Array.from(atob(payload.data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], payload.name, { type: "image/png" }));
            return transfer;
        }""",
        {"data": dropped, "name": "物流截图.png"},
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(results.filter(has_text="物流截图.png").locator(".result-mark")).to_have_text("✓")

    # Each accepted file is in the locker as soon as it is in, without a reload.
    gallery = page.get_by_test_id("evidence-item")
    expect(gallery).to_have_count(4)
    expect(page.get_by_test_id("locker-count")).to_have_text("4")
    page.reload()
    expect(gallery).to_have_count(4)
    expect(page.locator(".gallery")).to_contain_text("2 页")
    expect(page.locator(".gallery img").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("evidence-item").filter(has_text="签收照片.jpg").get_by_role(
            "link", name="下载原件"
        ).click()
    saved = tmp_path / "downloaded.jpg"
    download.value.save_as(saved)
    assert saved.read_bytes() == files["签收照片.jpg"], "the original comes back byte for byte"
    assert download.value.suggested_filename == "签收照片.jpg"
    page.screenshot(path=shots / "locker-gallery-zh.png", full_page=True)

    # Cover the buyer's phone number on the chat screenshot by dragging a box over it.
    page.get_by_test_id("evidence-item").filter(has_text="聊天截图.png").get_by_role(
        "link", name="遮挡"
    ).click()
    image = page.locator("#redact-image")
    expect(image).to_be_visible()
    box = image.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.3, steps=5)
    page.mouse.up()
    expect(page.locator(".redact-box")).to_have_count(1)
    expect(page.get_by_label("遮挡区域")).not_to_have_value("")
    page.get_by_role("button", name="保存遮挡副本").click()
    expect(page.get_by_role("status").first).to_contain_text("遮挡副本已保存")
    expect(page.get_by_test_id("redacted-preview")).to_be_visible()
    page.screenshot(path=shots / "redaction-zh.png", full_page=True)
    context.close()
