"""The clerk console in Chromium at 1366×768 against a real server: the desk is the server's, the line is
call-next's, buttons follow the ticket, one key finishes and calls the next, errors in the page's language."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from queue_server.tickets import windows
from tests.support import CLERK, issue, login, shot, staff_sign_in

pytestmark = pytest.mark.browser
# Every window action the console has a button for (calling a given number and force-close are not keys).
ACTIONS = [a for a in (*windows.COMPOUND, *windows.ACTIONS) if a not in ("call", "force-close")]


def press(clerk, key: str) -> None:
    clerk.keyboard.press(key)
    expect(clerk.locator("#answer")).to_have_attribute("data-ok", "1")


def enabled_buttons(clerk, enabled: set[str]) -> None:
    """Exactly these action buttons are enabled: what the ticket's `actions` and the window's state allow."""
    for action in ACTIONS:
        button = clerk.locator(f'.act[data-action="{action}"]')
        if action in enabled:
            expect(button).to_be_enabled()
        else:
            expect(button).to_be_disabled()


def desk_shows(clerk, number: str, status: str, service: str, held: list[str]) -> None:
    expect(clerk.locator("#cur-number")).to_have_text(number)
    expect(clerk.locator("#cur-status")).to_have_text(status)
    expect(clerk.locator("#cur-service")).to_contain_text(service)
    expect(clerk.locator("#cur-materials li").first).to_be_visible()
    expect(clerk.locator("#held li b")).to_have_text(held)


def line(clerk, which: str = "#waiting") -> list[str]:
    return clerk.locator(f"{which} .line-number").all_inner_texts()


def test_the_clerks_desk_is_the_servers_in_every_tab(server, open_page):
    url = server.url
    for code in ("QY001", "QY002", "SB001", "SB002"):
        issue(url, code)
    clerk = open_page(f"{url}/clerk", CLERK)
    expect(clerk).to_have_url(re.compile(r"/login\?next=/clerk$"))  # one sign-in form for every staff page
    staff_sign_in(clerk, url, "clerk3", "/clerk")
    expect(clerk.locator("#view-setup")).to_be_visible()
    clerk.locator("#window-select").select_option("3")
    clerk.locator("#setup-form button[type=submit]").click()
    expect(clerk.locator("#view-desk")).to_be_visible()
    expect(clerk.locator("body")).to_have_attribute("data-online", "1")

    # a closed window: only 开窗; nothing finished yet, so no mean time
    expect(clerk.locator("#cur-status")).to_have_text("窗口未开放：按 F10 开窗")
    enabled_buttons(clerk, {"open"})
    expect(clerk.locator("#stat-avg")).to_have_text("—")
    expect(clerk.locator("#keys")).to_contain_text("Shift+F4")
    expect(clerk.locator("#keys")).to_contain_text("办结并叫下一位")
    press(clerk, "F10")
    enabled_buttons(clerk, {"call-next", "pause", "close"})

    # the line in call-next order, as the server ranks it
    headers = login(url, "clerk3")
    ranked = requests.get(f"{url}/api/v1/halls/erdao/windows/3/queue", headers=headers, timeout=10).json()
    expect(clerk.locator("#waiting .line-number")).to_have_text([t["number"] for t in ranked["waiting"]])
    assert line(clerk) == ["A001", "A002", "B001", "B002"]
    expect(clerk.locator("#waiting-total")).to_have_text("4")

    # call a chosen number from the list, with one of the hall's reasons
    clerk.locator('#waiting li[data-number="B001"] .line-call').click()
    expect(clerk.locator("#call-form")).to_be_visible()
    expect(clerk.locator("#call-reason option")).to_have_count(len(ranked["call_reasons"]))
    clerk.locator("#call-reason").select_option("priority")
    with clerk.expect_request(re.compile(r"/windows/3/call$")) as sent:
        clerk.locator("#call-form button[type=submit]").click()
    assert sent.value.post_data_json == {"number": "B001", "reason_code": "priority"}
    expect(clerk.locator("#cur-number")).to_have_text("B001")
    expect(clerk.locator("#cur-status")).to_have_text("已叫号，等待群众到窗口")  # the clerk's words, not the citizen's
    expect(clerk.locator("#waiting .line-number")).to_have_text(["A001", "A002", "B002"])
    enabled_buttons(clerk, {"recall", "start", "no-show", "transfer", "pause"})
    expect(clerk.locator('#waiting li[data-number="A001"] .line-call')).to_be_disabled()

    press(clerk, "F3")
    enabled_buttons(clerk, {"finish-and-call-next", "finish", "hold", "transfer", "pause"})
    press(clerk, "F6")
    enabled_buttons(clerk, {"call-next", "resume", "pause", "close"})
    for number in ("A001", "A002"):
        press(clerk, "F1")
        expect(clerk.locator("#cur-number")).to_have_text(number)
        press(clerk, "F3")
        if number == "A001":
            press(clerk, "F6")
    desk_shows(clerk, "A002", "正在办理", "企业变更登记", ["B001", "A001"])

    # a reload, a second tab: the same desk, from the server
    clerk.reload()
    desk_shows(clerk, "A002", "正在办理", "企业变更登记", ["B001", "A001"])
    shot(clerk, "clerk-desk-after-reload-1366x768")
    second = open_page(f"{url}/clerk", CLERK, context=clerk.context)
    desk_shows(second, "A002", "正在办理", "企业变更登记", ["B001", "A001"])
    expect(second.locator("body")).to_have_attribute("data-online", "1")

    # 办结并叫下一位 by one key: one request; the other tab follows over the socket
    with clerk.expect_request(re.compile(r"/windows/3/finish-and-call-next$")):
        press(clerk, "Shift+F4")
    expect(clerk.locator("#cur-number")).to_have_text("B002")
    expect(second.locator("#cur-number")).to_have_text("B002")
    expect(clerk.locator("#stat-count")).to_have_text("1")
    expect(clerk.locator("#stat-avg")).to_have_text(re.compile(r"^\d+:\d\d$"))

    # a no-show who comes back is called from the list, the reason chosen for them
    press(clerk, "F5")
    expect(clerk.locator("#waiting")).to_have_text("暂无等候")
    expect(clerk.locator("#no-shows .line-number")).to_have_text(["B002"])
    expect(second.locator("#no-shows .line-number")).to_have_text(["B002"])
    clerk.locator('#no-shows li[data-number="B002"] .line-call').click()
    expect(clerk.locator("#call-reason")).to_have_value("no_show_return")
    clerk.locator("#call-form button[type=submit]").click()
    expect(clerk.locator("#cur-number")).to_have_text("B002")
    expect(clerk.locator("#no-shows")).to_have_text("无")
    shot(clerk, "clerk-1366x768")
    assert clerk.problems == [] and second.problems == [], (clerk.problems, second.problems)

    # the network is down: the page says so in its own language
    clerk.context.set_offline(True)
    clerk.keyboard.press("F2")
    expect(clerk.locator("#answer")).to_have_attribute("data-ok", "0")
    expect(clerk.locator("#answer")).to_contain_text("网络中断：无法连接服务器")
    expect(clerk.locator("#answer")).not_to_contain_text("Failed to fetch")
    clerk.locator("[data-lang-toggle]").click()
    clerk.keyboard.press("F2")
    expect(clerk.locator("#answer")).to_contain_text("Network down: cannot reach the server")
    shot(clerk, "clerk-offline-en-1366x768")
    clerk.context.set_offline(False)
