"""Booking to ticket in Chromium: book on the phone page, check in at the kiosk, be called first."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support import KIOSK, MOBILE, act, booking_config, id_number, issue, open_window, phone, shot

from .test_api import ALL_DAY

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_server, tmp_path):
    return make_server(
        booking_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", appointments=ALL_DAY)
    )


def test_book_on_the_phone_then_check_in_at_the_kiosk(server, open_page):
    phone_page = open_page(f"{server.url}/book/erdao", MOBILE)
    expect(phone_page.locator("body")).to_have_attribute("data-services", re.compile(r"\d+"))
    phone_page.locator("#b-search").fill("BD001")
    phone_page.locator('#b-results [data-code="BD001"]').click()
    phone_page.locator("#b-slots .slot:not([disabled])").first.click()
    phone_page.locator("#b-name").fill("张小三")
    phone_page.locator("#b-phone").fill(phone(8))
    phone_page.locator("#b-id").fill(id_number(8))
    with phone_page.expect_response(re.compile(r"/api/v1/halls/erdao/appointments$")) as answer:
        phone_page.locator("#book-submit").click()
    booking = answer.value.json()
    expect(phone_page.locator("#d-code")).to_have_text(booking["code"])
    expect(phone_page.locator("#d-qr")).to_have_attribute("src", re.compile(r"^/qr\.svg\?data="))
    phone_page.wait_for_function(
        "() => { const q = document.querySelector('#d-qr'); return q.complete && q.naturalWidth > 0; }"
    )
    shot(phone_page, "book-done-390x844")

    phone_page.locator("#d-mine").click()
    expect(phone_page.locator(f'[data-id="{booking["id"]}"] .code')).to_have_text(booking["code"])
    expect(phone_page.locator(f'[data-id="{booking["id"]}"] [data-action="cancel"]')).to_be_visible()
    assert "13900000008" not in phone_page.content() and id_number(8) not in phone_page.content()

    walk_in = issue(server.url, "BD002")
    kiosk = open_page(f"{server.url}/kiosk/erdao", KIOSK)
    kiosk.locator("#checkin-open").click()
    expect(kiosk.locator("#screen-checkin")).to_be_visible()
    for key in booking["code"]:
        kiosk.locator(f'#checkin-keypad [data-ckey="{key}"]').click()
    with kiosk.expect_response(re.compile(r"/appointments/check-in$")) as answer:
        kiosk.locator("#checkin-go").click()
    ticket = answer.value.json()["ticket"]
    expect(kiosk.locator("#k-number")).to_have_text(ticket["number"])
    expect(kiosk.locator("body")).to_have_attribute("data-checkin", "on_time")
    expect(kiosk.locator("#k-checkin-text")).to_have_text("您的预约号将优先叫号，请留意叫号屏")
    shot(kiosk, "kiosk-checkin-1080x1920")

    clerk = open_window(server.url, "clerk11", 11)
    called = act(server.url, clerk, 11, "call-next").json()
    assert called["number"] == ticket["number"] and called["priority"] == "appointment"
    assert walk_in["number"] != ticket["number"]
    again = requests.get(f"{server.url}/api/v1/appointments/{booking['id']}", timeout=10).json()
    assert again["status"] == "checked_in" and again["ticket"]["number"] == ticket["number"]
    assert not phone_page.problems and not kiosk.problems


def test_a_wrong_code_is_explained_at_the_kiosk(server, open_page):
    kiosk = open_page(f"{server.url}/kiosk/erdao", KIOSK)
    kiosk.locator("#checkin-open").click()
    kiosk.locator("#checkin-input").fill("ZZZZ2222")
    kiosk.locator("#checkin-go").click()
    expect(kiosk.locator("#cf-reason")).to_contain_text("没有这个预约码")
    kiosk.locator("#cf-home").click()
    expect(kiosk.locator("#screen-home")).to_be_visible()
