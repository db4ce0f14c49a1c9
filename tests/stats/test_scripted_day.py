"""Statistics of a scripted morning where every figure is known by hand (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from queue_server.db import transaction
from queue_server.halls import get_hall
from queue_server.ratings.evaluations import evaluate
from queue_server.stats import data as stats_data
from queue_server.tickets.service import get_ticket

DAY = date(2026, 3, 2)


# (seconds after 09:00, window or None, action, argument): the morning, with what each step means for the figures
MORNING = [
    (0, None, "issue", "QY001"),  # A001
    (60, None, "issue", "SB001"),  # B001
    (120, None, "issue", "QY002"),  # A002
    (180, None, "issue", "BD001"),  # C001
    (240, None, "issue", "SB003"),  # B002
    (300, 1, "call-next", "A001"),  # A001 waited 300
    (330, 1, "start", None),
    (400, 2, "call-next", "B001"),  # B001 waited 340
    (420, 2, "start", None),
    (520, 2, "hold", None),  # B001 served 100 so far
    (580, 2, "resume", None),  # held 60, kept out of the service time
    (600, None, "cancel", "B002"),
    (630, 1, "finish", None),  # A001 served 300
    (640, 1, "call-next", "A002"),  # A002 waited 520
    (700, 1, "no-show", None),
    (710, 1, "call-next", "C001"),  # C001 waited 530
    (720, 1, "start", None),
    (880, 2, "finish", None),  # B001 served 100 + 300
    (900, 1, "transfer", "SB002"),  # C001 served 180 at window 1, now waits for a B service
    (960, 2, "call-next", "C001"),  # called again: its wait stays the first one
    (980, 2, "start", None),
    (1280, 2, "finish", None),  # C001 served 300 more at window 2
]
QUOTES = {"A001": (0, 240), "B001": (300, 600), "A002": (400, 700), "C001": (600, 900)}


def run_morning(hall, clock) -> dict:
    """Five tickets at two windows, then A001 rated 非常满意 and B001 不满意."""
    clerks = {1: hall.user("clerk1"), 2: hall.user("clerk2")}
    for window, clerk in clerks.items():
        hall.act(clerk, window, "open")
    t: dict = {}
    now = 0
    for seconds, window, action, arg in MORNING:
        clock.advance(seconds - now)
        now = seconds
        if action == "issue":
            ticket = hall.issue(arg)
            t[ticket.number] = ticket
            if ticket.number in QUOTES:
                hall.quote(ticket, *QUOTES[ticket.number])
        elif action == "cancel":
            hall.cancel(t[arg])
        elif action == "call-next":
            assert hall.act(clerks[window], window, action).ticket.number == arg
        elif action == "transfer":
            hall.act(clerks[window], window, action, {"service": arg})
        else:
            hall.act(clerks[window], window, action)
    with transaction(hall.factory) as s:
        evaluate(s, get_ticket(s, t["A001"].id), 5, "很好")
        evaluate(s, get_ticket(s, t["B001"].id), 2, "等太久")
    return t


def figures(hall) -> dict:
    with transaction(hall.factory) as s:
        return stats_data.compute(s, get_hall(s, "erdao"), DAY, DAY)


def test_every_figure_of_the_scripted_morning(hall, fake_clock):
    run_morning(hall, fake_clock)
    st = figures(hall)
    assert st["counts"] == {"issued": 5, "served": 3, "no_show": 1, "cancelled": 1, "transferred": 1, "open": 0}
    # waits 300, 340, 520, 530: median between 340 and 520, p90 at rank 2.7
    assert st["wait"] == {"count": 4, "mean_s": 422.5, "median_s": 430.0, "p90_s": 527.0, "within_target_share": 0.25}
    # service 300, 400 (hold kept out), 480 (180 + 300 across the transfer)
    assert st["service"] == {"count": 3, "mean_s": 393.3, "median_s": 400.0, "p90_s": 464.0}
    assert st["hold"] == {"tickets": 1, "total_s": 60.0, "mean_s": 60.0}
    # quoted ranges: A001 0–240 (actual 300), B001 300–600 (340), A002 400–700 (520), C001 600–900 (530)
    assert st["estimate"] == {"count": 4, "mae_s": 135.0, "inside_share": 0.5, "mean_width_s": 285.0, "coverage": 0.8}

    queues = {q["key"]: q for q in st["by_queue"]}
    assert set(queues) == {"A", "B", "C"}, "a transferred ticket stays in the queue it waited in first"
    assert (queues["A"]["issued"], queues["A"]["served"], queues["A"]["no_show"]) == (2, 1, 1)
    assert queues["A"]["wait"] == {
        "count": 2,
        "mean_s": 410.0,
        "median_s": 410.0,
        "p90_s": 498.0,
        "within_target_share": 0.5,
    }
    assert (queues["B"]["issued"], queues["B"]["served"], queues["B"]["cancelled"]) == (2, 1, 1)
    assert queues["C"]["transferred"] == 1 and queues["C"]["service"]["mean_s"] == 480.0
    assert queues["B"]["estimate"] == {"count": 1, "mae_s": 110.0, "inside_share": 1.0, "mean_width_s": 300.0}

    items = {i["key"]: i["issued"] for i in st["by_item"]}
    assert items == {"QY001": 1, "QY002": 1, "SB001": 1, "SB002": 1, "SB003": 1}

    win = {w["key"]: w for w in st["by_window"]}
    assert (win["1"]["called"], win["1"]["served"], win["1"]["busy_s"]) == (3, 1, 480.0)
    assert (win["2"]["called"], win["2"]["served"], win["2"]["busy_s"]) == (2, 2, 700.0)
    assert win["2"]["service"] == {"count": 2, "mean_s": 350.0, "median_s": 350.0, "p90_s": 390.0}
    clerks = {c["key"]: c for c in st["by_clerk"]}
    assert clerks["clerk1"]["busy_s"] == 480.0 and clerks["clerk2"]["busy_s"] == 700.0

    assert [(h["hour"], h["arrivals"]) for h in st["by_hour"]] == [(9, 5)]
    sat = st["satisfaction"]
    assert (sat["total"], sat["rated"], sat["defaulted"], sat["pending"], sat["poor"]) == (2, 2, 0, 1, 1)
    assert sat["rate"] == 0.5


def test_an_unrated_ticket_counts_as_basic_satisfied_after_the_period(hall, fake_clock):
    run_morning(hall, fake_clock)
    fake_clock.advance(days=7)  # C001 finished at 09:21:20; the period of 7 days is not over at 09:21:20
    assert figures(hall)["satisfaction"]["pending"] == 1
    fake_clock.advance(minutes=30)
    sat = figures(hall)["satisfaction"]
    assert (sat["total"], sat["rated"], sat["defaulted"], sat["pending"]) == (3, 2, 1, 0)
    assert {lv["score"]: lv["count"] for lv in sat["levels"]} == {5: 1, 4: 0, 3: 1, 2: 1, 1: 0}
    assert sat["rate"] == pytest.approx(0.6667) and sat["rate_rated_only"] == 0.5
    win = {w["key"]: w["satisfaction_rate"] for w in figures(hall)["by_window"]}
    assert win == {"1": 1.0, "2": 0.5}, "B001 (不满意) and C001 (defaulted 基本满意) were finished at window 2"


def test_a_range_of_days_and_bad_ranges(hall, fake_clock):
    run_morning(hall, fake_clock)
    with transaction(hall.factory) as s:
        h = get_hall(s, "erdao")
        assert stats_data.compute(s, h, date(2026, 3, 3), date(2026, 3, 9))["counts"]["issued"] == 0
        assert stats_data.compute(s, h, date(2026, 3, 1), date(2026, 3, 2))["counts"]["issued"] == 5
    assert stats_data.parse_range(None, None, DAY) == (DAY, DAY)
    assert stats_data.parse_range("2026-03-01", None, DAY) == (date(2026, 3, 1), date(2026, 3, 1))
    for bad in (("2026-03-05", "2026-03-01"), ("yesterday", None), ("2024-01-01", "2026-01-01")):
        with pytest.raises(Exception) as err:
            stats_data.parse_range(*bad, DAY)
        assert err.value.code == "validation_error"
