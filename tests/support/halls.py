"""A seeded demo hall database (SQLite or PostgreSQL) with the operations tests repeat, and test people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from queue_server.config import Settings
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import get_hall, seed
from queue_server.models import StaffUser, Ticket, TicketEvent
from queue_server.staff.auth import add_user
from queue_server.tickets import service as tickets
from queue_server.tickets import windows

from .servers import demo_config
from .staff import PASSWORD

SECRET = "test-secret-0123456789"
ID_NUMBER = "220102199003071235"  # valid check digit
PHONE = "13812345678"


@dataclass
class Hall:
    """One seeded hall database and the few operations the tests repeat."""

    engine: Engine
    factory: sessionmaker[Session]
    settings: Settings
    code: str = "erdao"

    def session(self):
        """A transaction on the hall's database, committed when the block ends."""
        return transaction(self.factory)

    def hall(self, session: Session, code: str | None = None):
        """The hall row (this hall, or another of the config by code)."""
        return get_hall(session, code or self.code)

    def user(self, username: str, role: str = "clerk", hall: str | None = "erdao") -> StaffUser:
        with transaction(self.factory) as session:
            return add_user(session, username, PASSWORD, role, hall)

    def issue(self, service: str = "QY001", **kw) -> Ticket:
        with transaction(self.factory) as session:
            return tickets.issue(session, get_hall(session, self.code), service, **kw).ticket

    def act(self, user: StaffUser, window: int, action: str, body: dict | None = None) -> tickets.Change:
        with transaction(self.factory) as session:
            hall = get_hall(session, self.code)
            return windows.act(session, hall, window, action, session.merge(user, load=False), body or {})

    def open_window(self, window: int, username: str | None = None) -> StaffUser:
        user = self.user(username or f"clerk{window}")
        self.act(user, window, "open")
        return user

    def cancel(self, ticket: Ticket) -> None:
        with transaction(self.factory) as session:
            tickets.cancel(session, tickets.get_ticket(session, ticket.id))

    def quote(self, ticket: Ticket, low: int, high: int) -> None:
        with transaction(self.factory) as session:
            t = tickets.get_ticket(session, ticket.id)
            t.quoted_low_s, t.quoted_high_s = low, high

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


def seed_hall(settings: Settings) -> Hall:
    """Migrate and seed the settings' database; the caller disposes of `hall.engine`."""
    engine = make_engine(settings.server.database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        seed(session, settings)
    return Hall(engine, factory, settings)


def booking_config(
    url: str, data_dir, *, appointments: dict | None = None, remote: dict | None = None, notify: dict | None = None
) -> dict:
    """The demo config with appointments (3 per slot unless told), remote tickets and notifications as given."""
    raw = demo_config(url, data_dir, secret_key=SECRET)
    hall = raw["halls"][0]
    hall["appointments"] = {"max_per_slot": 3, **(appointments or {})}
    hall["remote"] = remote or {}
    hall["notify"] = notify or {}
    return raw


def id_number(serial: int) -> str:
    """A valid 18-character resident ID (check digit included) for test person `serial`."""
    body = f"110105199001{serial:05d}"[:17]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def phone(serial: int) -> str:
    """A mobile number for test person `serial`."""
    return f"139{serial:08d}"


def booking_body(person: int, starts_at: str, service: str = "BD001", **extra) -> dict:
    """The JSON of a booking by test person `person` (POST /halls/{hall}/appointments)."""
    body = {"service": service, "starts_at": starts_at, "name": "张小三", "phone": phone(person)}
    return {**body, "id_number": id_number(person), **extra}
