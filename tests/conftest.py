"""Every shared fixture: databases (SQLite and a real PostgreSQL), settings, a fake clock, a seeded hall,
real servers and in-process apps with the demo staff, fake printers, a private Redis, Chromium.

Plain helpers live in tests/support; a directory's conftest holds only fixtures of that directory."""

from __future__ import annotations

import atexit
import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from queue_server import clock
from queue_server.app import create_app
from queue_server.config import settings_from_mapping
from queue_server.db import transaction
from tests.support import (
    PG_ADMIN_URL,
    STAFF,
    FakePrinter,
    PrivateRedis,
    QuietVoice,
    ServerProcess,
    add_staff,
    demo_config,
    prepare,
    seed_hall,
    write_config,
)

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


@pytest.fixture
def hall(db_url, settings_for, fake_clock):
    """The demo config's halls, migrated and seeded (both backends), clock at 2026-03-02 09:00 Beijing time."""
    seeded = seed_hall(settings_for(db_url, async_mode="threading"))
    yield seeded
    seeded.engine.dispose()


# --- Real servers and in-process apps with the demo staff ---------------------------------------------
@pytest.fixture
def make_server(tmp_path):
    """Start servers on given settings (the demo config on SQLite by default); all are stopped after the test."""
    started: list[ServerProcess] = []

    def start(raw: dict | None = None, *, name: str = "server", users=STAFF, env=None, prepare_db=True):
        raw = raw or demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data")
        if prepare_db:
            prepare(raw, users)
        server = ServerProcess(write_config(tmp_path / f"{name}.yaml", raw), env=env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server):
    """A real server on the demo config, SQLite, with the demo staff."""
    return make_server()


@pytest.fixture
def make_app(tmp_path):
    """In-process apps on one SQLite database (no workers, quiet voice); the demo staff added with the first."""
    apps = []

    def build(raw: dict | None = None, users=STAFF):
        raw = raw or demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
        app = create_app(settings_from_mapping(raw), voice=QuietVoice(), start_workers=False)
        app.config["TESTING"] = True
        runtime = app.extensions["onewindow"]
        if not apps:
            with transaction(runtime.factory) as session:
                add_staff(session, users)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["onewindow"].engine.dispose()


# --- Devices and services played by the test --------------------------------------------------------
@pytest.fixture
def fake_printer():
    """A network printer on a loopback port, switched on."""
    printer = FakePrinter()
    printer.start()
    yield printer
    printer.stop()


@pytest.fixture
def stopped_printer():
    """A listener that owns a port but is switched off until the test starts it."""
    printer = FakePrinter()
    yield printer
    printer.stop()


@pytest.fixture
def redis_server():
    """A redis-server of the test's own, to stop and start at will."""
    server = PrivateRedis().start()
    yield server
    server.stop()


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
