"""Where a waiting ticket stands and the wait range that means: the line ahead, the open windows, the hall's pace.

The range is core/estimate.py's: a queueing forecast from the live state, its spread calibrated on the
hall's latest resolved quotes. The forecast needs only counts and sums of the tickets ahead, so the line
is counted in SQL per queue and item, never read ticket by ticket. No Flask here; every reader (issuing, the ticket API, the phone's pushes,
the notifier) goes through `position`, `place_of_new` or `live_places`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.core import estimate as est
from queue_server.core.states import Priority, TicketStatus, WindowState
from queue_server.hall_settings import hall_settings
from queue_server.models import Hall, Ticket, Window, window_queues

PACE_HISTORY = 200  # finished tickets that set the pace of items and queues
RESIDUALS = 150  # resolved quotes that calibrate the spread (a sliding window of the hall's own tickets)
LIVE_PUSHES = 60  # holders told their new range at once on each change; the rest re-read it
CACHE_TTL_S = 10.0  # pace and residuals are re-read at most this often per hall and process
PRIORITY = Ticket.priority != Priority.NORMAL.value  # appointment and green tickets pass the normal ones


@dataclass(frozen=True)
class Place:
    """A ticket's place in line: how many are called before it, the range, and the forecast behind it."""

    ahead: int
    estimate: est.Estimate | None
    forecast: est.Forecast | None = None


@dataclass(frozen=True)
class HallState:
    """What every place in a hall's line is worked out from, read once (the line itself by aggregates)."""

    windows: dict[int, frozenset[int]]  # window id -> the queues it serves
    open: frozenset[int]  # the open windows
    busy: dict[int, tuple[int, int, datetime]]  # open window id -> (queue id, item id, called at) of its ticket
    pace: est.Pace
    calibration: est.Calibration  # the hall's recent residuals, their quantiles worked out once
    coverage: float
    now: datetime


@dataclass(frozen=True)
class Serving:
    """Who calls a queue's tickets: the queues in its line, its open windows, and the open windows that help."""

    queue_id: int
    pool: frozenset[int]  # integrated windows serve several queues: everyone waiting for them is in one line
    mine: frozenset[int]  # the open windows that can call this queue's tickets
    helpers: int  # open windows that cannot call them but take their own queues' tickets off the line ahead
    helped: frozenset[int]  # the queues those helpers call


ByQueue = dict[int, est.Work]  # queue id -> the tickets ahead of that queue, summed


def position(session: Session, ticket: Ticket) -> Place:
    """How many tickets will be called before this one, and the wait that means."""
    if ticket.status != TicketStatus.WAITING.value:
        return Place(0, None)
    state = hall_state(session, ticket.hall)
    serving = _serving(state, ticket.queue_id)
    normal = ticket.priority == Priority.NORMAL.value
    ahead = _ahead(session, state.pace, POSITION[normal], ticket.hall_id, serving.pool, ticket.order_key)
    return _place(state, serving, ahead)


def place_of_new(session: Session, hall: Hall, queue_id: int, priority: str) -> Place:
    """Where a ticket about to be issued will stand: behind everyone now waiting in its line."""
    state = hall_state(session, hall)
    serving = _serving(state, queue_id)
    new = NEW[priority == Priority.NORMAL.value]
    return _place(state, serving, _ahead(session, state.pace, new, hall.id, serving.pool))


def live_places(session: Session, hall: Hall, limit: int = LIVE_PUSHES) -> dict[str, Place]:
    """The place of the `limit` longest-waiting tickets of the hall (by ticket id), from one reading of the hall.

    One walk through them in call order with running totals of the earlier ones; the holders further back
    re-read their ticket on queue_changed (the phone page does) and see the same range.
    """
    first = _rows(session, FIRST_WAITING, {"hall_id": hall.id, "limit": limit}).all()
    if not first:
        return {}
    ids = dict(_rows(session, IDS, {"pks": [row.pk for row in first]}).all())
    state = hall_state(session, hall)
    every_priority = _ahead(session, state.pace, EVERY_PRIORITY, hall.id)
    earlier: dict[bool, ByQueue] = {True: {}, False: {}}  # normal or not -> the earlier untargeted tickets
    servings: dict[int, Serving] = {}
    places = {}
    for _key, same_key in groupby(first, key=lambda row: row.order_key):
        same_key = list(same_key)  # tied keys are not ahead of each other
        for row in same_key:
            if row.queue_id not in servings:
                servings[row.queue_id] = _serving(state, row.queue_id)
            normal = row.priority == Priority.NORMAL.value
            ahead = (earlier[True], every_priority) if normal else (earlier[False],)
            places[ids[row.pk]] = _place(state, servings[row.queue_id], *ahead)
        for row in same_key:
            if row.target_window_id is None:  # a ticket sent to one window is in nobody's line
                work = est.Work(1, state.pace.of(row.queue_id, row.service_id))
                _add(earlier[row.priority == Priority.NORMAL.value], row.queue_id, work)
    return places


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
    """The windows (their queues, states and tickets), the hall's pace and recent residuals (those two cached)."""
    rules = hall_settings(hall)
    key = (str(session.get_bind().url), hall.id)
    pace = _cached(
        _paces,
        key,
        lambda: est.Pace(
            _finished(session, hall.id), rules.default_service_minutes * 60, running=_running(session, hall.id)
        ),
    )
    calibration = _cached(_residuals, key, lambda: est.Calibration(_resolved(session, hall.id)))
    windows: dict[int, set[int]] = {}
    busy = {}
    open_ids = set()
    for wid, wstate, queue_id, at_queue, at_item, called in _rows(session, WINDOWS, {"hall_id": hall.id}):
        windows.setdefault(wid, set()).add(queue_id)
        if wstate == WindowState.OPEN:
            open_ids.add(wid)
            if at_queue is not None:
                busy[wid] = (at_queue, at_item, called)
    return HallState(
        {wid: frozenset(queues) for wid, queues in windows.items()},
        frozenset(open_ids),
        busy,
        pace,
        calibration,
        rules.wait_range_coverage,
        clock.now(),
    )


def _counts(*where, pool: bool = True):
    """The count of the hall's untargeted waiting tickets matching `where` per queue and item (in the pool)."""
    query = select(Ticket.queue_id, Ticket.service_id, func.count()).where(
        Ticket.hall_id == bindparam("hall_id"),
        Ticket.status == TicketStatus.WAITING.value,
        Ticket.target_window_id.is_(None),
        *where,
    )
    if pool:
        query = query.where(Ticket.queue_id.in_(bindparam("pool", expanding=True)))
    return query.group_by(Ticket.queue_id, Ticket.service_id)


# The statements of every place, built once: a quote is asked for on every ticket issued and read.
EARLIER = Ticket.order_key < bindparam("order_key")
NEW = {True: _counts(), False: _counts(PRIORITY)}  # normal or not -> who is ahead of a new ticket
# A normal ticket waits for every earlier one and every priority one; a priority one for earlier priority ones.
POSITION = {True: _counts(or_(EARLIER, PRIORITY)), False: _counts(EARLIER, PRIORITY)}
EVERY_PRIORITY = _counts(PRIORITY, pool=False)
FIRST_WAITING = (
    select(Ticket.pk, Ticket.queue_id, Ticket.service_id, Ticket.priority, Ticket.order_key, Ticket.target_window_id)
    .where(Ticket.hall_id == bindparam("hall_id"), Ticket.status == TicketStatus.WAITING.value)
    .order_by(Ticket.order_key, Ticket.pk)
    .limit(bindparam("limit"))
)
IDS = select(Ticket.pk, Ticket.id).where(Ticket.pk.in_(bindparam("pks", expanding=True)))
# Each window with every queue it serves and the ticket at it: the open windows and their work in one read.
WINDOWS = (
    select(Window.id, Window.state, window_queues.c.queue_id, Ticket.queue_id, Ticket.service_id, Ticket.called_at)
    .join(window_queues, window_queues.c.window_id == Window.id)
    .outerjoin(Ticket, Ticket.id == Window.ticket_id)
    .where(Window.hall_id == bindparam("hall_id"))
)


def _ahead(session: Session, pace: est.Pace, counts, hall_id: int, pool=(), order_key: int = 0) -> ByQueue:
    """The work of the tickets that `counts` counts, per queue: the line is summed in SQL, never read row by row.

    Counted per queue and item in ix_tickets_waiting_items' order, from the index alone.
    """
    params = {"hall_id": hall_id, "pool": sorted(pool), "order_key": order_key}
    work: ByQueue = {}
    for queue_id, item_id, count in _rows(session, counts, params):
        _add(work, queue_id, est.Work(count, count * pace.of(queue_id, item_id)))
    return work


def _rows(session: Session, statement, params: dict):
    """Plain rows without the ORM's result machinery (it cost more than the statements), after an autoflush."""
    session.flush()
    return session.connection().execute(statement, params)


def _add(work: ByQueue, queue_id: int, more: est.Work) -> None:
    work[queue_id] = work[queue_id] + more if queue_id in work else more


def _serving(state: HallState, queue_id: int) -> Serving:
    """The windows of a queue's line: the ones that call it, and the open ones of the same line that cannot."""
    serving = {wid for wid, queues in state.windows.items() if queue_id in queues}
    pool = frozenset().union(*(state.windows[wid] for wid in serving)) or frozenset({queue_id})
    mine = frozenset(serving & state.open)
    helpers = {wid for wid in state.open - mine if state.windows[wid] & pool}
    helped = frozenset().union(*(state.windows[wid] for wid in helpers))
    return Serving(queue_id, pool, mine, len(helpers), helped)


def _place(state: HallState, serving: Serving, *ahead: ByQueue) -> Place:
    """The place and range of a ticket of `serving`'s queue with this work ahead (per queue, summed over `ahead`)."""
    own = shared = est.Work()
    for work in ahead:
        for queue_id, queue_work in work.items():
            if queue_id not in serving.pool:
                continue
            if queue_id in serving.helped:
                shared += queue_work
            else:
                own += queue_work
    at_windows = [state.busy[wid] for wid in serving.mine & state.busy.keys()]
    busy_s = [state.pace.of(q, s) for q, s, _called in at_windows]
    busy_left = [
        est.time_left(need, (state.now - called).total_seconds() if called else 0.0)
        for need, (_q, _s, called) in zip(busy_s, at_windows, strict=True)
    ]
    known = own.count + shared.count + len(busy_s)
    cycle = (own.seconds + shared.seconds + sum(busy_s)) / known if known else state.pace.of(serving.queue_id, -1)
    fc = est.forecast_work(own, busy_left, len(serving.mine), cycle, shared=shared, helpers=serving.helpers)
    return Place(own.count + shared.count, state.calibration.range(fc, state.coverage, serving.queue_id), fc)


_paces: dict[tuple[str, int], tuple[float, est.Pace]] = {}
_residuals: dict[tuple[str, int], tuple[float, est.Calibration]] = {}


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
