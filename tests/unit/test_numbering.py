"""Ticket numbers: the hall's local day, zero-padded sequences and parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from queue_server.core.numbering import format_number, local_day, parse_number

SHANGHAI = "Asia/Shanghai"


def test_local_day_turns_over_exactly_at_shanghai_midnight():
    last_second = datetime(2026, 3, 2, 15, 59, 59, 999999, tzinfo=UTC)
    midnight = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert local_day(last_second, SHANGHAI) == date(2026, 3, 2)
    assert local_day(midnight, SHANGHAI) == date(2026, 3, 3)


def test_local_day_is_not_the_utc_day():
    # 01:00 UTC is already 09:00 in Beijing, 23:00 UTC the next morning.
    assert local_day(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), SHANGHAI) == date(2026, 3, 2)
    assert local_day(datetime(2026, 3, 2, 23, 0, tzinfo=UTC), SHANGHAI) == date(2026, 3, 3)


def test_local_day_accepts_any_aware_moment():
    beijing_midnight = datetime(2026, 3, 3, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    assert local_day(beijing_midnight, SHANGHAI) == date(2026, 3, 3)
    assert local_day(beijing_midnight - timedelta(microseconds=1), SHANGHAI) == date(2026, 3, 2)


def test_local_day_follows_the_hall_time_zone():
    moment = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    assert local_day(moment, SHANGHAI) == date(2026, 3, 3)
    assert local_day(moment, "Europe/London") == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("prefix", "seq", "expected"),
    [
        ("A", 1, "A001"),
        ("A", 42, "A042"),
        ("A", 999, "A999"),
        ("A", 1000, "A1000"),
        ("AB", 7, "AB007"),
        ("F", 12345, "F12345"),
    ],
)
def test_format_number(prefix, seq, expected):
    assert format_number(prefix, seq) == expected


@pytest.mark.parametrize("seq", [0, -1])
def test_format_number_rejects_sequences_below_one(seq):
    with pytest.raises(ValueError):
        format_number("A", seq)


@pytest.mark.parametrize(
    ("number", "expected"),
    [("A001", ("A", 1)), ("A999", ("A", 999)), ("A1000", ("A", 1000)), ("ab012", ("AB", 12)), ("F050", ("F", 50))],
)
def test_parse_number(number, expected):
    assert parse_number(number) == expected


@pytest.mark.parametrize(
    "number", ["", "001", "A", "A1", "A01", "1A001", "A-001", "A 001", "号001", "ＡB001", "ABC001"]
)
def test_parse_number_rejects_what_is_not_a_ticket_number(number):
    with pytest.raises(ValueError, match="not a ticket number"):
        parse_number(number)


@pytest.mark.parametrize("seq", [1, 9, 10, 99, 100, 999, 1000, 1001, 99999])
def test_parse_inverts_format(seq):
    assert parse_number(format_number("C", seq)) == ("C", seq)
