"""The holder's ticket page on a phone (390×844): the hall's name, check in when remote, a next step after a
missed call or a hold, leaving the queue, and a real not-found page."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support import MOBILE, act, booking_config, issue, open_window, shot

pytestmark = pytest.mark.browser

ALL_DAY = {"hours": ["00:00-24:00"], "weekdays": [1, 2, 3, 4, 5, 6, 7]}


@pytest.fixture
def server(make_server, tmp_path):
    return make_server(booking_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", remote=ALL_DAY))


def test_a_remote_ticket_asks_for_check_in_until_it_is_checked_in(server, open_page):
    r = requests.post(f"{server.url}/api/v1/halls/erdao/remote-tickets", json={"service": "QY001"}, timeout=10)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["remote"] is True and ticket["checked_in"] is False
    phone = open_page(f"{server.url}/t/{ticket['id']}", MOBILE)
    expect(phone.locator("#t-hall")).to_have_text("二道区政务服务中心")
    expect(phone.locator("#t-next")).to_have_attribute("data-step", "checkin")
    expect(phone.locator("#t-next-text")).to_contain_text(
        f"自助取号机上签到（点“预约/线上取号签到”，输入号码 {ticket['number']}）"
    )
    expect(phone.locator("#t-facts")).to_contain_text("未签到")
    expect(phone.locator("body")).to_have_attribute("data-online", "1")
    shot(phone, "phone-remote-checkin-390x844")

    # the kiosk on the server's PC checks the number in: the page follows without a reload
    r = requests.post(f"{server.url}/api/v1/halls/erdao/tickets/{ticket['number']}/check-in", timeout=10)
    assert r.status_code == 200, r.text
    expect(phone.locator("#t-next")).to_be_hidden()
    expect(phone.locator("#t-facts")).to_contain_text("已签到")
    phone.locator("[data-lang-toggle]").click()
    expect(phone.locator("#t-hall")).to_have_text("Erdao District Government Service Center")
    assert not phone.problems


def test_a_missed_call_and_a_hold_each_give_a_next_step(server, open_page):
    clerk = open_window(server.url, "clerk3", 3)
    missed, held = issue(server.url, "QY001"), issue(server.url, "QY001")
    page = open_page(f"{server.url}/t/{missed['id']}", MOBILE)
    expect(page.locator("#t-status")).to_have_text("排队等候中")
    expect(page.locator("#t-next")).to_be_hidden()

    assert act(server.url, clerk, 3, "call-next").json()["number"] == missed["number"]
    assert act(server.url, clerk, 3, "no-show", number=missed["number"]).status_code == 200
    expect(page.locator("#t-status")).to_have_text("过号未到")
    expect(page.locator("#t-next")).to_have_attribute("data-step", "missed")
    expect(page.locator("#t-next-text")).to_contain_text("工作人员可为您重新叫号")
    shot(page, "phone-no-show-390x844")

    page2 = open_page(f"{server.url}/t/{held['id']}", MOBILE)
    assert act(server.url, clerk, 3, "call-next").json()["number"] == held["number"]
    assert act(server.url, clerk, 3, "start").status_code == 200
    assert act(server.url, clerk, 3, "hold").status_code == 200
    expect(page2.locator("#t-status")).to_have_text("已挂起（材料补正）")
    expect(page2.locator("#t-next")).to_have_attribute("data-step", "held")
    expect(page2.locator("#t-next-text")).to_contain_text("3 号窗口")
    expect(page2.locator("#t-next-materials li")).to_have_count(5)  # QY001's materials, to bring back
    shot(page2, "phone-held-390x844")
    page2.locator("[data-lang-toggle]").click()
    expect(page2.locator("#t-next-text")).to_contain_text("window 3")
    assert not page.problems and not page2.problems


def test_leaving_the_queue_asks_first_then_cancels(server, open_page):
    ticket = issue(server.url, "SB002")
    page = open_page(f"{server.url}/t/{ticket['id']}", MOBILE)
    expect(page.locator("#cancel-open")).to_be_visible()
    page.locator("#cancel-open").click()
    expect(page.locator("#cancel-confirm")).to_be_visible()
    shot(page, "phone-cancel-confirm-390x844")
    page.locator("#cancel-no").click()  # changed their mind: nothing is sent
    expect(page.locator("#cancel-confirm")).to_be_hidden()
    assert requests.get(f"{server.url}/api/v1/tickets/{ticket['id']}", timeout=10).json()["status"] == "waiting"

    page.locator("#cancel-open").click()
    with page.expect_response(re.compile(r"/cancel$")) as answer:
        page.locator("#cancel-yes").click()
    assert answer.value.status == 200
    expect(page.locator("#t-status")).to_have_text("已取消")
    expect(page.locator("#cancel-box")).to_be_hidden()
    expect(page.locator("#t-next")).to_have_attribute("data-step", "cancelled")
    assert requests.get(f"{server.url}/api/v1/tickets/{ticket['id']}", timeout=10).json()["status"] == "cancelled"
    assert not page.problems


def test_an_unknown_ticket_gets_a_bilingual_not_found_page(server, open_page):
    page = open_page(f"{server.url}/t/NoSuchTicket0123456789", MOBILE)
    expect(page.locator("main h2")).to_contain_text("没有找到这张号票")
    assert page.locator(".offline-mark").count() == 0
    assert "no such ticket" not in page.content()
    shot(page, "phone-not-found-390x844")
    page.locator("[data-lang-toggle]").click()
    expect(page.locator("main h2")).to_contain_text("No such ticket")
    r = requests.get(f"{server.url}/t/NoSuchTicket0123456789", timeout=10)
    assert r.status_code == 404 and "text/html" in r.headers["Content-Type"]
    assert not page.problems
