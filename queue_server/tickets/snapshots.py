"""What clients see: ticket, window and board payloads, with position and wait estimate."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from queue_server.core.announcements import written_call
from queue_server.core.states import allowed_actions
from queue_server.halls import windows_with_queues
from queue_server.models import Hall, Queue, Ticket, TicketEvent, Window
from queue_server.tickets.service import waiting_counts
from queue_server.tickets.waits import Place, position

RECENT_CALLS = 10


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


def ticket_full(session: Session, ticket: Ticket, place: Place | None = None) -> dict:
    """The holder's view: public fields plus id, position, wait range (now and first quoted) and masked data.

    `place` is the ticket's place in line when the caller has just worked it out.
    """
    data = ticket_public(ticket)
    place = place if place is not None else position(session, ticket)
    data.update(
        id=ticket.id,
        ahead=place.ahead,
        estimated_wait=place.estimate.as_dict() if place.estimate else None,
        quoted_wait=quoted_wait(ticket),
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


def for_staff(full: dict) -> dict:
    """The holder's view of a ticket without its id (the holder's credential): what staff are answered."""
    return {key: value for key, value in full.items() if key != "id"}


def quoted_wait(ticket: Ticket) -> dict[str, int] | None:
    """The range first quoted at issue (kept for the statistics while the live range moves)."""
    if ticket.quoted_low_s is None or ticket.quoted_high_s is None:
        return None
    return {"low_s": ticket.quoted_low_s, "high_s": ticket.quoted_high_s}


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
