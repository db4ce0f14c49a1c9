"""What a clerk's console reads from the server: the window's desk and its line in call-next order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from queue_server.core import routing
from queue_server.core.numbering import local_day
from queue_server.core.states import Priority, TicketStatus, allowed_actions
from queue_server.hall_settings import hall_settings
from queue_server.models import Hall, StaffUser, Ticket, Window
from queue_server.tickets import service as tickets
from queue_server.tickets import snapshots

SHOWN = tickets.CANDIDATES  # call-next looks at this many per line, so the first ones shown are exactly its order
# The hall's reason codes as the console names them; a code a hall adds itself is shown as it is.
REASON_NAMES = {
    "no_show_return": ("过号返回", "came back after a no-show"),
    "appointment": ("预约到场", "appointment"),
    "priority": ("优先照顾（老幼病残孕）", "priority care"),
    "transfer_back": ("转回办理", "transferred back"),
    "other": ("其他", "other"),
}


def line(session: Session, hall: Hall, window: Window, now: datetime) -> dict:
    """The window's waiting tickets in the order call-next takes them, the no-shows who may come back,
    and the hall's reasons for calling a number out of order."""
    queues = [q.prefix for q in window.queues]
    rules = tickets.rules_for(hall)
    ranked = routing.rank(tickets.waiting_candidates(session, window), window.number, queues, now, rules)[:SHOWN]
    since = routing.waiting_since(ranked)
    rows = _tickets(session, [c.ticket_id for c in ranked])
    waiting = [
        {
            **_row(rows[c.ticket_id], now),
            "targeted": c.target_window == window.number,
            # waited long enough to go ahead with the priority tickets (the hall's aging rule)
            "aged": c.priority == Priority.NORMAL.value
            and routing.rank_key(c, window.number, now, rules, since[c.ticket_id])[0] == routing.PRIORITY,
        }
        for c in ranked
    ]
    return {
        "hall": hall.code,
        "window": window.number,
        "total": _waiting_total(session, window),
        "waiting": waiting,
        "no_shows": [_row(t, now) for t in _returnable_no_shows(session, hall, window, now)],
        "call_reasons": [_reason(code) for code in hall_settings(hall).call_reasons],
    }


def desk(session: Session, hall: Hall, window: Window) -> dict:
    """The window now: its state and clerk, the ticket at it (with service and materials), its held tickets."""
    clerk = session.get(StaffUser, window.clerk_id) if window.clerk_id else None
    current = tickets.get_ticket(session, window.ticket_id) if window.ticket_id else None
    held = session.scalars(
        select(Ticket)
        .where(Ticket.window_id == window.id, Ticket.status == TicketStatus.HELD.value)
        .options(*tickets.WITH_ITEM)
        .order_by(Ticket.called_at)
    )
    return {
        "hall": hall.code,
        "window": {
            **snapshots.window_public(session, window, current),
            "clerk": {"username": clerk.username, "name": clerk.display_name} if clerk else None,
        },
        # The console needs no ticket id (the holder's credential): it acts on the window and on numbers.
        "current": snapshots.for_staff(snapshots.ticket_full(session, current)) if current else None,
        "held": [
            {**_row(t, None), "actions": allowed_actions(t.status), "started_at": _iso(t, t.started_at)} for t in held
        ],
    }


def _tickets(session: Session, ids: list[str]) -> dict[str, Ticket]:
    if not ids:
        return {}
    return {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)).options(*tickets.WITH_ITEM))}


def _iso(ticket: Ticket, moment: datetime | None) -> str | None:
    return snapshots.iso(moment, ticket.hall.timezone)


def _row(ticket: Ticket, now: datetime | None) -> dict:
    row = {
        "number": ticket.number,
        "service": {"code": ticket.service.code, "name": ticket.service.name},
        "queue": ticket.queue.prefix,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "status": ticket.status,
        "issued_at": _iso(ticket, ticket.issued_at),
        "called_at": _iso(ticket, ticket.called_at),
        "returns": ticket.returns,
    }
    if now is not None:
        row["waited_s"] = max(0, int((now - ticket.issued_at).total_seconds()))
    return row


def _waiting_total(session: Session, window: Window) -> int:
    """Everyone call-next could take at this window (the list shows the first of them)."""
    mine = Ticket.target_window_id.is_(None) & Ticket.queue_id.in_([q.id for q in window.queues])
    return session.scalar(
        select(func.count()).where(
            Ticket.hall_id == window.hall_id,
            Ticket.status == TicketStatus.WAITING.value,
            tickets.READY,
            or_(Ticket.target_window_id == window.id, mine),
        )
    )


def _returnable_no_shows(session: Session, hall: Hall, window: Window, now: datetime) -> list[Ticket]:
    """Today's no-shows of this window's lines (or called here) that the hall still lets come back once more."""
    allowed = hall_settings(hall).no_show_returns
    if allowed <= 0:
        return []
    return list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.hall_id == hall.id,
                Ticket.day == local_day(now, hall.timezone),
                Ticket.status == TicketStatus.NO_SHOW.value,
                Ticket.returns < allowed,
                or_(Ticket.window_id == window.id, Ticket.queue_id.in_([q.id for q in window.queues])),
            )
            .options(*tickets.WITH_ITEM)
            .order_by(Ticket.called_at.desc())
            .limit(SHOWN)
        )
    )


def _reason(code: str) -> dict:
    zh, en = REASON_NAMES.get(code, (code, code))
    return {"code": code, "name": zh, "name_en": en}
