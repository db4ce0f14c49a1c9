"""Halls, queues, windows and service items in the database: seeding from config and look-ups."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from queue_server.config import HallConfig, ServiceConfig, Settings
from queue_server.core import appointments as rules
from queue_server.db import adopt, execute, read_one
from queue_server.exceptions import Conflict, NotFound
from queue_server.hall_settings import hall_settings
from queue_server.models import Hall, Queue, ServiceItem, Window, window_queues


def seed(session: Session, settings: Settings) -> list[str]:
    """Create halls from config that the database does not have yet; existing halls keep what they store."""
    created = []
    existing = {h.code: h for h in session.scalars(select(Hall))}
    for hall_cfg in settings.halls:
        if hall_cfg.code not in existing:
            create_hall(session, hall_cfg)
            created.append(hall_cfg.code)
        else:
            fill_missing_settings(existing[hall_cfg.code], hall_cfg)
    return created


def fill_missing_settings(hall: Hall, cfg: HallConfig) -> None:
    """Write the config's value of each setting the row does not store yet (rows seeded by older versions)."""
    stored = hall.settings or {}
    missing = {k: v for k, v in cfg.stored().items() if k not in stored}
    if missing:
        hall.settings = {**stored, **missing}


def create_hall(session: Session, cfg: HallConfig) -> Hall:
    """Insert one hall with its queues, windows and service items."""
    hall = Hall(code=cfg.code, name=cfg.name, name_en=cfg.name_en, timezone=cfg.timezone, settings=cfg.stored())
    session.add(hall)
    queues = {}
    for sort, q in enumerate(cfg.queues):
        queues[q.prefix] = Queue(hall=hall, prefix=q.prefix, name=q.name, name_en=q.name_en, sort=sort)
        session.add(queues[q.prefix])
    for w in cfg.windows:
        served = list(queues.values()) if w.queues == "all" else [queues[p] for p in w.queues]
        session.add(Window(hall=hall, number=w.number, name=w.name, name_en=w.name_en, queues=served))
    session.flush()
    for s in cfg.services:
        session.add(ServiceItem(hall_id=hall.id, queue_id=queues[s.queue].id, **service_fields(s)))
    session.flush()
    return hall


def service_fields(s: ServiceConfig) -> dict:
    return s.model_dump(exclude={"queue"})


# Built once: the hot paths look these up on every request, and a statement object kept
# from call to call saves SQLAlchemy rebuilding and re-keying it each time.
HALL_BY_CODE = select(Hall.__table__).where(Hall.__table__.c.code == bindparam("code"))
SERVICE_BY_CODE = (
    select(ServiceItem)
    .where(ServiceItem.hall_id == bindparam("hall_id"), ServiceItem.code == bindparam("code"), ServiceItem.active)
    .options(joinedload(ServiceItem.queue))
)
WINDOW_STATES = (
    select(Window.id, Window.state, window_queues.c.queue_id)
    .join(window_queues, window_queues.c.window_id == Window.id)
    .where(Window.hall_id == bindparam("hall_id"))
)


def get_hall(session: Session, code: str) -> Hall:
    """The hall with this code, or NotFound."""
    hall = read_one(session, Hall, HALL_BY_CODE, {"code": code})
    if hall is None:
        shown = code if len(code) <= 32 else code[:32] + "…"  # a code is at most 32 characters: no long echo
        raise NotFound(f"no hall with code {shown!r}", zh="没有这个大厅", hall=shown)
    return hall


# The window with its queues in one plain statement (queue columns prefixed q_); the lock is on the window row alone.
_W, _Q = Window.__table__, Queue.__table__
WINDOW_BY_NUMBER = (
    select(_W, *(c.label(f"q_{c.key}") for c in _Q.c))
    .select_from(
        _W.outerjoin(window_queues, window_queues.c.window_id == _W.c.id).outerjoin(
            _Q, _Q.c.id == window_queues.c.queue_id
        )
    )
    .where(_W.c.hall_id == bindparam("hall_id"), _W.c.number == bindparam("number"))
    .order_by(_Q.c.sort)
)
WINDOW_BY_NUMBER_LOCKED = WINDOW_BY_NUMBER.with_for_update(of=_W)


def get_window(session: Session, hall: Hall, number: int, *, lock: bool = False) -> Window:
    """The window with this number in the hall, with its queues, or NotFound."""
    query = WINDOW_BY_NUMBER_LOCKED if lock else WINDOW_BY_NUMBER
    rows = [row._mapping for row in execute(session, query, {"hall_id": hall.id, "number": number})]
    if not rows:
        raise NotFound(f"hall {hall.code} has no window {number}", zh=f"没有 {number} 号窗口", window=number)
    window = adopt(session, Window, {c.key: rows[0][c.key] for c in _W.c})
    if "queues" not in window.__dict__:
        queues = [adopt(session, Queue, {c.key: row[f"q_{c.key}"] for c in _Q.c}) for row in rows if row["q_id"]]
        set_committed_value(window, "queues", queues)
    return window


def get_service(session: Session, hall: Hall, code: str) -> ServiceItem:
    """The active service item with this code in the hall, or NotFound."""
    item = session.scalar(SERVICE_BY_CODE, {"hall_id": hall.id, "code": code})
    if item is None:
        raise NotFound(f"hall {hall.code} has no service {code!r}", zh="没有这个事项", service=code)
    return item


def windows_with_queues(session: Session, hall: Hall) -> list[Window]:
    """All windows of the hall with the queues each serves."""
    return list(
        session.scalars(
            select(Window).where(Window.hall_id == hall.id).options(selectinload(Window.queues)).order_by(Window.number)
        )
    )


def window_states(session: Session, hall_id: int) -> list[tuple[int, str, int]]:
    """(window id, state, queue id) for every window and queue it serves: one light query."""
    return session.execute(WINDOW_STATES, {"hall_id": hall_id}).all()


class HallClosed(Conflict):
    code = "hall_closed"


EVERY_DAY = range(1, 8)


def check_open(hall: Hall, now: datetime) -> None:
    """Walk-in tickets only while the hall is open, when it has opening hours set (none: always open)."""
    hours = hall_settings(hall).opening_hours
    if hours and not rules.is_open(now, hours, EVERY_DAY, hall.timezone):
        raise HallClosed(
            f"{hall.code} gives tickets only during its opening hours ({', '.join(hours)})",
            zh=f"现在不是取号时间，本厅开放时间为 {'、'.join(hours)}",
            opening_hours=", ".join(hours),
        )


def opening(hall: Hall, now: datetime) -> dict:
    """Whether walk-in tickets are given now, the hours, and when that changes (for the kiosk's home screen)."""
    hours = hall_settings(hall).opening_hours
    if not hours:
        return {"hall": hall.code, "hours": [], "open": True, "changes_at": None}
    changes_at = rules.next_change(now, hours, EVERY_DAY, hall.timezone)
    return {
        "hall": hall.code,
        "hours": hours,
        "open": rules.is_open(now, hours, EVERY_DAY, hall.timezone),
        "changes_at": None if changes_at is None else changes_at.astimezone(ZoneInfo(hall.timezone)).isoformat(),
    }
