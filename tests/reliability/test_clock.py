"""Time in a hall that runs all day: the local midnight turnover under load, and clock steps (NTP)."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, select

from queue_server.core.numbering import local_day
from queue_server.db import transaction
from queue_server.halls import get_hall
from queue_server.models import Ticket, TicketEvent
from queue_server.tickets import service as tickets
from tests.support import run_threads

SERVICES = ["QY001", "SB001", "BD001", "GJ001"]  # queues A, B, C, D
KIOSKS, WINDOWS = 6, 3
BEFORE, AFTER = 40, 40  # tickets issued before the turnover, and after it


def drain(hall, window: int, user) -> list[tuple[str, str]]:
    """Call, start and finish at one window until nobody waits; (id, number) in call order."""
    called = []
    while True:
        change = hall.act(user, window, "call-next")
        if change.ticket is None:
            return called
        called.append((change.ticket.id, change.ticket.number))
        hall.act(user, window, "start")
        hall.act(user, window, "finish")


def test_midnight_turnover_under_load_gives_no_duplicate_numbers(hall, fake_clock):
    fake_clock.current = fake_clock.current.replace(hour=15, minute=59, second=50)  # 23:59:50 Beijing
    clerks = {n: hall.open_window(n) for n in range(1, WINDOWS + 1)}
    issued: list[Ticket] = []
    progress = threading.Condition()
    stop = threading.Event()

    def kiosk(k: int):
        i = k
        while not stop.is_set():
            with transaction(hall.factory) as session:
                ticket = tickets.issue(session, get_hall(session, "erdao"), SERVICES[i % len(SERVICES)]).ticket
            i += 1
            with progress:
                issued.append(ticket)
                progress.notify_all()

    def window(n: int):
        while not stop.is_set():
            change = hall.act(clerks[n], n, "call-next")
            if change.ticket is not None:
                hall.act(clerks[n], n, "start")
                hall.act(clerks[n], n, "finish")

    def turnover():
        try:
            with progress:
                assert progress.wait_for(lambda: len(issued) >= BEFORE, 120)
                fake_clock.current = fake_clock.current.replace(minute=59, second=59, microsecond=999_999)
                mark = len(issued)
                assert progress.wait_for(lambda: len(issued) >= mark + 5, 120)
                fake_clock.advance(0.000_001)  # 00:00:00.000000 Beijing, 3 March
                mark = len(issued)
                assert progress.wait_for(lambda: len(issued) >= mark + AFTER, 120)
        finally:
            stop.set()

    errors = run_threads(
        [lambda k=k: kiosk(k) for k in range(KIOSKS)] + [lambda n=n: window(n) for n in clerks] + [turnover]
    )
    assert not errors, errors

    with hall.factory() as session:
        rows = session.execute(
            select(Ticket.day, Ticket.number, Ticket.seq, Ticket.queue_id, Ticket.issued_at).where(
                Ticket.hall_id == get_hall(session, "erdao").id
            )
        ).all()
        calls = session.execute(
            select(TicketEvent.ticket_pk, func.count())
            .where(TicketEvent.action == "call")
            .group_by(TicketEvent.ticket_pk)
        ).all()
    assert len(rows) == len(issued)
    days = {row.day for row in rows}
    assert days == {date(2026, 3, 2), date(2026, 3, 3)}, "tickets on both sides of midnight"
    per_day = defaultdict(list)
    for row in rows:
        assert row.day == local_day(row.issued_at, "Asia/Shanghai"), "a ticket's day is the local day it was issued"
        per_day[row.day].append(row.number)
    for day, numbers in per_day.items():
        assert len(numbers) == len(set(numbers)), f"a number handed out twice on {day}"
    sequences = defaultdict(list)
    for row in rows:
        sequences[(row.day, row.queue_id)].append(row.seq)
    for key, seqs in sequences.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"numbering of {key} restarts at 1 with no gap"
    assert all(count == 1 for _, count in calls), "no ticket called twice"

    # The evening's tickets keep their place: the line is called in arrival order across midnight.
    user = clerks[1]
    remaining = [ticket_id for ticket_id, _ in drain(hall, 1, user)]
    with hall.factory() as session:
        order = session.scalars(select(Ticket.id).where(Ticket.id.in_(remaining)).order_by(Ticket.order_key)).all()
    assert remaining == list(order), "the waiting line is called in arrival order across midnight"


def test_clock_steps_do_not_reorder_the_queue(hall, fake_clock):
    """NTP steps the clock back 5 minutes, then time runs on: the queue keeps arrival order.

    After the step, a later arrival has an earlier issue time than the one before it. When the
    later one has waited 20 minutes by the clock (the hall's aging) and the earlier one not yet,
    it must still not jump ahead of the earlier one.
    """
    user = hall.open_window(1)
    numbers = []
    for _ in range(3):
        numbers.append(hall.issue("QY001").number)
        fake_clock.advance(10)
    fake_clock.advance(-300)  # the NTP correction
    for _ in range(3):
        numbers.append(hall.issue("QY001").number)
        fake_clock.advance(10)
    fake_clock.advance(seconds=(20 * 60) - 30)  # the later arrivals have "aged", the earlier not yet
    assert [number for _, number in drain(hall, 1, user)] == numbers

    for _ in range(3):
        numbers.append(hall.issue("SB001").number)
        fake_clock.advance(timedelta(hours=2).total_seconds())  # a big step forward between arrivals
    fake_clock.advance(-3 * 3600)
    numbers.append(hall.issue("SB001").number)
    assert [number for _, number in drain(hall, 1, user)] == numbers[6:]
