"""Wait ranges: a queueing forecast whose spread, calibrated on recent residuals, holds the stated share of waits."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.core import estimate as est

SERVICE_S = 480.0


def synthetic_quotes(coverage: float, count: int = 2500, seed: int = 7) -> list[tuple[est.Estimate, float, tuple]]:
    """A hall's quotes made online, each calibrated on the residuals of the quotes resolved before it.

    The true wait is the (n+1)-th departure of c busy windows with exponential service around a pace that
    drifts through the day, so the forecast (which knows the pace only roughly) has real, skewed error.
    """
    rng = random.Random(seed)
    resolved: list[est.Residual] = []
    out = []
    pace = SERVICE_S
    for _ in range(count):
        pace = min(max(pace * rng.uniform(0.97, 1.03), 300.0), 900.0)
        windows, ahead = rng.randint(1, 8), rng.randint(0, 40)
        fc = est.forecast([SERVICE_S] * ahead, [SERVICE_S / 2] * windows, windows, SERVICE_S)
        actual = sum(rng.expovariate(windows / pace) for _ in range(ahead + 1))
        quoted = est.wait_range(fc, resolved[-est.ADAPT_RECENT * 4 :][::-1], coverage)
        out.append((quoted, actual, (ahead, windows)))
        inside = quoted.low_s <= actual <= quoted.high_s
        resolved.append(est.Residual(fc.point_s, fc.scale_s, actual, None, inside))
    return out


def share_inside(quotes) -> float:
    return sum(1 for q, actual, _n in quotes if q.low_s <= actual <= q.high_s) / len(quotes)


@pytest.mark.parametrize("coverage", [0.7, 0.8, 0.9])
def test_the_stated_share_of_synthetic_waits_falls_inside_the_range(coverage):
    quotes = synthetic_quotes(coverage)[200:]  # past the cold start
    assert share_inside(quotes) == pytest.approx(coverage, abs=0.04)


def test_calibrated_ranges_are_narrower_than_the_first_heuristics_on_the_same_waits():
    quotes = synthetic_quotes(0.8)[200:]
    width = sum(q.high_s - q.low_s for q, _a, _n in quotes)
    legacy = [(est.legacy_estimate(n, c, SERVICE_S), a, None) for _q, a, (n, c) in quotes]
    assert width < sum(q.high_s - q.low_s for q, _a, _n in legacy)
    assert share_inside(quotes) >= share_inside(legacy)  # narrower, and holding at least as many waits


def test_a_higher_stated_coverage_gives_wider_ranges():
    def mean_width(coverage):
        quotes = synthetic_quotes(coverage, count=800)
        return sum(q.high_s - q.low_s for q, _a, _n in quotes) / len(quotes)

    assert mean_width(0.7) < mean_width(0.8) < mean_width(0.9)


def test_a_new_hall_without_history_gets_a_cautious_range_around_the_forecast():
    fc = est.forecast([SERVICE_S] * 10, [SERVICE_S] * 2, 2, SERVICE_S)
    quoted = est.wait_range(fc, [], 0.8)
    assert quoted.low_s < fc.point_s < quoted.high_s


def test_each_queue_is_calibrated_on_its_own_residuals_when_it_has_them():
    slow = [est.Residual(600, 100, 900, queue=1) for _ in range(100)]  # always 3 scales late
    fair = [est.Residual(600, 100, 600 + (i % 5 - 2) * 50, queue=2) for i in range(100)]
    fc = est.forecast([SERVICE_S] * 6, [SERVICE_S], 1, SERVICE_S)
    late, on_time = est.wait_range(fc, slow + fair, 0.8, 1), est.wait_range(fc, slow + fair, 0.8, 2)
    assert late.low_s > on_time.low_s and late.low_s > fc.point_s


def test_recent_misses_widen_the_range_and_recent_hits_do_not_run_it_away():
    scores = [est.Residual(600, 100, 600 + (i % 9 - 4) * 40) for i in range(100)]
    missed = [est.Residual(r.point_s, r.scale_s, r.actual_s, inside=i % 2 == 0) for i, r in enumerate(scores)]
    held = [est.Residual(r.point_s, r.scale_s, r.actual_s, inside=i % 5 != 0) for i, r in enumerate(scores)]
    lo_m, hi_m = est.quantiles(missed, 0.8)
    lo_h, hi_h = est.quantiles(held, 0.8)
    assert hi_m - lo_m > hi_h - lo_h
    assert est.aimed_coverage(missed, 0.8) <= 0.8 + est.ADAPT_REACH


@given(
    ahead=st.integers(0, 300),
    windows=st.integers(0, 20),
    busy=st.integers(0, 20),
    service=st.floats(10, 3600),
    coverage=st.floats(0.5, 0.95),
)
def test_low_never_exceeds_high_and_both_are_non_negative(ahead, windows, busy, service, coverage):
    fc = est.forecast([service] * ahead, [service / 3] * min(busy, windows), windows, service)
    quoted = est.wait_range(fc, [], coverage)
    assert 0 <= quoted.low_s <= quoted.high_s


@given(ahead=st.integers(1, 200), windows=st.integers(1, 20))
def test_more_people_ahead_or_fewer_windows_means_a_longer_forecast(ahead, windows):
    def point(n, c):
        return est.forecast([SERVICE_S] * n, [SERVICE_S] * c, c, SERVICE_S).point_s

    assert point(ahead + 1, windows) > point(ahead, windows)
    assert point(ahead, windows + 1) < point(ahead, windows)


def test_long_items_ahead_lengthen_the_forecast():
    short = est.forecast([300.0] * 5, [300.0] * 2, 2, 300.0)
    long = est.forecast([300.0] * 4 + [3000.0], [300.0] * 2, 2, 300.0)
    assert long.point_s > short.point_s + 1000


def test_an_idle_window_calls_at_once_and_helpers_take_shared_tickets_off_the_line():
    assert est.forecast([], [], 3, SERVICE_S).point_s == 0
    alone = est.forecast([], [SERVICE_S] * 2, 2, SERVICE_S, shared_s=[SERVICE_S] * 20, helpers=0)
    helped = est.forecast([], [SERVICE_S] * 2, 2, SERVICE_S, shared_s=[SERVICE_S] * 20, helpers=2)
    assert helped.point_s < alone.point_s


def test_pace_leans_on_the_queue_until_an_item_has_history():
    pace = est.Pace([(1, 10, 1200.0)] * 30 + [(1, 11, 300.0)] * 30 + [(1, 12, 3000.0)], default_s=SERVICE_S)
    assert pace.of(1, 10) > 1000 and pace.of(1, 11) < 400
    assert pace.of(1, 99) == pytest.approx(pace.queue_s[1])  # an item never seen: its queue's pace
    assert pace.queue_s[1] < pace.of(1, 12) < 3000  # one long ticket: pulled toward the queue, still long


def test_the_spread_bound_grows_with_the_departures_and_shrinks_with_windows():
    assert est.spread_bound(0, SERVICE_S, 2, 0.8) == 0
    assert est.spread_bound(4, SERVICE_S, 2, 0.8) < est.spread_bound(16, SERVICE_S, 2, 0.8)
    assert est.spread_bound(16, SERVICE_S, 4, 0.8) < est.spread_bound(16, SERVICE_S, 2, 0.8)


def test_recent_service_time_without_history_is_the_default():
    assert est.recent_service_time([], 480.0) == 480.0


def test_recent_service_time_weights_newer_services_more():
    newest_fast = est.recent_service_time([60.0] + [600.0] * 9, 300.0)
    newest_slow = est.recent_service_time([600.0] * 9 + [60.0], 300.0)
    assert newest_fast < newest_slow


def test_the_pace_rises_when_the_busy_windows_run_over_their_usual_time():
    finished = [(1, 10, 600.0, 3600.0)] * 30  # the item usually takes 10 minutes
    usual = est.Pace(finished, default_s=SERVICE_S, running=[(1, 10, 300.0)] * 4)
    over = est.Pace(finished, default_s=SERVICE_S, running=[(1, 10, 1200.0)] * 4)  # four windows twice over
    assert usual.of(1, 10) == pytest.approx(600.0, rel=0.05)
    assert over.of(1, 10) > 1.4 * usual.of(1, 10)


def test_the_pace_follows_the_latest_finishes_more_than_old_ones():
    usual = [(1, 10, 600.0, 7200.0)] * 40
    slow_now = est.Pace([(1, 10, 1200.0, 60.0)] * 5 + usual, default_s=SERVICE_S)
    slow_then = est.Pace(usual + [(1, 10, 1200.0, 9000.0)] * 5, default_s=SERVICE_S)
    assert slow_now.factor > 1.3 > slow_then.factor
    assert slow_now.of(1, 10) > slow_then.of(1, 10)


def test_the_aimed_level_moves_a_step_per_quote_toward_the_stated_coverage():
    def resolved(hits, misses):
        return [est.Residual(600, 100, 600, inside=True)] * hits + [est.Residual(600, 100, 600, inside=False)] * misses

    assert est.aimed_coverage(resolved(64, 16), 0.8) == pytest.approx(0.8)  # on target (of the latest 80): stays put
    after_misses = est.aimed_coverage(resolved(50, 30), 0.8)  # 62 % held: aim higher, by 0.005 per quote
    assert after_misses == pytest.approx(0.8 + 0.005 * (30 * 0.8 - 50 * 0.2))
    assert est.aimed_coverage(resolved(80, 0), 0.8) < 0.8  # all held: aim lower (narrower)
    assert est.aimed_coverage(resolved(0, 80), 0.8) == pytest.approx(0.8 + est.ADAPT_REACH)


def test_the_adaptive_level_catches_up_sooner_when_waits_spread_wider_than_their_history(monkeypatch):
    def share_held_after_the_turn():
        rng = random.Random(3)
        resolved: list[est.Residual] = []
        inside = []
        fc = est.Forecast(1200.0, 300.0, 16)
        for i in range(550):
            spread = 300.0 if i < 400 else 600.0  # the day turns: waits spread twice as wide as before
            actual = max(rng.gauss(1200.0, spread), 0.0)
            quoted = est.wait_range(fc, resolved[:150], 0.8)
            held = quoted.low_s <= actual <= quoted.high_s
            inside.append(held)
            resolved.insert(0, est.Residual(fc.point_s, fc.scale_s, actual, None, held))
        return sum(inside[400:]) / 150

    adaptive = share_held_after_the_turn()
    monkeypatch.setattr(est, "ADAPT_STEP", 0.0)
    fixed = share_held_after_the_turn()
    assert fixed < adaptive < 0.85  # both fall short while the window still holds the old spread; less so adapting


def test_tickets_called_at_once_and_waiting_ones_are_calibrated_apart():
    waited = [est.Residual(1200, 300, 1200 + (i % 9 - 4) * 150, inside=True) for i in range(100)]
    at_once = [est.Residual(0, 60, 20 + i % 5, inside=True) for i in range(150)]
    idle = est.forecast([], [], 3, 360.0)  # an idle window: no departures ahead
    assert idle.departures == 0
    assert est.wait_range(idle, waited + at_once, 0.8) == est.wait_range(idle, at_once, 0.8)
    assert est.wait_range(idle, at_once, 0.8).high_s < 60
    # the at-once quotes' free hits do not narrow a waiting ticket's range
    busy = est.forecast([SERVICE_S] * 8, [SERVICE_S] * 2, 2, SERVICE_S)
    assert est.wait_range(busy, waited + at_once, 0.8) == est.wait_range(busy, waited, 0.8)


def test_a_calibration_works_out_each_level_once_and_gives_the_ranges_wait_range_gives(monkeypatch):
    """The live pushes range 60 tickets from one reading: the residuals' quantiles are sorted once per kind."""
    rng = random.Random(5)
    residuals = [
        est.Residual(
            rng.choice([0.0, rng.uniform(60, 900)]), rng.uniform(30, 200), rng.uniform(0, 1200), rng.choice([1, 2])
        )
        for _ in range(150)
    ]
    forecasts = [est.Forecast(rng.choice([0.0, rng.uniform(60, 900)]), rng.uniform(30, 200), 0) for _ in range(30)]
    forecasts = [est.Forecast(f.point_s, f.scale_s, 0 if f.point_s == 0 else 3) for f in forecasts]
    expected = [est.wait_range(f, residuals, 0.8, q) for f in forecasts for q in (1, 2)]
    calls = []
    real = est.quantiles
    monkeypatch.setattr(est, "quantiles", lambda *a, **k: calls.append(a[1:]) or real(*a, **k))
    calibration = est.Calibration(residuals)
    assert [calibration.range(f, 0.8, q) for f in forecasts for q in (1, 2)] == expected
    assert len(calls) == 4, "one level per (at once or waiting) × queue"
