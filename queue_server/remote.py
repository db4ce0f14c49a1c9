"""Remote tickets (线上取号): join a queue from the phone, check in at the hall before the turn comes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import tickets
from .appointments import subscribe
from .config import RemoteConfig
from .core import appointments as rules
from .core.numbering import local_day
from .core.states import TicketStatus
from .exceptions import Conflict, IllegalTransition, NotFound
from .models import Hall, Ticket
from .personal import clean_phone
from .privacy import mask_phone


class RemoteClosed(Conflict):
    code = "remote_closed"


def issued_today(session: Session, hall: Hall, now: datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.hall_id == hall.id,
            Ticket.day == local_day(now, hall.timezone),
            Ticket.unchecked_on_call.is_not(None),
        )
    )


def status(session: Session, hall: Hall, cfg: RemoteConfig, now: datetime) -> dict:
    """Whether the phone may join a queue now, and how many remote tickets are left today."""
    open_now = cfg.enabled and rules.is_open(now, cfg.hours, cfg.weekdays, hall.timezone)
    left = None if not cfg.max_per_day else max(0, cfg.max_per_day - issued_today(session, hall, now))
    return {
        "hall": hall.code,
        "enabled": cfg.enabled,
        "open": bool(open_now and left != 0),
        "hours": cfg.hours,
        "weekdays": cfg.weekdays,
        "left_today": left,
        "unchecked_on_call": cfg.unchecked_on_call,
    }


def join(
    session: Session,
    hall: Hall,
    service_code: str,
    *,
    phone: str | None,
    notify_ref: str | None,
    cfg: RemoteConfig,
    now: datetime,
    person_columns: dict | None = None,
) -> tickets.Change:
    """A normal ticket taken from home; it must be checked in at the hall before it is called.

    `person_columns` (personal.columns) carry the phone's keyed hash, so the hall's per-person
    limits count remote tickets too.
    """
    if not cfg.enabled:
        raise NotFound("this hall does not give remote tickets")
    if not rules.is_open(now, cfg.hours, cfg.weekdays, hall.timezone):
        raise RemoteClosed(
            f"现在不能线上取号，线上取号时间 {'、'.join(cfg.hours)} (remote tickets only during these hours)"
        )
    phone_masked = mask_phone(clean_phone(phone)) if phone else None
    if cfg.max_per_day:
        # The hall row lock makes the daily cap exact across processes.
        session.execute(select(Hall.id).where(Hall.id == hall.id).with_for_update())
        if issued_today(session, hall, now) >= cfg.max_per_day:
            raise RemoteClosed("今天的线上取号名额已满，请到大厅现场取号 (today's remote tickets are all taken)")
    change = tickets.issue(session, hall, service_code, channel="mobile", **(person_columns or {}))
    change.ticket.unchecked_on_call = cfg.unchecked_on_call
    subscribe(session, change.ticket, ref=notify_ref, phone_masked=phone_masked, now=now)
    return change


def check_in(session: Session, ticket: Ticket, now: datetime) -> tickets.Change:
    """The holder is in the hall: a remote ticket may now be called. Checking in twice changes nothing."""
    session.refresh(ticket, with_for_update=True)
    if ticket.status not in (TicketStatus.WAITING.value, TicketStatus.CALLED.value):
        raise IllegalTransition(f"ticket {ticket.number} is {ticket.status}; nothing to check in", status=ticket.status)
    if ticket.unchecked_on_call is None or ticket.checked_in_at is not None:
        return tickets.Change(ticket=ticket)
    ticket.checked_in_at = now
    tickets.record(session, ticket, "check_in", ticket.status, now=now)
    return tickets.Change(ticket=ticket, queues_changed=True)
