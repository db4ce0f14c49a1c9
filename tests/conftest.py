"""Shared fixtures: databases (SQLite and a real PostgreSQL), settings, staff, a fake clock."""

from __future__ import annotations

import atexit
import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from queue_server import clock
from queue_server.config import settings_from_mapping
from tests.support import PG_ADMIN_URL, demo_config

_template_ready = False
# One template per pytest process: concurrent runs must not drop each other's template.
TEMPLATE = f"onewindow_template_{os.getpid()}"


def _admin_engine():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _ensure_template() -> None:
    """A migrated template database, so each test copies it instead of migrating."""
    global _template_ready
    if _template_ready:
        return
    from queue_server.db import make_engine, upgrade

    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{TEMPLATE}")
    upgrade(engine)
    engine.dispose()
    admin.dispose()
    _template_ready = True
    atexit.register(_drop_template)


def _drop_template() -> None:
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database with the current schema, dropped after the test."""
    _ensure_template()
    name = f"ow_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/onewindow.sqlite3"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """The same test on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/onewindow.sqlite3"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings_for(tmp_path):
    """Build validated demo settings for a database URL."""

    def build(url: str, **server):
        return settings_from_mapping(demo_config(url, tmp_path / "data", **server), "test-config")

    return build


@pytest.fixture
def fake_clock():
    """Freeze time at 2026-03-02 09:00 Beijing time (01:00 UTC); move it with .advance()."""
    fake = clock.FakeClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    clock.set_source(fake)
    yield fake
    clock.reset()


# --- Chromium for the page tests: one Playwright and one browser for the whole run ------------------
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


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
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and "Failed to load resource" not in m.text
                and page.problems.append(f"console: {m.text}")
            ),
        )
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
