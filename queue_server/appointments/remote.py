"""Remote tickets (线上取号): join a queue from the phone, check in at the hall before the turn comes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_server.appointments.service import subscribe
from queue_server.config import Settings
from queue_server.core import appointments as rules
from queue_server.core.numbering import local_day
from queue_server.core.privacy import mask_phone
from queue_server.core.states import TicketStatus
from queue_server.exceptions import Conflict, IllegalTransition, NotFound
from queue_server.hall_settings import RemoteConfig
from queue_server.halls import get_service
from queue_server.models import Hall, Ticket
from queue_server.tickets import issuing
from queue_server.tickets import service as tickets
from queue_server.tickets.personal import Person


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
    person: Person,
    notify_ref: str | None,
    cfg: RemoteConfig,
    now: datetime,
    settings: Settings,
    caller: issuing.Caller = issuing.PUBLIC,
    events_for: issuing.EventsFor | None = None,
) -> issuing.Issued:
    """A normal ticket taken from home; it must be checked in at the hall before it is called.

    The ticket is issued as every ticket is (issuing.issue: the phone counts in the hall's per-person
    limits, the wait is quoted); the remote hours stand in for the hall's opening hours.
    """
    if not cfg.enabled:
        raise NotFound("this hall does not give remote tickets", zh="本大厅不提供线上取号")
    if not rules.is_open(now, cfg.hours, cfg.weekdays, hall.timezone):
        raise RemoteClosed(
            f"remote tickets only during {', '.join(cfg.hours)}",
            zh=f"现在不能线上取号，线上取号时间 {'、'.join(cfg.hours)}",
        )
    service = get_service(session, hall, service_code)
    if cfg.max_per_day:
        # The hall row lock makes the daily cap exact across processes.
        session.execute(select(Hall.id).where(Hall.id == hall.id).with_for_update())
        if issued_today(session, hall, now) >= cfg.max_per_day:
            raise RemoteClosed(
                "today's remote tickets are all taken; take a ticket in the hall",
                zh="今天的线上取号名额已满，请到大厅现场取号",
            )
    issued = issuing.issue(
        session,
        hall,
        service,
        channel="mobile",
        priority="normal",
        person=person,
        caller=caller,
        settings=settings,
        now=now,
        events_for=events_for,
        check_hours=False,
        fields={"unchecked_on_call": cfg.unchecked_on_call},
    )
    phone_masked = mask_phone(person.phone) if person.phone else None
    subscribe(session, issued.ticket, ref=notify_ref, phone_masked=phone_masked, now=now)
    return issued


def check_in(session: Session, ticket: Ticket, now: datetime) -> tickets.Change:
    """The holder is in the hall: a remote ticket may now be called. Checking in twice changes nothing."""
    session.refresh(ticket, with_for_update=True)
    if ticket.status not in (TicketStatus.WAITING.value, TicketStatus.CALLED.value):
        raise IllegalTransition(
            f"ticket {ticket.number} is {ticket.status}; nothing to check in",
            zh=f"{ticket.number} 号当前状态为 {ticket.status}，无需签到",
            status=ticket.status,
        )
    if ticket.unchecked_on_call is None or ticket.checked_in_at is not None:
        return tickets.Change(ticket=ticket)
    ticket.checked_in_at = now
    tickets.record(session, ticket, "check_in", ticket.status, now=now)
    return tickets.Change(ticket=ticket, queues_changed=True)
