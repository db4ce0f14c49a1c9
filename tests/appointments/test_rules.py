"""The pure booking rules: slots, seats, check-in classes, cut-off, no-show blocks, opening hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from queue_server.core.appointments import (
    Arrival,
    NoShowRule,
    blocked_until,
    bookable_days,
    changeable,
    classify,
    day_slots,
    is_open,
    next_change,
    slot_capacity,
)

TZ = "Asia/Shanghai"
MONDAY = date(2026, 3, 2)


def bj(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    """Beijing wall time as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_slots_fill_each_opening_range_with_whole_slots():
    slots = day_slots(MONDAY, ["09:00-12:00", "13:30-17:00"], 30, TZ)
    assert len(slots) == 6 + 7
    assert slots[0].starts_at == bj(9) and slots[0].ends_at == bj(9, 30)
    assert slots[5].ends_at == bj(12) and slots[6].starts_at == bj(13, 30)
    assert day_slots(MONDAY, ["09:00-10:50"], 30, TZ)[-1].ends_at == bj(10, 30)  # no short slot at the end
    assert day_slots(MONDAY, ["23:00-24:00"], 30, TZ)[-1].ends_at == bj(0, day=MONDAY + timedelta(days=1))


def test_bookable_days_skip_closed_weekdays():
    friday = date(2026, 3, 6)
    assert bookable_days(friday, 5, [1, 2, 3, 4, 5]) == [friday, date(2026, 3, 9), date(2026, 3, 10)]
    assert bookable_days(MONDAY, 1, [1]) == [MONDAY]


@pytest.mark.parametrize(
    ("windows", "slot", "service", "share", "cap", "seats"),
    [
        (10, 30, 8, 1.0, None, 37),  # 10 × 30 / 8 = 37.5
        (10, 30, 8, 0.5, None, 18),
        (1, 30, 10, 1.0, None, 3),
        (1, 30, 10, 1.0, 2, 2),
        (0, 30, 8, 1.0, None, 0),
        (3, 30, 10, 1.0, None, 9),  # exact products are not lost to float rounding
    ],
)
def test_capacity_from_windows_slot_length_and_service_time(windows, slot, service, share, cap, seats):
    assert slot_capacity(windows, slot, service, share, cap) == seats


@pytest.mark.parametrize(
    ("at", "arrival"),
    [
        (bj(9, 29), Arrival.TOO_EARLY),
        (bj(9, 30), Arrival.ON_TIME),  # early window opens 30 min before 10:00
        (bj(10, 0), Arrival.ON_TIME),
        (bj(10, 15), Arrival.ON_TIME),  # the last on-time minute
        (bj(10, 16), Arrival.LATE),
        (bj(23, 59), Arrival.LATE),
        (bj(0, 0, MONDAY + timedelta(days=1)), Arrival.EXPIRED),
    ],
)
def test_check_in_classes(at, arrival):
    day_end = bj(0, day=MONDAY + timedelta(days=1))
    assert classify(at, bj(10), day_end, early_minutes=30, late_minutes=15) == arrival


def test_changes_allowed_until_the_cut_off():
    assert changeable(bj(9), bj(10), 60)
    assert not changeable(bj(9, 1), bj(10), 60)


def test_two_no_shows_in_thirty_days_block_booking():
    rule = NoShowRule(limit=2, within_days=30, block_days=14)
    first, second = bj(10, day=date(2026, 2, 1)), bj(10, day=date(2026, 2, 20))
    assert blocked_until([first], bj(9), rule) is None
    assert blocked_until([first, second], bj(9), rule) == second + timedelta(days=14)
    assert blocked_until([first, second], second + timedelta(days=14, seconds=1), rule) is None
    far_apart = [bj(10, day=date(2026, 1, 1)), bj(10, day=date(2026, 2, 20))]
    assert blocked_until(far_apart, bj(9), rule) is None
    assert blocked_until([first, second], bj(9), NoShowRule(limit=0)) is None


def test_opening_hours_and_weekdays():
    assert is_open(bj(9), ["08:30-16:30"], [1, 2, 3, 4, 5], TZ)
    assert not is_open(bj(16, 30), ["08:30-16:30"], [1, 2, 3, 4, 5], TZ)
    assert not is_open(bj(9, day=date(2026, 3, 7)), ["08:30-16:30"], [1, 2, 3, 4, 5], TZ)  # Saturday


def test_next_change_is_the_close_of_this_range_or_the_next_opening():
    hours, every_day = ["09:00-12:00", "13:30-17:00"], range(1, 8)
    assert next_change(bj(8), hours, every_day, TZ) == bj(9)  # closed: opens at nine
    assert next_change(bj(10), hours, every_day, TZ) == bj(12)  # open: closes at noon
    assert next_change(bj(12), hours, every_day, TZ) == bj(13, 30)  # the lunch break ends
    assert next_change(bj(18), hours, every_day, TZ) == bj(9, day=MONDAY + timedelta(days=1))
    friday_evening = bj(18, day=date(2026, 3, 6))
    assert next_change(friday_evening, hours, [1, 2, 3, 4, 5], TZ) == bj(9, day=date(2026, 3, 9))  # Monday
    # back-to-back ranges are one opening; a hall open all day never changes within the week
    assert next_change(bj(11), ["09:00-12:00", "12:00-17:00"], every_day, TZ) == bj(17)
    assert next_change(bj(11), ["00:00-24:00"], every_day, TZ) is None
    assert next_change(bj(11), ["09:00-10:00"], [], TZ) is None
