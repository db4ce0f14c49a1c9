"""Where a waiting ticket stands and the wait range that means: the line ahead, the open windows, the hall's pace.

The range is core/estimate.py's: a queueing forecast from the live state, its spread calibrated on the
hall's latest resolved quotes. No Flask here; every reader (issuing, the ticket API, the phone's pushes,
the notifier) goes through `position`, `place_of_new` or `live_places`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.core import estimate as est
from queue_server.core.states import Priority, TicketStatus, WindowState
from queue_server.hall_settings import hall_settings
from queue_server.halls import window_states
from queue_server.models import Hall, Ticket, Window

PACE_HISTORY = 200  # finished tickets that set the pace of items and queues
RESIDUALS = 150  # resolved quotes that calibrate the spread (a sliding window of the hall's own tickets)
LIVE_PUSHES = 60  # holders told their new range at once on each change; the rest re-read it
CACHE_TTL_S = 10.0  # pace and residuals are re-read at most this often per hall and process


@dataclass(frozen=True)
class Place:
    """A ticket's place in line: how many are called before it, the range, and the forecast behind it."""

    ahead: int
    estimate: est.Estimate | None
    forecast: est.Forecast | None = None


@dataclass(frozen=True)
class Waiting:
    """A waiting ticket as the line sees it."""

    pk: int
    id: str
    queue_id: int
    service_id: int
    priority: str
    order_key: int
    targeted: bool


@dataclass(frozen=True)
class HallState:
    """What every place in a hall's line is worked out from, read once."""

    memberships: list[tuple[int, str, int]]
    line: list[Waiting]
    busy: dict[int, tuple[int, int, datetime]]  # window id -> (queue id, item id, called at) of its ticket
    pace: est.Pace
    residuals: list[est.Residual]
    coverage: float
    now: datetime


def position(session: Session, ticket: Ticket) -> Place:
    """How many tickets will be called before this one, and the wait that means."""
    if ticket.status != TicketStatus.WAITING.value:
        return Place(0, None)
    state = hall_state(session, ticket.hall)
    return _place(state, ticket.queue_id, ticket.priority, ticket.order_key, ticket.pk)


def place_of_new(session: Session, hall: Hall, queue_id: int, priority: str) -> Place:
    """Where a ticket about to be issued will stand: behind everyone now waiting in its line."""
    return _place(hall_state(session, hall), queue_id, priority, None, None)


def live_places(session: Session, hall: Hall, limit: int = LIVE_PUSHES) -> dict[str, Place]:
    """The place of the `limit` longest-waiting tickets of the hall (by ticket id), from one reading of the hall.

    Each place scans the line, so all of them would cost the square of its length on every change; the
    holders further back re-read their ticket on queue_changed (the phone page does) and see the same range.
    """
    state = hall_state(session, hall)
    first = sorted(state.line, key=lambda w: w.order_key)[:limit]
    return {w.id: _place(state, w.queue_id, w.priority, w.order_key, w.pk) for w in first}


def quote(place: Place) -> dict[str, int | None]:
    """The wait range promised when the ticket is issued, and the forecast behind it, as ticket columns."""
    if place.estimate is None or place.forecast is None:
        return {}
    return {
        "quoted_low_s": place.estimate.low_s,
        "quoted_high_s": place.estimate.high_s,
        "quoted_point_s": int(round(place.forecast.point_s)),
        "quoted_scale_s": max(int(round(place.forecast.scale_s)), 1),
    }


def hall_state(session: Session, hall: Hall) -> HallState:
    """The live line, the busy windows, and the hall's pace and recent residuals (those two cached briefly)."""
    rules = hall_settings(hall)
    key = (str(session.get_bind().url), hall.id)
    pace = _cached(
        _paces,
        key,
        lambda: est.Pace(
            _finished(session, hall.id), rules.default_service_minutes * 60, running=_running(session, hall.id)
        ),
    )
    residuals = _cached(_residuals, key, lambda: _resolved(session, hall.id))
    rows = session.execute(
        select(
            Ticket.pk,
            Ticket.id,
            Ticket.queue_id,
            Ticket.service_id,
            Ticket.priority,
            Ticket.order_key,
            Ticket.target_window_id,
        ).where(Ticket.hall_id == hall.id, Ticket.status == TicketStatus.WAITING.value)
    )
    line = [Waiting(pk, tid, q, s, p, o, t is not None) for pk, tid, q, s, p, o, t in rows]
    busy = {
        wid: (q, s, called)
        for wid, q, s, called in session.execute(
            select(Window.id, Ticket.queue_id, Ticket.service_id, Ticket.called_at)
            .join(Ticket, Ticket.id == Window.ticket_id)
            .where(Window.hall_id == hall.id, Window.state == WindowState.OPEN)
        )
    }
    return HallState(
        window_states(session, hall.id), line, busy, pace, residuals, rules.wait_range_coverage, clock.now()
    )


def _place(state: HallState, queue_id: int, priority: str, order_key: int | None, pk: int | None) -> Place:
    serving = {wid for wid, _state, qid in state.memberships if qid == queue_id}
    # Integrated windows serve several queues: everyone waiting for those windows is ahead in the same line.
    pool = {qid for wid, _state, qid in state.memberships if wid in serving} or {queue_id}
    open_ids = {wid for wid, wstate, _qid in state.memberships if wstate == WindowState.OPEN}
    mine = serving & open_ids
    # Open windows that cannot call this ticket still take their own queues' tickets off the line ahead.
    helpers = {wid for wid, _state, qid in state.memberships if qid in pool and wid in open_ids} - mine
    helped = {qid for wid, _state, qid in state.memberships if wid in helpers}
    normal = priority == Priority.NORMAL.value
    ahead = [
        w for w in state.line if w.queue_id in pool and not w.targeted and w.pk != pk and _before(w, order_key, normal)
    ]
    own_s = [state.pace.of(w.queue_id, w.service_id) for w in ahead if w.queue_id not in helped]
    shared_s = [state.pace.of(w.queue_id, w.service_id) for w in ahead if w.queue_id in helped]
    at_windows = [state.busy[wid] for wid in mine & state.busy.keys()]
    busy_s = [state.pace.of(q, s) for q, s, _called in at_windows]
    busy_left = [
        est.time_left(need, (state.now - called).total_seconds() if called else 0.0)
        for need, (_q, _s, called) in zip(busy_s, at_windows, strict=True)
    ]
    expected = own_s + shared_s + busy_s
    cycle = sum(expected) / len(expected) if expected else state.pace.of(queue_id, -1)
    fc = est.forecast(own_s, busy_left, len(mine), cycle, shared_s=shared_s, helpers=len(helpers))
    return Place(len(ahead), est.wait_range(fc, state.residuals, state.coverage, queue_id), fc)


def _before(other: Waiting, order_key: int | None, normal: bool) -> bool:
    """Whether `other` is called before a ticket with this order key (None: a new ticket, after everyone)."""
    earlier = order_key is None or other.order_key < order_key
    priority = other.priority != Priority.NORMAL.value
    # A normal ticket waits for every earlier one and every priority one; a priority one for earlier priority ones.
    return (earlier or priority) if normal else (earlier and priority)


_paces: dict[tuple[str, int], tuple[float, est.Pace]] = {}
_residuals: dict[tuple[str, int], tuple[float, list[est.Residual]]] = {}


def _cached(store: dict, key: tuple[str, int], load):
    now = time.monotonic()
    entry = store.get(key)
    if entry is not None and now - entry[0] < CACHE_TTL_S:
        return entry[1]
    value = load()
    store[key] = (now, value)
    return value


def _finished(session: Session, hall_id: int) -> list[tuple[int, int, float, float]]:
    """(queue id, item id, seconds from call to finish, seconds since) of the hall's latest finished tickets."""
    rows = session.execute(
        select(Ticket.queue_id, Ticket.service_id, Ticket.called_at, Ticket.finished_at)
        .where(Ticket.hall_id == hall_id, Ticket.status == TicketStatus.DONE.value, Ticket.called_at.is_not(None))
        .order_by(Ticket.finished_at.desc())
        .limit(PACE_HISTORY)
    )
    now = clock.now()
    return [
        (q, s, (end - start).total_seconds(), (now - end).total_seconds())
        for q, s, start, end in rows
        if end is not None
    ]


def _running(session: Session, hall_id: int) -> list[tuple[int, int, float]]:
    """(queue id, item id, seconds since the call) of the tickets at the hall's open windows now."""
    rows = session.execute(
        select(Ticket.queue_id, Ticket.service_id, Ticket.called_at)
        .join(Window, Window.ticket_id == Ticket.id)
        .where(Window.hall_id == hall_id, Window.state == WindowState.OPEN, Ticket.called_at.is_not(None))
    )
    now = clock.now()
    return [(q, s, (now - called).total_seconds()) for q, s, called in rows]


def _resolved(session: Session, hall_id: int) -> list[est.Residual]:
    """The hall's latest called tickets with their first quote's forecast: the calibration window."""
    rows = session.execute(
        select(
            Ticket.queue_id,
            Ticket.quoted_point_s,
            Ticket.quoted_scale_s,
            Ticket.quoted_low_s,
            Ticket.quoted_high_s,
            Ticket.issued_at,
            Ticket.called_at,
        )
        .where(Ticket.hall_id == hall_id, Ticket.called_at.is_not(None), Ticket.quoted_point_s.is_not(None))
        .order_by(Ticket.called_at.desc())
        .limit(RESIDUALS)
    )
    out = []
    for queue_id, point, scale, low, high, issued, called in rows:
        wait = (called - issued).total_seconds()
        out.append(est.Residual(point, scale, wait, queue_id, low <= wait <= high if low is not None else None))
    return out
