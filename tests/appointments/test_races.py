"""Two bookings for the last seat on PostgreSQL: exactly one wins, however they interleave."""

from __future__ import annotations

import threading

from sqlalchemy import select, text

from queue_server import clock
from queue_server.appointments import service as appointments
from queue_server.appointments.service import SlotFull
from queue_server.hall_settings import hall_settings
from queue_server.models import Appointment, AppointmentSlot
from tests.support import SECRET, id_number, phone, wait_until

from .test_rules import bj


def _book(db, person: int, session=None):
    def run(s):
        hall = db.hall(s)
        return appointments.book(
            s,
            hall,
            service_code="BD001",
            starts_at=bj(10),
            name="赵六",
            phone=phone(person),
            id_number=id_number(person),
            notify_ref=None,
            cfg=hall_settings(hall).appointments,
            secret=SECRET,
            now=clock.now(),
        )

    if session is not None:
        return run(session)
    with db.session() as s:
        return run(s)


def _seats(db) -> tuple[int, int, int]:
    with db.session() as s:
        slot = s.scalar(select(AppointmentSlot).where(AppointmentSlot.starts_at == bj(10)))
        taken = len(list(s.scalars(select(Appointment.pk).where(Appointment.slot_id == slot.id))))
        return slot.capacity, slot.booked, taken


def test_the_second_booking_waits_for_the_first_and_loses(make_pg_hall, fake_clock):
    db = make_pg_hall(appointments={"max_per_slot": 2})
    _book(db, 1)  # one seat left
    first = db.factory()
    _book(db, 2, first)  # holds the last seat's row lock, not committed yet
    outcome: dict = {}

    def second():
        try:
            _book(db, 3)
            outcome["second"] = "booked"
        except SlotFull:
            outcome["second"] = "full"

    thread = threading.Thread(target=second)
    thread.start()
    # The second transaction is blocked on the slot row: PostgreSQL says so in pg_stat_activity.
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"

    def blocked() -> bool:
        # A new transaction each time: pg_stat_activity is a snapshot taken once per transaction.
        with db.engine.connect() as conn:
            return conn.execute(text(waiting)).scalar() >= 1

    wait_until(blocked, timeout=30, what="the second booking to wait")
    first.commit()
    first.close()
    thread.join(30)
    assert outcome == {"second": "full"}
    assert _seats(db) == (2, 2, 2)


def test_many_bookings_race_for_the_last_seat(make_pg_hall, fake_clock):
    db = make_pg_hall(appointments={"max_per_slot": 1})
    start = threading.Barrier(8)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(person: int):
        start.wait()
        try:
            _book(db, person)
            result = "booked"
        except SlotFull:
            result = "full"
        with lock:
            results.append(result)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(10, 18)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["booked"] + ["full"] * 7
    assert _seats(db) == (1, 1, 1)
