"""亮身份 in Chromium against a real server: /admin sets a clerk's name, staff number and photo; the window
screen and the rating tablet show the clerk on duty (the window screen legible and at 4.5:1 in every
state); the rating tablet follows a change of clerk live; the statistics page names the clerk by display name."""

from __future__ import annotations

import io
import re

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.support import PASSWORD, WINDOW, act, admin_sign_in, issue, login, low_contrast, off_screen, shot

pytestmark = pytest.mark.browser
OFFICE, TABLET = (1366, 900), (1280, 800)
ON_SCREEN = (
    ".window-bar > *, #window-state, #window-number, #window-note, .window-foot, #clerk-on-duty, #clerk-on-duty *"
)


def portrait() -> bytes:
    image = Image.new("RGB", (600, 800), (30, 90, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def set_identity(admin, username: str, name: str, number: str, photo: bytes | None = None) -> None:
    admin.locator(f'#user-table tr[data-username="{username}"] button').first.click()
    form = admin.locator("#user-form")
    expect(form).to_have_attribute("data-editing", username)
    form.locator('[name="display_name"]').fill(name)
    form.locator('[name="staff_number"]').fill(number)
    if photo is not None:
        form.locator('[name="photo"]').set_input_files({"name": "me.png", "mimeType": "image/png", "buffer": photo})
    form.locator("button[type=submit]").click()
    expect(form.locator(".form-msg")).to_have_attribute("data-ok", "1")


def check_window_screen(screen, state: str) -> None:
    assert low_contrast(screen) == [], state
    assert off_screen(screen, ON_SCREEN) == [], state
    scale = WINDOW[1] / 720
    for selector, px in {"#window-state": 60, ".clerk-name": 48, ".clerk-number": 34, ".window-foot": 30}.items():
        size = screen.locator(selector).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
        assert size >= px * scale - 0.5, (state, selector, size)


def test_clerk_identity_from_admin_on_window_screen_rating_tablet_and_statistics(server, open_page):
    url = server.url
    screen = open_page(f"{url}/window/erdao/3", WINDOW)
    expect(screen.locator("body")).to_have_attribute("data-online", "1")
    expect(screen.locator("#clerk-on-duty")).to_be_hidden()  # closed: nobody on duty

    admin = open_page(f"{url}/admin/erdao/users", OFFICE)
    admin_sign_in(admin, "root")
    set_identity(admin, "clerk3", "王小明", "EQ-0317", portrait())
    row = admin.locator('#user-table tr[data-username="clerk3"]')
    expect(row).to_contain_text("王小明")
    expect(row).to_contain_text("EQ-0317")
    expect(row.locator(".has-photo")).to_have_text("✓")
    row.locator("button").first.click()
    expect(admin.locator("#user-photo img")).to_have_attribute("src", re.compile(r"^data:image/jpeg;base64,"))
    shot(admin, "admin-staff-identity-1366x900")

    clerk = login(url, "clerk3")
    assert act(url, clerk, 3, "open").status_code == 200
    badge = screen.locator("#clerk-on-duty")
    expect(badge.locator(".clerk-name")).to_have_text("王小明")
    expect(badge.locator(".clerk-number")).to_have_text("工号 EQ-0317")
    photo = badge.locator(".clerk-photo")
    expect(photo).to_be_visible()
    screen.wait_for_function(
        "() => { const i = document.querySelector('.clerk-photo'); return i.complete && i.naturalWidth > 0; }"
    )
    check_window_screen(screen, "open, free")

    issue(url, "QY001")
    assert act(url, clerk, 3, "call-next").status_code == 200
    expect(screen.locator("#window-number")).to_have_text("A001")
    for at_ms in (100, 600, 1100):  # the number's flash, held still at each phase
        screen.evaluate("(t) => document.getAnimations().forEach(a => { a.pause(); a.currentTime = t; })", at_ms)
        check_window_screen(screen, f"called, flash at {at_ms} ms")
    screen.evaluate("() => document.getAnimations().forEach(a => a.finish())")
    shot(screen, "window-clerk-1280x720")
    screen.evaluate("() => OW.setLang('en')")
    expect(badge.locator(".clerk-number")).to_have_text("Staff No. EQ-0317")
    check_window_screen(screen, "called, English")
    screen.evaluate("() => OW.setLang('zh')")

    tablet = open_page(f"{url}/rate/erdao/3", TABLET)
    expect(tablet.locator("#clerk-on-duty .clerk-name")).to_have_text("王小明")
    expect(tablet.locator("#clerk-on-duty .clerk-number")).to_have_text("工号 EQ-0317")
    tablet.wait_for_function("() => document.querySelector('.clerk-photo').naturalWidth > 0")
    assert off_screen(tablet, "#clerk-on-duty, #clerk-on-duty *") == []
    shot(tablet, "rate-clerk-1280x800")

    # a change in /admin reaches the window screen at once
    admin.locator("#user-form [data-cancel]").click()
    set_identity(admin, "clerk3", "王晓明", "EQ-0318")
    expect(badge.locator(".clerk-name")).to_have_text("王晓明")
    expect(badge.locator(".clerk-number")).to_have_text("工号 EQ-0318")

    for action in ("start", "finish", "pause"):
        assert act(url, clerk, 3, action).status_code == 200
    expect(screen.locator("body")).to_have_attribute("data-state", "paused")
    check_window_screen(screen, "paused")
    shot(screen, "window-clerk-paused-1280x720")
    assert act(url, clerk, 3, "close").status_code == 200
    expect(screen.locator("body")).to_have_attribute("data-state", "closed")
    expect(badge).to_be_hidden()  # off duty: no name, no photo
    assert low_contrast(screen) == [], "closed"

    stats = open_page(f"{url}/stats/erdao", OFFICE)
    stats.locator("#username").fill("boss")
    stats.locator("#password").fill(PASSWORD)
    stats.locator("#login-form button[type=submit]").click()
    expect(stats.locator("body")).to_have_attribute("data-loaded", "1")
    expect(stats.locator("#table-clerks")).to_contain_text("王晓明")
    expect(stats.locator("#table-clerks")).not_to_contain_text("clerk3")
    for page in (screen, admin, tablet, stats):
        assert page.problems == [], page.problems


def test_the_rating_tablet_follows_a_change_of_clerk_live(server, open_page):
    url = server.url
    root = login(url, "root")
    for username, name, number in (("clerk3", "王小明", "EQ-0317"), ("clerk4", "李华", "EQ-0420")):
        r = requests.patch(
            f"{url}/api/v1/admin/users/{username}", json={"display_name": name, "staff_number": number}, headers=root
        )
        assert r.status_code == 200, r.text
    tablet = open_page(f"{url}/rate/erdao/3", TABLET)
    expect(tablet.locator("body")).to_have_attribute("data-online", "1")
    badge = tablet.locator("#clerk-on-duty")
    expect(badge).to_be_hidden()  # the window is closed: nobody on duty
    tablet.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads

    first = login(url, "clerk3")
    assert act(url, first, 3, "open").status_code == 200
    expect(badge.locator(".clerk-name")).to_have_text("王小明")
    expect(badge.locator(".clerk-number")).to_have_text("工号 EQ-0317")
    assert act(url, first, 3, "close").status_code == 200  # signs out
    expect(badge).to_be_hidden()
    second = login(url, "clerk4")
    assert act(url, second, 3, "open").status_code == 200  # another clerk signs in at the same window
    expect(badge.locator(".clerk-name")).to_have_text("李华")
    expect(badge.locator(".clerk-number")).to_have_text("工号 EQ-0420")
    assert tablet.evaluate("() => window.sameDocument") is True, "no reload"
    assert tablet.problems == []
