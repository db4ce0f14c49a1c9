"""Places read by aggregates (waits.py) equal the first, ticket-by-ticket reading of the line, on both databases.

The reference below is the old computation: every waiting row read, each ticket ahead listed with its
item's pace. Random lines mix normal and priority tickets, tickets sent to one window, tied order keys,
integrated windows serving several queues, helpers (open windows of the same line that cannot call the
ticket), busy and paused windows, and items with their own pace.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from queue_server.config import settings_from_mapping
from queue_server.core import estimate as est
from queue_server.core.states import Priority, TicketStatus, WindowState
from queue_server.halls import window_states
from queue_server.models import Ticket, Window
from queue_server.tickets import waits
from tests.support import demo_config, seed_hall

# Integrated windows over overlapping queues (A–F): pools of different shapes, and helpers in each.
WINDOWS = {1: ["A", "B"], 2: ["B"], 3: ["B", "C"], 4: ["C"], 5: ["D"], 6: ["D", "E"], 7: ["E"], 8: ["F"]}
ITEMS = ["QY001", "QY002", "SB001", "SB002", "YB001", "BD001", "BD002"]  # A, A, B, B, B, C, C
PRIORITIES = [Priority.NORMAL.value] * 5 + [Priority.GREEN.value, Priority.APPOINTMENT.value]


@dataclass(frozen=True)
class Waiting:
    pk: int
    id: str
    queue_id: int
    service_id: int
    priority: str
    order_key: int
    targeted: bool


@dataclass(frozen=True)
class Reading:
    """What the old computation read: every membership row, the busy windows and every waiting ticket."""

    memberships: list[tuple[int, str, int]]
    busy: dict[int, tuple[int, int, object]]
    line: list[Waiting]


def reference_place(state, old: Reading, queue_id, priority, order_key, pk) -> waits.Place:
    """The old waits._place: the whole line scanned, one pace per ticket ahead (pace and spread as now)."""
    memberships, line = old.memberships, old.line
    serving = {wid for wid, _state, qid in memberships if qid == queue_id}
    pool = {qid for wid, _state, qid in memberships if wid in serving} or {queue_id}
    open_ids = {wid for wid, wstate, _qid in memberships if wstate == WindowState.OPEN}
    mine = serving & open_ids
    helpers = {wid for wid, _state, qid in memberships if qid in pool and wid in open_ids} - mine
    helped = {qid for wid, _state, qid in memberships if wid in helpers}
    normal = priority == Priority.NORMAL.value

    def before(other: Waiting) -> bool:
        earlier = order_key is None or other.order_key < order_key
        special = other.priority != Priority.NORMAL.value
        return (earlier or special) if normal else (earlier and special)

    ahead = [w for w in line if w.queue_id in pool and not w.targeted and w.pk != pk and before(w)]
    own_s = [state.pace.of(w.queue_id, w.service_id) for w in ahead if w.queue_id not in helped]
    shared_s = [state.pace.of(w.queue_id, w.service_id) for w in ahead if w.queue_id in helped]
    at_windows = [old.busy[wid] for wid in mine & old.busy.keys()]
    busy_s = [state.pace.of(q, s) for q, s, _called in at_windows]
    busy_left = [
        est.time_left(need, (state.now - called).total_seconds() if called else 0.0)
        for need, (_q, _s, called) in zip(busy_s, at_windows, strict=True)
    ]
    expected = own_s + shared_s + busy_s
    cycle = sum(expected) / len(expected) if expected else state.pace.of(queue_id, -1)
    fc = reference_forecast(own_s, busy_left, len(mine), cycle, shared_s, len(helpers))
    return waits.Place(len(ahead), est.wait_range(fc, state.calibration.residuals, state.coverage, queue_id), fc)


def reference_forecast(ahead_s, busy_left_s, open_windows, cycle_s, shared_s, helpers) -> est.Forecast:
    """The old est.forecast, from one expected window time per ticket ahead."""
    windows = max(open_windows, 1)
    idle = max(open_windows - len(busy_left_s), 0)
    departures = max(len(ahead_s) + len(shared_s) + 1 - idle, 0)
    if departures == 0:
        return est.Forecast(0.0, cycle_s / windows / 2, 0)
    settle = (windows - 1) * cycle_s / 2
    own = sum(ahead_s) + sum(busy_left_s)
    point = max(own - settle, 0.0) / windows
    if shared_s:
        point = max(point, max(own + sum(shared_s) - settle, 0.0) / (windows + helpers))
    if open_windows == 0:
        point += cycle_s
    return est.Forecast(point, math.sqrt(departures) * cycle_s / windows, departures)


def read_all(session, hall_id) -> Reading:
    rows = session.execute(
        select(
            Ticket.pk,
            Ticket.id,
            Ticket.queue_id,
            Ticket.service_id,
            Ticket.priority,
            Ticket.order_key,
            Ticket.target_window_id,
        ).where(Ticket.hall_id == hall_id, Ticket.status == TicketStatus.WAITING.value)
    )
    line = [Waiting(pk, tid, q, s, p, o, t is not None) for pk, tid, q, s, p, o, t in rows]
    busy = {
        wid: (q, s, called)
        for wid, q, s, called in session.execute(
            select(Window.id, Ticket.queue_id, Ticket.service_id, Ticket.called_at)
            .join(Ticket, Ticket.id == Window.ticket_id)
            .where(Window.hall_id == hall_id, Window.state == WindowState.OPEN)
        )
    }
    return Reading(window_states(session, hall_id), busy, line)


def same(new: waits.Place, expected: waits.Place) -> None:
    assert (new.ahead, new.estimate) == (expected.ahead, expected.estimate)
    assert new.forecast.departures == expected.forecast.departures
    # Sums per queue and item instead of ticket by ticket: equal but for the last bits of a float.
    assert new.forecast.point_s == pytest.approx(expected.forecast.point_s, rel=1e-9, abs=1e-9)
    assert new.forecast.scale_s == pytest.approx(expected.forecast.scale_s, rel=1e-9, abs=1e-9)


@pytest.fixture
def mixed_hall(db_url, tmp_path, fake_clock):
    raw = demo_config(db_url, tmp_path / "data", async_mode="threading")
    hall_cfg = raw["halls"][0]
    hall_cfg["windows"] = [
        {"number": n, "name": f"{n}号窗口", "name_en": f"Window {n}", "queues": queues} for n, queues in WINDOWS.items()
    ]
    hall_cfg["limits"] = {"per_person_per_day": 0, "active_per_person_per_queue": 0}
    seeded = seed_hall(settings_from_mapping(raw))
    yield seeded
    seeded.engine.dispose()


def random_line(hall, fake_clock, rng: random.Random) -> None:
    """Some finished tickets (items with their own pace), then a line, busy, paused and closed windows."""
    clerks = {n: hall.open_window(n) for n in WINDOWS}
    for _ in range(6):
        hall.issue(rng.choice(ITEMS))
    for n in rng.sample(sorted(WINDOWS), 4):
        if hall.act(clerks[n], n, "call-next").ticket is not None:
            hall.act(clerks[n], n, "start")
            fake_clock.advance(rng.randint(60, 1500))
            hall.act(clerks[n], n, "finish")
    for _ in range(rng.randint(25, 45)):
        hall.issue(rng.choice(ITEMS), priority=rng.choice(PRIORITIES))
        fake_clock.advance(rng.randint(1, 30))
    for n in rng.sample(sorted(WINDOWS), 3):
        hall.act(clerks[n], n, "call-next")  # busy, its ticket called some time ago
    fake_clock.advance(rng.randint(10, 600))
    with hall.session() as session:
        mine = Window.hall_id == hall.hall(session).id
        idle = set(session.scalars(select(Window.number).where(mine, Window.ticket_id.is_(None))))
    for n in sorted(idle):
        state = rng.choice(["open", "open", "pause", "close"])
        if state != "open":
            hall.act(clerks[n], n, state)
    with hall.session() as session:
        line = session.scalars(select(Ticket).where(Ticket.status == TicketStatus.WAITING.value)).all()
        windows = session.scalars(select(Window.id).where(Window.hall_id == hall.hall(session).id)).all()
        for ticket in rng.sample(line, 4):  # sent to one window
            ticket.target_window_id = rng.choice(windows)
        for ticket in rng.sample(line, len(line) // 3):  # returned or transferred tickets, some keys tied
            session.execute(update(Ticket).where(Ticket.pk == ticket.pk).values(order_key=rng.randint(1, 15)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_places_from_aggregates_equal_the_ticket_by_ticket_reading(mixed_hall, fake_clock, seed):
    random_line(mixed_hall, fake_clock, random.Random(seed))
    with mixed_hall.session() as session:
        hall = mixed_hall.hall(session)
        state = waits.hall_state(session, hall)
        old = read_all(session, hall.id)
        line = old.line
        assert len({w.queue_id for w in line}) >= 3 and any(w.targeted for w in line)
        assert state.open and state.busy
        for ticket in session.scalars(select(Ticket).where(Ticket.status == TicketStatus.WAITING.value)):
            expected = reference_place(state, old, ticket.queue_id, ticket.priority, ticket.order_key, ticket.pk)
            same(waits.position(session, ticket), expected)
        for queue_id in frozenset().union(*state.windows.values()):
            for priority in (Priority.NORMAL.value, Priority.GREEN.value):
                same(
                    waits.place_of_new(session, hall, queue_id, priority),
                    reference_place(state, old, queue_id, priority, None, None),
                )
        for limit in (7, 60):
            first = sorted(line, key=lambda w: (w.order_key, w.pk))[:limit]
            live = waits.live_places(session, hall, limit)
            assert list(live) == [w.id for w in first]
            for w in first:
                same(live[w.id], reference_place(state, old, w.queue_id, w.priority, w.order_key, w.pk))
