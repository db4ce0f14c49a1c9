"""The reasons of a poor rating in Chromium: asked on the window's rating tablet (1280×800) and on the phone
(390×844), edited by the hall in /admin, and shown in the follow-up list of /stats."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support import MOBILE, PASSWORD, act, issue, login, open_window, shot

pytestmark = pytest.mark.browser

TABLET, OFFICE = (1280, 800), (1366, 900)


def served(url: str, clerk: dict, window: int) -> dict:
    ticket = issue(url, "QY001")
    for action in ("call-next", "start", "finish"):
        assert act(url, clerk, window, action).status_code == 200
    return ticket


def followups(url: str) -> dict:
    r = requests.get(f"{url}/api/v1/halls/erdao/followups", headers=login(url, "boss"), timeout=10)
    return {f["ticket"]: f for f in r.json()["followups"]}


def sign_in(page, username: str) -> None:
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()


def test_the_tablet_asks_why_after_a_poor_rating(server, open_page):
    url = server.url
    tablet = open_page(f"{url}/rate/erdao/3", TABLET)
    expect(tablet.locator("body")).to_have_attribute("data-online", "1")
    clerk = open_window(url, "clerk3", 3)

    good = served(url, clerk, 3)
    expect(tablet.locator("#rate-ask")).to_be_visible()
    tablet.locator('[data-score="4"]').click()  # a good rating is sent at once
    expect(tablet.locator("#rate-done")).to_be_visible()
    expect(tablet.locator("#rate-reasons")).to_be_hidden()

    poor = served(url, clerk, 3)
    expect(tablet.locator("#rate-number")).to_have_text(poor["number"])
    tablet.locator('[data-score="2"]').click()
    expect(tablet.locator("#rate-reasons")).to_be_visible()
    expect(tablet.locator("#reason-list .reason")).to_have_count(8)
    tablet.locator('[data-reason="等候时间长"]').click()
    tablet.locator('[data-reason="没有一次性告知所需材料"]').click()
    expect(tablet.locator('[data-reason="等候时间长"]')).to_have_attribute("aria-pressed", "true")
    tablet.locator("#reason-comment").fill("跑了两次")
    shot(tablet, "rate-reasons-1280x800")
    with tablet.expect_response(re.compile(r"/windows/3/rating$")) as answer:
        tablet.locator("#reason-submit").click()
    assert answer.value.status == 201
    expect(tablet.locator("#rate-result")).to_have_text("不满意")
    kept = followups(url)
    assert good["number"] not in kept
    assert kept[poor["number"]]["reasons"] == ["等候时间长", "没有一次性告知所需材料"]
    assert kept[poor["number"]]["comment"] == "跑了两次"
    assert not tablet.problems


def test_the_phone_asks_why_after_a_poor_rating(server, open_page):
    url = server.url
    ticket = served(url, open_window(url, "clerk2", 2), 2)
    phone = open_page(f"{url}/t/{ticket['id']}", MOBILE)
    expect(phone.locator("#evaluation")).to_be_visible()
    phone.locator(".score-4 input").check()
    expect(phone.locator("#eval-reasons")).to_be_hidden()
    phone.locator(".score-1 input").check()
    expect(phone.locator("#eval-reasons")).to_be_visible()
    phone.locator('[data-reason="服务态度不好"]').click()
    phone.locator("#eval-comment").fill("窗口人员一直在看手机")
    shot(phone, "phone-rating-reasons-390x844")
    phone.locator("#eval-submit").click()
    expect(phone.locator("#eval-result")).to_contain_text("感谢您的评价：非常不满意")
    assert followups(url)[ticket["number"]]["reasons"] == ["服务态度不好"]
    assert not phone.problems


def test_the_hall_edits_its_reasons_and_the_follow_up_list_shows_them(server, open_page):
    url = server.url
    admin = open_page(f"{url}/admin/erdao/settings", OFFICE)
    sign_in(admin, "boss")
    field = admin.locator('#hall-more-form [name="poor_rating_reasons"]')
    expect(field).to_have_value(re.compile(r"^等候时间长\n服务态度不好\n"))
    field.fill("排队太久\n排队太久")
    admin.locator("#hall-more-form button[type=submit]").click()
    error = admin.locator('#hall-more-form [data-error-for="poor_rating_reasons"]')
    expect(error).to_have_text("差评原因选项：原因“排队太久”重复了")
    field.fill("排队太久\n\n工作人员态度差\n")
    admin.locator("#hall-more-form button[type=submit]").click()
    expect(admin.locator("#hall-more-form .form-msg")).to_have_attribute("data-ok", "1")
    shot(admin, "admin-rating-reasons-1366x900")
    reasons = requests.get(f"{url}/api/v1/halls/erdao/rating-reasons", timeout=10).json()["reasons"]
    assert reasons == ["排队太久", "工作人员态度差"]

    ticket = served(url, open_window(url, "clerk1", 1), 1)
    phone = open_page(f"{url}/t/{ticket['id']}", MOBILE)
    phone.locator(".score-2 input").check()
    expect(phone.locator("#reason-list .reason")).to_have_count(2)
    phone.locator('[data-reason="排队太久"]').click()
    phone.locator("#eval-submit").click()
    expect(phone.locator("#eval-result")).to_contain_text("不满意")

    stats = open_page(f"{url}/stats/erdao", OFFICE)
    sign_in(stats, "boss")
    row = stats.locator("#table-followups tbody tr").first
    expect(row).to_contain_text(ticket["number"])
    expect(row).to_contain_text("排队太久")
    expect(stats.locator("#table-followups")).to_contain_text("原因")
    shot(stats, "stats-followup-reasons-1366x900")
    assert not admin.problems and not phone.problems and not stats.problems


def test_a_tablet_left_on_for_days_offers_the_reasons_the_hall_has_now(server, open_page):
    """The hall edits its list while the tablet runs: a poor rating with a new reason is still kept."""
    url = server.url
    tablet = open_page(f"{url}/rate/erdao/3", TABLET)
    expect(tablet.locator("body")).to_have_attribute("data-online", "1")
    expect(tablet.locator("#reason-list .reason")).to_have_count(8)  # the list as the tablet started
    changed = requests.patch(
        f"{url}/api/v1/admin/halls/erdao",
        json={"poor_rating_reasons": ["排队太久", "工作人员态度差"]},
        headers=login(url, "boss"),
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    poor = served(url, open_window(url, "clerk3", 3), 3)
    expect(tablet.locator("#rate-number")).to_have_text(poor["number"])
    tablet.locator('[data-score="1"]').click()
    expect(tablet.locator("#reason-list .reason")).to_have_count(2)
    tablet.locator('[data-reason="排队太久"]').click()
    with tablet.expect_response(re.compile(r"/windows/3/rating$")) as answer:
        tablet.locator("#reason-submit").click()
    assert answer.value.status == 201
    assert followups(url)[poor["number"]]["reasons"] == ["排队太久"]
    assert not tablet.problems
