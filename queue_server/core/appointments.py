"""Appointment rules: slots from opening hours, capacity from windows, check-in classes, no-show blocks.

Pure: no database, no Flask, no clock; times in, answers out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Arrival(StrEnum):
    TOO_EARLY = "too_early"  # before the early window: come back later
    ON_TIME = "on_time"  # within the early/late window: an appointment ticket
    LATE = "late"  # after the late window, the same day: a normal ticket
    EXPIRED = "expired"  # another day: the booking is a no-show


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware UTC
    ends_at: datetime


def parse_hours(spec: str) -> tuple[time, time | None]:
    """'09:00-12:00' -> (09:00, 12:00); an end of '24:00' is midnight (None)."""
    start, end = spec.split("-")
    return time.fromisoformat(start), None if end == "24:00" else time.fromisoformat(end)


def open_ranges(day: date, hours: Iterable[str], timezone: str) -> list[tuple[datetime, datetime]]:
    """The day's opening ranges as aware UTC datetimes."""
    tz = ZoneInfo(timezone)
    out = []
    for spec in hours:
        start, end = parse_hours(spec)
        begin = datetime.combine(day, start, tz)
        finish = (
            datetime.combine(day + timedelta(days=1), time(0), tz) if end is None else datetime.combine(day, end, tz)
        )
        out.append((begin.astimezone(ZoneInfo("UTC")), finish.astimezone(ZoneInfo("UTC"))))
    return out


def is_open(now: datetime, hours: Iterable[str], weekdays: Sequence[int], timezone: str) -> bool:
    """Whether `now` falls on an opening weekday (ISO 1..7) within the opening hours."""
    day = now.astimezone(ZoneInfo(timezone)).date()
    if day.isoweekday() not in weekdays:
        return False
    return any(start <= now < end for start, end in open_ranges(day, hours, timezone))


def next_change(now: datetime, hours: Sequence[str], weekdays: Sequence[int], timezone: str) -> datetime | None:
    """When `now`'s open or closed state ends: the close of its range, else the next opening; None within a week."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    ranges = sorted(
        r
        for i in range(8)
        if (today + timedelta(days=i)).isoweekday() in weekdays
        for r in open_ranges(today + timedelta(days=i), hours, timezone)
    )
    for start, end in ranges:
        if start <= now < end:
            # back-to-back ranges (12:00-13:00, 13:00-17:00, or across midnight) are one opening
            for later_start, later_end in ranges:
                if later_start == end:
                    end = later_end
            return None if end == ranges[-1][1] else end  # open to the end of the week looked at: no change
        if now < start:
            return start
    return None


def bookable_days(today: date, days_ahead: int, weekdays: Sequence[int]) -> list[date]:
    """Opening days from today on, `days_ahead` calendar days in all (today included)."""
    return [d for d in (today + timedelta(days=i) for i in range(days_ahead)) if d.isoweekday() in weekdays]


def day_slots(day: date, hours: Iterable[str], slot_minutes: int, timezone: str) -> list[Slot]:
    """Whole slots of `slot_minutes` inside each opening range; a short remainder is not offered."""
    length = timedelta(minutes=slot_minutes)
    slots = []
    for begin, finish in open_ranges(day, hours, timezone):
        start = begin
        while start + length <= finish:
            slots.append(Slot(start, start + length))
            start += length
    return slots


def slot_capacity(
    windows: int, slot_minutes: float, service_minutes: float, share: float = 1.0, max_per_slot: int | None = None
) -> int:
    """Seats in one slot: what the windows serving the queue get through in it, times the booking share."""
    if windows <= 0 or service_minutes <= 0:
        return 0
    seats = math.floor(windows * slot_minutes / service_minutes * share + 1e-9)
    return seats if max_per_slot is None else min(seats, max_per_slot)


def classify(
    now: datetime, starts_at: datetime, day_ends_at: datetime, early_minutes: float, late_minutes: float
) -> Arrival:
    """Where a check-in at `now` falls for a slot starting at `starts_at` (the day ends at `day_ends_at`)."""
    if now < starts_at - timedelta(minutes=early_minutes):
        return Arrival.TOO_EARLY
    if now <= starts_at + timedelta(minutes=late_minutes):
        return Arrival.ON_TIME
    if now < day_ends_at:
        return Arrival.LATE
    return Arrival.EXPIRED


def changeable(now: datetime, starts_at: datetime, cutoff_minutes: float) -> bool:
    """Cancel and reschedule are allowed until `cutoff_minutes` before the slot."""
    return now <= starts_at - timedelta(minutes=cutoff_minutes)


@dataclass(frozen=True)
class NoShowRule:
    """`limit` no-shows within `within_days` block booking for `block_days` after the last of them."""

    limit: int = 2
    within_days: int = 30
    block_days: int = 30


def blocked_until(no_shows: Iterable[datetime], now: datetime, rule: NoShowRule) -> datetime | None:
    """The end of the booking block the no-shows earn, or None when the person may book."""
    if rule.limit <= 0:
        return None
    times = sorted(no_shows)
    window, block = timedelta(days=rule.within_days), timedelta(days=rule.block_days)
    until = None
    for i in range(rule.limit - 1, len(times)):
        if times[i] - times[i - rule.limit + 1] <= window:
            end = times[i] + block
            until = end if until is None or end > until else until
    return until if until is not None and until > now else None
