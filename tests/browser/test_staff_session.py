"""One staff session for every staff page, in Chromium against a real server: one sign-in form, no second
sign-in on /clerk, /stats, /admin, /central or /account, and signing out on one page signs out everywhere."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support import CLERK, shot, staff_sign_in

pytestmark = pytest.mark.browser
OFFICE = (1366, 768)


def at_sign_in(page, url: str, path: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"{url}/login?next=") + re.escape(path).replace("/", "(/|%2F)")))


def test_one_sign_in_reaches_every_staff_page_and_sign_out_ends_them_all(server, open_page):
    url = server.url
    page = open_page(f"{url}/stats/erdao", OFFICE)
    at_sign_in(page, url, "/stats/erdao")
    expect(page.locator("#login-form h2")).to_have_text("工作人员登录")  # Chinese first
    shot(page, "login-1366x768")
    page.locator("[data-lang-toggle]").click()
    expect(page.locator("#login-form h2")).to_have_text("Staff sign-in")
    shot(page, "login-en-1366x768")
    page.locator("[data-lang-toggle]").click()

    staff_sign_in(page, url, "boss", "/stats/erdao")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1")
    for path, ready in (
        ("/clerk", "#view-setup"),
        ("/admin/erdao/settings", "#view-admin"),
        ("/central", "#view-central"),
        ("/account", "#account-facts"),
    ):
        page.goto(url + path)
        expect(page).to_have_url(url + path)  # no second sign-in
        expect(page.locator(ready)).to_be_visible()
        expect(page.locator("#logout")).to_be_visible()
    expect(page.locator("#account-facts")).to_contain_text("主管")
    shot(page, "account-1366x768")
    # the session is the cookie: no page keeps a token of its own
    assert page.evaluate("() => Object.keys(sessionStorage).length") == 0
    assert page.evaluate("() => Object.keys(localStorage).filter(k => /token|user/.test(k))") == []

    tab = open_page(f"{url}/admin/erdao/settings", OFFICE, context=page.context)
    expect(tab.locator("#view-admin")).to_be_visible()
    other_pc = open_page(f"{url}/login", OFFICE)  # the same supervisor on another PC
    staff_sign_in(other_pc, url, "boss", "/stats/erdao")
    expect(other_pc.locator("body")).to_have_attribute("data-loaded", "1")

    # signing out on one page ends them all
    page.locator("#logout").click()
    page.wait_for_url(re.compile(r"/login$"))
    for path in ("/clerk", "/stats/erdao", "/admin", "/central", "/account"):
        page.goto(url + path)
        at_sign_in(page, url, path)
    tab.locator('[data-tab="queues"]').click()  # the open tab's next call is refused: back to the sign-in form
    at_sign_in(tab, url, "/admin/erdao/queues")
    if "/stats/" in other_pc.url:  # (its live panel, refreshed every 30 s, may have found out already)
        other_pc.locator("#range button[type=submit]").click()
    at_sign_in(other_pc, url, "/stats/erdao")
    for p in (page, tab, other_pc):
        assert [x for x in p.problems if "401" not in x] == [], p.problems


def test_a_clerk_signed_in_once_is_refused_the_supervisors_pages_in_the_page_language(server, open_page):
    url = server.url
    page = open_page(f"{url}/clerk", CLERK)
    staff_sign_in(page, url, "clerk2", "/clerk")
    expect(page.locator("#view-setup")).to_be_visible()
    for path in ("/admin", "/stats/erdao", "/central"):
        answer = page.goto(url + path)
        assert answer.status == 403, path
        expect(page.locator(".msg")).to_have_text("此页面需要主管或管理员账号，请换一个账号登录")
    page.locator("[data-lang-toggle]").click()
    expect(page.locator(".msg")).to_have_text("This page needs a supervisor or admin account: sign in with another one")
    staff_sign_in(page, url, "boss", "/central")  # the one form, as another user
    expect(page.locator("#view-central")).to_be_visible()
    assert page.problems == [], page.problems
