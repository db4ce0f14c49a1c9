"""Booking, seats, cancel and reschedule, no-show blocks, check-in windows and the routing of appointment
tickets, on SQLite and PostgreSQL, with a fake clock (Monday 2026-03-02 09:00 Beijing)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from queue_server import clock
from queue_server.appointments import remote
from queue_server.appointments import service as appointments
from queue_server.appointments.service import Blocked, SlotFull
from queue_server.core.appointments import Arrival
from queue_server.exceptions import Conflict, IllegalTransition, NotFound
from queue_server.hall_settings import hall_settings
from queue_server.halls import get_window
from queue_server.models import Appointment, AppointmentSlot, Ticket
from queue_server.tickets import service as tickets
from queue_server.tickets.personal import Person, read_person
from tests.support import SECRET, id_number, phone

from .test_rules import bj


def book(db, person: int, hour: int, minute: int = 0, service: str = "BD001") -> Appointment:
    with db.session() as s:
        hall = db.hall(s)
        cfg = hall_settings(hall).appointments
        appt = appointments.book(
            s,
            hall,
            service_code=service,
            starts_at=bj(hour, minute),
            name="张小三",
            phone=phone(person),
            id_number=id_number(person),
            notify_ref=None,
            cfg=cfg,
            secret=SECRET,
            now=clock.now(),
        )
        return appt


def check_in(db, *, code=None, id_no=None):
    with db.session() as s:
        hall = db.hall(s)
        cfg = hall_settings(hall).appointments
        now = clock.now()
        appt = appointments.find_for_check_in(s, hall, code=code, id_number=id_no, secret=SECRET, cfg=cfg, now=now)
        arrival, issued = appointments.check_in(s, hall, appt, cfg, now, settings=db.settings)
        return arrival, issued.ticket.number, issued.ticket.priority


def call_next(db, window: int) -> str | None:
    with db.session() as s:
        hall = db.hall(s)
        change = tickets.call_next(s, hall, get_window(s, hall, window), None)
        return change.ticket.number if change.ticket else None


def citizen(serial: int) -> Person:
    return read_person(SECRET, phone(serial), None)


def walk_in(db, service: str = "BD001") -> str:
    with db.session() as s:
        return tickets.issue(s, db.hall(s), service).ticket.number


def test_slots_offer_seats_and_booking_takes_one(make_hall, fake_clock):
    db = make_hall()
    with db.session() as s:
        view = appointments.slots_view(s, db.hall(s), "BD001", hall_settings(db.hall(s)).appointments, fake_clock())
    assert [d["date"] for d in view["days"]] == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]
    first = view["days"][0]["slots"][0]
    # 09:30 is inside the 60 minutes' change cut-off: not offered (its holder could neither cancel nor move it)
    assert first["starts_at"] == "2026-03-02T10:00:00+08:00" and first["capacity"] == 3 and first["left"] == 3
    appt = book(db, 1, 10)
    assert len(appt.code) == 8 and len(appt.id) >= 22
    with db.session() as s:
        slot = s.scalar(select(AppointmentSlot).where(AppointmentSlot.starts_at == bj(10)))
        assert (slot.capacity, slot.booked) == (3, 1)


def test_capacity_follows_the_windows_serving_the_queue(make_hall, fake_clock):
    # Queue C is served by the ten integrated windows and the real-estate window: 11 × 30 / 8 × 0.5 = 20.
    db = make_hall(appointments={"max_per_slot": None})
    with db.session() as s:
        hall = db.hall(s)
        cfg = hall_settings(hall).appointments
        assert appointments.slots_view(s, hall, "BD001", cfg, fake_clock())["days"][0]["slots"][0]["capacity"] == 20


def test_a_full_slot_refuses_the_next_booking(make_hall, fake_clock):
    db = make_hall(appointments={"max_per_slot": 2})
    book(db, 1, 10)
    book(db, 2, 10)
    with pytest.raises(SlotFull):
        book(db, 3, 10)
    book(db, 3, 10, 30)


def test_personal_data_is_stored_masked_and_hashed_only(make_hall, fake_clock):
    db = make_hall()
    book(db, 7, 10)
    with db.session() as s:
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM appointments")) for v in row)
    assert id_number(7) not in dump and phone(7) not in dump and "张小三" not in dump
    assert "1101**********0074"[:4] in dump and "139****0007" in dump and "张*三" in dump


def test_one_person_cannot_hold_two_bookings_for_the_same_day_and_queue(make_hall, fake_clock):
    db = make_hall()
    book(db, 1, 10)
    with pytest.raises(Conflict):
        book(db, 1, 14)


def test_cancel_frees_the_seat_until_the_cut_off(make_hall, fake_clock):
    db = make_hall(appointments={"max_per_slot": 1, "change_cutoff_minutes": 60})
    first = book(db, 1, 11)
    with db.session() as s:
        appt = appointments.get_appointment(s, first.id)
        appointments.cancel(s, appt, hall_settings(appt.hall).appointments, fake_clock())
    book(db, 2, 11)  # the freed seat
    late = book(db, 3, 10, 30)
    fake_clock.advance(minutes=31)  # 09:31: within an hour of 10:30
    with db.session() as s, pytest.raises(IllegalTransition):
        appt = appointments.get_appointment(s, late.id)
        appointments.cancel(s, appt, hall_settings(appt.hall).appointments, fake_clock())


def test_reschedule_moves_the_seat(make_hall, fake_clock):
    db = make_hall(appointments={"max_per_slot": 1})
    appt = book(db, 1, 14)
    with db.session() as s:
        a = appointments.get_appointment(s, appt.id)
        appointments.reschedule(s, a, bj(15), hall_settings(a.hall).appointments, fake_clock())
        assert a.starts_at == bj(15)
    book(db, 2, 14)  # the old slot is free again
    with pytest.raises(SlotFull):
        book(db, 3, 15)


def test_two_no_shows_block_booking(make_hall, fake_clock):
    db = make_hall(appointments={"no_show_limit": 2, "no_show_days": 30, "block_days": 7})
    book(db, 5, 10)
    fake_clock.advance(days=1)  # Tuesday: Monday's booking was never checked in
    with db.session() as s:
        hall = db.hall(s)
        cfg = hall_settings(hall).appointments
        appointments.book(
            s,
            hall,
            service_code="BD001",
            starts_at=bj(10, day=fake_clock().date()),
            name="李四",
            phone=phone(5),
            id_number=id_number(5),
            notify_ref=None,
            cfg=cfg,
            secret=SECRET,
            now=fake_clock(),
        )
        assert appointments.mark_no_shows(s, fake_clock()) == 1
    fake_clock.advance(days=1)  # Wednesday: two no-shows
    with db.session() as s, pytest.raises(Blocked) as err:
        hall = db.hall(s)
        appointments.book(
            s,
            hall,
            service_code="BD001",
            starts_at=bj(10, day=fake_clock().date()),
            name="李四",
            phone=phone(5),
            id_number=id_number(5),
            notify_ref=None,
            cfg=hall_settings(hall).appointments,
            secret=SECRET,
            now=fake_clock(),
        )
    assert "2026-03-10" in err.value.message  # blocked for 7 days after the second no-show (Tuesday)
    with db.session() as s:  # someone else still books
        hall = db.hall(s)
        appointments.book(
            s,
            hall,
            service_code="BD001",
            starts_at=bj(10, day=fake_clock().date()),
            name="王五",
            phone=phone(6),
            id_number=id_number(6),
            notify_ref=None,
            cfg=hall_settings(hall).appointments,
            secret=SECRET,
            now=fake_clock(),
        )


def test_check_in_too_early_on_time_and_late(make_hall, fake_clock):
    db = make_hall(appointments={"early_minutes": 30, "late_minutes": 15})
    early, late = book(db, 1, 10), book(db, 3, 10, 0, service="QY001")
    book(db, 2, 10, 30, service="SB001")  # checked in by ID number below
    fake_clock.advance(minutes=29)  # 09:29, 31 minutes before 10:00
    with pytest.raises(IllegalTransition) as err:
        check_in(db, code=early.code)
    assert "09:30" in err.value.message
    fake_clock.advance(minutes=1)  # 09:30: the early window opens
    assert check_in(db, code=early.code.lower()) == (Arrival.ON_TIME, "C001", "appointment")
    with pytest.raises(Conflict):
        check_in(db, code=early.code)  # only once
    fake_clock.advance(minutes=75)  # 10:45: 15 minutes after 10:30 is still on time
    assert check_in(db, id_no=id_number(2)) == (Arrival.ON_TIME, "B001", "appointment")
    fake_clock.advance(minutes=1)  # 10:46: 46 minutes after 10:00
    assert check_in(db, code=late.code) == (Arrival.LATE, "A001", "normal")
    with pytest.raises(NotFound):
        check_in(db, id_no=id_number(9))


def test_an_appointment_on_time_is_called_before_earlier_walk_ins(make_hall, fake_clock):
    db = make_hall(appointments={"change_cutoff_minutes": 0})  # booked half an hour ahead
    appt = book(db, 1, 9, 30)
    walk_ins = [walk_in(db), walk_in(db)]
    fake_clock.advance(minutes=10)  # 09:10: within the early window, before the walk-ins age (20 min)
    _, number, _ = check_in(db, code=appt.code)
    later = walk_in(db)
    _open(db, 11)
    assert [call_next(db, 11) for _ in range(4)] == [number, *walk_ins, later]


def test_a_late_arrival_waits_behind_walk_ins(make_hall, fake_clock):
    db = make_hall(appointments={"change_cutoff_minutes": 0})  # booked half an hour ahead
    appt = book(db, 1, 9, 30)
    fake_clock.advance(hours=1)  # 10:00: 30 minutes late
    first = walk_in(db)
    arrival, number, priority = check_in(db, code=appt.code)
    assert (arrival, priority) == (Arrival.LATE, "normal")
    _open(db, 11)
    assert [call_next(db, 11), call_next(db, 11)] == [first, number]


def _open(db, number: int) -> None:
    with db.session() as s:
        hall = db.hall(s)
        get_window(s, hall, number).state = "open"


@pytest.mark.parametrize("rule", ["skip", "no_show"])
def test_remote_ticket_not_checked_in_when_called(make_hall, fake_clock, rule):
    db = make_hall(remote={"unchecked_on_call": rule})
    with db.session() as s:
        hall = db.hall(s)
        cfg = hall_settings(hall).remote
        remote_ticket = remote.join(
            s, hall, "BD001", person=citizen(1), notify_ref=None, cfg=cfg, now=fake_clock(), settings=db.settings
        ).ticket
        remote_id, remote_number = remote_ticket.id, remote_ticket.number
    behind = walk_in(db)
    _open(db, 11)
    assert call_next(db, 11) == behind
    with db.session() as s:
        status = s.scalar(select(Ticket.status).where(Ticket.id == remote_id))
    assert status == ("waiting" if rule == "skip" else "no_show")
    if rule == "skip":  # checked in at the kiosk: called next, keeping its place
        with db.session() as s:
            remote.check_in(s, tickets.get_ticket(s, remote_id), fake_clock())
        with db.session() as s:
            hall = db.hall(s)
            window = get_window(s, hall, 11)
            window.ticket_id = None
        assert call_next(db, 11) == remote_number


def test_remote_tickets_follow_hours_and_the_daily_cap(make_hall, fake_clock):
    db = make_hall(remote={"hours": ["09:00-10:00"], "max_per_day": 1})
    with db.session() as s:
        hall = db.hall(s)
        cfg = hall_settings(hall).remote
        remote.join(s, hall, "BD001", person=Person(), notify_ref=None, cfg=cfg, now=fake_clock(), settings=db.settings)
        assert remote.status(s, hall, cfg, fake_clock())["left_today"] == 0
    with db.session() as s, pytest.raises(remote.RemoteClosed):
        remote.join(
            s, db.hall(s), "BD001", person=Person(), notify_ref=None, cfg=cfg, now=fake_clock(), settings=db.settings
        )
    fake_clock.advance(hours=1)
    with db.session() as s, pytest.raises(remote.RemoteClosed):
        remote.join(
            s, db.hall(s), "SB001", person=Person(), notify_ref=None, cfg=cfg, now=fake_clock(), settings=db.settings
        )
