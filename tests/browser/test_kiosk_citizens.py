"""The kiosk for the citizen in front of it (1080×1920): Chinese for each new citizen, errors they can read,
a closed hall said on the home screen, a check-in result, and pages instead of long scrolling."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from tests.support import KIOSK, login, shot

pytestmark = pytest.mark.browser

HAN = re.compile(r"[\u4e00-\u9fff]")


def font_px(page, selector: str) -> float:
    return page.locator(selector).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")


def set_hours(url: str, hours: list[str]) -> None:
    r = requests.patch(
        f"{url}/api/v1/admin/halls/erdao", json={"opening_hours": hours}, headers=login(url, "boss"), timeout=10
    )
    assert r.status_code == 200, r.text


def closed_now() -> tuple[str, str]:
    """Opening hours that exclude this moment in Beijing: an hour that starts two hours from now."""
    start = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)
    end = start + timedelta(minutes=30)
    if end.date() != start.date():  # keep the range within one day
        start, end = start.replace(hour=9, minute=0), start.replace(hour=9, minute=30)
    return start.strftime("%H:%M"), end.strftime("%H:%M")


def test_every_return_home_is_in_chinese_the_auto_return_too(server, open_page):
    kiosk = open_page(f"{server.url}/kiosk/erdao?return=2", KIOSK)
    expect(kiosk.locator("body")).to_have_attribute("data-services", re.compile(r"^[1-9]\d*$"))
    kiosk.locator("[data-lang-toggle]").click()
    expect(kiosk.locator("html")).to_have_attribute("lang", "en")
    kiosk.locator('[data-queue="A"]').click()
    kiosk.locator('[data-code="QY001"]').click()
    expect(kiosk.locator("#issue")).to_have_text("Take a number")
    kiosk.locator("#issue").click()
    expect(kiosk.locator("#screen-ticket")).to_be_visible()
    expect(kiosk.locator("#k-countdown")).to_contain_text("Back to the start")
    # nobody touches the screen: the countdown brings the kiosk home, in Chinese for the next citizen
    expect(kiosk.locator("#screen-home")).to_be_visible()
    expect(kiosk.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(kiosk.locator(".kiosk-title p")).to_have_text("自助取号 · 一窗通办")
    expect(kiosk.locator('[data-category="个人"] .tile-main')).to_have_text("个人办事")
    shot(kiosk, "kiosk-home-after-return-1080x1920")

    kiosk.locator("[data-lang-toggle]").click()
    kiosk.locator('[data-queue="B"]').click()
    kiosk.locator('[data-code="SB002"]').click()
    kiosk.locator("#issue").click()
    kiosk.locator("#k-done").click()  # the 完成 button is a return home as well
    expect(kiosk.locator("html")).to_have_attribute("lang", "zh-CN")
    assert not kiosk.problems


def test_an_error_is_as_large_as_the_page_and_in_its_language(server, open_page):
    kiosk = open_page(f"{server.url}/kiosk/erdao", KIOSK)
    expect(kiosk.locator("body")).to_have_attribute("data-online", "1")
    kiosk.locator('[data-queue="A"]').click()
    kiosk.locator('[data-code="QY001"]').click()
    server.stop()  # the network goes: the browser's own "Failed to fetch" must not reach the citizen
    kiosk.locator("#issue").click()
    box = kiosk.locator("#issue-error")
    expect(box).to_have_text("取号失败：无法连接服务器，请检查网络后重试")
    assert font_px(kiosk, "#issue-error") >= font_px(kiosk, "#d-materials") * 0.99
    assert font_px(kiosk, "#issue-error") >= 32
    shot(kiosk, "kiosk-error-zh-1080x1920")
    kiosk.locator("[data-lang-toggle]").click()
    expect(box).to_have_text("Could not issue a ticket: Cannot reach the server; check the network and try again")
    assert not HAN.search(box.inner_text()) and "Failed to fetch" not in kiosk.content()
    shot(kiosk, "kiosk-error-en-1080x1920")


def test_a_closed_hall_says_so_on_the_home_screen_and_opens_live(server, open_page):
    start, end = closed_now()
    set_hours(server.url, [f"{start}-{end}"])
    kiosk = open_page(f"{server.url}/kiosk/erdao", KIOSK)
    banner = kiosk.locator("#closed")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("本厅现在暂停取号")
    expect(kiosk.locator("#closed-hours")).to_have_text(f"取号时间：每天 {start}–{end}")
    expect(kiosk.locator("#closed-next")).to_have_text(re.compile(rf"^(今天|明天) {start} 开始取号$"))
    expect(kiosk.locator("body")).to_have_attribute("data-open", "0")
    shot(kiosk, "kiosk-closed-1080x1920")
    kiosk.locator('[data-queue="A"]').click()
    kiosk.locator('[data-code="QY001"]').click()
    expect(kiosk.locator("#issue")).to_be_disabled()
    expect(kiosk.locator("#detail-closed")).to_contain_text("开始取号")
    kiosk.locator("#detail-back").click()

    set_hours(server.url, [])  # the supervisor opens the hall: no reload
    expect(banner).to_be_hidden()
    expect(kiosk.locator("body")).to_have_attribute("data-open", "1")
    kiosk.locator('[data-code="QY001"]').click()
    expect(kiosk.locator("#issue")).to_be_enabled()
    kiosk.locator("#detail-back").click()

    set_hours(server.url, [f"{start}-{end}"])  # and closes it again
    expect(banner).to_be_visible()
    kiosk.locator("[data-lang-toggle]").click()
    expect(kiosk.locator("#closed-hours")).to_have_text(f"Ticket hours: daily {start}–{end}")
    assert not HAN.search(banner.inner_text())
    assert not kiosk.problems


def test_check_in_shows_its_result_success_and_failure(server, open_page):
    base = f"{server.url}/api/v1/halls/erdao"
    remote = requests.post(f"{base}/remote-tickets", json={"service": "QY001"}, timeout=10)
    if remote.status_code == 409:  # outside the demo hall's remote hours: open them for the test
        r = requests.patch(
            f"{server.url}/api/v1/admin/halls/erdao",
            json={"remote": {"hours": ["00:00-24:00"], "weekdays": [1, 2, 3, 4, 5, 6, 7]}},
            headers=login(server.url, "boss"),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        remote = requests.post(f"{base}/remote-tickets", json={"service": "QY001"}, timeout=10)
    assert remote.status_code == 201, remote.text
    number = remote.json()["number"]

    kiosk = open_page(f"{server.url}/kiosk/erdao", KIOSK)
    kiosk.locator("#checkin-open").click()
    kiosk.locator("#checkin-input").fill("ZZZZ2222")
    kiosk.locator("#checkin-go").click()
    expect(kiosk.locator("#screen-checkin-failed")).to_be_visible()
    expect(kiosk.locator("#cf-reason")).to_have_text("没有这个预约码，请核对")
    expect(kiosk.locator("#cf-next")).to_contain_text("重新输入")
    assert font_px(kiosk, "#cf-reason") >= 32
    shot(kiosk, "kiosk-checkin-failed-1080x1920")
    kiosk.locator("#cf-retry").click()
    expect(kiosk.locator("#screen-checkin")).to_be_visible()

    kiosk.locator("#checkin-input").fill(number)
    kiosk.locator("#checkin-go").click()
    expect(kiosk.locator("#k-checkin")).to_be_visible()
    expect(kiosk.locator("#k-checkin")).to_contain_text("签到成功")
    expect(kiosk.locator("#k-checkin-text")).to_have_text("轮到您时将叫号，请在大厅等候")
    expect(kiosk.locator("#k-number")).to_have_text(number)
    shot(kiosk, "kiosk-checkin-success-1080x1920")
    assert requests.get(f"{server.url}/api/v1/tickets/{remote.json()['id']}", timeout=10).json()["checked_in"]

    kiosk.locator("#k-done").click()
    kiosk.locator("#checkin-open").click()
    kiosk.locator("#checkin-input").fill(number)
    kiosk.locator("#checkin-go").click()  # twice: still a success, nothing changes
    expect(kiosk.locator("#k-checkin")).to_be_visible()
    assert not kiosk.problems


def test_a_long_list_has_page_buttons(server, open_page):
    kiosk = open_page(f"{server.url}/kiosk/erdao", KIOSK)
    expect(kiosk.locator("body")).to_have_attribute("data-services", re.compile(r"^[1-9]\d*$"))
    kiosk.locator('[data-category="个人"]').click()
    expect(kiosk.locator("#results-count")).to_have_text("共 34 项")
    pager = kiosk.locator("#pager")
    expect(pager).to_be_visible()
    expect(kiosk.locator("#page-info")).to_have_text("第 1 / 5 页")
    expect(kiosk.locator("#page-prev")).to_be_disabled()
    rows = kiosk.locator("#results-list [data-code]")
    first_page = rows.evaluate_all("els => els.map(e => e.dataset.code)")
    assert len(first_page) == 7
    # the page fits: no hidden rows to scroll to, the buttons inside the screen
    assert kiosk.locator("#results-list").evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    box = kiosk.locator("#page-next").bounding_box()
    assert box and box["y"] + box["height"] <= KIOSK[1]
    shot(kiosk, "kiosk-paging-1080x1920")

    seen = set(first_page)
    for page_no in range(2, 6):
        kiosk.locator("#page-next").click()
        expect(kiosk.locator("#page-info")).to_have_text(f"第 {page_no} / 5 页")
        codes = rows.evaluate_all("els => els.map(e => e.dataset.code)")
        assert not seen & set(codes)
        seen |= set(codes)
    assert len(seen) == 34
    expect(kiosk.locator("#page-next")).to_be_disabled()
    kiosk.locator("#page-prev").click()
    expect(kiosk.locator("#page-info")).to_have_text("第 4 / 5 页")
    kiosk.locator("[data-lang-toggle]").click()
    expect(kiosk.locator("#page-next")).to_have_text("Next ›")
    expect(kiosk.locator("#page-info")).to_have_text("Page 4 of 5")
    # a search starts again on its first page
    kiosk.locator('#keypad [data-key="q"]').click()
    expect(kiosk.locator("body")).to_have_attribute("data-page", "1")
    assert not kiosk.problems
