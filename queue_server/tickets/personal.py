"""Citizens' phone and ID numbers: validated, kept masked only where the hall allows, keyed hashes for
the per-person limits, and purged after the hall's retention period."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.core.numbering import local_day
from queue_server.core.privacy import mask_id_number, mask_phone, valid_id_number, valid_phone
from queue_server.core.states import ACTIVE
from queue_server.exceptions import RateLimited, ValidationFailed
from queue_server.hall_settings import LimitsConfig, PrivacyConfig, hall_settings
from queue_server.models import Hall, ServiceItem, Ticket

ACTIVE_VALUES = [s.value for s in ACTIVE]


class LimitReached(RateLimited):
    code = "limit_reached"


@dataclass
class Person:
    """What a ticket request says about the citizen: cleaned numbers and their keyed hashes."""

    phone: str | None = None
    id_number: str | None = None
    phone_hash: str | None = None
    id_hash: str | None = None

    @property
    def hashes(self) -> list[tuple[str, str]]:
        return [(col, h) for col, h in (("id_number_hash", self.id_hash), ("phone_hash", self.phone_hash)) if h]


def person_hash(secret: str, kind: str, value: str) -> str:
    """HMAC-SHA256 with the server secret: equal numbers match, nobody can list them back."""
    return hmac.new(secret.encode("utf-8"), f"onewindow-person:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def clean_phone(phone: str) -> str:
    phone = phone.strip().replace(" ", "").replace("-", "")
    if not valid_phone(phone):
        raise ValidationFailed(
            "Mobile number: not a mainland mobile number (11 digits starting with 1)",
            zh="手机号不正确：应为以 1 开头的 11 位大陆手机号",
            field="phone",
        )
    return phone


def clean_id_number(id_number: str) -> str:
    id_number = id_number.strip().upper()
    if not valid_id_number(id_number):
        raise ValidationFailed(
            "ID number: not a valid 18-character resident ID number",
            zh="身份证号不正确：应为 18 位居民身份证号",
            field="id_number",
        )
    return id_number


def read_person(secret: str, phone: str | None, id_number: str | None) -> Person:
    """Validate the numbers (errors never repeat them) and hash them."""
    person = Person()
    if phone:
        phone = clean_phone(phone)
        person.phone, person.phone_hash = phone, person_hash(secret, "phone", phone)
    if id_number:
        id_number = clean_id_number(id_number)
        person.id_number, person.id_hash = id_number, person_hash(secret, "id", id_number)
    return person


def _lock(session: Session, key: str) -> None:
    """Serialise issues for one person or service on PostgreSQL (SQLite writers are serialised already)."""
    if session.get_bind().dialect.name == "postgresql":
        number = int(key[:15], 16)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": number})


def check_limits(session: Session, hall: Hall, service: ServiceItem, person: Person, limits: LimitsConfig) -> None:
    """The hall's domain limits, counted in the database; LimitReached (429) with a Chinese message."""
    day = local_day(clock.now(), hall.timezone)
    cap = limits.per_service_per_day.get(service.code, 0)
    if cap:
        _lock(session, hashlib.sha256(f"service:{service.id}".encode()).hexdigest())
        given = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.hall_id == hall.id, Ticket.service_id == service.id, Ticket.day == day)
        )
        if given >= cap:
            raise LimitReached(
                f"today's tickets for {service.code} are all taken ({cap} a day); come another day or book",
                zh=f"“{service.name}”今日号源已取完（每天 {cap} 个），请改日再来或预约办理",
            )
    if not (limits.per_person_per_day or limits.active_per_person_per_queue):
        return  # no per-person rule: nothing to lock or count
    for column, value in person.hashes:
        _lock(session, value)
        mine = (
            select(func.count()).select_from(Ticket).where(Ticket.hall_id == hall.id, getattr(Ticket, column) == value)
        )
        who = "该身份证号" if column == "id_number_hash" else "该手机号"
        if limits.per_person_per_day and session.scalar(mine.where(Ticket.day == day)) >= limits.per_person_per_day:
            raise LimitReached(
                f"{'this ID number' if column == 'id_number_hash' else 'this phone number'} has reached today's limit "
                f"({limits.per_person_per_day} a day); come back tomorrow",
                zh=f"{who}今日取号已达上限（每天 {limits.per_person_per_day} 个），请明天再来",
            )
        if (
            limits.active_per_person_per_queue
            and session.scalar(mine.where(Ticket.queue_id == service.queue_id, Ticket.status.in_(ACTIVE_VALUES)))
            >= limits.active_per_person_per_queue
        ):
            raise LimitReached(
                f"{'this ID number' if column == 'id_number_hash' else 'this phone number'} already has an open ticket in this queue; "
                "finish or cancel it first",
                zh=f"{who}在该队列已有未办结的号，请先办理或取消后再取号",
            )


def columns(person: Person, privacy: PrivacyConfig) -> dict[str, str | None]:
    """A new ticket's personal columns: the hashes for the limits; the masked numbers only where the hall
    stores personal data."""
    keep = privacy.store_personal_data
    return {
        "phone_hash": person.phone_hash,
        "id_number_hash": person.id_hash,
        "phone_masked": mask_phone(person.phone) if keep and person.phone else None,
        "id_number_masked": mask_id_number(person.id_number) if keep and person.id_number else None,
    }


def purge(
    session: Session,
    *,
    hall_code: str | None = None,
    days: int | None = None,
    dry_run: bool = False,
) -> dict[str, int]:
    """Remove personal data from tickets older than each hall's retention; tickets and counts stay."""
    purged: dict[str, int] = {}
    now = clock.now()
    for hall in session.scalars(select(Hall).order_by(Hall.id)):
        if hall_code and hall.code != hall_code:
            continue
        privacy = hall_settings(hall).privacy
        keep = days if days is not None else privacy.purge_after_days
        if days is None and not privacy.store_personal_data:
            keep = min(keep, 2)  # only hashes are kept, and the limits need them for today only
        cutoff = now - timedelta(days=keep)
        has_data = (
            Ticket.phone_masked.is_not(None)
            | Ticket.id_number_masked.is_not(None)
            | Ticket.phone_hash.is_not(None)
            | Ticket.id_number_hash.is_not(None)
        )
        where = (Ticket.hall_id == hall.id, Ticket.issued_at < cutoff, has_data)
        if dry_run:
            purged[hall.code] = session.scalar(select(func.count()).select_from(Ticket).where(*where))
            continue
        result = session.execute(
            update(Ticket)
            .where(*where)
            .values(phone_masked=None, id_number_masked=None, phone_hash=None, id_number_hash=None)
            .execution_options(synchronize_session=False)
        )
        purged[hall.code] = result.rowcount
    return purged
