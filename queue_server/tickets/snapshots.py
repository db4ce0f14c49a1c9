"""What clients see: ticket, window and board payloads, with position and wait estimate."""

from __future__ import annotations

import time
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from queue_server.core.announcements import written_call
from queue_server.core.estimate import Estimate, estimate_wait, recent_service_time
from queue_server.core.states import Priority, TicketStatus, WindowState, allowed_actions
from queue_server.hall_settings import hall_settings
from queue_server.halls import window_states, windows_with_queues
from queue_server.models import Hall, Queue, Ticket, TicketEvent, Window
from queue_server.tickets.service import waiting_counts

RECENT_CALLS = 10
SERVICE_HISTORY = 30


def iso(moment: datetime | None, timezone: str) -> str | None:
    """ISO-8601 in the hall's local time (with offset), as people in the hall read it."""
    return None if moment is None else moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")


def window_brief(window: Window | None) -> dict | None:
    if window is None:
        return None
    return {"number": window.number, "name": window.name, "name_en": window.name_en}


def ticket_public(ticket: Ticket) -> dict:
    """A ticket as anyone in the hall may see it: no id (the holder's credential), masked data only."""
    tz = ticket.hall.timezone
    return {
        "number": ticket.number,
        "hall": ticket.hall.code,
        "service": {"code": ticket.service.code, "name": ticket.service.name},
        "queue": ticket.queue.prefix,
        "status": ticket.status,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "issued_at": iso(ticket.issued_at, tz),
        "called_at": iso(ticket.called_at, tz),
        "window": window_brief(ticket.window),
        "recall_count": ticket.recall_count,
    }


def ticket_full(session: Session, ticket: Ticket, place: tuple[int, Estimate | None] | None = None) -> dict:
    """The holder's view: public fields plus id, position, wait estimate and masked personal data.

    `place` is the ticket's (ahead, estimate) when the caller has just worked it out.
    """
    data = ticket_public(ticket)
    ahead, estimate = place if place is not None else position(session, ticket)
    data.update(
        id=ticket.id,
        ahead=ahead,
        estimated_wait=estimate.as_dict() if estimate else None,
        target_window=window_brief(ticket.target_window),
        started_at=iso(ticket.started_at, ticket.hall.timezone),
        finished_at=iso(ticket.finished_at, ticket.hall.timezone),
        phone=ticket.phone_masked,
        id_number=ticket.id_number_masked,
        case_id=ticket.case_id,
        actions=allowed_actions(ticket.status),
        # a remote ticket (线上取号) is passed over until its holder checks in at the hall's kiosk
        remote=ticket.unchecked_on_call is not None,
        checked_in=ticket.unchecked_on_call is None or ticket.checked_in_at is not None,
        hall_name=ticket.hall.name,
        hall_name_en=ticket.hall.name_en,
        service={
            **data["service"],
            "materials": ticket.service.materials,
            "kind": ticket.service.kind,
            "time_limit_days": ticket.service.time_limit_days,
        },
    )
    return data


def position(session: Session, ticket: Ticket) -> tuple[int, Estimate | None]:
    """How many tickets will be called before this one, and the wait that means."""
    if ticket.status != TicketStatus.WAITING.value:
        return 0, None
    return _place(session, ticket.hall, ticket.queue_id, ticket.priority, ticket)


def place_of_new(session: Session, hall: Hall, queue_id: int, priority: str) -> tuple[int, Estimate | None]:
    """Where a ticket about to be issued will stand: behind everyone now waiting in its line."""
    return _place(session, hall, queue_id, priority, None)


@cache
def _ahead_query(normal: bool, existing: bool):
    """Count of the tickets called before a ticket (one statement per shape, built once)."""
    # A new ticket comes after everyone waiting; a waiting one after those with a smaller order key.
    earlier = Ticket.order_key < bindparam("order_key") if existing else true()
    priority = Ticket.priority != Priority.NORMAL.value
    ahead = or_(earlier, priority) if normal else and_(earlier, priority)
    mine = [Ticket.pk != bindparam("pk")] if existing else []
    return select(func.count()).where(
        Ticket.hall_id == bindparam("hall_id"),
        Ticket.status == TicketStatus.WAITING.value,
        Ticket.queue_id.in_(bindparam("pool", expanding=True)),
        Ticket.target_window_id.is_(None),
        *mine,
        ahead,
    )


def quote(place: tuple[int, Estimate | None]) -> dict[str, int | None]:
    """The wait range promised to the citizen when the ticket is issued, as ticket columns."""
    _ahead, estimate = place
    return {"quoted_low_s": estimate.low_s, "quoted_high_s": estimate.high_s} if estimate else {}


def _place(
    session: Session, hall: Hall, queue_id: int, priority: str, ticket: Ticket | None
) -> tuple[int, Estimate | None]:
    memberships = window_states(session, hall.id)
    serving = {(wid, state) for wid, state, qid in memberships if qid == queue_id}
    serving_ids = {wid for wid, _ in serving}
    # Integrated windows serve several queues: everyone waiting for those windows is ahead in the same line.
    pool = {qid for wid, _state, qid in memberships if wid in serving_ids} or {queue_id}
    params = {"hall_id": hall.id, "pool": sorted(pool)}
    if ticket is not None:
        params.update(order_key=ticket.order_key, pk=ticket.pk)
    ahead = session.scalar(_ahead_query(priority == Priority.NORMAL.value, ticket is not None), params)
    open_windows = sum(1 for _wid, state in serving if state == WindowState.OPEN)
    default_s = hall_settings(hall).default_service_minutes * 60
    # The windows that serve this ticket also serve the rest of the pool: their pace is the pool's.
    service_s = recent_service_time(recent_durations(session, frozenset(pool)), default_s)
    return ahead, estimate_wait(ahead, open_windows, service_s)


_durations: dict[frozenset[int], tuple[float, list[float]]] = {}
DURATIONS_TTL_S = 10.0


def recent_durations(session: Session, queue_ids: frozenset[int]) -> list[float]:
    """Service times of the latest finished tickets of these queues, newest first (cached for a few seconds)."""
    cached = _durations.get(queue_ids)
    now = time.monotonic()
    if cached is not None and now - cached[0] < DURATIONS_TTL_S:
        return cached[1]
    durations = _load_durations(session, queue_ids)
    _durations[queue_ids] = (now, durations)
    return durations


def _load_durations(session: Session, queue_ids: frozenset[int]) -> list[float]:
    rows = session.execute(
        select(Ticket.started_at, Ticket.finished_at)
        .where(Ticket.queue_id.in_(queue_ids), Ticket.status == TicketStatus.DONE.value, Ticket.started_at.is_not(None))
        .order_by(Ticket.finished_at.desc())
        .limit(SERVICE_HISTORY)
    )
    return [(end - start).total_seconds() for start, end in rows]


def window_public(session: Session, window: Window, current: Ticket | None = None) -> dict:
    """A window as the board shows it."""
    if current is None and window.ticket_id:
        current = session.scalar(select(Ticket).where(Ticket.id == window.ticket_id))
    return {
        **window_brief(window),
        "state": window.state,
        "queues": [q.prefix for q in window.queues],
        "ticket": {"number": current.number, "status": current.status} if current else None,
    }


def queue_counts(session: Session, hall: Hall) -> list[dict]:
    """Waiting count of every queue of the hall, in display order."""
    counts = waiting_counts(session, hall)
    queues = session.scalars(select(Queue).where(Queue.hall_id == hall.id).order_by(Queue.sort))
    return [{"prefix": q.prefix, "name": q.name, "name_en": q.name_en, "waiting": counts.get(q.id, 0)} for q in queues]


def recent_calls(session: Session, hall: Hall, limit: int = RECENT_CALLS) -> list[dict]:
    """The latest calls, newest first: one entry per ticket, a recall marked on it (not another entry)."""
    win = aliased(Window)
    # A ticket is recalled a few times at most: this many events hold `limit` distinct tickets.
    rows = session.execute(
        select(TicketEvent, Ticket.pk, Ticket.number, Ticket.recall_count, win)
        .join(Ticket, Ticket.pk == TicketEvent.ticket_pk)
        .join(win, win.id == TicketEvent.window_id)
        .where(TicketEvent.hall_id == hall.id, TicketEvent.action.in_(("call", "recall")))
        .order_by(TicketEvent.id.desc())
        .limit(limit * 8)
    )
    calls: dict[int, dict] = {}
    for ev, pk, number, recall_count, w in rows:
        if pk in calls:
            continue
        calls[pk] = {
            "number": number,
            "window": window_brief(w),
            "at": iso(ev.at, hall.timezone),
            "recall": ev.action == "recall",
            # the ticket's count belongs to its latest call, the one shown
            "recall_count": recall_count,
            "written": written_call(number, w.number),
        }
        if len(calls) == limit:
            break
    return list(calls.values())


def hall_brief(hall: Hall) -> dict:
    return {"code": hall.code, "name": hall.name, "name_en": hall.name_en, "timezone": hall.timezone}


def board(session: Session, hall: Hall) -> dict:
    """Everything a hall display needs at once: recent calls, windows, waiting counts."""
    windows = windows_with_queues(session, hall)
    current_ids = [w.ticket_id for w in windows if w.ticket_id]
    current = (
        {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(current_ids)))} if current_ids else {}
    )
    return {
        "hall": hall_brief(hall),
        "recent_calls": recent_calls(session, hall),
        "windows": [window_public(session, w, current.get(w.ticket_id)) for w in windows],
        "queues": queue_counts(session, hall),
    }
