"""Issuing tickets on both databases: numbers per queue and day, masked data, history rows."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from queue_server.db import transaction
from queue_server.exceptions import NotFound, ValidationFailed
from queue_server.hall_settings import PrivacyConfig
from queue_server.halls import get_hall
from queue_server.models import DayCounter, Queue, ServiceItem, Ticket, TicketEvent
from queue_server.tickets import personal
from queue_server.tickets.service import issue


def test_numbers_count_up_per_queue(hall):
    a1, a2 = hall.issue("QY001"), hall.issue("QY002")
    b1 = hall.issue("SB001")
    a3 = hall.issue("QY003")
    c1 = hall.issue("BD001")
    assert [t.number for t in (a1, a2, b1, a3, c1)] == ["A001", "A002", "B001", "A003", "C001"]
    assert [t.seq for t in (a1, a2, a3)] == [1, 2, 3]


def test_each_hall_has_its_own_numbers(hall):
    hall.issue("QY001")
    with transaction(hall.factory) as session:
        other = issue(session, get_hall(session, "jinxiu"), "JX001").ticket
    assert other.number == "A001"


def test_issued_ticket_is_stored_with_its_details(hall, fake_clock):
    person = personal.Person(phone="13812345678", id_number="220102199001011234")
    kept = personal.columns(person, PrivacyConfig(store_personal_data=True))  # what the API stores
    t = hall.issue("BD002", channel="mobile", priority="green", **kept)
    stored = hall.ticket(t.id)
    assert stored.status == "waiting"
    assert (stored.channel, stored.priority) == ("mobile", "green")
    assert stored.issued_at == fake_clock.current == stored.queued_at
    assert stored.day == date(2026, 3, 2)
    assert stored.phone_masked == "138****5678"
    assert stored.id_number_masked == "2201**********1234"
    assert stored.order_key == stored.pk
    assert len(stored.id) >= 16 and stored.id != stored.number


def test_ticket_ids_are_unguessable_and_unique(hall):
    ids = {hall.issue("QY001").id for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) >= 16 for i in ids)  # 128 random bits, URL-safe


def test_numbering_restarts_at_local_midnight(hall, fake_clock):
    fake_clock.current = fake_clock.current.replace(hour=15, minute=59, second=59)  # 23:59:59 Beijing
    assert [hall.issue("QY001").number for _ in range(2)] == ["A001", "A002"]
    fake_clock.advance(1)  # 16:00:00 UTC = 00:00 Beijing the next day
    first = hall.issue("QY001")
    assert first.number == "A001"
    assert first.day == date(2026, 3, 3)
    assert hall.issue("QY002").number == "A002"
    with hall.factory() as session:
        counters = {row.day: row.last_seq for row in session.scalars(select(DayCounter))}
    assert counters == {date(2026, 3, 2): 2, date(2026, 3, 3): 2}


def test_utc_midnight_is_not_the_turnover(hall, fake_clock):
    fake_clock.current = fake_clock.current.replace(hour=23, minute=59)  # 07:59 Beijing on 3 March
    hall.issue("QY001")
    fake_clock.advance(120)  # 00:01 UTC: still the same Beijing day
    assert hall.issue("QY001").number == "A002"


def test_three_digits_grow_to_four(hall):
    assert hall.issue("QY001").number == "A001"
    with transaction(hall.factory) as session:
        session.execute(update(DayCounter).values(last_seq=998))
    assert hall.issue("QY001").number == "A999"
    t = hall.issue("QY001")
    assert (t.number, t.seq) == ("A1000", 1000)
    assert hall.issue("QY001").number == "A1001"


def test_issue_writes_one_history_row(hall, fake_clock):
    t = hall.issue("QY001", channel="counter")
    [event] = hall.events(t)
    assert (event.action, event.from_status, event.to_status) == ("issue", None, "waiting")
    assert event.at == fake_clock.current
    assert event.data == {"channel": "counter", "priority": "normal"}


def counts(hall):
    with hall.factory() as session:
        return (
            session.query(Ticket).count(),
            session.query(TicketEvent).count(),
            [(c.day, c.last_seq) for c in session.scalars(select(DayCounter))],
        )


@pytest.mark.parametrize(
    ("service", "kw", "error"),
    [
        ("NOPE", {}, NotFound),
        ("QY001", {"channel": "fax"}, ValidationFailed),
        ("QY001", {"priority": "vip"}, ValidationFailed),
    ],
)
def test_rejected_issue_changes_nothing(hall, service, kw, error):
    hall.issue("QY001")
    before = counts(hall)
    with pytest.raises(error):
        hall.issue(service, **kw)
    assert counts(hall) == before
    assert hall.issue("QY001").number == "A002"  # no number was used up


def test_inactive_service_cannot_be_issued(hall):
    with transaction(hall.factory) as session:
        session.execute(update(ServiceItem).where(ServiceItem.code == "QY001").values(active=False))
    with pytest.raises(NotFound, match="QY001"):
        hall.issue("QY001")
    assert hall.count(Ticket) == 0


def test_queue_rows_match_the_config(hall):
    with hall.factory() as session:
        prefixes = list(session.scalars(select(Queue.prefix).order_by(Queue.hall_id, Queue.sort)))
    assert prefixes == ["A", "B", "C", "D", "E", "F", "A", "B"]


def test_close_day_cancels_only_earlier_days_waiting_tickets(hall, fake_clock):
    from queue_server.db import transaction
    from queue_server.halls import get_hall
    from queue_server.tickets.service import close_day

    at_window = hall.issue("QY001")  # A001
    left_waiting = hall.issue("QY002")  # A002
    clerk = hall.open_window(1)
    hall.act(clerk, 1, "call-next")  # A001 is at the window: the close-out leaves it to the clerk
    fake_clock.advance(hours=24)  # the next morning, 09:00 Beijing
    today = hall.issue("QY001")
    with transaction(hall.factory) as session:
        closed = close_day(session, get_hall(session, hall.code))
    assert closed == [f"{left_waiting.day.isoformat()} A002"]
    assert hall.ticket(left_waiting.id).status == "cancelled"
    assert hall.events(left_waiting)[-1].reason == "closed at the end of the day"
    assert hall.ticket(at_window.id).status == "called"
    assert hall.ticket(today.id).status == "waiting" and today.number == "A001"
