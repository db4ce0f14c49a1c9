"""Import of service items from CSV or YAML: all rows or none, re-import updates in place."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server.config import ServiceConfig
from queue_server.exceptions import ImportFailed
from queue_server.halls import get_hall, service_fields
from queue_server.models import Queue, ServiceItem
from queue_server.stats.exports import from_csv_cell

COLUMNS = ("code", "name", "queue", "department", "category", "basis", "materials", "time_limit_days", "kind")
KIND_ALIASES = {"即办件": "instant", "承诺件": "promised"}


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) pairs from a CSV (header line 1) or a YAML list."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(text) or []
        if isinstance(data, dict):
            data = data.get("services", [])
        if not isinstance(data, list):
            raise ImportFailed(f"{path}: expected a list of services", zh=f"{path}：应为事项列表")
        lines = _yaml_item_lines(text)
        return [(lines[i] if i < len(lines) else i + 1, row) for i, row in enumerate(data)]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("code", "name", "queue") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed(
            f"{path}: line 1: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}",
            zh=f"{path}：第 1 行：缺少列 {', '.join(missing)}；应为 {', '.join(COLUMNS)}",
        )
    unknown = [c for c in reader.fieldnames or [] if c not in COLUMNS]
    if unknown:
        raise ImportFailed(
            f"{path}: line 1: unknown column(s) {', '.join(unknown)}; expected {', '.join(COLUMNS)}",
            zh=f"{path}：第 1 行：未知的列 {', '.join(unknown)}；应为 {', '.join(COLUMNS)}",
        )
    return [(reader.line_num, dict(row)) for row in reader]


def _yaml_item_lines(text: str) -> list[int]:
    """Line of each item of the service list, from the parser's own marks (nested lists don't count)."""
    node = yaml.compose(text)
    if isinstance(node, yaml.MappingNode):
        node = next((value for key, value in node.value if key.value == "services"), None)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def parse_row(row: dict) -> ServiceConfig:
    """One row of a CSV or YAML import, checked as a service item (a quoted formula-like cell read back as text)."""
    row = {
        k: from_csv_cell(v) if isinstance(v, str) else v
        for k, v in row.items()
        if k is not None and v not in (None, "")
    }
    materials = row.get("materials")
    if isinstance(materials, str):
        row["materials"] = [m.strip() for m in materials.replace("；", ";").split(";") if m.strip()]
    if "kind" in row:
        row["kind"] = KIND_ALIASES.get(str(row["kind"]).strip(), row["kind"])
    return ServiceConfig.model_validate(row)


def import_services(session: Session, hall_code: str, path: str | Path) -> dict[str, int]:
    """Validate every row first, then insert or update; a bad row names its line and nothing is written."""
    path = Path(path)
    if not path.exists():
        raise ImportFailed(f"{path}: file not found", zh=f"{path}：找不到文件")
    hall = get_hall(session, hall_code)
    queues = {q.prefix: q for q in session.scalars(select(Queue).where(Queue.hall_id == hall.id))}
    parsed: dict[str, ServiceConfig] = {}
    for line, row in read_rows(path):
        try:
            item = parse_row(row)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "row"
            raise ImportFailed(
                f"{path}: line {line}: {field}: {err['msg']}",
                zh=f"{path}：第 {line} 行：{field}：{err['msg']}",
                line=line,
            ) from None
        if item.queue not in queues:
            raise ImportFailed(
                f"{path}: line {line}: queue: unknown queue {item.queue!r} in hall {hall_code}; "
                f"use one of {', '.join(queues)}",
                zh=f"{path}：第 {line} 行：队列：大厅 {hall_code} 没有队列 {item.queue}；请用 {', '.join(queues)} 之一",
                line=line,
            )
        if item.code in parsed:
            raise ImportFailed(
                f"{path}: line {line}: code: duplicate code {item.code!r} in the file",
                zh=f"{path}：第 {line} 行：编码：文件中编码 {item.code} 重复",
                line=line,
            )
        parsed[item.code] = item
    existing = {s.code: s for s in session.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id))}
    created = updated = 0
    for code, item in parsed.items():
        fields = service_fields(item)
        if code in existing:
            row = existing[code]
            for key, value in fields.items():
                setattr(row, key, value)
            row.queue_id, row.active = queues[item.queue].id, True
            updated += 1
        else:
            session.add(ServiceItem(hall_id=hall.id, queue_id=queues[item.queue].id, **fields))
            created += 1
    session.flush()
    return {"created": created, "updated": updated}
