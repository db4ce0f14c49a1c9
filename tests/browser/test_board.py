"""The hall board read from 10 m, in Chromium against a real server: every window fits (by pages) at
1920×1080 and 1366×768 in both languages, text large and at 4.5:1 in every state, the written call
line apart from the spoken one, a recall marked on its call instead of taking another line."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.support import (
    BOARD,
    CLERK,
    Listener,
    act,
    admin_sign_in,
    demo_config,
    issue,
    login,
    low_contrast,
    off_screen,
    shot,
)

pytestmark = pytest.mark.browser

SIZES = (BOARD, CLERK)  # the hall's 1920×1080 screen and the older 1366×768 one
ON_BOARD = "#latest, #latest > *, .recent-item, .window-card, .window-card *, .queue-row, .queue-row > *, .board-bar > *, .panel h2"
# What a person reads at 10 m, in CSS px at 1080 lines (scaled with the screen's height).
LEGIBLE_PX = {".window-name": 40, ".window-status": 36, ".queue-name": 42, ".recent-window": 44, "#latest-text": 50}


def windows(count: int) -> list[dict]:
    """`count` windows; some with the long names halls give special windows."""
    out = []
    for n in range(1, count + 1):
        if n % 7 == 4:
            out.append(
                {"number": n, "name": f"{n}号不动产登记专窗", "name_en": f"Window {n} (real estate registration)"}
            )
        else:
            out.append({"number": n, "name": f"{n}号综合窗口", "name_en": f"Window {n}"})
    return out


@pytest.fixture
def hall_of(make_server, tmp_path):
    """A real server whose hall has `count` windows, all opened by the supervisor."""

    def start(count: int):
        raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data")
        raw["halls"][0]["windows"] = windows(count)
        server = make_server(raw)
        boss = login(server.url, "boss")
        for n in range(1, count + 1):
            assert act(server.url, boss, n, "open").status_code == 200
        return server, boss

    return start


def set_lang(page, lang: str) -> None:
    page.evaluate("(lang) => OW.setLang(lang)", lang)
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")


def check_every_page(page, name: str, count: int) -> None:
    """Each page of windows and queues lies inside the screen; together the pages show every window."""
    pagers = page.evaluate("() => ({w: OWBoard.pagers.windows.pages.length, q: OWBoard.pagers.queues.pages.length})")
    seen_windows, seen_queues = [], []
    for i in range(max(pagers["w"], pagers["q"])):
        page.evaluate(
            "(i) => { const p = OWBoard.pagers; p.queues.show(i % p.queues.pages.length);"
            " p.windows.show(i % p.windows.pages.length); }",
            i,
        )
        if i == 0:
            shot(page, name)
        problems = off_screen(page, ON_BOARD)
        assert problems == [], f"{name}, page {i + 1}: {problems}"
        if i < pagers["w"]:
            seen_windows += page.locator(".window-card").evaluate_all("els => els.map(e => Number(e.dataset.window))")
        if i < pagers["q"]:
            seen_queues += page.locator(".queue-row").evaluate_all("els => els.map(e => e.dataset.queue)")
        if i == 0 and pagers["w"] > 1:
            expect(page.locator("#windows-page")).to_have_text(f"1/{pagers['w']}")
    assert sorted(seen_windows) == list(range(1, count + 1)), f"{name}: windows shown {seen_windows}"
    assert sorted(seen_queues) == list("ABCDEF"), f"{name}: queues shown {seen_queues}"


def check_legible(page, size: tuple[int, int]) -> None:
    scale = size[1] / 1080
    for selector, px in LEGIBLE_PX.items():
        found = page.locator(selector).first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
        assert found >= px * scale - 0.5, f"{selector}: {found}px at {size}, want {px * scale:.1f}"


@pytest.mark.parametrize("count", [1, 10, 40])
def test_every_window_fits_on_the_board_in_both_languages_and_sizes(hall_of, open_page, count):
    server, boss = hall_of(count)
    url = server.url
    # a few calls (one window calling, one serving), a paused window, people waiting in every queue
    for service in ("QY001", "SB002", "BD001", "GJ001", "HJ001", "SW001", "QY002"):
        issue(url, service)
    assert act(url, boss, 1, "call-next").status_code == 200
    if count > 1:
        assert act(url, boss, count, "call-next").status_code == 200
        assert act(url, boss, count, "start").status_code == 200
        assert act(url, boss, 2, "pause").status_code == 200
    board = open_page(f"{url}/board/erdao", BOARD)
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    expect(board.locator("#latest-number")).not_to_have_text("—")
    for lang in ("zh", "en"):
        set_lang(board, lang)
        for size in SIZES:
            board.set_viewport_size({"width": size[0], "height": size[1]})
            board.wait_for_function("([w, h]) => innerWidth === w && innerHeight === h", arg=list(size))
            board.evaluate("() => document.getAnimations().forEach(a => a.finish())")
            check_every_page(board, f"board-{count}-windows-{lang}-{size[0]}x{size[1]}", count)
            check_legible(board, size)
    if count == 40:  # the board turns the pages by itself
        expect(board.locator("#windows")).to_have_attribute("data-page", "2", timeout=30_000)
    assert board.problems == [], board.problems


def test_contrast_in_every_state_including_the_call_flash(server, open_page):
    url = server.url
    clerk = login(url, "clerk3")
    assert act(url, clerk, 3, "open").status_code == 200
    clerk4 = login(url, "clerk4")
    assert act(url, clerk4, 4, "open").status_code == 200
    assert act(url, clerk4, 4, "pause").status_code == 200
    issue(url, "QY001")
    board = open_page(f"{url}/board/erdao", BOARD)
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    expect(board.locator('[data-window="4"]')).to_have_class("window-card state-paused")
    assert low_contrast(board) == [], "before any call"
    assert act(url, clerk, 3, "call-next").status_code == 200
    expect(board.locator("#latest")).to_have_class("latest flash")
    # every phase of the 3 s flash, held still: gold ground with navy ink, then red with white and gold
    for at_ms in (100, 400, 600, 900, 1600, 2600):
        board.evaluate(
            "(t) => document.getAnimations().forEach(a => { a.pause(); a.currentTime = t; })",
            at_ms,
        )
        assert low_contrast(board) == [], f"flash at {at_ms} ms"
        if at_ms == 100:
            ground = board.locator("#latest").evaluate("el => getComputedStyle(el).backgroundColor")
            assert ground == "rgb(255, 213, 79)", "the flash shows"
            shot(board, "board-flash-1920x1080")
    board.evaluate("() => document.getAnimations().forEach(a => a.finish())")
    assert low_contrast(board) == [], "after the flash, with a paused window"
    set_lang(board, "en")
    assert low_contrast(board) == [], "in English"
    assert board.problems == [], board.problems


def test_written_line_is_not_the_spoken_text_and_a_recall_is_marked_not_repeated(server, open_page):
    url = server.url
    board = open_page(f"{url}/board/erdao", BOARD)
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    hall = Listener(url, {"hall": "erdao"}).connect()
    clerk3, clerk4 = login(url, "clerk3"), login(url, "clerk4")
    for headers, n in ((clerk3, 3), (clerk4, 4)):
        assert act(url, headers, n, "open").status_code == 200
    issue(url, "QY001")
    issue(url, "SB002")
    assert act(url, clerk3, 3, "call-next").json()["number"] == "A001"
    called = hall.wait_for("ticket_called", lambda p: p["ticket"]["number"] == "A001")
    assert called["written"] == {"zh": "A001 请到 3 号窗口", "en": "A001 → Window 3"}
    spoken = called["announcement"]["text"]
    assert spoken and spoken != called["written"]["zh"]
    expect(board.locator("#latest-text")).to_have_text("A001 请到 3 号窗口")
    assert board.locator("#latest-text").text_content() != spoken
    assert act(url, clerk4, 4, "call-next").json()["number"] == "B001"
    expect(board.locator("#latest-text")).to_have_text("B001 请到 4 号窗口")

    for times in (1, 2):
        assert act(url, clerk3, 3, "recall").status_code == 200
        expect(board.locator("#latest-recall")).to_have_text(f"再次呼叫 ×{times}")
    expect(board.locator("#latest-number")).to_have_text("A001")
    expect(board.locator(".recent-item")).to_have_count(2)  # A001 once, on top, marked; B001 below
    expect(board.locator(".recent-item").first).to_have_attribute("data-number", "A001")
    expect(board.locator('.recent-item[data-number="A001"] .recall-mark')).to_have_text("再次呼叫 ×2")
    expect(board.locator('.recent-item[data-number="B001"] .recall-mark')).to_have_count(0)
    shot(board, "board-recall-1920x1080")

    snapshot = requests.get(f"{url}/api/v1/halls/erdao/board", timeout=10).json()
    assert [(c["number"], c["recall_count"]) for c in snapshot["recent_calls"]] == [("A001", 2), ("B001", 0)]
    assert snapshot["recent_calls"][0]["written"]["en"] == "A001 → Window 3"
    board.reload()  # the snapshot alone gives the same board
    expect(board.locator(".recent-item")).to_have_count(2)
    expect(board.locator("#latest-recall")).to_have_text("再次呼叫 ×2")
    set_lang(board, "en")
    expect(board.locator("#latest-text")).to_have_text("A001 → Window 3")
    expect(board.locator("#latest-recall")).to_have_text("Recall ×2")
    hall.close()
    assert board.problems == [], board.problems


def test_a_registered_board_started_as_the_device_page_says_speaks_without_a_tap(server, open_page):
    url = server.url
    admin = open_page(f"{url}/admin/erdao/devices", (1366, 900))
    admin_sign_in(admin, "root")
    expect(admin.locator("#board-launch")).to_be_hidden()  # no board registered yet
    form = admin.locator("#device-form")
    form.locator('[name="name"]').fill("board-hall-1")
    form.locator('[name="kind"]').select_option("board")
    form.locator("button[type=submit]").click()
    command = admin.locator("#device-token .launch-command")
    expect(command).to_contain_text("--autoplay-policy=no-user-gesture-required")
    text = command.text_content()
    assert text.startswith("chromium --kiosk ") and f'"{url}/device?device=' in text
    expect(admin.locator("#board-launch")).to_be_visible()  # and for the boards already registered
    expect(admin.locator("#board-launch .launch-command")).to_contain_text("--kiosk --autoplay-policy")
    shot(admin, "admin-board-device-1366x900")

    # the browser of these tests runs with the same autoplay flag; nobody taps the board
    board = open_page(text.split('"')[1], BOARD)
    expect(board).to_have_url(re.compile(r"/board/erdao\?device="))
    expect(board.locator("body")).to_have_attribute("data-online", "1")
    clerk = login(url, "clerk3")
    assert act(url, clerk, 3, "open").status_code == 200
    issue(url, "QY001")
    assert act(url, clerk, 3, "call-next").status_code == 200
    expect(board.locator("#latest-number")).to_have_text("A001")
    # played to its end: a blocked play would have put the call back in line and shown the tap button
    board.wait_for_function("() => OWBoard.announcer.log.some(e => e.kind === 'end')", timeout=180_000)
    expect(board.locator("#sound-unlock")).to_be_hidden()
    assert board.problems == [], board.problems
