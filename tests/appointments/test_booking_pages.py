"""The booking pages on a phone (390×844): finding the service by name or pinyin initials with its materials,
errors next to their field in the page's language (booking, lookup, reschedule and cancel), and no slot offered
inside the change cut-off."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.support import MOBILE, booking_config, id_number, phone, shot

from .test_api import ALL_DAY, book, slots

pytestmark = pytest.mark.browser

HAN = re.compile(r"[\u4e00-\u9fff]")
CUTOFF = 90


@pytest.fixture
def server(make_server, tmp_path):
    appointments = {**ALL_DAY, "change_cutoff_minutes": CUTOFF}
    return make_server(
        booking_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", appointments=appointments)
    )


def test_find_the_service_by_initials_then_errors_stand_by_their_field(server, open_page):
    page = open_page(f"{server.url}/book/erdao", MOBILE)
    expect(page.locator("body")).to_have_attribute("data-services", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("#b-count")).to_contain_text("可输入名称或拼音首字母查找")
    page.locator("#b-search").fill("bdcsc")  # 不动产首次登记 by its pinyin initials
    expect(page.locator("#b-results .svc").first).to_have_attribute("data-code", "BD001")
    expect(page.locator("#b-results .svc").first).to_contain_text("不动产首次登记")
    page.locator("#b-search").fill("抵押")
    expect(page.locator("#b-results .svc")).to_have_count(2)  # 抵押权登记, 抵押权注销登记
    shot(page, "book-search-390x844")
    page.locator('#b-results [data-code="BD003"]').click()
    expect(page.locator("#p-name")).to_have_text("抵押权登记")
    expect(page.locator("#p-materials li")).to_have_count(4)
    expect(page.locator("#p-materials")).to_contain_text("主债权合同")

    # no slot inside the change cut-off is offered
    first = page.locator("#b-slots .slot:not([disabled])").first
    start = datetime.fromisoformat(first.get_attribute("data-start"))
    assert start - datetime.now(start.tzinfo) >= timedelta(minutes=CUTOFF - 1)
    first.click()

    page.locator("#b-name").fill("张小三")
    page.locator("#b-phone").fill("1380013")
    page.locator("#b-id").fill(id_number(3))
    page.locator("#book-submit").click()
    wrong = page.locator('[data-field-error="phone"]')
    expect(wrong).to_have_text("手机号不正确：应为以 1 开头的 11 位大陆手机号")
    expect(page.locator("#b-phone")).to_have_class(re.compile(r"\bis-wrong\b"))
    expect(page.locator("#book-error")).to_be_hidden()
    shot(page, "book-field-error-390x844")
    page.locator("[data-lang-toggle]").click()
    expect(wrong).to_have_text("Mobile number: not a mainland mobile number (11 digits starting with 1)")
    assert not HAN.search(wrong.inner_text())
    page.locator("[data-lang-toggle]").click()

    page.locator("#b-phone").fill(phone(3))
    page.locator("#b-name").fill("   ")
    page.locator("#book-submit").click()
    expect(page.locator('[data-field-error="name"]')).to_have_text("姓名应为 1 到 40 个字")
    expect(wrong).to_be_hidden()
    assert "String should" not in page.content() and "字段" not in page.content()

    page.locator("#b-name").fill("张小三")
    page.locator("#book-submit").click()
    expect(page.locator("#step-done")).to_be_visible()
    assert not page.problems


def test_the_lookup_form_says_what_is_wrong_where(server, open_page):
    page = open_page(f"{server.url}/bookings/erdao", MOBILE)
    page.locator("#lookup-form button[type=submit]").click()
    expect(page.locator('[data-field-error="code"]')).to_have_text("预约码必须填写")
    page.locator("#l-code").fill("ZZZZ2222")
    page.locator("#l-phone").fill(phone(5))
    page.locator("#lookup-form button[type=submit]").click()
    expect(page.locator('[data-field-error="code"]')).to_be_hidden()
    expect(page.locator("#lookup-error")).to_have_text("没有找到该预约，请核对预约码和手机号")
    shot(page, "bookings-lookup-error-390x844")
    page.locator("[data-lang-toggle]").click()
    expect(page.locator("#lookup-error")).to_have_text("no booking with this code and phone")
    assert not page.problems


@pytest.fixture
def one_seat(make_server, tmp_path):
    appointments = {**ALL_DAY, "max_per_slot": 1}
    return make_server(
        booking_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", appointments=appointments)
    )


def test_a_reschedule_or_cancel_error_stands_by_its_control(one_seat, open_page):
    url = one_seat.url
    offered = [s["starts_at"] for s in slots(url) if s["left"] > 0]
    mine = book(url, 1, offered[0])
    assert mine.status_code == 201, mine.text
    mine = mine.json()
    page = open_page(f"{url}/bookings/erdao?id={mine['id']}", MOBILE)
    page.on("dialog", lambda dialog: dialog.accept())  # 确定取消这个预约吗？
    card = page.locator(f'[data-id="{mine["id"]}"]')
    card.locator('[data-action="reschedule"]').click()
    chosen = card.locator('[data-field="starts_at"]')
    expect(chosen).to_have_value(offered[1])
    assert book(url, 2, offered[1]).status_code == 201  # someone else takes its one seat meanwhile
    card.locator('[data-action="move"]').click()
    by_slot = card.locator('[data-field-error="starts_at"]')
    expect(by_slot).to_have_text("这个时段已约满，请选择其他时段")
    expect(chosen).to_have_class(re.compile(r"\bis-wrong\b"))
    expect(card.locator('[data-field-error="cancel"]')).to_be_hidden()
    below(chosen, by_slot, card.locator('[data-action="move"]'))
    shot(page, "bookings-reschedule-error-390x844")
    page.locator("[data-lang-toggle]").click()
    expect(by_slot).to_have_text("this slot is full; choose another")
    page.locator("[data-lang-toggle]").click()

    assert requests.post(f"{url}/api/v1/appointments/{mine['id']}/cancel", timeout=10).ok  # from another phone
    card.locator('[data-action="cancel"]').click()
    by_cancel = card.locator('[data-field-error="cancel"]')
    expect(by_cancel).to_have_text("该预约已取消，只有已预约的才能更改")
    expect(by_slot).to_be_hidden()
    below(card.locator('[data-action="cancel"]'), by_cancel, chosen)
    page.locator("[data-lang-toggle]").click()
    expect(by_cancel).to_have_text("the booking is cancelled; only a booked one can change")
    assert not page.problems


def below(above, error, after) -> None:
    """`error` sits under the control it is about and before the next one."""
    top, box, bottom = above.bounding_box(), error.bounding_box(), after.bounding_box()
    assert top["y"] + top["height"] <= box["y"] and box["y"] + box["height"] <= bottom["y"], (top, box, bottom)
