"""A seeded demo hall (SQLite and PostgreSQL) on a fake clock, with an in-process app for the API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from queue_server import tickets, windows
from queue_server.auth import add_user
from queue_server.config import Settings
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import get_hall, seed
from queue_server.models import StaffUser, Ticket

PASSWORD = "correct-horse-battery"


class QuietVoice:
    """Stands in for the TTS renderer: the text of a call, no audio."""

    def request(self, voice, number, window):
        return {"text": f"请 {number} 号，到 {window} 号窗口办理", "texts": {}, "audio_url": None}


@dataclass
class Hall:
    engine: Engine
    factory: sessionmaker[Session]
    settings: Settings
    code: str = "erdao"

    def user(self, username: str, role: str = "clerk", hall: str | None = "erdao") -> StaffUser:
        with transaction(self.factory) as s:
            return add_user(s, username, PASSWORD, role, hall)

    def issue(self, service: str, **kw) -> Ticket:
        with transaction(self.factory) as s:
            return tickets.issue(s, get_hall(s, self.code), service, **kw).ticket

    def act(self, user: StaffUser, window: int, action: str, **body) -> Ticket | None:
        with transaction(self.factory) as s:
            change = windows.act(s, get_hall(s, self.code), window, action, s.get(StaffUser, user.id), body)
            return change.ticket

    def cancel(self, ticket: Ticket) -> None:
        with transaction(self.factory) as s:
            tickets.cancel(s, tickets.get_ticket(s, ticket.id))

    def quote(self, ticket: Ticket, low: int, high: int) -> None:
        with transaction(self.factory) as s:
            t = tickets.get_ticket(s, ticket.id)
            t.quoted_low_s, t.quoted_high_s = low, high


@pytest.fixture
def hall(db_url, settings_for, fake_clock):
    """The demo config's halls, migrated and seeded, clock at 2026-03-02 09:00 Beijing time."""
    settings = settings_for(db_url, async_mode="threading")
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        seed(session, settings)
    yield Hall(engine, factory, settings)
    engine.dispose()


@pytest.fixture
def client(hall):
    """A Flask test client of the full app on the hall's database (same fake clock)."""
    from queue_server.app import create_app

    app = create_app(hall.settings, voice=QuietVoice(), start_workers=False)
    return app.test_client()


def login(client, username: str) -> dict:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}
