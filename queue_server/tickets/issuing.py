"""Taking a ticket, the one way every channel does it: kiosk, phone, counter, remote, check-in, simulation.

No Flask here: the route finds out who asks (staff, device, the server's own PC) and passes the facts in,
with the collaborators (settings, spooler, the realtime event builder) and the clock's time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from queue_server.config import Settings
from queue_server.exceptions import Forbidden
from queue_server.hall_settings import hall_settings
from queue_server.halls import check_open
from queue_server.models import Device, Hall, ServiceItem, StaffUser, Ticket
from queue_server.tickets import personal, snapshots, waits
from queue_server.tickets import service as tickets

# Paper comes out at the hall's kiosk only: walk-in kiosk tickets and booking check-ins.
PRINTED_CHANNELS = frozenset({"kiosk", "appointment"})

EventsFor = Callable[[Session, Hall, tickets.Change, dict], list]


@dataclass(frozen=True)
class Caller:
    """What the route found out about who asks for the ticket, and what they want printed."""

    user: StaffUser | None = None
    device: Device | None = None  # a registered device of this hall, already checked by the route
    on_server_machine: bool = False  # access.on_server_machine(), decided in the route
    print: bool = False
    printer: str | None = None
    with_materials: bool = False
    base_url: str = ""  # for the QR code on the printed ticket


PUBLIC = Caller()  # no staff, no device, nothing printed: the phone, and the simulation's citizens


@dataclass
class Issued:
    """What the routes need after issuing: the ticket, its JSON, the print job and the events to publish."""

    change: tickets.Change
    data: dict
    print_job: dict | None
    events: list

    @property
    def ticket(self) -> Ticket:
        return self.change.ticket

    @property
    def wake_spooler(self) -> bool:
        return self.print_job is not None


def issue(
    session: Session,
    hall: Hall,
    service: ServiceItem,
    *,
    channel: str,
    priority: str,
    person: personal.Person,
    settings: Settings,
    now: datetime,
    caller: Caller = PUBLIC,
    spooler: Any = None,
    events_for: EventsFor | None = None,
    check_hours: bool = True,
    fields: dict | None = None,
) -> Issued:
    """Issue a ticket: hours, per-person limits, place and quote, insert, print job, events (published by the caller
    after the commit).

    `check_hours` is False for tickets whose own hours were checked already (a booking, the remote hours);
    `fields` are more ticket columns a channel sets (a remote ticket's check-in rule).
    """
    printer = _printer(caller, channel, settings)
    if check_hours and caller.user is None:  # staff at a counter are not bound by opening hours
        check_open(hall, now)
    rules = hall_settings(hall)
    personal.check_limits(session, hall, service, person, rules.limits)
    place = waits.place_of_new(session, hall, service.queue_id, priority)
    change = tickets.issue(
        session,
        hall,
        service,
        channel=channel,
        priority=priority,
        user=caller.user,
        **personal.columns(person, rules.privacy),
        **waits.quote(place),
        **(fields or {}),
    )
    data = snapshots.ticket_full(session, change.ticket, place)
    job = None
    if spooler is not None and caller.print and channel in PRINTED_CHANNELS:
        job = spooler.enqueue_ticket(
            session, hall, change.ticket, data, caller.base_url, printer, caller.with_materials, caller.device
        )
    events = events_for(session, hall, change, data) if events_for is not None else []
    data["print_job"] = job
    return Issued(change=change, data=data, print_job=job, events=events)


def _printer(caller: Caller, channel: str, settings: Settings) -> str | None:
    """The printer asked for; a kiosk prints on its own, and without a kiosk only the server's PC prints."""
    kiosk = caller.device is not None and caller.device.kind == "kiosk"
    if channel == "kiosk" and caller.print and caller.user is None and not kiosk:
        # Without a registered kiosk only the server's own PC prints: nobody else runs the paper out.
        if settings.server.require_devices or not caller.on_server_machine:
            raise Forbidden(
                "kiosk tickets are printed only by a registered kiosk; ask an admin to register this one "
                "(queue-server device add NAME --hall CODE --kind kiosk)",
                zh="只有已登记的自助取号机才能打印号票，请联系管理员登记本机",
            )
    if kiosk and caller.device.printer:
        return caller.device.printer
    return caller.printer
