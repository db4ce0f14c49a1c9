"""Administration of service items: search, create, edit, disable, and CSV export and import with a preview."""

from __future__ import annotations

import csv
import io

from pydantic import ValidationError
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from queue_server.admin.catalog import COLUMNS, parse_row
from queue_server.admin.service import Outcome, _catalog_events, invalid, record, validated
from queue_server.config import ServiceConfig
from queue_server.core.field_errors import reason
from queue_server.exceptions import Conflict, NotFound, ValidationFailed
from queue_server.halls import service_fields
from queue_server.models import Hall, Queue, ServiceItem, Ticket
from queue_server.staff.permissions import check_manages
from queue_server.stats.exports import csv_cell

FIELDS = ("code", "name", "queue", "department", "category", "basis", "materials", "time_limit_days", "kind")
MAX_ROWS = 5000


def item_view(item: ServiceItem, prefix: str) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "queue": prefix,
        "department": item.department,
        "category": item.category,
        "basis": item.basis,
        "materials": list(item.materials or []),
        "time_limit_days": item.time_limit_days,
        "kind": item.kind,
        "active": item.active,
    }


def _queues(session: Session, hall: Hall) -> dict[str, Queue]:
    return {q.prefix: q for q in session.scalars(select(Queue).where(Queue.hall_id == hall.id).order_by(Queue.sort))}


def get_item(session: Session, hall: Hall, code: str) -> ServiceItem:
    item = session.scalar(select(ServiceItem).where(ServiceItem.hall_id == hall.id, ServiceItem.code == code))
    if item is None:
        raise NotFound(f"no service {code!r} in hall {hall.code}", zh=f"大厅 {hall.code} 没有事项 {code}", service=code)
    return item


def search(
    session: Session, hall: Hall, q: str = "", queue: str = "", state: str = "", limit: int = 50, offset: int = 0
) -> dict:
    """Items matching a name, code, department or pinyin initials, in pages."""
    from queue_server.tickets.routes import initials

    prefixes = {q_.id: q_.prefix for q_ in _queues(session, hall).values()}
    items = list(session.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id).order_by(ServiceItem.code)))
    needle = q.strip().lower()
    if needle:
        items = [
            i
            for i in items
            if needle in i.code.lower()
            or needle in i.name.lower()
            or needle in (i.department or "").lower()
            or initials(i.name).startswith(needle)
        ]
    if queue:
        items = [i for i in items if prefixes.get(i.queue_id) == queue]
    if state in ("active", "disabled"):
        items = [i for i in items if i.active == (state == "active")]
    page = items[offset : offset + limit]
    return {
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "services": [item_view(i, prefixes[i.queue_id]) for i in page],
    }


def _check_queue(queues: dict[str, Queue], prefix: str) -> Queue:
    if prefix not in queues:
        raise invalid(
            "queue",
            f"本大厅没有队列 {prefix!r}；可选 {', '.join(queues) or '（先建队列）'}",
            f"unknown queue {prefix!r}; use {', '.join(queues) or 'a queue created first'}",
        )
    return queues[prefix]


def _form(body: dict) -> dict:
    data = {k: body[k] for k in FIELDS if body.get(k) is not None}
    for name in ("code", "name", "department", "basis"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    if isinstance(data.get("materials"), str):
        data["materials"] = [
            m.strip() for m in data["materials"].replace("；", ";").replace("\n", ";").split(";") if m.strip()
        ]
    return data


def _unique_code(session: Session, hall: Hall, code: str, own_id: int | None = None) -> None:
    other = session.scalar(select(ServiceItem.id).where(ServiceItem.hall_id == hall.id, ServiceItem.code == code))
    if other is not None and other != own_id:
        raise Conflict(f"code: service code {code} exists", zh=f"编码：本大厅已有事项 {code}", field="code")


def create_item(session: Session, user, hall: Hall, body: dict) -> Outcome:
    check_manages(user, hall)
    cfg = validated(ServiceConfig, _form(body))
    queue = _check_queue(_queues(session, hall), cfg.queue)
    _unique_code(session, hall, cfg.code)
    item = ServiceItem(hall_id=hall.id, queue_id=queue.id, active=True, **service_fields(cfg))
    session.add(item)
    session.flush()
    record(
        session,
        user,
        hall.id,
        "service",
        item.code,
        "create",
        {k: [None, v] for k, v in item_view(item, queue.prefix).items()},
    )
    return Outcome(item_view(item, queue.prefix), _catalog_events(hall))


def update_item(session: Session, user, hall: Hall, code: str, body: dict) -> Outcome:
    """Any catalog field, and `active` (disable keeps old tickets readable; the kiosk stops offering it)."""
    check_manages(user, hall)
    item = get_item(session, hall, code)
    queues = _queues(session, hall)
    prefix = next(p for p, q in queues.items() if q.id == item.queue_id)
    before = item_view(item, prefix)
    cfg = validated(ServiceConfig, {**{k: before[k] for k in FIELDS}, **_form(body)})
    queue = _check_queue(queues, cfg.queue)
    _unique_code(session, hall, cfg.code, item.id)
    for name, value in service_fields(cfg).items():
        setattr(item, name, value)
    item.queue_id = queue.id
    if body.get("active") is not None:
        item.active = bool(body["active"])
    after = item_view(item, queue.prefix)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        action = "update" if set(changes) != {"active"} else ("enable" if item.active else "disable")
        record(session, user, hall.id, "service", code, action, changes)
    return Outcome(after, _catalog_events(hall) if changes else [])


def delete_item(session: Session, user, hall: Hall, code: str) -> Outcome:
    """An item no ticket refers to is deleted; otherwise 409 offers disabling it."""
    check_manages(user, hall)
    item = get_item(session, hall, code)
    if session.scalar(select(exists().where(Ticket.service_id == item.id))):
        raise Conflict(
            f"tickets refer to service {code}; disable it instead",
            zh=f"事项 {code} 已有取号记录，不能删除；可以停用",
            field="code",
            disable=True,
        )
    session.delete(item)
    record(session, user, hall.id, "service", code, "delete", {"name": [item.name, None]})
    return Outcome({"deleted": code}, _catalog_events(hall))


# --- CSV ----------------------------------------------------------------------------------------


def export_csv(session: Session, hall: Hall) -> str:
    """Every item of the hall in the import format (materials joined by ';'), UTF-8 with BOM for Excel."""
    prefixes = {q.id: q.prefix for q in _queues(session, hall).values()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in session.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id).order_by(ServiceItem.code)):
        view = item_view(item, prefixes[item.queue_id])
        writer.writerow([csv_cell(";".join(view[c]) if c == "materials" else view[c]) for c in COLUMNS])
    return "\ufeff" + out.getvalue()


def _rows(text: str) -> list[tuple[int, dict]]:
    """(line, row) pairs of a CSV in the import format; a bad header is an error on line 1."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [c.strip() for c in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in ("code", "name", "queue") if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        what = f"缺少列 {', '.join(missing)}" if missing else f"未知列 {', '.join(unknown)}"
        raise ValidationFailed(
            f"line 1: expected columns {', '.join(COLUMNS)}",
            zh=f"第 1 行：{what}；应为 {', '.join(COLUMNS)}",
            field="csv",
            line=1,
        )
    rows = []
    for row in reader:
        if any((v or "").strip() for k, v in row.items() if k is not None):
            rows.append((reader.line_num, dict(row)))
        if len(rows) > MAX_ROWS:
            raise ValidationFailed(f"at most {MAX_ROWS} rows", zh=f"最多 {MAX_ROWS} 行", field="csv")
    return rows


def preview(session: Session, hall: Hall, text: str) -> dict:
    """What an import would do, without writing: new, changed (with old and new values), unchanged, errors."""
    queues = _queues(session, hall)
    prefixes = {q.id: p for p, q in queues.items()}
    existing = {i.code: i for i in session.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id))}
    new, changed, errors, seen, unchanged = [], [], [], {}, 0
    parsed = []
    for line, row in _rows(text):
        extra = row.pop(None, None)
        if extra:
            errors.append(
                {"line": line, "field": "row", "message": "more cells than columns", "message_zh": "列数多于表头"}
            )
            continue
        try:
            cfg = parse_row(row)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err["loc"]) or "row"
            zh = reason(err)[1]
            errors.append(
                {"line": line, "field": name, "message": f"{name}: {err['msg']}", "message_zh": f"{name}：{zh}"}
            )
            continue
        if cfg.queue not in queues:
            errors.append(
                {
                    "line": line,
                    "field": "queue",
                    "message": f"queue: unknown queue {cfg.queue!r}; use one of {', '.join(queues)}",
                    "message_zh": f"queue：本大厅没有队列 {cfg.queue!r}，可选 {', '.join(queues)}",
                }
            )
            continue
        if cfg.code in seen:
            errors.append(
                {
                    "line": line,
                    "field": "code",
                    "message": f"code: duplicate code {cfg.code} in the file (see line {seen[cfg.code]})",
                    "message_zh": f"code：编码 {cfg.code} 与第 {seen[cfg.code]} 行重复",
                }
            )
            continue
        seen[cfg.code] = line
        parsed.append((line, cfg))
    for line, cfg in parsed:
        after = {**service_fields(cfg), "queue": cfg.queue, "active": True}
        item = existing.get(cfg.code)
        if item is None:
            new.append({"line": line, "code": cfg.code, "name": cfg.name, "queue": cfg.queue})
            continue
        before = item_view(item, prefixes[item.queue_id])
        diff = {k: [before[k], v] for k, v in after.items() if before[k] != v}
        if diff:
            changed.append({"line": line, "code": cfg.code, "name": cfg.name, "changes": diff})
        else:
            unchanged += 1
    return {
        "new": new,
        "changed": changed,
        "unchanged": unchanged,
        "errors": errors,
        "rows": len(parsed) + len(errors),
        "_parsed": parsed,
    }


def apply_import(session: Session, user, hall: Hall, text: str) -> Outcome:
    """All rows or none: any error refuses the whole file (422 with every error); else insert and update."""
    check_manages(user, hall)
    result = preview(session, hall, text)
    parsed = result.pop("_parsed")
    if result["errors"]:
        first = result["errors"][0]
        raise ValidationFailed(
            f"line {first['line']}: {first['message']}; the file has {len(result['errors'])} error(s); "
            "nothing was imported",
            zh=f"第 {first['line']} 行：{first['message_zh']}；文件有 {len(result['errors'])} 处错误，未导入任何内容",
            field="csv",
            line=first["line"],
            errors=len(result["errors"]),
        )
    queues = _queues(session, hall)
    existing = {i.code: i for i in session.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id))}
    changed = {c["code"]: c["changes"] for c in result["changed"]}
    for _line, cfg in parsed:
        item = existing.get(cfg.code)
        if item is None:
            session.add(ServiceItem(hall_id=hall.id, queue_id=queues[cfg.queue].id, active=True, **service_fields(cfg)))
            record(
                session,
                user,
                hall.id,
                "service",
                cfg.code,
                "import",
                {"name": [None, cfg.name], "queue": [None, cfg.queue]},
            )
        elif cfg.code in changed:
            for name, value in service_fields(cfg).items():
                setattr(item, name, value)
            item.queue_id, item.active = queues[cfg.queue].id, True
            record(session, user, hall.id, "service", cfg.code, "import", changed[cfg.code])
    session.flush()
    total = session.scalar(select(func.count()).where(ServiceItem.hall_id == hall.id))
    summary = {
        "created": len(result["new"]),
        "updated": len(result["changed"]),
        "unchanged": result["unchanged"],
        "total": total,
    }
    return Outcome(summary, _catalog_events(hall) if result["new"] or result["changed"] else [])
