"""Bookings, remote tickets and check-in under /api/v1: the hall's fourth channel, from the phone."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request
from pydantic import BaseModel, Field

from queue_server import clock
from queue_server.appointments import remote
from queue_server.appointments import service as appointments
from queue_server.db import transaction
from queue_server.exceptions import NotFound, ValidationFailed
from queue_server.hall_settings import hall_settings
from queue_server.halls import get_hall
from queue_server.realtime.sockets import events_for, publish
from queue_server.runtime import current
from queue_server.staff import access
from queue_server.tickets import issuing, personal, snapshots
from queue_server.tickets import service as tickets
from queue_server.web.openapi import Api
from queue_server.web.schemas import Estimate, Request, TicketPublic, TicketResponse

bp = Blueprint("appointments_api", __name__, url_prefix="/api/v1")
api = Api(bp, "/api/v1")


class BookingRequest(Request):
    service: str = Field(min_length=1, max_length=64, description="service item code")
    starts_at: str = Field(min_length=16, max_length=40, description="slot start from the slot list (ISO-8601)")
    # Lengths are checked by the booking itself, with a message a citizen understands.
    name: str = Field(max_length=200, description="1 to 40 characters; stored masked only (张*三)")
    phone: str = Field(max_length=40, description="mainland mobile; stored masked and as a keyed hash only")
    id_number: str = Field(max_length=40, description="18 characters; stored masked and as a keyed hash only")
    notify_ref: str | None = Field(
        None,
        max_length=128,
        description="the integration's own subscriber id (e.g. a WeChat openid), passed back in notifications",
    )


class RescheduleRequest(Request):
    starts_at: str = Field(min_length=16, max_length=40)


class LookupRequest(Request):
    code: str = Field(min_length=1, max_length=20)
    phone: str = Field(max_length=40)


class CheckInRequest(Request):
    code: str | None = Field(None, max_length=20, description="booking code (typed)")
    appointment: str | None = Field(None, max_length=64, description="or the booking id (its QR code, scanned)")
    id_number: str | None = Field(None, max_length=18, description="or the ID number the booking was made with")
    print: bool = Field(False, description="print the ticket on the kiosk's printer")
    printer: str | None = Field(None, max_length=64)


class RemoteJoinRequest(Request):
    service: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(None, max_length=20, description="stored masked only, for the notifications")
    notify_ref: str | None = Field(None, max_length=128)


class SlotInfo(BaseModel):
    starts_at: str
    ends_at: str
    capacity: int
    left: int


class SlotDay(BaseModel):
    date: str
    slots: list[SlotInfo]


class SlotList(BaseModel):
    hall: str
    service: dict
    queue: str
    slot_minutes: int
    days: list[SlotDay]


class Booking(BaseModel):
    id: str = Field(description="the holder's credential: keep it private (it is in the QR code)")
    code: str = Field(description="booking code to check in at the kiosk")
    hall: str
    hall_name: str
    service: dict
    queue: str
    starts_at: str
    ends_at: str
    status: str = Field(description="booked, checked_in, cancelled or no_show")
    arrival: str | None
    name: str
    phone: str
    id_number: str
    check_in_from: str
    on_time_until: str
    change_until: str
    ticket: dict | None


class BookingCheckedIn(BaseModel):
    """The booking as the kiosk shows it after check-in: its id only to whoever presented it."""

    id: str | None = Field(None, description="only when the booking's id (its QR) was presented")
    code: str
    service: dict
    starts_at: str
    status: str
    arrival: str | None
    name: str


class CheckInResponse(BaseModel):
    arrival: str = Field(description="on_time (appointment ticket) or late (normal ticket)")
    appointment: BookingCheckedIn
    ticket: TicketResponse


class RemoteCheckedIn(TicketPublic):
    """A remote ticket checked in by its number: where it stands, never its id (the phone holds that)."""

    ahead: int
    estimated_wait: Estimate | None
    checked_in: bool


class RemoteStatus(BaseModel):
    hall: str
    enabled: bool
    open: bool
    hours: list[str]
    weekdays: list[int]
    left_today: int | None
    unchecked_on_call: str


def _when(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(
            "starts_at: an ISO-8601 time with offset, as in the slot list",
            zh="时段开始时间格式不正确，请从时段列表中选择",
            field="starts_at",
        )
    return moment


def _cfg(hall):
    settings = hall_settings(hall)
    return settings.appointments, settings.remote, settings.notify


@api.route(
    "/halls/<hall>/appointments/slots",
    "GET",
    summary="Bookable slots of a service (?service=CODE)",
    responses={200: SlotList},
    tag="appointments",
    limit="read",
)
def list_slots(hall: str):
    """Slots of the next days with the seats left, for the booking page."""
    code = request.args.get("service", "")
    if not code:
        raise ValidationFailed("add ?service=CODE", zh="请指定事项（?service=编码）", field="service")
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        return appointments.slots_view(s, h, code[:64], _cfg(h)[0], clock.now())


@api.route(
    "/halls/<hall>/appointments",
    "POST",
    summary="Book a slot (预约)",
    body=BookingRequest,
    responses={201: Booking},
    tag="appointments",
    limit="booking",
)
def book(hall: str, body: BookingRequest):
    """Take a seat in a slot; the answer carries the booking code and the holder's id."""
    rt = current()
    with transaction(rt.factory) as s:
        h = get_hall(s, hall)
        cfg = _cfg(h)[0]
        appt = appointments.book(
            s,
            h,
            service_code=body.service,
            starts_at=_when(body.starts_at),
            name=body.name,
            phone=body.phone,
            id_number=body.id_number,
            notify_ref=body.notify_ref,
            cfg=cfg,
            secret=rt.settings.server.secret_key,
            now=clock.now(),
        )
        return appointments.view(appt, cfg), 201


@api.route(
    "/halls/<hall>/appointments/lookup",
    "POST",
    summary="Find a booking by its code and phone",
    body=LookupRequest,
    responses={200: Booking},
    tag="appointments",
    limit="lookup",
)
def lookup(hall: str, body: LookupRequest):
    """For a citizen who lost the link: the code and the phone number together find the booking."""
    rt = current()
    with transaction(rt.factory) as s:
        h = get_hall(s, hall)
        appt = appointments.lookup(s, h, body.code, body.phone, rt.settings.server.secret_key)
        return appointments.view(appt, _cfg(h)[0])


@api.route(
    "/appointments/<appointment_id>",
    "GET",
    summary="A booking",
    responses={200: Booking},
    tag="appointments",
    limit="read",
)
def show_booking(appointment_id: str):
    """The holder's view of a booking."""
    with transaction(current().factory) as s:
        appt = appointments.get_appointment(s, appointment_id)
        return appointments.view(appt, _cfg(appt.hall)[0])


@api.route(
    "/appointments/<appointment_id>/cancel",
    "POST",
    summary="Cancel a booking (until the cut-off)",
    responses={200: Booking},
    tag="appointments",
    limit="booking",
)
def cancel_booking(appointment_id: str):
    """Give the seat back."""
    with transaction(current().factory) as s:
        appt = appointments.get_appointment(s, appointment_id)
        cfg = _cfg(appt.hall)[0]
        return appointments.view(appointments.cancel(s, appt, cfg, clock.now()), cfg)


@api.route(
    "/appointments/<appointment_id>/reschedule",
    "POST",
    summary="Move a booking to another slot",
    body=RescheduleRequest,
    responses={200: Booking},
    tag="appointments",
    limit="booking",
)
def reschedule_booking(appointment_id: str, body: RescheduleRequest):
    """Another slot of the same service, until the cut-off before the booked one."""
    with transaction(current().factory) as s:
        appt = appointments.get_appointment(s, appointment_id)
        cfg = _cfg(appt.hall)[0]
        return appointments.view(appointments.reschedule(s, appt, _when(body.starts_at), cfg, clock.now()), cfg)


@api.route(
    "/halls/<hall>/appointments/check-in",
    "POST",
    summary="Check in a booking at the kiosk",
    body=CheckInRequest,
    responses={201: CheckInResponse},
    tag="appointments",
    limit="check_in",
)
def check_in_booking(hall: str, body: CheckInRequest):
    """By booking code, booking QR or ID number: an appointment ticket when on time, a normal one when late."""
    rt = current()
    with transaction(rt.factory) as s:
        h = get_hall(s, hall)
        device = access.hall_device(s, h.id, "kiosk")
        cfg, now = _cfg(h)[0], clock.now()
        if body.appointment:
            appt = appointments.get_appointment(s, body.appointment)
            if appt.hall_id != h.id:
                raise NotFound(f"this booking is for another hall, not {h.code}", zh=f"该预约不属于大厅 {h.code}")
        else:
            appt = appointments.find_for_check_in(
                s, h, code=body.code, id_number=body.id_number, secret=rt.settings.server.secret_key, cfg=cfg, now=now
            )
        caller = issuing.Caller(
            device=device,
            on_server_machine=access.on_server_machine(),
            print=body.print,
            printer=body.printer,
            base_url=rt.settings.server.public_url or request.host_url,
        )
        arrival, issued = appointments.check_in(
            s, h, appt, cfg, now, settings=rt.settings, caller=caller, spooler=rt.spooler, events_for=events_for
        )
        booking = {k: v for k, v in appointments.view(appt, cfg).items() if k in BookingCheckedIn.model_fields}
        if not body.appointment:  # checked in by code or ID number: the booking's own id stays with its holder
            booking["id"] = None
        answer = {"arrival": arrival.value, "appointment": booking, "ticket": issued.data}
    publish(issued.events)
    if issued.wake_spooler:
        rt.spooler.wake(issued.print_job)
    return answer, 201


@api.route(
    "/halls/<hall>/remote-tickets",
    "GET",
    summary="Whether remote tickets can be taken now",
    responses={200: RemoteStatus},
    tag="appointments",
    limit="read",
)
def remote_status(hall: str):
    """Open or not, the hours, and how many remote tickets are left today."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        return remote.status(s, h, _cfg(h)[1], clock.now())


@api.route(
    "/halls/<hall>/remote-tickets",
    "POST",
    summary="Take a ticket from the phone (线上取号)",
    body=RemoteJoinRequest,
    responses={201: TicketResponse},
    tag="appointments",
    limit="remote",
)
def join_remotely(hall: str, body: RemoteJoinRequest):
    """A normal number in the queue; check in at the hall's kiosk before it is called."""
    rt = current()
    with transaction(rt.factory) as s:
        h = get_hall(s, hall)
        issued = remote.join(
            s,
            h,
            body.service,
            person=personal.read_person(rt.settings.server.secret_key, body.phone, None),
            notify_ref=body.notify_ref,
            cfg=_cfg(h)[1],
            now=clock.now(),
            settings=rt.settings,
            events_for=events_for,
        )
    publish(issued.events)
    return issued.data, 201


@api.route(
    "/tickets/<ticket_id>/check-in",
    "POST",
    summary="Check in a remote ticket (kiosk QR scan)",
    responses={200: TicketResponse},
    tag="appointments",
    limit="check_in",
)
def check_in_ticket(ticket_id: str):
    """The holder is at the hall: their remote ticket can be called now."""
    with transaction(current().factory) as s:
        data, events = _checked_in(s, tickets.get_ticket(s, ticket_id))
    publish(events)
    return data


@api.route(
    "/halls/<hall>/tickets/<number>/check-in",
    "POST",
    summary="Check in a remote ticket by its number",
    responses={200: RemoteCheckedIn},
    tag="appointments",
    limit="check_in",
)
def check_in_number(hall: str, number: str):
    """The number typed at the hall's kiosk: today's remote ticket of that number can be called now."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        access.hall_device(s, h.id, "kiosk")
        ticket = _remote_by_number(s, h, number)
        full, events = _checked_in(s, ticket)
        ahead, estimate = full["ahead"], full["estimated_wait"]
        data = {**snapshots.ticket_public(ticket), "ahead": ahead, "estimated_wait": estimate}
        data["checked_in"] = full["checked_in"]
    publish(events)
    return data


def _remote_by_number(s, hall, number: str):
    """Today's remote ticket of that number; any other ticket answers as if there were none."""
    try:
        ticket = tickets.find_by_number(s, hall, number)
    except NotFound:
        ticket = None
    if ticket is None or ticket.unchecked_on_call is None:
        raise NotFound(
            f"no remote ticket {number} today in hall {hall.code}", zh=f"今天没有 {number} 号线上取号", number=number
        )
    return ticket


def _checked_in(s, ticket) -> tuple[dict, list]:
    change = remote.check_in(s, ticket, clock.now())
    data = snapshots.ticket_full(s, ticket)
    return data, events_for(s, ticket.hall, change, data) if change.queues_changed else []
