"""Bookings (预约) in the database: slots with seat counters, booking, cancel, reschedule, kiosk check-in."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from queue_server.config import Settings
from queue_server.core import appointments as rules
from queue_server.core.appointments import Arrival
from queue_server.core.numbering import local_day
from queue_server.core.privacy import mask_id_number, mask_name, mask_phone
from queue_server.core.states import BOOKING_ZH, AppointmentStatus
from queue_server.exceptions import Conflict, IllegalTransition, NotFound, OneWindowError, ValidationFailed
from queue_server.hall_settings import AppointmentConfig, hall_settings
from queue_server.halls import get_service
from queue_server.models import Appointment, AppointmentSlot, Hall, NotifySubscription, Queue, Ticket, window_queues
from queue_server.tickets import issuing
from queue_server.tickets.personal import Person, clean_id_number, clean_phone, person_hash
from queue_server.tickets.snapshots import iso

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed on a kiosk
CODE_LENGTH = 8


class Blocked(OneWindowError):
    code = "booking_blocked"
    status = 403


class SlotFull(Conflict):
    code = "slot_full"


class SlotTooSoon(Conflict):
    code = "slot_too_soon"


def _day_end(moment: datetime, timezone: str) -> datetime:
    tz = ZoneInfo(timezone)
    local = moment.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tz).astimezone(ZoneInfo("UTC"))


# --- slots ---------------------------------------------------------------------------------------


def queue_window_count(session: Session, queue_id: int) -> int:
    return session.scalar(select(func.count()).select_from(window_queues).where(window_queues.c.queue_id == queue_id))


def ensure_slots(session: Session, hall: Hall, queue: Queue, cfg: AppointmentConfig, now: datetime) -> None:
    """Create the slot rows of the bookable days once; their capacity is fixed when created."""
    today = local_day(now, hall.timezone)
    service_min = hall_settings(hall).default_service_minutes
    seats = rules.slot_capacity(
        queue_window_count(session, queue.id), cfg.slot_minutes, service_min, cfg.share, cfg.max_per_slot
    )
    rows = [
        {
            "hall_id": hall.id,
            "queue_id": queue.id,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "capacity": seats,
            "booked": 0,
        }
        for day in rules.bookable_days(today, cfg.days_ahead, cfg.weekdays)
        for s in rules.day_slots(day, cfg.hours, cfg.slot_minutes, hall.timezone)
    ]
    if not rows:
        return
    known = set(
        session.scalars(
            select(AppointmentSlot.starts_at).where(
                AppointmentSlot.hall_id == hall.id,
                AppointmentSlot.queue_id == queue.id,
                AppointmentSlot.starts_at >= rows[0]["starts_at"],
            )
        )
    )
    missing = [r for r in rows if r["starts_at"] not in known]
    if missing:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        # Another process may create the same slots now: the unique key keeps one row each.
        session.execute(
            insert(AppointmentSlot)
            .values(missing)
            .on_conflict_do_nothing(index_elements=["hall_id", "queue_id", "starts_at"])
        )


def open_slots(
    session: Session, hall: Hall, queue: Queue, cfg: AppointmentConfig, now: datetime
) -> list[AppointmentSlot]:
    """The queue's slots that can still be booked (not started, within the days ahead), earliest first."""
    ensure_slots(session, hall, queue, cfg, now)
    today = local_day(now, hall.timezone)
    days = rules.bookable_days(today, cfg.days_ahead, cfg.weekdays)
    if not days:
        return []
    last = _day_end(datetime.combine(days[-1], datetime.min.time(), ZoneInfo(hall.timezone)), hall.timezone)
    offered = {s.starts_at for d in days for s in rules.day_slots(d, cfg.hours, cfg.slot_minutes, hall.timezone)}
    slots = session.scalars(
        select(AppointmentSlot)
        .where(
            AppointmentSlot.hall_id == hall.id,
            AppointmentSlot.queue_id == queue.id,
            AppointmentSlot.starts_at > now,
            AppointmentSlot.starts_at < last,
        )
        .order_by(AppointmentSlot.starts_at)
    )
    # A slot made under older opening hours stays booked but is no longer offered; nor is one inside the
    # change cut-off, which its holder could neither cancel nor move.
    return [
        s for s in slots if s.starts_at in offered and rules.changeable(now, s.starts_at, cfg.change_cutoff_minutes)
    ]


def slots_view(session: Session, hall: Hall, service_code: str, cfg: AppointmentConfig, now: datetime) -> dict:
    """Bookable slots of a service, grouped by local day, with the seats left."""
    _require_enabled(cfg)
    service = get_service(session, hall, service_code)
    days: dict[str, list] = {}
    for slot in open_slots(session, hall, service.queue, cfg, now):
        day = slot.starts_at.astimezone(ZoneInfo(hall.timezone)).date().isoformat()
        days.setdefault(day, []).append(
            {
                "starts_at": iso(slot.starts_at, hall.timezone),
                "ends_at": iso(slot.ends_at, hall.timezone),
                "capacity": slot.capacity,
                "left": max(0, slot.capacity - slot.booked),
            }
        )
    return {
        "hall": hall.code,
        "service": {"code": service.code, "name": service.name},
        "queue": service.queue.prefix,
        "slot_minutes": cfg.slot_minutes,
        "days": [{"date": d, "slots": s} for d, s in days.items()],
    }


def take_seat(session: Session, slot_id: int) -> bool:
    """One seat of the slot, or False when it is full; the conditional update is atomic on both databases."""
    result = session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot_id, AppointmentSlot.booked < AppointmentSlot.capacity)
        .values(booked=AppointmentSlot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_seat(session: Session, slot_id: int) -> None:
    session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.id == slot_id, AppointmentSlot.booked > 0)
        .values(booked=AppointmentSlot.booked - 1)
        .execution_options(synchronize_session=False)
    )


def _slot_at(
    session: Session, hall: Hall, queue: Queue, starts_at: datetime, cfg: AppointmentConfig, now: datetime
) -> AppointmentSlot:
    minutes = cfg.change_cutoff_minutes
    if starts_at > now and not rules.changeable(now, starts_at, minutes):
        raise SlotTooSoon(
            f"this slot starts within {minutes} minutes, inside the change cut-off; choose a later slot "
            "or take a number in the hall",
            zh=f"该时段距开始已不足 {minutes} 分钟（已过改约截止时间），请选择更晚的时段，或到大厅现场取号",
            field="starts_at",
        )
    for slot in open_slots(session, hall, queue, cfg, now):
        if slot.starts_at == starts_at:
            return slot
    raise NotFound(
        "no bookable slot at that time; choose one from the slot list",
        zh="该时间没有可预约的时段，请从时段列表中选择",
        field="starts_at",
    )


def _require_enabled(cfg: AppointmentConfig) -> None:
    if not cfg.enabled:
        raise NotFound("this hall does not take bookings", zh="本大厅不接受预约")


# --- booking -------------------------------------------------------------------------------------


def no_show_times(session: Session, id_hash: str, now: datetime) -> list[datetime]:
    """Slot times this person booked and never came to (marked or not yet marked)."""
    missed = or_(
        Appointment.status == AppointmentStatus.NO_SHOW,
        (Appointment.status == AppointmentStatus.BOOKED) & (Appointment.checkin_until <= now),
    )
    return list(session.scalars(select(Appointment.starts_at).where(Appointment.id_number_hash == id_hash, missed)))


def book(
    session: Session,
    hall: Hall,
    *,
    service_code: str,
    starts_at: datetime,
    name: str,
    phone: str,
    id_number: str,
    notify_ref: str | None,
    cfg: AppointmentConfig,
    secret: str,
    now: datetime,
) -> Appointment:
    """Book a seat in a slot for a citizen; personal data is kept masked and hashed only."""
    _require_enabled(cfg)
    name = name.strip()
    if not 1 <= len(name) <= 40:
        raise ValidationFailed("Name: 1 to 40 characters", zh="姓名应为 1 到 40 个字", field="name")
    phone, id_number = clean_phone(phone), clean_id_number(id_number)
    id_hash = person_hash(secret, "id", id_number)
    service = get_service(session, hall, service_code)
    rule = rules.NoShowRule(cfg.no_show_limit, cfg.no_show_days, cfg.block_days)
    until = rules.blocked_until(no_show_times(session, id_hash, now), now, rule)
    if until is not None:
        raise Blocked(
            f"this ID number missed {cfg.no_show_limit} bookings in {cfg.no_show_days} days; no bookings before "
            f"{iso(until, hall.timezone)[:10]}; take a ticket in the hall",
            zh=f"该身份证号 {cfg.no_show_days} 天内预约未到 {cfg.no_show_limit} 次，"
            f"{iso(until, hall.timezone)[:10]} 前不能预约，请到大厅现场取号",
            until=iso(until, hall.timezone),
        )
    active = (
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.id_number_hash == id_hash,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.checkin_until > now,
        )
    )
    if session.scalar(active) >= cfg.max_active_per_person:
        raise Conflict(
            f"this ID number already has {cfg.max_active_per_person} unused booking(s); use or cancel one first",
            zh=f"该身份证号已有 {cfg.max_active_per_person} 个未使用的预约，请先办理或取消后再预约",
        )
    slot = _slot_at(session, hall, service.queue, starts_at, cfg, now)
    same = session.scalar(
        active.where(
            Appointment.queue_id == service.queue_id,
            Appointment.starts_at >= slot.starts_at - timedelta(hours=12),
            Appointment.starts_at <= slot.starts_at + timedelta(hours=12),
        )
    )
    if same:
        raise Conflict(
            "this ID number already has a booking for this service that day; change that booking instead",
            zh="该身份证号当天在同一业务已有预约；如需改时间请改约",
        )
    if not take_seat(session, slot.id):
        raise SlotFull("this slot is full; choose another", zh="这个时段已约满，请选择其他时段")
    appt = Appointment(
        id=secrets.token_urlsafe(16),
        code=_new_code(session, hall),
        hall_id=hall.id,
        queue_id=service.queue_id,
        service_id=service.id,
        slot_id=slot.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        checkin_until=_day_end(slot.starts_at, hall.timezone),
        status=AppointmentStatus.BOOKED.value,
        name_masked=mask_name(name),
        phone_masked=mask_phone(phone),
        id_number_masked=mask_id_number(id_number),
        phone_hash=person_hash(secret, "phone", phone),
        id_number_hash=id_hash,
        notify_ref=notify_ref,
        created_at=now,
    )
    appt.hall, appt.service, appt.queue = hall, service, service.queue
    session.add(appt)
    session.flush()
    return appt


def _new_code(session: Session, hall: Hall) -> str:
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        taken = session.scalar(select(Appointment.pk).where(Appointment.hall_id == hall.id, Appointment.code == code))
        if taken is None:
            return code
    raise Conflict("could not make a booking code; try again", zh="无法生成预约码，请重试")


def normalise_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def get_appointment(session: Session, appt_id: str, *, lock: bool = False) -> Appointment:
    """The booking with this id (the holder's credential), or NotFound."""
    query = select(Appointment).where(Appointment.id == appt_id[:64])
    appt = session.scalar(query.with_for_update() if lock else query)
    if appt is None:
        raise NotFound("no such booking", zh="没有这个预约")
    return appt


def lookup(session: Session, hall: Hall, code: str, phone: str, secret: str) -> Appointment:
    """A booking found by its code and the phone it was booked with (both needed)."""
    appt = session.scalar(
        select(Appointment).where(Appointment.hall_id == hall.id, Appointment.code == normalise_code(code))
    )
    if appt is None or not hmac.compare_digest(appt.phone_hash, person_hash(secret, "phone", clean_phone(phone))):
        raise NotFound("no booking with this code and phone", zh="没有找到该预约，请核对预约码和手机号")
    return appt


def _require_changeable(appt: Appointment, cfg: AppointmentConfig, now: datetime) -> None:
    if appt.status != AppointmentStatus.BOOKED:
        raise IllegalTransition(
            f"the booking is {appt.status}; only a booked one can change",
            zh=f"该预约{BOOKING_ZH.get(appt.status, appt.status)}，只有已预约的才能更改",
            status=appt.status,
        )
    if not rules.changeable(now, appt.starts_at, cfg.change_cutoff_minutes):
        raise IllegalTransition(
            f"no cancelling or changing within {cfg.change_cutoff_minutes} minutes of the start",
            zh=f"预约开始前 {cfg.change_cutoff_minutes} 分钟内不能取消或改约",
            status=appt.status,
        )


def cancel(session: Session, appt: Appointment, cfg: AppointmentConfig, now: datetime) -> Appointment:
    """Give the seat back, up to the cut-off before the slot."""
    session.refresh(appt, with_for_update=True)
    _require_changeable(appt, cfg, now)
    appt.status, appt.changed_at = AppointmentStatus.CANCELLED.value, now
    release_seat(session, appt.slot_id)
    return appt


def reschedule(
    session: Session, appt: Appointment, starts_at: datetime, cfg: AppointmentConfig, now: datetime
) -> Appointment:
    """Move the booking to another slot of the same queue; the new seat is taken before the old is freed."""
    session.refresh(appt, with_for_update=True)
    _require_changeable(appt, cfg, now)
    if starts_at == appt.starts_at:
        raise ValidationFailed("that is the slot already booked", zh="这就是已预约的时段", field="starts_at")
    slot = _slot_at(session, appt.hall, appt.queue, starts_at, cfg, now)
    if not take_seat(session, slot.id):
        raise SlotFull("this slot is full; choose another", zh="这个时段已约满，请选择其他时段")
    release_seat(session, appt.slot_id)
    appt.slot_id, appt.starts_at, appt.ends_at = slot.id, slot.starts_at, slot.ends_at
    appt.checkin_until, appt.changed_at = _day_end(slot.starts_at, appt.hall.timezone), now
    return appt


# --- at the hall ---------------------------------------------------------------------------------


def find_for_check_in(
    session: Session,
    hall: Hall,
    *,
    code: str | None,
    id_number: str | None,
    secret: str,
    cfg: AppointmentConfig,
    now: datetime,
) -> Appointment:
    """The booking a citizen checks in with: by its code, or today's booking for an ID number."""
    if code:
        appt = session.scalar(
            select(Appointment).where(Appointment.hall_id == hall.id, Appointment.code == normalise_code(code))
        )
        if appt is None:
            raise NotFound("no booking with this code", zh="没有这个预约码，请核对")
        return appt
    if not id_number:
        raise ValidationFailed("give the booking code or the ID number", zh="请输入预约码或身份证号", field="code")
    id_hash = person_hash(secret, "id", clean_id_number(id_number))
    found = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.hall_id == hall.id,
                Appointment.id_number_hash == id_hash,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.checkin_until > now,
            )
            .order_by(Appointment.starts_at)
        )
    )
    today = [a for a in found if local_day(a.starts_at, hall.timezone) == local_day(now, hall.timezone)]
    if not today:
        raise NotFound("no booking today for this ID number", zh="该身份证号今天没有预约")
    due = [
        a
        for a in today
        if rules.classify(now, a.starts_at, a.checkin_until, cfg.early_minutes, cfg.late_minutes) != Arrival.TOO_EARLY
    ]
    return (due or today)[0]


def check_in(
    session: Session,
    hall: Hall,
    appt: Appointment,
    cfg: AppointmentConfig,
    now: datetime,
    *,
    settings: Settings,
    caller: issuing.Caller = issuing.PUBLIC,
    spooler: Any = None,
    events_for: issuing.EventsFor | None = None,
) -> tuple[Arrival, issuing.Issued]:
    """Turn a booking into a ticket: of class appointment when on time, a normal one when late.

    The ticket is issued as every ticket is (issuing.issue, the booking's person counted in the hall's
    limits); the booking's own times stand in for the hall's opening hours.
    """
    session.refresh(appt, with_for_update=True)
    if appt.status == AppointmentStatus.CHECKED_IN:
        number = appt.ticket.number if appt.ticket else "?"
        raise Conflict(f"already checked in: number {number}", zh=f"已签到，您的号码是 {number}", number=number)
    if appt.status != AppointmentStatus.BOOKED:
        raise IllegalTransition(
            f"the booking is {appt.status}",
            zh=f"该预约{BOOKING_ZH.get(appt.status, appt.status)}，不能签到",
            status=appt.status,
        )
    arrival = rules.classify(now, appt.starts_at, appt.checkin_until, cfg.early_minutes, cfg.late_minutes)
    if arrival == Arrival.TOO_EARLY:
        opens = appt.starts_at - timedelta(minutes=cfg.early_minutes)
        at = iso(opens, hall.timezone)[11:16]
        raise IllegalTransition(
            f"check-in opens at {at}",
            zh=f"签到时间未到，请于 {at} 后签到",
            status="too_early",
            opens_at=iso(opens, hall.timezone),
        )
    if arrival == Arrival.EXPIRED:
        appt.status = AppointmentStatus.NO_SHOW.value
        raise IllegalTransition("the booking has expired", zh="预约已过期", status="expired")
    issued = issuing.issue(
        session,
        hall,
        appt.service,
        channel="appointment",
        priority="appointment" if arrival == Arrival.ON_TIME else "normal",
        person=Person(phone_hash=appt.phone_hash, id_hash=appt.id_number_hash),
        caller=caller,
        settings=settings,
        now=now,
        spooler=spooler,
        events_for=events_for,
        check_hours=False,
    )
    ticket = issued.ticket
    appt.status, appt.checked_in_at, appt.arrival, appt.ticket_pk = (
        AppointmentStatus.CHECKED_IN.value,
        now,
        arrival.value,
        ticket.pk,
    )
    appt.ticket = ticket
    subscribe(session, ticket, ref=appt.notify_ref, phone_masked=appt.phone_masked, now=now)
    return arrival, issued


def subscribe(session: Session, ticket: Ticket, *, ref: str | None, phone_masked: str | None, now: datetime) -> None:
    """Ask the notifier worker to follow this ticket ("N ahead", "called", "please rate")."""
    session.add(
        NotifySubscription(
            hall_id=ticket.hall_id,
            ticket_pk=ticket.pk,
            ref=ref,
            phone_masked=phone_masked,
            is_open=True,
            created_at=now,
        )
    )


def mark_no_shows(session: Session, now: datetime) -> int:
    """Bookings nobody checked in to by the end of their day become no-shows."""
    result = session.execute(
        update(Appointment)
        .where(Appointment.status == AppointmentStatus.BOOKED, Appointment.checkin_until <= now)
        .values(status=AppointmentStatus.NO_SHOW.value)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def view(appt: Appointment, cfg: AppointmentConfig) -> dict:
    """A booking as its holder sees it: masked personal data, times in the hall's zone."""
    tz = appt.hall.timezone
    return {
        "id": appt.id,
        "code": appt.code,
        "hall": appt.hall.code,
        "hall_name": appt.hall.name,
        "service": {"code": appt.service.code, "name": appt.service.name},
        "queue": appt.queue.prefix,
        "starts_at": iso(appt.starts_at, tz),
        "ends_at": iso(appt.ends_at, tz),
        "status": appt.status,
        "arrival": appt.arrival,
        "name": appt.name_masked,
        "phone": appt.phone_masked,
        "id_number": appt.id_number_masked,
        "check_in_from": iso(appt.starts_at - timedelta(minutes=cfg.early_minutes), tz),
        "on_time_until": iso(appt.starts_at + timedelta(minutes=cfg.late_minutes), tz),
        "change_until": iso(appt.starts_at - timedelta(minutes=cfg.change_cutoff_minutes), tz),
        "ticket": {"id": appt.ticket.id, "number": appt.ticket.number} if appt.ticket else None,
    }
