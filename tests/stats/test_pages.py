"""The statistics page and the window's rating screen in Chromium against a real server."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support import PASSWORD, act, issue, open_window, shot

pytestmark = pytest.mark.browser


def serve(url: str, headers: dict, window: int, service: str) -> dict:
    ticket = issue(url, service)
    for action in ("call-next", "start", "finish"):
        assert act(url, headers, window, action).status_code == 200
    return ticket


def test_statistics_page_draws_charts_with_data(server, open_page):
    url = server.url
    clerk1, clerk2 = open_window(url, "clerk1", 1), open_window(url, "clerk2", 2)
    done = [serve(url, clerk1, 1, "QY001"), serve(url, clerk2, 2, "SB001"), serve(url, clerk1, 1, "SB003")]
    for ticket, score in zip(done, (5, 2, 4), strict=True):
        r = requests.post(f"{url}/api/v1/tickets/{ticket['id']}/evaluation", json={"score": score}, timeout=10)
        assert r.status_code == 201
    for _ in range(3):
        issue(url, "BD001")  # waiting now

    page = open_page(f"{url}/stats/erdao", (1366, 900))
    page.locator("#username").fill("boss")
    page.locator("#password").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    for chart in ("chart-hours", "chart-windows", "chart-satisfaction", "chart-calibration", "chart-coverage"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("#chart-plan")).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    assert page.evaluate("Object.keys(Chart.instances).length") == 6
    expect(page.locator("#kpis")).to_contain_text("取号")
    expect(page.locator("#kpis .tile b").first).to_have_text("6")
    expect(page.locator("#live-waiting")).to_have_text("3")
    expect(page.locator("#live-open")).to_have_text("2")
    expect(page.locator("#advice")).not_to_be_empty()
    expect(page.locator("#table-queues tbody tr")).to_have_count(3)
    expect(page.locator("#table-followups tbody tr")).to_have_count(1)  # the 不满意 rating
    shot(page, "stats-1366x900")

    # the calibration plot: quoted ranges against actual waits, and the share inside by hour against the stated 80 %
    expect(page.locator("#calibration")).to_have_attribute("data-coverage", "0.8")
    stated = page.evaluate("Chart.getChart(document.getElementById('chart-coverage')).data.datasets[1].data")
    assert stated and set(stated) == {80}
    ranges = page.evaluate("Chart.getChart(document.getElementById('chart-calibration')).data.datasets[0].data")
    assert ranges and all(lo <= hi for lo, hi in ranges)
    expect(page.locator("#kpis")).to_contain_text("设定 80%")
    # tomorrow's plan from today's history, and today's plan against what happened
    expect(page.locator("#plan-basis")).to_contain_text("历史数据")
    expect(page.locator("#plan")).to_have_attribute("data-windows", re.compile(r"^\d+(,\d+)*$"))
    assert page.locator("#table-plan tbody tr").count() >= 1
    assert page.locator("#table-last-plan tbody tr").count() >= 1
    page.locator("#plan").scroll_into_view_if_needed()
    shot(page, "stats-plan-1366x900")
    with page.expect_download() as plan_file:
        page.locator('[data-export="stats/plan/export?format=csv"]').click()
    assert plan_file.value.suggested_filename.startswith("plan-erdao-")

    row = page.locator("#table-followups tbody tr").first
    row.locator("input").fill("已回访")
    row.locator("button").click()
    expect(page.locator("#table-followups tbody tr")).to_have_count(0)

    page.locator("[data-lang-toggle]").first.click()
    expect(page.locator("#kpis")).to_contain_text("issued")
    with page.expect_download() as download:
        page.locator('[data-export="stats/export?format=xlsx"]').click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert page.problems == []


def test_rating_screen_wakes_when_the_clerk_finishes(server, open_page):
    url = server.url
    tablet = open_page(f"{url}/rate/erdao/3", (1280, 800))
    expect(tablet.locator("body")).to_have_attribute("data-online", "1")
    expect(tablet.locator("#rate-idle")).to_be_visible()
    clerk = open_window(url, "clerk3", 3)
    ticket = issue(url, "QY001")
    act(url, clerk, 3, "call-next")
    act(url, clerk, 3, "start")
    expect(tablet.locator("#rate-idle")).to_be_visible()
    act(url, clerk, 3, "finish")
    expect(tablet.locator("#rate-ask")).to_be_visible()
    expect(tablet.locator("#rate-number")).to_have_text(ticket["number"])
    shot(tablet, "rate-1280x800")
    tablet.locator('[data-score="4"]').click()
    expect(tablet.locator("#rate-done")).to_be_visible()
    expect(tablet.locator("#rate-result")).to_have_text("满意")
    again = requests.post(f"{url}/api/v1/tickets/{ticket['id']}/evaluation", json={"score": 1}, timeout=10)
    assert again.status_code == 409, "rated once, on the tablet"
    assert tablet.problems == []
