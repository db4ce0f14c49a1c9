"""A seeded demo database on SQLite or PostgreSQL, with staff and helpers to act on it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from queue_server import tickets, windows
from queue_server.auth import add_user
from queue_server.config import Settings
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import get_hall, seed
from queue_server.models import StaffUser, Ticket, TicketEvent

PASSWORD = "correct-horse-battery"


@dataclass
class Hall:
    """One seeded hall database and the few operations the tests repeat."""

    engine: Engine
    factory: sessionmaker[Session]
    settings: Settings
    code: str = "erdao"

    def issue(self, service: str = "QY001", **kw) -> Ticket:
        with transaction(self.factory) as session:
            return tickets.issue(session, get_hall(session, self.code), service, **kw).ticket

    def clerk(self, username: str, role: str = "clerk") -> StaffUser:
        with transaction(self.factory) as session:
            return add_user(session, username, PASSWORD, role, self.code)

    def act(self, user: StaffUser, window: int, action: str, body: dict | None = None) -> tickets.Change:
        with transaction(self.factory) as session:
            hall = get_hall(session, self.code)
            return windows.act(session, hall, window, action, session.merge(user, load=False), body or {})

    def open_window(self, window: int, username: str | None = None) -> StaffUser:
        user = self.clerk(username or f"clerk{window}")
        self.act(user, window, "open")
        return user

    def count(self, model) -> int:
        with self.factory() as session:
            return session.scalar(select(func.count()).select_from(model))

    def ticket(self, ticket_id: str) -> Ticket:
        with self.factory() as session:
            return session.scalar(select(Ticket).where(Ticket.id == ticket_id))

    def events(self, ticket: Ticket) -> list[TicketEvent]:
        with self.factory() as session:
            return list(
                session.scalars(select(TicketEvent).where(TicketEvent.ticket_pk == ticket.pk).order_by(TicketEvent.id))
            )


@pytest.fixture
def hall(db_url, settings_for, fake_clock):
    """The demo config's halls in a migrated, seeded database (both backends), clock at 09:00 Beijing."""
    yield from seeded_hall(db_url, settings_for)


def seeded_hall(db_url: str, settings_for):
    """Migrate and seed the database at `db_url`, yield its Hall, dispose of the engine after."""
    settings = settings_for(db_url)
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        seed(session, settings)
    yield Hall(engine, factory, settings)
    engine.dispose()
