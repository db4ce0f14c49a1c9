"""Administration: validated changes to halls, queues and windows, each recorded in the change log.

Every write here runs inside the caller's transaction together with its `AdminChange` row, so a
change and its record are saved together or not at all. Events for the hall's screens are built
here and sent by the caller after the commit.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from queue_server import clock
from queue_server.config import QueueConfig, WindowConfig
from queue_server.core.announcements import LONGEST_TEMPLATE, TemplateError, check_template
from queue_server.core.field_errors import reason
from queue_server.core.states import TicketStatus, WindowState
from queue_server.core.text import printable
from queue_server.exceptions import Conflict, NotFound, ValidationFailed
from queue_server.hall_settings import HOURS, SECRET_MASK, HallSettings, changed, hall_settings, patched, shown
from queue_server.halls import get_window
from queue_server.models import (
    AdminChange,
    Evaluation,
    Hall,
    Queue,
    ServiceItem,
    StaffUser,
    Ticket,
    TicketEvent,
    Window,
    window_queues,
)
from queue_server.realtime.events import Event, hall_room
from queue_server.staff.permissions import Role, check_admin, check_manager, check_manages
from queue_server.tickets import snapshots

LABELS = {
    "poor_rating_reasons": ("差评原因选项", "Poor-rating reasons"),
    "code": ("编码", "code"),
    "name": ("名称", "name"),
    "name_en": ("英文名称", "English name"),
    "timezone": ("时区", "time zone"),
    "prefix": ("前缀", "prefix"),
    "queue": ("队列", "queue"),
    "queues": ("服务队列", "queues"),
    "number": ("窗口号", "window number"),
    "sort": ("顺序", "order"),
    "department": ("受理单位", "department"),
    "category": ("类别", "category"),
    "basis": ("办理依据", "legal basis"),
    "materials": ("所需材料", "materials"),
    "time_limit_days": ("承诺时限", "time limit"),
    "kind": ("办件类型", "kind"),
    "opening_hours": ("开放时间", "opening hours"),
    "notices": ("取号须知", "ticket notices"),
    "voice_zh": ("中文叫号模板", "Chinese voice template"),
    "voice_en": ("英文叫号模板", "English voice template"),
    "rating_days": ("评价期限", "rating period"),
    "no_show_returns": ("过号可重新排队次数", "no-show returns"),
    "aging_minutes": ("等候加权时间", "aging minutes"),
    "default_service_minutes": ("默认办理时长", "default service minutes"),
    "followup_days": ("差评整改期限", "follow-up days"),
    "target_wait_minutes": ("目标等候时间", "target wait"),
    "wait_range_coverage": ("等候区间覆盖率", "wait range coverage"),
    "ticket": ("小票", "ticket"),
    "voice": ("语音叫号", "voice"),
    "appointments": ("预约", "appointments"),
    "remote": ("线上取号", "remote tickets"),
    "notify": ("消息通知", "notifications"),
    "privacy": ("个人信息", "privacy"),
    "limits": ("取号限制", "limits"),
    "call_reasons": ("指定叫号理由", "call reasons"),
    "username": ("用户名", "username"),
    "password": ("密码", "password"),
    "role": ("角色", "role"),
    "hall": ("大厅", "hall"),
    "display_name": ("姓名", "name"),
    "state": ("状态", "state"),
}
HINTS = {
    "prefix": ("应为 1–2 个大写英文字母，如 A 或 AB", "use 1-2 capital letters, e.g. A or AB"),
    "number": ("应为 1–999 的整数", "use a whole number from 1 to 999"),
    "code": ("应为 1–64 个字符", "use 1-64 characters"),
    "category": ("只能是 法人 或 个人", "must be enterprise or individual"),
    "kind": ("只能是 即办件(instant) 或 承诺件(promised)", "must be instant or promised"),
    "time_limit_days": ("应为 0 或更大的整数（天）", "use a whole number of days, 0 or more"),
    "rating_days": ("应为 1–365 的整数（天）", "use a whole number of days from 1 to 365"),
}


def invalid(field_name: str, zh: str, en: str) -> ValidationFailed:
    """A validation error for one field, in English and Chinese, that the page shows next to that field."""
    label = LABELS.get(field_name, (field_name, field_name))
    return ValidationFailed(f"{label[1]}: {en}", zh=f"{label[0]}：{zh}", field=field_name)


def validated(model: type[BaseModel], data: dict, rename: dict | None = None) -> BaseModel:
    """`data` checked by a config model; the first problem becomes a field error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]] or ["body"]
        name = (rename or {}).get(loc[0], loc[0])
        if name in HINTS and err["type"] != "missing":
            raise invalid(name, *HINTS[name]) from None
        en, zh = reason(err)
        raise invalid(name, zh, en) from None


@dataclass
class Outcome:
    """What an admin change returns to the page, and the events the hall's screens need after the commit."""

    data: dict
    events: list[Event] = field(default_factory=list)


# --- who may do what ---------------------------------------------------------------------------


def visible_halls(session: Session, user: StaffUser) -> list[Hall]:
    """The halls this user administers."""
    query = select(Hall).order_by(Hall.id)
    if user.role != Role.ADMIN:
        check_manager(user)
        query = query.where(Hall.id == user.hall_id)
    return list(session.scalars(query))


# --- the change log -----------------------------------------------------------------------------


def record(
    session: Session, user: StaffUser, hall_id: int | None, entity: str, key: object, action: str, changes: dict
) -> AdminChange:
    """Add the change-log row in the same transaction as the change."""
    row = AdminChange(
        at=clock.now(),
        user_id=user.id,
        username=user.username,
        hall_id=hall_id,
        entity=entity,
        entity_key=str(key)[:64],
        action=action,
        changes=changes,
    )
    session.add(row)
    return row


def assign(obj: object, values: dict) -> dict:
    """Set the attributes that differ; {field: [old, new]} of what changed."""
    changes = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [copy.deepcopy(old), copy.deepcopy(value)]
            setattr(obj, name, value)
    return changes


def list_changes(
    session: Session,
    user: StaffUser,
    *,
    hall: Hall | None = None,
    entity: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict:
    """The newest changes first: all for admins, the own hall's for supervisors."""
    check_manager(user)
    query = select(AdminChange, Hall.code).outerjoin(Hall, Hall.id == AdminChange.hall_id)
    if hall is not None:
        check_manages(user, hall)
        query = query.where(AdminChange.hall_id == hall.id)
    elif user.role != "admin":
        query = query.where(AdminChange.hall_id == user.hall_id)
    if entity:
        query = query.where(AdminChange.entity == entity)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(AdminChange.id.desc()).limit(limit).offset(offset))
    return {
        "total": total,
        "changes": [
            {
                "id": c.id,
                "at": c.at.isoformat(timespec="seconds"),
                "user": c.username,
                "hall": code,
                "entity": c.entity,
                "key": c.entity_key,
                "action": c.action,
                "changes": c.changes,
            }
            for c, code in rows
        ],
    }


# --- halls --------------------------------------------------------------------------------------


def hall_view(hall: Hall) -> dict:
    """A hall with its settings: the page's own fields, and every setting under `settings`."""
    s = hall_settings(hall)
    return {
        **snapshots.hall_brief(hall),
        "opening_hours": s.opening_hours,
        "notices": s.ticket.notices,
        "voice_zh": s.voice.templates.get("zh-CN", ""),
        "voice_en": s.voice.templates.get("en", ""),
        "rating_days": s.rating_days,
        "settings": shown(s),
    }


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(
            "timezone",
            f"未知时区 {value!r}，请用 IANA 名称如 Asia/Shanghai",
            f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai",
        ) from None
    return value


def _check_text(name: str, value: str | None, *, required: bool = True, longest: int = 200) -> str:
    value = printable(value or "").strip()
    if required and not value:
        raise invalid(name, "必须填写", "is required")
    if len(value) > longest:
        raise invalid(name, f"最多 {longest} 个字", f"at most {longest} characters")
    return value


def _check_template(name: str, value: str) -> str:
    try:
        return check_template(_check_text(name, value, longest=LONGEST_TEMPLATE))
    except TemplateError as problem:
        raise invalid(name, problem.zh, problem.message) from None


def _check_hours(hours: list[str]) -> list[str]:
    out = []
    for spec in hours:
        spec = spec.strip().replace("－", "-").replace("—", "-")
        if not spec:
            continue
        if not re.match(HOURS, spec):
            raise invalid(
                "opening_hours",
                f"{spec!r} 格式不正确，应写作 09:00-12:00",
                f"{spec!r} is not a time range; write e.g. 09:00-12:00",
            )
        start, end = spec.split("-")
        if end != "24:00" and end <= start:
            raise invalid("opening_hours", f"{spec!r} 结束早于开始", f"{spec!r} ends before it starts")
        out.append(spec)
    return out


def create_hall(session: Session, user: StaffUser, body: dict) -> Outcome:
    """A new hall (admins only), with default behaviour settings; queues and windows are added after."""
    check_admin(user)
    code = str(body.get("code") or "").strip()
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,31}$", code):
        raise invalid(
            "code",
            "应为小写字母、数字、- 或 _，最多 32 位，如 jinxiu",
            "use lower-case letters, digits, - or _, up to 32, e.g. jinxiu",
        )
    if session.scalar(select(Hall.id).where(Hall.code == code)) is not None:
        raise Conflict(f"code: hall {code} already exists", zh=f"编码：大厅 {code} 已存在", field="code")
    name = _check_text("name", body.get("name"))
    timezone = _check_timezone(str(body.get("timezone") or "Asia/Shanghai"))
    hall = Hall(
        code=code,
        name=name,
        name_en=_check_text("name_en", body.get("name_en"), required=False),
        timezone=timezone,
        settings=HallSettings().stored(),  # every setting, at its default, editable at once
    )
    session.add(hall)
    session.flush()
    record(session, user, hall.id, "hall", code, "create", {"name": [None, name], "timezone": [None, timezone]})
    return Outcome(hall_view(hall))


def update_hall(session: Session, user: StaffUser, hall: Hall, body: dict) -> Outcome:
    """Name, time zone and any hall setting (a section such as `limits` patched key by key)."""
    check_manages(user, hall)
    columns: dict = {}
    if "name" in body:
        columns["name"] = _check_text("name", body["name"])
    if "name_en" in body:
        columns["name_en"] = _check_text("name_en", body["name_en"], required=False)
    if "timezone" in body:
        columns["timezone"] = _check_timezone(str(body["timezone"] or ""))
    before = hall_settings(hall)
    after = _patched_settings(session, hall, before, body)
    changes = assign(hall, columns)
    if after != before:
        hall.settings = after.stored()
        changes.update(changed(before, after))
    if changes:
        record(session, user, hall.id, "hall", hall.code, "update", changes)
    room = hall_room(hall.code)
    return Outcome(
        hall_view(hall), [("hall_updated", snapshots.hall_brief(hall), room), ("resync", {}, room)] if changes else []
    )


def _setting_changes(current: HallSettings, body: dict) -> dict:
    """The settings the body sends; the page's own fields (notices, voice_zh…) folded into their sections."""
    changes = {k: copy.deepcopy(body[k]) for k in HallSettings.model_fields if k in body}
    if isinstance(changes.get("opening_hours"), list):
        changes["opening_hours"] = _check_hours([str(h) for h in changes["opening_hours"]])
    if "notices" in body:
        notices = [printable(n).strip() for n in body["notices"] or [] if printable(n).strip()]
        if len(notices) > 6 or any(len(n) > 80 for n in notices):
            raise invalid("notices", "最多 6 行，每行最多 80 个字", "at most 6 lines of 80 characters")
        changes["ticket"] = {**_section(changes, "ticket"), "notices": notices}
    for key, lang in (("voice_zh", "zh-CN"), ("voice_en", "en")):
        if key in body:
            voice = _section(changes, "voice")
            templates = {**current.voice.templates, **(voice.get("templates") or {})}
            changes["voice"] = {**voice, "templates": {**templates, lang: _check_template(key, body[key])}}
    if "rating_days" in body:
        days = body["rating_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
            raise invalid("rating_days", *HINTS["rating_days"])
    notify = changes.get("notify")
    if isinstance(notify, dict) and notify.get("secret") == SECRET_MASK:  # sent back as shown: unchanged
        notify["secret"] = current.notify.secret
    return changes


def _section(changes: dict, name: str) -> dict:
    section = changes.get(name)
    return section if isinstance(section, dict) else {}


def _patched_settings(session: Session, hall: Hall, current: HallSettings, body: dict) -> HallSettings:
    """The hall's settings with the body's changes, checked by the same model as config.yaml; 422 names the field."""
    try:
        new = patched(current, _setting_changes(current, body))
    except ValidationError as exc:
        err = exc.errors()[0]
        problem = (err.get("ctx") or {}).get("error")
        below = getattr(problem, "loc", ())  # a cross-field check knows the field
        name = ".".join(str(p) for p in (*err["loc"], *below)) or "settings"
        if name in HINTS and err["type"] != "missing":
            raise invalid(name, *HINTS[name]) from None
        if getattr(problem, "zh", None):  # the check said it in Chinese too, naming the entry itself
            raise invalid(str(err["loc"][0]) if err["loc"] else name, problem.zh, str(problem)) from None
        en, zh = reason(err)
        raise invalid(name, zh, en) from None
    if new.limits.per_service_per_day != current.limits.per_service_per_day:
        known = set(session.scalars(select(ServiceItem.code).where(ServiceItem.hall_id == hall.id)))
        for code in new.limits.per_service_per_day:
            if code not in known:
                raise invalid(
                    f"limits.per_service_per_day.{code}",
                    "本大厅没有这个事项编码",
                    f"no service item {code!r} in this hall; use a code from its items",
                )
    return new


# --- queues -------------------------------------------------------------------------------------


def queue_view(session: Session, queue: Queue, items: int | None = None) -> dict:
    """A queue with its number of service items (`items` when the caller has counted them already)."""
    if items is None:
        items = session.scalar(select(func.count()).where(ServiceItem.queue_id == queue.id))
    return {"prefix": queue.prefix, "name": queue.name, "name_en": queue.name_en, "sort": queue.sort, "items": items}


def get_queue(session: Session, hall: Hall, prefix: str) -> Queue:
    queue = session.scalar(select(Queue).where(Queue.hall_id == hall.id, Queue.prefix == prefix))
    if queue is None:
        raise NotFound(
            f"no queue {prefix!r} in hall {hall.code}", zh=f"大厅 {hall.code} 没有队列 {prefix}", queue=prefix
        )
    return queue


def list_queues(session: Session, hall: Hall) -> list[dict]:
    counts = dict(
        session.execute(
            select(ServiceItem.queue_id, func.count())
            .where(ServiceItem.hall_id == hall.id)
            .group_by(ServiceItem.queue_id)
        ).all()
    )
    return [
        queue_view(session, q, counts.get(q.id, 0))
        for q in session.scalars(select(Queue).where(Queue.hall_id == hall.id).order_by(Queue.sort, Queue.id))
    ]


def _catalog_events(hall: Hall) -> list[Event]:
    """Kiosks reload the service list; boards and kiosks take a fresh snapshot (queues, counts)."""
    room = hall_room(hall.code)
    return [
        ("services_changed", {"hall": hall.code}, room),
        ("resync", {}, room),
        ("queue_changed", {"hall": hall.code}, room),
    ]


def _unique_prefix(session: Session, hall: Hall, prefix: str, own_id: int | None = None) -> None:
    other = session.scalar(select(Queue.id).where(Queue.hall_id == hall.id, Queue.prefix == prefix))
    if other is not None and other != own_id:
        raise Conflict(
            f"prefix: queue prefix {prefix} is taken in this hall", zh=f"前缀：本大厅已有队列 {prefix}", field="prefix"
        )


def create_queue(session: Session, user: StaffUser, hall: Hall, body: dict) -> Outcome:
    check_manages(user, hall)
    cfg = validated(QueueConfig, {k: body[k] for k in ("prefix", "name", "name_en") if body.get(k) is not None})
    _check_text("name", cfg.name)
    _unique_prefix(session, hall, cfg.prefix)
    last = session.scalar(select(func.max(Queue.sort)).where(Queue.hall_id == hall.id))
    queue = Queue(
        hall_id=hall.id,
        prefix=cfg.prefix,
        name=cfg.name.strip(),
        name_en=cfg.name_en.strip(),
        sort=(last if last is not None else -1) + 1,
    )
    session.add(queue)
    session.flush()
    record(
        session,
        user,
        hall.id,
        "queue",
        queue.prefix,
        "create",
        {"prefix": [None, queue.prefix], "name": [None, queue.name], "sort": [None, queue.sort]},
    )
    return Outcome(queue_view(session, queue), _catalog_events(hall))


def update_queue(session: Session, user: StaffUser, hall: Hall, prefix: str, body: dict) -> Outcome:
    check_manages(user, hall)
    queue = get_queue(session, hall, prefix)
    merged = {
        "prefix": queue.prefix,
        "name": queue.name,
        "name_en": queue.name_en,
        **{k: body[k] for k in ("prefix", "name", "name_en") if body.get(k) is not None},
    }
    cfg = validated(QueueConfig, merged)
    _check_text("name", cfg.name)
    _unique_prefix(session, hall, cfg.prefix, queue.id)
    values = {"prefix": cfg.prefix, "name": cfg.name.strip(), "name_en": cfg.name_en.strip()}
    if body.get("sort") is not None:
        if not isinstance(body["sort"], int) or body["sort"] < 0:
            raise invalid("sort", "应为 0 或更大的整数", "use a whole number, 0 or more")
        values["sort"] = body["sort"]
    changes = assign(queue, values)
    if changes:
        record(session, user, hall.id, "queue", prefix, "update", changes)
    return Outcome(queue_view(session, queue), _catalog_events(hall) if changes else [])


def order_queues(session: Session, user: StaffUser, hall: Hall, prefixes: list[str]) -> Outcome:
    """Put the hall's queues in this order (the kiosk and board show them so)."""
    check_manages(user, hall)
    queues = {q.prefix: q for q in session.scalars(select(Queue).where(Queue.hall_id == hall.id))}
    if sorted(prefixes) != sorted(queues):
        raise invalid("queues", "须列出本大厅的每个队列各一次", "list every queue of the hall exactly once")
    before = [q.prefix for q in sorted(queues.values(), key=lambda q: (q.sort, q.id))]
    for sort, prefix in enumerate(prefixes):
        queues[prefix].sort = sort
    if before != prefixes:
        record(session, user, hall.id, "queue", "*", "reorder", {"order": [before, prefixes]})
    return Outcome({"queues": list_queues(session, hall)}, _catalog_events(hall) if before != prefixes else [])


def delete_queue(session: Session, user: StaffUser, hall: Hall, prefix: str) -> Outcome:
    """Only a queue without items and without tickets can go; otherwise 409 says why."""
    check_manages(user, hall)
    queue = get_queue(session, hall, prefix)
    items = session.scalar(select(func.count()).where(ServiceItem.queue_id == queue.id))
    if items:
        raise Conflict(
            f"queue {prefix} still has {items} service items; move or delete them first",
            zh=f"队列 {prefix} 下还有 {items} 个事项，请先把事项移到其他队列或删除",
            field="prefix",
        )
    if session.scalar(select(exists().where(Ticket.queue_id == queue.id))):
        raise Conflict(
            f"tickets refer to queue {prefix}; it cannot be deleted (rename it instead)",
            zh=f"队列 {prefix} 已有取号记录，不能删除；可改名继续使用",
            field="prefix",
        )
    session.execute(delete(window_queues).where(window_queues.c.queue_id == queue.id))
    session.delete(queue)
    record(session, user, hall.id, "queue", prefix, "delete", {"name": [queue.name, None]})
    return Outcome({"deleted": prefix}, _catalog_events(hall))


# --- windows ------------------------------------------------------------------------------------


def window_view(window: Window) -> dict:
    return {
        "number": window.number,
        "name": window.name,
        "name_en": window.name_en,
        "state": window.state,
        "active": window.active,
        "queues": [q.prefix for q in window.queues],
        "busy": window.ticket_id is not None,
    }


def list_windows(session: Session, hall: Hall) -> list[dict]:
    return [
        window_view(w)
        for w in session.scalars(
            select(Window).where(Window.hall_id == hall.id).options(selectinload(Window.queues)).order_by(Window.number)
        )
    ]


def _served(session: Session, hall: Hall, prefixes: list[str]) -> list[Queue]:
    queues = {
        q.prefix: q
        for q in session.scalars(select(Queue).where(Queue.hall_id == hall.id).order_by(Queue.sort, Queue.id))
    }
    if prefixes == ["all"]:
        return list(queues.values())
    unknown = [p for p in prefixes if p not in queues]
    if unknown:
        raise invalid(
            "queues",
            f"本大厅没有队列 {', '.join(unknown)}；可选 {', '.join(queues) or '（先建队列）'}",
            f"unknown queue {', '.join(unknown)}; use {', '.join(queues) or 'a queue created first'}",
        )
    if not prefixes:
        raise invalid("queues", "至少选择一个队列", "choose at least one queue")
    return [queues[p] for p in dict.fromkeys(prefixes)]


def _unique_number(session: Session, hall: Hall, number: int, own_id: int | None = None) -> None:
    other = session.scalar(select(Window.id).where(Window.hall_id == hall.id, Window.number == number))
    if other is not None and other != own_id:
        raise Conflict(f"number: window {number} exists", zh=f"窗口号：本大厅已有 {number} 号窗口", field="number")


def _window_events(session: Session, hall: Hall, window: Window) -> list[Event]:
    room = hall_room(hall.code)
    return [
        ("window_updated", snapshots.window_public(session, window), room),
        ("queue_changed", {"hall": hall.code}, room),
    ]


def create_window(session: Session, user: StaffUser, hall: Hall, body: dict) -> Outcome:
    check_manages(user, hall)
    cfg = validated(
        WindowConfig, {k: body[k] for k in ("number", "name", "name_en", "queues") if body.get(k) is not None}
    )
    _check_text("name", cfg.name)
    _unique_number(session, hall, cfg.number)
    served = _served(session, hall, ["all"] if cfg.queues == "all" else cfg.queues)
    window = Window(
        hall_id=hall.id,
        number=cfg.number,
        name=cfg.name.strip(),
        name_en=cfg.name_en.strip(),
        queues=served,
        state=WindowState.CLOSED.value,
        active=True,
    )
    session.add(window)
    session.flush()
    record(
        session,
        user,
        hall.id,
        "window",
        window.number,
        "create",
        {"name": [None, window.name], "queues": [None, [q.prefix for q in served]]},
    )
    return Outcome(window_view(window), _window_events(session, hall, window))


def update_window(session: Session, user: StaffUser, hall: Hall, number: int, body: dict) -> Outcome:
    """Name, number, queues served, open/closed, enabled/disabled; queue changes apply from the next call."""
    check_manages(user, hall)
    window = get_window(session, hall, number, lock=True)
    merged = {
        "number": window.number,
        "name": window.name,
        "name_en": window.name_en,
        **{k: body[k] for k in ("number", "name", "name_en") if body.get(k) is not None},
    }
    cfg = validated(WindowConfig, merged)
    _check_text("name", cfg.name)
    _unique_number(session, hall, cfg.number, window.id)
    values: dict = {"number": cfg.number, "name": cfg.name.strip(), "name_en": cfg.name_en.strip()}
    active = body.get("active")
    if active is not None:
        values["active"] = bool(active)
    state = body.get("state")
    if active is False:
        state = WindowState.CLOSED.value
    if state is not None:
        if state not in (WindowState.OPEN, WindowState.CLOSED):
            raise invalid("state", "只能是 开放(open) 或 关闭(closed)", "must be open or closed")
        if state == WindowState.OPEN and not values.get("active", window.active):
            raise invalid("state", "窗口已停用，请先启用", "the window is disabled; enable it first")
        if state == WindowState.CLOSED and window.state != WindowState.CLOSED and window.ticket_id is not None:
            current = session.scalar(select(Ticket.number).where(Ticket.id == window.ticket_id))
            raise Conflict(
                f"window {window.number} still has ticket {current}; finish, hold or transfer it first",
                zh=f"窗口上还有 {current} 号，请先办结、挂起或转出再关闭",
                field="state",
            )
        if state != window.state:
            values["state"] = state
            if state == WindowState.CLOSED:
                values["clerk_id"] = None
    changes = assign(window, values)
    changes.pop("clerk_id", None)
    if changes.get("active") == [True, False]:
        _requeue_aimed_at(session, window)
    if body.get("queues") is not None:
        prefixes = body["queues"] if isinstance(body["queues"], list) else [body["queues"]]
        served = _served(session, hall, [str(p) for p in prefixes])
        old = [q.prefix for q in window.queues]
        if old != [q.prefix for q in served]:
            window.queues = served
            changes["queues"] = [old, [q.prefix for q in served]]
    if changes:
        record(session, user, hall.id, "window", number, "update", changes)
    session.flush()
    events = _window_events(session, hall, window) if changes else []
    if "active" in changes or "number" in changes:
        events.append(("resync", {}, hall_room(hall.code)))
    return Outcome(window_view(window), events)


def _requeue_aimed_at(session: Session, window: Window) -> None:
    """A disabled window calls nobody: tickets sent to it go back to their service's line, same place."""
    from queue_server import clock
    from queue_server.tickets.service import record as record_history

    now = clock.now()
    aimed = session.scalars(
        select(Ticket)
        .where(Ticket.target_window_id == window.id, Ticket.status == TicketStatus.WAITING)
        .with_for_update()
    )
    for ticket in aimed:
        ticket.target_window_id = None
        record_history(
            session,
            ticket,
            "requeue",
            ticket.status,
            now=now,
            data={"reason": "window_disabled", "from_window": window.number},
        )


def delete_window(session: Session, user: StaffUser, hall: Hall, number: int) -> Outcome:
    """A window that no ticket, call or rating refers to is deleted; otherwise 409 offers disabling it."""
    check_manages(user, hall)
    window = get_window(session, hall, number, lock=True)
    wid = window.id
    used = (
        session.scalar(select(exists().where(or_(Ticket.window_id == wid, Ticket.target_window_id == wid))))
        or session.scalar(select(exists().where(TicketEvent.window_id == wid)))
        or session.scalar(select(exists().where(Evaluation.window_id == wid)))
    )
    if used:
        raise Conflict(
            f"tickets refer to window {number}; disable it instead",
            zh=f"{number} 号窗口已有办件记录，不能删除；可以停用",
            field="number",
            disable=True,
        )
    session.delete(window)
    record(session, user, hall.id, "window", number, "delete", {"name": [window.name, None]})
    return Outcome({"deleted": number}, [("resync", {}, hall_room(hall.code))])
