"""Two windows racing for one ticket on PostgreSQL, made deterministic with the row lock itself."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from queue_server.exceptions import IllegalTransition
from queue_server.halls import get_hall
from queue_server.models import TicketEvent, Window
from queue_server.tickets import service as tickets
from queue_server.tickets.windows import act
from tests.support import seed_hall

pytestmark = pytest.mark.postgres
WAIT_S = 30  # upper bound for something that normally happens at once; never a timing threshold


@pytest.fixture
def pg_hall(pg_url, settings_for, fake_clock):
    hall = seed_hall(settings_for(pg_url))
    yield hall
    hall.engine.dispose()


def wait_until_blocked(engine, application_name: str) -> None:
    """Return once the backend named `application_name` waits for a lock held by someone else."""
    deadline = time.monotonic() + WAIT_S
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            blocked = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :n "
                    "AND cardinality(pg_blocking_pids(pid)) > 0"
                ),
                {"n": application_name},
            ).scalar()
            if blocked:
                return
            conn.rollback()
    raise AssertionError(f"{application_name} never waited for the lock")


def test_calling_a_number_while_another_window_calls_it_next(pg_hall):
    one, two = pg_hall.open_window(1), pg_hall.open_window(2)
    ticket = pg_hall.issue("QY001")

    # Window 1 claims A001 in a transaction that stays open.
    first = pg_hall.factory()
    hall = get_hall(first, "erdao")
    assert act(first, hall, 1, "call-next", first.merge(one, load=False), {}).ticket.id == ticket.id
    first.flush()

    outcome: dict = {}

    def window_two_calls_a001():
        session = pg_hall.factory()
        session.connection().exec_driver_sql("SET application_name = 'window-two'")
        try:
            hall2 = get_hall(session, "erdao")
            act(session, hall2, 2, "call", session.merge(two, load=False), {"number": "A001", "reason": "urgent"})
            session.commit()
            outcome["result"] = "called"
        except IllegalTransition as exc:
            session.rollback()
            outcome["result"] = exc
        finally:
            session.close()

    racer = threading.Thread(target=window_two_calls_a001)
    racer.start()
    try:
        wait_until_blocked(pg_hall.engine, "window-two")
    finally:
        first.commit()
        first.close()
    racer.join(WAIT_S)
    assert not racer.is_alive()

    calls = [e for e in pg_hall.events(ticket) if e.action == "call"]
    with pg_hall.factory() as session:
        holders = [w.number for w in session.query(Window).filter(Window.ticket_id == ticket.id)]
    assert isinstance(outcome["result"], IllegalTransition), "both windows called A001"
    assert outcome["result"].details["status"] == "called"
    assert len(calls) == 1 and holders == [1]
    assert pg_hall.count(TicketEvent) == 2  # issue + one call


def test_holder_cancels_while_a_window_calls_the_ticket(pg_hall):
    one = pg_hall.open_window(1)
    ticket = pg_hall.issue("QY001")

    first = pg_hall.factory()
    hall = get_hall(first, "erdao")
    assert act(first, hall, 1, "call-next", first.merge(one, load=False), {}).ticket.id == ticket.id
    first.flush()

    outcome: dict = {}

    def holder_cancels():
        session = pg_hall.factory()
        session.connection().exec_driver_sql("SET application_name = 'holder'")
        try:
            tickets.cancel(session, tickets.get_ticket(session, ticket.id))
            session.commit()
            outcome["result"] = "cancelled"
        except IllegalTransition as exc:
            session.rollback()
            outcome["result"] = exc
        finally:
            session.close()

    racer = threading.Thread(target=holder_cancels)
    racer.start()
    try:
        wait_until_blocked(pg_hall.engine, "holder")
    finally:
        first.commit()
        first.close()
    racer.join(WAIT_S)
    assert not racer.is_alive()

    stored = pg_hall.ticket(ticket.id)
    assert isinstance(outcome["result"], IllegalTransition), "a called ticket was cancelled behind the window's back"
    assert stored.status == "called"
    assert [e.action for e in pg_hall.events(ticket)] == ["issue", "call"]
