"""The hall's pages in Chromium against a real server: kiosk, clerk console, board, window screen, phone."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select

from queue_server.config import load_settings
from queue_server.db import make_engine, session_factory, transaction
from queue_server.halls import get_hall
from queue_server.models import StaffUser
from queue_server.tickets import service as tickets
from queue_server.tickets import windows
from tests.support import BOARD, CLERK, KIOSK, MOBILE, PASSWORD, WINDOW, ServerProcess, act, issue, open_window, shot

pytestmark = pytest.mark.browser


def keypad(page, letters: str) -> None:
    for letter in letters:
        page.locator(f'#keypad [data-key="{letter}"]').click()


def take_ticket(kiosk, code: str, *, with_materials: bool = False) -> dict:
    kiosk.locator(f'[data-code="{code}"]').click()
    expect(kiosk.locator("#screen-detail")).to_be_visible()
    if with_materials:
        kiosk.locator("#with-materials").check()
    with kiosk.expect_response(re.compile(r"/api/v1/halls/erdao/tickets$")) as answer:
        kiosk.locator("#issue").click()
    ticket = answer.value.json()
    expect(kiosk.locator("#k-number")).to_have_text(ticket["number"])
    return ticket


def sign_in(clerk, username: str, window: int) -> None:
    clerk.locator("#username").fill(username)
    clerk.locator("#password").fill(PASSWORD)
    clerk.locator("#login-form button[type=submit]").click()
    expect(clerk.locator("#window-select option")).to_have_count(12)
    clerk.locator("#window-select").select_option(str(window))
    clerk.locator("#setup-form button[type=submit]").click()
    expect(clerk.locator("#view-desk")).to_be_visible()
    expect(clerk.locator("body")).to_have_attribute("data-online", "1")
    expect(clerk.locator("body")).to_have_attribute("data-window-state", re.compile(".+"))  # the desk has loaded


def press(clerk, key: str, expect_ok: bool = True) -> None:
    clerk.keyboard.press(key)
    expect(clerk.locator("#answer")).to_have_attribute("data-ok", "1" if expect_ok else "0")


def test_ticket_from_kiosk_to_rating_live_on_every_screen(server, open_page):
    url = server.url
    board = open_page(f"{url}/board/erdao", BOARD)
    screen = open_page(f"{url}/window/erdao/3", WINDOW)
    kiosk = open_page(f"{url}/kiosk/erdao", KIOSK)
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    expect(board.locator(".offline-mark")).to_be_hidden()
    expect(screen.locator("#window-state")).to_have_text("未开放")

    # by pinyin initials on the on-screen keypad
    expect(kiosk.locator("body")).to_have_attribute("data-services", re.compile(r"^[1-9]\d+$"))
    keypad(kiosk, "qykb")
    expect(kiosk.locator("#search")).to_have_value("qykb")
    expect(kiosk.locator("#results-list [data-code]").first).to_contain_text("企业开办（设立登记）")
    kiosk.locator('[data-code="QY001"]').click()
    expect(kiosk.locator("#d-materials li")).to_have_count(5)
    expect(kiosk.locator("#d-tags")).to_contain_text("即办件")
    expect(kiosk.locator("#d-facts")).to_contain_text("区市场监督管理局")
    kiosk.locator("#detail-back").click()
    first = take_ticket(kiosk, "QY001", with_materials=True)
    assert first["number"] == "A001"
    expect(kiosk.locator("#k-ahead")).to_have_text("0 人")
    expect(kiosk.locator("#k-wait")).to_contain_text("分钟")
    qr = kiosk.locator("#k-qr")
    expect(qr).to_have_attribute("data-link", f"{url}/t/{first['id']}")
    expect(qr).to_have_attribute("src", re.compile(r"^/qr\.svg\?data="))
    kiosk.wait_for_function(
        "() => document.getElementById('k-qr').complete && document.getElementById('k-qr').naturalWidth > 0"
    )
    expect(kiosk.locator("#k-print")).not_to_be_empty()
    shot(kiosk, "kiosk-ticket-1080x1920")

    # by category and queue buttons
    kiosk.locator("#k-done").click()
    expect(kiosk.locator("#screen-home")).to_be_visible()
    kiosk.locator('[data-queue="B"]').click()
    expect(kiosk.locator("#results-title")).to_contain_text("社保医保")
    second = take_ticket(kiosk, "SB002")
    assert second["number"] == "B001"
    kiosk.locator("#k-done").click()
    kiosk.locator('[data-category="法人"]').click()
    expect(kiosk.locator("#results-list")).to_contain_text("企业变更登记")
    expect(kiosk.locator("#results-list")).not_to_contain_text("个体工商户设立登记")
    shot(kiosk, "kiosk-category-1080x1920")

    expect(board.locator('[data-queue="A"] .queue-count b')).to_have_text("1")
    expect(board.locator('[data-queue="B"] .queue-count b')).to_have_text("1")

    phone = open_page(f"{url}/t/{first['id']}", MOBILE)
    expect(phone.locator("#t-number")).to_have_text("A001")
    expect(phone.locator("#t-status")).to_have_text("排队等候中")
    expect(phone.locator("#t-facts")).to_contain_text("0 人")
    shot(phone, "phone-waiting-390x844")

    clerk = open_page(f"{url}/clerk", CLERK)
    sign_in(clerk, "clerk3", 3)
    # the window is closed: the console offers only 开窗, and says so
    expect(clerk.locator(".act[data-action=call-next]")).to_be_disabled()
    expect(clerk.locator("#cur-status")).to_have_text("窗口未开放：按 F10 开窗")
    press(clerk, "F10")
    expect(screen.locator("#window-state")).to_have_text("等待叫号")
    expect(clerk.locator("#waiting .line-number")).to_have_text(["A001", "B001"])
    press(clerk, "F1")
    expect(clerk.locator("#cur-number")).to_have_text("A001")
    expect(clerk.locator("#cur-materials li")).to_have_count(5)
    expect(clerk.locator("#cur-waited")).to_have_text(re.compile(r"^\d+:\d\d$"))

    # every screen changes without a reload
    expect(board.locator("#latest-number")).to_have_text("A001")
    expect(board.locator("#latest-window")).to_have_text("3号综合窗口")
    expect(board.locator("#latest")).to_have_class(re.compile(r"\bflash\b"))
    expect(board.locator('[data-window="3"] .window-number')).to_have_text("A001")
    expect(board.locator("#recent .recent-number").first).to_have_text("A001")
    expect(board.locator('[data-queue="A"] .queue-count b')).to_have_text("0")
    expect(screen.locator("#window-number")).to_have_text("A001")
    expect(phone.locator("#t-called")).to_have_text("请到 3 号窗口")
    expect(phone.locator("#t-status")).to_have_text("正在叫号，请前往窗口")
    shot(board, "board-1920x1080")
    shot(phone, "phone-called-390x844")
    shot(screen, "window-1280x720")

    press(clerk, "F2")
    expect(board.locator("#recent .recall-mark").first).to_have_text("再次呼叫 ×1")
    press(clerk, "F3")
    expect(phone.locator("#t-status")).to_have_text("正在办理")
    shot(clerk, "clerk-1366x768")
    press(clerk, "F4")
    expect(clerk.locator("#cur-number")).to_have_text("—")
    expect(clerk.locator("#stat-count")).to_have_text("1")
    expect(clerk.locator("#stat-avg")).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(clerk.locator(".act[data-action=finish]")).to_be_disabled()  # nothing left to finish
    expect(screen.locator("#window-number")).to_have_text("—")

    # the rating, and the server's refusal of a second one shown on the page
    expect(phone.locator("#t-status")).to_have_text("已办结")
    phone.locator(".score-5").click()
    phone.locator("#eval-submit").click()
    expect(phone.locator("#eval-result")).to_have_text("感谢您的评价：非常满意")
    shot(phone, "phone-rated-390x844")
    phone.evaluate("localStorage.clear()")
    phone.reload()
    phone.locator(".score-1").click()
    phone.locator("#eval-submit").click()
    expect(phone.locator("#eval-result")).to_have_class(re.compile("notice-error"))
    expect(phone.locator("#eval-result")).to_contain_text("提交失败")

    press(clerk, "F9")
    expect(screen.locator("#window-state")).to_have_text("暂停服务")
    expect(board.locator('[data-window="3"]')).to_have_class(re.compile("state-paused"))
    shot(screen, "window-paused-1280x720")
    for page in (board, screen, kiosk, phone, clerk):
        assert page.problems == [], page.problems


def test_clerk_hold_resume_transfer_and_no_show(server, open_page):
    url = server.url
    for code in ("QY001", "QY002", "BD002"):
        issue(url, code)
    clerk = open_page(f"{url}/clerk", CLERK)
    sign_in(clerk, "clerk4", 4)
    press(clerk, "F10")
    press(clerk, "F1")
    expect(clerk.locator("#cur-number")).to_have_text("A001")
    clerk.keyboard.press("F8")
    expect(clerk.locator("#transfer-form")).to_be_visible()
    clerk.locator("#transfer-window").select_option("5")
    clerk.locator("#transfer-form button[type=submit]").click()
    expect(clerk.locator("#answer")).to_have_attribute("data-ok", "1")
    expect(clerk.locator("#answer")).to_contain_text("5号综合窗口")
    expect(clerk.locator("#cur-number")).to_have_text("—")

    press(clerk, "F1")
    expect(clerk.locator("#cur-number")).to_have_text("A002")
    press(clerk, "F3")
    press(clerk, "F6")
    expect(clerk.locator("#held")).to_contain_text("A002")
    expect(clerk.locator("#cur-number")).to_have_text("—")
    press(clerk, "F7")
    expect(clerk.locator("#cur-number")).to_have_text("A002")
    expect(clerk.locator("#held")).not_to_contain_text("A002")
    clerk.keyboard.press("F8")
    clerk.locator("#transfer-filter").fill("bdcsc")  # 不动产首次登记 by its pinyin initials
    expect(clerk.locator("#transfer-service option")).to_have_count(1)
    with clerk.expect_request(re.compile(r"/windows/4/transfer$")) as sent:
        clerk.locator("#transfer-form button[type=submit]").click()
    assert sent.value.post_data_json == {"service": "BD001"}
    expect(clerk.locator("#answer")).to_have_attribute("data-ok", re.compile("^[01]$"))
    if clerk.locator("#answer").get_attribute("data-ok") == "1":
        expect(clerk.locator("#answer")).to_contain_text("不动产首次登记")
    else:  # the server refused: its message is on screen and the ticket is still here
        expect(clerk.locator("#answer")).to_contain_text("转办失败：")
        press(clerk, "F4")

    press(clerk, "F1")
    expect(clerk.locator("#cur-number")).to_have_text(re.compile(r"^[AC]00\d$"))
    press(clerk, "F5")
    expect(clerk.locator("#answer")).to_contain_text("过号未到")
    press(clerk, "Control+F10")
    expect(clerk.locator("#desk-window-state")).to_have_text("未开放")
    clerk.locator("[data-lang-toggle]").click()
    expect(clerk.locator(".act[data-action=call-next]")).to_have_text("Call next")
    expect(clerk.locator("#desk-window-state")).to_have_text("Closed")
    assert clerk.problems == [], clerk.problems


def test_board_survives_a_server_restart(server, open_page, tmp_path):
    url, port = server.url, server.port
    board = open_page(f"{url}/board/erdao", BOARD)
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    expect(board.locator(".offline-mark")).to_be_hidden()
    synced = int(board.locator("body").get_attribute("data-synced"))

    server.stop()
    expect(board.locator(".offline-mark")).to_be_visible()
    expect(board.locator(".offline-mark")).to_contain_text("离线")
    shot(board, "board-offline-1920x1080")

    # while this server is down, another process of the deployment issues and calls a ticket
    settings = load_settings(str(server.config_path))
    engine = make_engine(settings.server.database_url)
    with transaction(session_factory(engine)) as s:
        hall = get_hall(s, "erdao")
        clerk = s.scalar(select(StaffUser).where(StaffUser.username == "clerk2"))
        tickets.issue(s, hall, "HJ001")
        windows.act(s, hall, 2, "open", clerk, {})
        windows.act(s, hall, 2, "call-next", clerk, {})
    engine.dispose()

    again = ServerProcess(server.config_path, port=port).start()
    try:
        expect(board.locator(".offline-mark")).to_be_hidden(timeout=30_000)
        expect(board.locator("body")).to_have_attribute("data-synced", str(synced + 1))
        expect(board.locator("#latest-number")).to_have_text("E001")
        expect(board.locator('[data-window="2"] .window-number')).to_have_text("E001")
        # and it is live again
        headers = open_window(url, "clerk5", 5)
        issue(url, "SW001")
        assert act(url, headers, 5, "call-next").status_code == 200
        expect(board.locator("#latest-number")).to_have_text("F001")
    finally:
        again.stop()
    assert board.problems == [], board.problems


def test_board_announces_calls_one_after_another(server, open_page):
    url = server.url
    board = open_page(f"{url}/board/erdao", BOARD)  # real recordings from the server's espeak-ng
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    numbers = []
    for n, code in ((6, "QY001"), (7, "SB001"), (8, "GJ001")):
        numbers.append(issue(url, code)["number"])
        headers = open_window(url, f"clerk{n}", n)
        assert act(url, headers, n, "call-next").status_code == 200
    expect(board.locator("#latest-number")).to_have_text(numbers[-1])
    # three real clips, Chinese and English, twice each: about ten seconds apiece
    board.wait_for_function("() => OWBoard.announcer.log.filter(e => e.kind !== 'start').length === 3", timeout=180_000)
    log = board.evaluate("OWBoard.announcer.log")
    finished = [e for e in log if e["kind"] != "start"]
    assert [e["number"] for e in finished] == numbers, "announced in call order"
    assert [e["kind"] for e in finished] == ["end"] * 3, log  # each clip played to its end
    for i, entry in enumerate(log):  # a clip starts only after the one before it has ended
        if entry["kind"] == "start":
            assert log[i + 1]["number"] == entry["number"] and log[i + 1]["kind"] != "start", log
    assert board.problems == [], board.problems


def test_english_switch_is_remembered_on_every_page(server, open_page):
    url = server.url
    kiosk = open_page(f"{url}/kiosk/erdao", KIOSK)
    expect(kiosk.locator(".kiosk-bar h1")).to_have_text("二道区政务服务中心")
    kiosk.locator("[data-lang-toggle]").click()
    expect(kiosk.locator(".kiosk-bar h1")).to_have_text("Erdao District Government Service Center")
    expect(kiosk.locator("html")).to_have_attribute("lang", "en")
    expect(kiosk.locator('[data-queue="A"] .qt-name')).to_have_text("Business registration")
    shot(kiosk, "kiosk-en-1080x1920")
    ticket = issue(url, "QY001")
    for path, probe, english in (
        ("/board/erdao", "#hall-name", "Erdao District Government Service Center"),
        ("/window/erdao/1", "#window-state", "Closed"),
        (f"/t/{ticket['id']}", "#t-status", "Waiting"),
        ("/login", "#login-form h2", "Staff sign-in"),
        ("/", ".bar h1", "OneWindow · integrated service hall"),
    ):
        page = open_page(url + path, BOARD, context=kiosk.context)
        expect(page.locator(probe)).to_have_text(english)
        page.locator("[data-lang-toggle]").click()
        expect(page.locator(probe)).not_to_have_text(english)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        page.locator("[data-lang-toggle]").click()
        assert page.problems == [], (path, page.problems)
    kiosk.locator("[data-lang-toggle]").click()
    expect(kiosk.locator(".kiosk-bar h1")).to_have_text("二道区政务服务中心")


def test_pages_forbid_inline_scripts_and_render_chinese_glyphs(server, open_page):
    url = server.url
    for path in ("/", "/kiosk/erdao", "/board/erdao", "/window/erdao/1", "/clerk", "/t/nothing"):
        r = requests.get(url + path, timeout=10)
        assert r.status_code == (404 if path == "/t/nothing" else 200), path  # an unknown ticket: the not-found page
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), f"inline script on {path}"
        assert 'style="' not in r.text and " on" + "click=" not in r.text
    assert requests.get(url + "/kiosk/nowhere", timeout=10).status_code == 404
    svg = requests.get(url + "/qr.svg", params={"data": f"{url}/t/abc"}, timeout=10)
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")

    board = open_page(f"{url}/board/erdao", BOARD)
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    # A missing glyph is drawn as the same box (tofu) for every code point, usually 1em wide like a Han
    # character; so compare the ink of real characters with each other and with an unassigned code point.
    ink = board.evaluate("""() => {
        const family = getComputedStyle(document.body).fontFamily;
        const draw = (text) => {
            const canvas = document.createElement('canvas');
            canvas.width = 64 * text.length; canvas.height = 64;
            const ctx = canvas.getContext('2d');
            ctx.font = '48px ' + family;
            ctx.fillText(text, 0, 50);
            const m = ctx.measureText(text);
            const px = ctx.getImageData(0, 0, canvas.width, 64).data;
            let sum = 0;
            for (let i = 3; i < px.length; i += 4) sum = (sum * 31 + px[i] * (i % 997)) % 1000000007;
            return {sum, width: m.width, left: m.actualBoundingBoxLeft, right: m.actualBoundingBoxRight,
                    ascent: m.actualBoundingBoxAscent, descent: m.actualBoundingBoxDescent};
        };
        const tofu = String.fromCodePoint(0x10FFFD);
        return {family, zheng: draw('政'), wu: draw('务'), tofu: draw(tofu),
                phrase: draw('政务服务中心'), tofus: draw(tofu.repeat(6))};
    }""")
    assert "WenQuanYi Micro Hei" in ink["family"]
    assert ink["zheng"]["sum"] != ink["wu"]["sum"], "two Han characters draw alike: tofu"
    assert ink["zheng"]["sum"] != ink["tofu"]["sum"] and ink["wu"]["sum"] != ink["tofu"]["sum"]
    box = ("left", "right", "ascent", "descent")
    assert [ink["phrase"][k] for k in box] != [ink["tofus"][k] for k in box], ink
    glyphs_ok = board.evaluate("document.fonts.check('48px \"WenQuanYi Micro Hei\"', '政务')")
    assert glyphs_ok


def test_sign_in_on_the_login_page_opens_the_clerk_console_signed_in(server, open_page):
    page = open_page(f"{server.url}/login", CLERK)
    page.locator("input[name=username]").fill("clerk4")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{server.url}/clerk")
    expect(page.locator("#view-setup")).to_be_visible()  # straight to choosing a window: no second sign-in
    assert page.evaluate("STAFF.username") == "clerk4"
    assert page.problems == [], page.problems


def test_a_called_tickets_actions_are_the_url_actions(server):
    url = server.url
    issue(url, "QY001")
    headers = open_window(url, "clerk9", 9)
    called = act(url, headers, 9, "call-next")
    assert called.status_code == 200
    actions = called.json()["actions"]
    assert "no-show" in actions and "no_show" not in actions
    answer = act(url, headers, 9, "no-show")  # the spelling the ticket gives is the one the URL takes
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "no_show"
