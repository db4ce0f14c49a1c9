"""The administration pages in Chromium against a real server: changes take effect live, rights, CSV, log."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support import BOARD, CLERK, KIOSK, PASSWORD, login
from tests.support import admin_sign_in as sign_in

pytestmark = pytest.mark.browser
OFFICE = (1366, 900)
HEADER = "code,name,queue,department,category,basis,materials,time_limit_days,kind\n"


def tab(page, name: str) -> None:
    page.locator(f'[data-tab="{name}"]').click()
    expect(page.locator(f'section[data-section="{name}"]')).to_be_visible()


def saved(form) -> None:
    expect(form.locator(".form-msg")).to_have_attribute("data-ok", "1")


def csv_file(text: str) -> dict:
    return {"name": "services.csv", "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def test_new_queue_item_and_window_in_a_street_hall_serve_a_ticket_without_restart(server, open_page):
    url = server.url
    kiosk = open_page(f"{url}/kiosk/jinxiu", KIOSK)
    board = open_page(f"{url}/board/jinxiu", BOARD)
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    expect(kiosk.locator("body")).to_have_attribute("data-online", "1")
    admin = open_page(f"{url}/admin/jinxiu/queues", OFFICE)
    sign_in(admin, "root")
    expect(admin.locator("#hall-select")).to_have_value("jinxiu")

    form = admin.locator("#queue-form")
    form.locator('[name="prefix"]').fill("z")
    form.locator('[name="name"]').fill("社保新队列")
    form.locator("button[type=submit]").click()
    saved(form)
    expect(admin.locator('#queue-table tr[data-prefix="Z"]')).to_contain_text("社保新队列")
    expect(kiosk.locator('[data-queue="Z"]')).to_contain_text("社保新队列")  # live: no reload

    tab(admin, "services")
    form = admin.locator("#service-form")
    form.locator('[name="code"]').fill("ZS001")
    form.locator('[name="name"]').fill("社保卡补换")
    form.locator('[name="queue"]').select_option("Z")
    form.locator('[name="department"]').fill("区人社局")
    form.locator('[name="materials"]').fill("身份证\n近期照片")
    form.locator("button[type=submit]").click()
    saved(form)
    expect(admin.locator('#service-table tr[data-code="ZS001"]')).to_contain_text("社保卡补换")

    kiosk.locator('[data-queue="Z"]').click()
    kiosk.locator('#results-list [data-code="ZS001"]').click()
    expect(kiosk.locator("#d-materials li")).to_have_count(2)
    with kiosk.expect_response(re.compile(r"/api/v1/halls/jinxiu/tickets$")) as answer:
        kiosk.locator("#issue").click()
    assert answer.value.json()["number"] == "Z001"
    expect(kiosk.locator("#k-number")).to_have_text("Z001")

    tab(admin, "windows")
    form = admin.locator("#window-form")
    form.locator('[name="number"]').fill("9")
    form.locator('[name="name"]').fill("九号窗口")
    form.locator('#window-queues input[value="Z"]').check()
    form.locator("button[type=submit]").click()
    saved(form)
    expect(admin.locator('#window-table tr[data-number="9"]')).to_contain_text("Z")

    clerk = open_page(f"{url}/clerk", CLERK)
    clerk.locator("#username").fill("street1")
    clerk.locator("#password").fill(PASSWORD)
    clerk.locator("#login-form button[type=submit]").click()
    clerk.locator("#window-select").select_option("9")
    clerk.locator("#setup-form button[type=submit]").click()
    expect(clerk.locator("body")).to_have_attribute("data-online", "1")
    expect(clerk.locator("body")).to_have_attribute("data-window-state", "closed")  # the desk has loaded
    clerk.keyboard.press("F10")
    expect(clerk.locator("#answer")).to_have_attribute("data-ok", "1")
    clerk.keyboard.press("F1")
    expect(clerk.locator("#cur-number")).to_have_text("Z001")
    expect(board.locator('[data-window="9"] .window-name')).to_have_text("九号窗口")
    expect(board.locator('[data-window="9"] .window-number')).to_have_text("Z001")

    admin.locator('#window-table tr[data-number="9"] button', has_text="编辑").click()
    form.locator('[name="name"]').fill("社保专窗")
    form.locator("button[type=submit]").click()
    saved(form)
    expect(board.locator('[data-window="9"] .window-name')).to_have_text("社保专窗")  # live rename

    tab(admin, "changes")
    log = admin.locator("#change-table tbody")
    expect(log.locator("tr")).to_have_count(4)
    expect(log.locator("tr").first).to_contain_text("社保专窗")
    expect(log.locator('tr[data-entity="queue"][data-key="Z"]')).to_contain_text("root")
    expect(log.locator('tr[data-entity="service"][data-key="ZS001"]')).to_contain_text("社保卡补换")
    expect(log.locator('tr[data-entity="window"][data-key="9"]')).to_have_count(2)
    admin.locator("#change-entity").select_option("service")
    expect(log.locator("tr")).to_have_count(1)
    assert not admin.problems and not kiosk.problems and not board.problems, admin.problems + kiosk.problems


def test_csv_with_a_bad_row_is_shown_by_line_and_nothing_applied_then_a_good_one_is(server, open_page):
    url = server.url
    admin = open_page(f"{url}/admin/jinxiu/services", OFFICE)
    sign_in(admin, "root")
    expect(admin.locator("#service-total")).to_contain_text("共")
    bad = HEADER + (
        "JX800,新事项一,A,民政科,个人,,身份证,0,即办件\n"
        "JX801,新事项二,A,民政科,单位,,身份证,0,即办件\n"
        "JX802,新事项三,A,民政科,个人,,身份证,0,即办件\n"
    )
    admin.locator("#csv-file").set_input_files(csv_file(bad))
    errors = admin.locator("#csv-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_have_attribute("data-line", "3")
    expect(errors.first).to_contain_text("第 3 行")
    expect(errors.first).to_contain_text("category")
    expect(admin.locator("#csv-msg")).to_contain_text("未导入任何内容")
    expect(admin.locator("#csv-apply")).to_be_disabled()
    admin.locator("#service-search").fill("JX80")
    expect(admin.locator("#service-total")).to_contain_text("共 0 项")

    good = bad.replace(",单位,", ",法人,")
    admin.locator("#csv-file").set_input_files(csv_file(good))
    expect(admin.locator("#csv-summary")).to_contain_text("新增 3 项")
    expect(admin.locator("#csv-errors")).to_be_hidden()
    expect(admin.locator('#csv-changes tr[data-code="JX801"]')).to_contain_text("新事项二")
    admin.locator("#csv-apply").click()
    expect(admin.locator("#csv-msg")).to_contain_text("新增 3 项")
    expect(admin.locator("#service-total")).to_contain_text("共 3 项")
    expect(admin.locator('#service-table tr[data-code="JX801"]')).to_contain_text("法人")

    changed = good.replace("新事项三", "新事项三（改）")
    admin.locator("#csv-file").set_input_files(csv_file(changed))
    expect(admin.locator("#csv-summary")).to_contain_text("修改 1 项，不变 2 项")
    expect(admin.locator('#csv-changes tr[data-code="JX802"]')).to_contain_text("新事项三 → 新事项三（改）")
    assert not admin.problems, admin.problems


def test_supervisor_of_one_hall_cannot_see_or_change_another(server, open_page):
    url = server.url
    admin = open_page(f"{url}/admin/jinxiu/settings", OFFICE)
    sign_in(admin, "boss")
    # the other hall is not offered; the page falls back to the supervisor's own hall
    expect(admin.locator("#hall-select option")).to_have_count(1)
    expect(admin.locator("#hall-select")).to_have_value("erdao")
    expect(admin.locator('#hall-form [name="name"]')).to_have_value("二道区政务服务中心")
    expect(admin.locator("#new-hall-form")).to_be_hidden()
    headers = login(url, "boss")  # the same supervisor, through the API
    r = requests.patch(f"{url}/api/v1/admin/halls/jinxiu", json={"name": "被改了"}, headers=headers, timeout=10)
    assert r.status_code == 403
    r = requests.get(f"{url}/api/v1/admin/halls/jinxiu/services", headers=headers, timeout=10)
    assert r.status_code == 403
    assert requests.get(f"{url}/api/v1/halls", timeout=10).json()["halls"][1]["name"] == "锦绣街道便民服务中心"

    # a mistake is shown next to its field, and nothing is saved
    tab(admin, "queues")
    form = admin.locator("#queue-form")
    form.locator('[name="prefix"]').fill("A")
    form.locator('[name="name"]').fill("重复前缀")
    form.locator("button[type=submit]").click()
    expect(form.locator('[data-error-for="prefix"]')).to_contain_text("前缀")
    expect(form.locator('[data-field="prefix"]')).to_have_class(re.compile(r"\bhas-error\b"))
    tab(admin, "windows")
    wform = admin.locator("#window-form")
    wform.locator('[name="name"]').fill("没有号")
    wform.locator("button[type=submit]").click()
    expect(wform.locator('[data-error-for="number"]')).to_contain_text("窗口号：必须填写")
    tab(admin, "users")
    expect(admin.locator('#user-table tr[data-username="boss"]')).to_be_visible()
    expect(admin.locator('#user-table tr[data-username="street1"]')).to_have_count(0)
    tab(admin, "changes")
    expect(admin.locator("#change-total")).to_have_text("共 0 条")
    assert not admin.problems, admin.problems


def test_central_view_shows_every_hall(server, open_page):
    url = server.url
    r = requests.post(f"{url}/api/v1/halls/jinxiu/tickets", json={"service": "JX001", "print": False}, timeout=10)
    assert r.status_code == 201, r.text
    page = open_page(f"{url}/central", OFFICE)
    sign_in(page, "root")
    expect(page.locator("#live-table tbody tr")).to_have_count(2)
    expect(page.locator('#live-table tr[data-hall="jinxiu"] .waiting')).to_have_text("1")
    expect(page.locator('#stats-table tr[data-hall="jinxiu"] .issued')).to_have_text("1")
    expect(page.locator("#total-waiting")).to_have_text("1")
    assert not page.problems, page.problems
