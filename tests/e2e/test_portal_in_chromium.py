"""Merchants and reviewers use the portal in a real browser, in English and in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from merchant_portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("cjk_font")


def sign_in(page: Page, live_url: str, email: str) -> None:
    page.goto(live_url + "/login")
    page.get_by_label("Email").fill(email) if page.get_by_label(
        "Email"
    ).count() else page.get_by_label("邮箱").fill(email)
    password = page.locator("#password")
    password.fill(DEMO_PASSWORD)
    password.press("Enter")


def test_merchant_signs_in_reads_a_complaint_and_switches_to_chinese(
    browser: Browser, live_url: str, shots: Path
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_url, "owner@volt.example")
    expect(page.get_by_role("heading", name="Complaints against your shop")).to_be_visible()
    expect(page.locator(".deadline", has_text="Past due").first).to_be_visible()
    page.screenshot(path=shots / "inbox-en.png", full_page=True)

    page.get_by_role("link", name="CP-VOLT-2026000").click()
    expect(page.get_by_role("heading", name="Complaint CP-VOLT-2026000")).to_be_visible()

    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="投诉 CP-VOLT-2026000")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.screenshot(path=shots / "complaint-zh.png", full_page=True)

    page.get_by_role("link", name="全部投诉").click()
    expect(page.get_by_role("heading", name="针对本店的投诉")).to_be_visible()
    context.close()


def test_reviewer_signs_in_with_the_keyboard_and_sees_the_queue_in_chinese(
    browser: Browser, live_url: str, shots: Path
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_url + "/login")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("邮箱").focus()
    page.keyboard.type("reviewer@platform.example")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="审核队列")).to_be_visible()
    expect(page.get_by_test_id("tenant")).to_have_text("审核员")
    page.screenshot(path=shots / "review-queue-zh.png", full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    context.close()


def test_wrong_password_shows_the_error_and_keeps_the_email(
    browser: Browser, live_url: str
) -> None:
    page = browser.new_context(locale="en-US").new_page()
    page.goto(live_url + "/login")
    page.get_by_label("Email").fill("owner@bloom.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    expect(page.get_by_label("Email")).to_have_value("owner@bloom.example")
    page.context.close()


def test_inbox_is_readable_on_a_phone(browser: Browser, live_url: str, shots: Path) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_url, "owner@bloom.example")
    expect(page.get_by_role("heading", name="针对本店的投诉")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways on a phone"
    page.screenshot(path=shots / "inbox-phone-zh.png", full_page=True)
    context.close()


def test_admin_creates_a_user_in_the_browser(browser: Browser, live_url: str, shots: Path) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_url, "admin@platform.example")
    page.get_by_role("link", name="Users").first.click()
    page.get_by_label("Email").fill("new.staff@bloom.example")
    page.get_by_label("Role").select_option("merchant_staff")
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#shop-error")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("new.staff@bloom.example")
    page.screenshot(path=shots / "admin-user-error.png", full_page=True)
    page.get_by_label("Shop").select_option(label="上海花语服饰 Shanghai Bloom Apparel")
    page.get_by_label("Initial password").fill("a long enough password")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_contain_text("new.staff@bloom.example")
    context.close()
