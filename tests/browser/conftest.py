"""Chromium (Debian's, never a downloaded one) driving the real pages of a real server."""

from __future__ import annotations

import os

import pytest

from tests.server.conftest import make_server  # noqa: F401 - the shared fixture

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(make_server):  # noqa: F811 - the shared fixture, by name
    return make_server()


@pytest.fixture
def open_page(browser):
    """Open a page at a viewport size in its own context; console errors and page errors are kept."""
    contexts = []

    def open_(url: str, size: tuple[int, int], context=None):
        if context is None:
            context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
            contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
        page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
                and page.problems.append(f"console: {m.text}"))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
