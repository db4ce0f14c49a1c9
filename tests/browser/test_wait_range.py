"""The phone page keeps the wait range true while the citizen waits (Chromium against a real server)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support import act, issue, open_window, shot

pytestmark = pytest.mark.browser
MOBILE = (390, 844)
RANGE = re.compile(r"约 (\d+)–(\d+) 分钟|约 (\d+) 分钟|即将叫号")


def shown_range(page) -> tuple[int, int]:
    """The range line of the phone page, in minutes ("即将叫号": 0–0)."""
    text = page.locator("#t-facts dd.big").nth(1).inner_text()
    m = RANGE.fullmatch(text.strip())
    assert m, text
    if m.group(1):
        return int(m.group(1)), int(m.group(2))
    return (int(m.group(3)),) * 2 if m.group(3) else (0, 0)


def test_the_phone_page_range_follows_the_line_and_the_windows(server, open_page):
    url = server.url
    one = open_window(url, "clerk1", 1)
    tickets = [issue(url, "SB001") for _ in range(6)]
    assert act(url, one, 1, "call-next").status_code == 200  # window 1 busy: each later call is one departure
    mine = tickets[-1]

    phone = open_page(f"{url}/t/{mine['id']}", MOBILE)
    expect(phone.locator("#t-facts")).to_contain_text("4 人")
    expect(phone.locator("#t-facts dd.big").nth(1)).to_have_text(RANGE)
    before = shown_range(phone)
    shot(phone, "phone-range-390x844")

    for ahead in (3, 2):
        for action in ("start", "finish", "call-next"):
            assert act(url, one, 1, action).status_code == 200
        expect(phone.locator("#t-facts")).to_contain_text(f"{ahead} 人")
    after = shown_range(phone)
    assert after[1] < before[1], (before, after)  # two departures fewer: a shorter, narrower range

    line = phone.locator("#t-facts dd.big").nth(1)
    shown = line.inner_text()
    two = open_window(url, "clerk2", 2)  # a second window: the same place, a shorter wait
    expect(line).not_to_have_text(shown)
    opened, shown = shown_range(phone), line.inner_text()
    assert opened[1] < after[1] and "2 人" in phone.locator("#t-facts").inner_text()
    assert act(url, two, 2, "close").status_code == 200
    expect(line).not_to_have_text(shown)
    assert shown_range(phone)[1] > opened[1]
    assert phone.problems == []
