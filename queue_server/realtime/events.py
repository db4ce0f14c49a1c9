"""Screen events of a change, built inside its transaction (plain Python, no Flask): rooms and payloads.

The Socket.IO side (realtime/sockets.py) publishes them after the commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from queue_server.core.announcements import written_call
from queue_server.hall_settings import hall_settings
from queue_server.models import Hall
from queue_server.tickets import snapshots
from queue_server.tickets.service import Change

Event = tuple[str, dict, str]  # (event name, payload, room)


def hall_room(code: str) -> str:
    return f"hall:{code}"


def hall_of_room(room: object) -> str | None:
    """The hall code of a hall's room, None for any other room."""
    return room.removeprefix("hall:") if isinstance(room, str) and room.startswith("hall:") else None


def ticket_room(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def agent_room(device_name: str) -> str:
    """The agent of one kiosk: told when a print job is waiting for it."""
    return f"agent:{device_name}"


def holders_room(code: str) -> str:
    """Phones following a ticket: they hear when the queue moves, not every public ticket event."""
    return f"holders:{code}"


def wait_payload(place) -> dict:
    """`wait_updated` for a ticket's holder: its place in line and the range now (the first quote stays)."""
    return {"ahead": place.ahead, "estimated_wait": place.estimate.as_dict() if place.estimate else None}


def announcement(hall: Hall, number: str, window_number: int, voice=None) -> dict:
    """Text (and, when a voice renderer is given, audio) of a call."""
    if voice is not None:
        result = voice.request(hall_settings(hall).voice, number, window_number, hall=hall.code)
        return {"text": result["text"], "texts": result.get("texts", {}), "audio_url": result.get("audio_url")}
    return {"text": f"请 {number} 号，到 {window_number} 号窗口办理", "texts": {}, "audio_url": None}


def events_for(session: Session, hall: Hall, change: Change, full: dict | None = None, *, voice=None) -> list[Event]:
    """The events one change means for the hall's screens and the ticket holder (built before commit).

    `full` is the holder's view of the ticket when the caller has already built it; `voice` renders
    the call's audio (none: text only).
    """
    room = hall_room(hall.code)
    out: list[Event] = []
    ticket = change.ticket
    if ticket is not None:
        public = snapshots.ticket_public(ticket)
        if change.called and ticket.window is not None:
            payload = {
                "ticket": public,
                "window": snapshots.window_brief(ticket.window),
                "recall_count": ticket.recall_count,
                "announcement": announcement(hall, ticket.number, ticket.window.number, voice),
                "written": written_call(ticket.number, ticket.window.number),
            }
            out.append(("ticket_called", payload, room))
            out.append(("ticket_called", payload, ticket_room(ticket.id)))
        if change.extra.get("issued"):
            out.append(("ticket_issued", public, room))  # nobody can follow a ticket that did not exist yet
        else:
            if not change.called:
                out.append(("ticket_updated", public, room))
            out.append(("ticket_updated", full or snapshots.ticket_full(session, ticket), ticket_room(ticket.id)))
    if change.window is not None:
        at_window = ticket if ticket is not None and change.window.ticket_id == ticket.id else None
        out.append(("window_updated", snapshots.window_public(session, change.window, at_window), room))
    if change.queues_changed:
        out.append(("queue_changed", {"hall": hall.code}, room))  # counted and sent by WaitingCounts
    return out
