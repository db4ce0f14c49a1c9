"""Wait estimates: a sensible range that grows with the line and shrinks with open windows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.core.estimate import Estimate, estimate_wait, recent_service_time

SERVICE_S = 480.0


@given(ahead=st.integers(0, 500), windows=st.integers(0, 20), service=st.floats(1, 3600))
def test_low_never_exceeds_high_and_both_are_non_negative(ahead, windows, service):
    est = estimate_wait(ahead, windows, service)
    assert 0 <= est.low_s <= est.high_s


@given(ahead=st.integers(0, 300), windows=st.integers(0, 12))
def test_estimate_grows_with_the_number_ahead(ahead, windows):
    fewer, more = estimate_wait(ahead, windows, SERVICE_S), estimate_wait(ahead + 1, windows, SERVICE_S)
    assert more.low_s >= fewer.low_s
    assert more.high_s >= fewer.high_s


@given(ahead=st.integers(0, 300), windows=st.integers(0, 12))
def test_estimate_shrinks_with_more_open_windows(ahead, windows):
    fewer, more = estimate_wait(ahead, windows, SERVICE_S), estimate_wait(ahead, windows + 1, SERVICE_S)
    assert more.low_s <= fewer.low_s
    assert more.high_s <= fewer.high_s


def test_strictly_longer_for_a_long_line():
    assert estimate_wait(40, 2, SERVICE_S).high_s > estimate_wait(10, 2, SERVICE_S).high_s
    assert estimate_wait(40, 2, SERVICE_S).low_s > estimate_wait(10, 2, SERVICE_S).low_s
    assert estimate_wait(40, 8, SERVICE_S).high_s < estimate_wait(40, 2, SERVICE_S).high_s


def test_the_range_brackets_the_plain_average():
    est = estimate_wait(20, 4, 600)
    assert est.low_s <= 20 / 4 * 600 <= est.high_s


def test_next_in_line_waits_at_most_part_of_one_service():
    est = estimate_wait(0, 2, 600)
    assert est.low_s == 0
    assert 0 < est.high_s <= 600


def test_no_open_window_still_gives_a_finite_longer_range():
    closed, one = estimate_wait(5, 0, SERVICE_S), estimate_wait(5, 1, SERVICE_S)
    assert closed.high_s > one.high_s


def test_estimate_as_dict():
    assert Estimate(60, 120).as_dict() == {"low_s": 60, "high_s": 120}


def test_recent_service_time_without_history_is_the_default():
    assert recent_service_time([], 480.0) == 480.0


def test_recent_service_time_moves_toward_history_as_it_grows():
    default = 480.0
    short = recent_service_time([120.0, 120.0], default)
    long = recent_service_time([120.0] * 30, default)
    assert 120.0 < long < short < default
    assert long == pytest.approx((120 * 30 + default * 3) / 33)


def test_recent_service_time_weights_newer_services_more():
    newest_fast = recent_service_time([60.0] + [600.0] * 9, 300.0)
    newest_slow = recent_service_time([600.0] * 9 + [60.0], 300.0)
    assert newest_fast < newest_slow


@given(st.lists(st.floats(1, 7200), min_size=1, max_size=40), st.floats(1, 3600))
def test_recent_service_time_stays_within_the_data_and_default(durations, default):
    value = recent_service_time(durations, default)
    lo, hi = min([*durations, default]), max([*durations, default])
    assert lo - 1e-6 <= value <= hi + 1e-6
