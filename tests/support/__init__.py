"""Helpers of the test suite, in one place: tests import them from `tests.support`, fixtures by name.

servers   the shipped config on a test database (clock_at: a server's own clock); real server, Redis and
          PostgreSQL processes
staff     PASSWORD, the demo STAFF, prepare() before a server starts, login() and bearer()
halls     a seeded Hall with the operations tests repeat; booking settings; test people
printers  loopback TCP printers: FakePrinter (prints, answers status) and StalledPrinter
escpos    decode() an ESC/POS stream back into lines, QR codes and cuts
load      Load clients in threads, run_threads()
access    strict limits, forged tokens, database snapshots for the security tests
pages     screen sizes, screenshots, API shortcuts and the staff sign-in for the browser tests
realtime  Listener: a real Socket.IO client that records events and waits for them
"""

from .access import db_state, expired_token, kept_secret, strict, user_id
from .escpos import decode
from .halls import ID_NUMBER, PHONE, SECRET, Hall, booking_body, booking_config, id_number, phone, seed_hall
from .load import Load, run_threads
from .pages import (
    ARTIFACTS,
    BOARD,
    CLERK,
    KIOSK,
    MOBILE,
    WINDOW,
    act,
    admin_sign_in,
    contrasts,
    issue,
    low_contrast,
    off_screen,
    open_window,
    shot,
    staff_sign_in,
)
from .printers import FakePrinter, StalledPrinter
from .realtime import Listener
from .servers import (
    CATALOG,
    MONDAY_10AM,
    PG_ADMIN_URL,
    REDIS_URL,
    ROOT,
    PrivatePostgres,
    PrivateRedis,
    ServerProcess,
    client_from,
    clock_at,
    demo_config,
    free_port,
    wait_until,
    write_config,
)
from .staff import PASSWORD, STAFF, QuietVoice, add_staff, bearer, login, prepare

__all__ = [
    "ARTIFACTS",
    "BOARD",
    "CATALOG",
    "CLERK",
    "MONDAY_10AM",
    "ID_NUMBER",
    "KIOSK",
    "MOBILE",
    "PASSWORD",
    "PG_ADMIN_URL",
    "PHONE",
    "REDIS_URL",
    "ROOT",
    "SECRET",
    "STAFF",
    "WINDOW",
    "FakePrinter",
    "Hall",
    "Listener",
    "Load",
    "PrivatePostgres",
    "PrivateRedis",
    "QuietVoice",
    "ServerProcess",
    "StalledPrinter",
    "act",
    "add_staff",
    "admin_sign_in",
    "bearer",
    "contrasts",
    "booking_body",
    "booking_config",
    "client_from",
    "clock_at",
    "db_state",
    "decode",
    "demo_config",
    "expired_token",
    "free_port",
    "id_number",
    "issue",
    "kept_secret",
    "login",
    "low_contrast",
    "off_screen",
    "open_window",
    "phone",
    "prepare",
    "run_threads",
    "seed_hall",
    "shot",
    "staff_sign_in",
    "strict",
    "user_id",
    "wait_until",
    "write_config",
]
