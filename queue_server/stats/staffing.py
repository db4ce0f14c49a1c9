"""The staffing plan of a day from the hall's history (or the simulated day as a demo), and how the last one did."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server.core import erlang, staffing
from queue_server.core.states import TicketStatus
from queue_server.exceptions import ValidationFailed
from queue_server.hall_settings import hall_settings
from queue_server.models import Hall, Ticket, TicketEvent
from queue_server.stats.data import target_s

HISTORY_DAYS = 8 * 7
SHARE = 0.8  # as the live advice: this share of citizens called within the target wait
SOURCES = ("auto", "history", "simulated")


def history(session: Session, hall: Hall, first: date, last: date) -> list[staffing.Served]:
    """Every ticket of local days first..last: its day, hour of issue and service time."""
    tz = ZoneInfo(hall.timezone)
    rows = session.execute(
        select(Ticket.day, Ticket.issued_at, Ticket.status, Ticket.started_at, Ticket.finished_at).where(
            Ticket.hall_id == hall.id, Ticket.day >= first, Ticket.day <= last
        )
    )
    out = []
    for day, issued, status, started, finished in rows:
        served = status == TicketStatus.DONE.value and started is not None and finished is not None
        out.append(
            staffing.Served(day, issued.astimezone(tz).hour, (finished - started).total_seconds() if served else None)
        )
    return out


def simulated_hours() -> dict[int, tuple[float, float]]:
    """The demo source: the simulated day's arrivals per hour and its mean service time."""
    from queue_server.stats.simulate import DayShape

    shape = DayShape()
    service_s = sum(share * shape.service_minutes[q] * 60 for q, share in shape.queue_mix.items())
    hours: dict[int, float] = defaultdict(float)
    for start, end, per_hour in shape.arrivals:
        a, b = (int(t[:2]) * 60 + int(t[3:]) for t in (start, end))
        hours[a // 60] += per_hour * (b - a) / 60
    return {hour: (arrivals, service_s) for hour, arrivals in sorted(hours.items())}


def day_plan(session: Session, hall: Hall, day: date, source: str = "auto") -> dict:
    """The plan for `day`: forecast arrivals and service per hour, and the windows each hour needs."""
    if source not in SOURCES:
        raise ValidationFailed(
            "source is auto, history or simulated", zh="数据来源只能是 auto、history 或 simulated", field="source"
        )
    default_s = hall_settings(hall).default_service_minutes * 60
    past = history(session, hall, day - timedelta(days=HISTORY_DAYS), day - timedelta(days=1))
    per_hour = staffing.forecast(past, day, default_s) if source != "simulated" else {}
    used = "history" if per_hour else "simulated"
    if not per_hour and source != "history":
        per_hour = simulated_hours()
    basis = staffing.basis_days(past, day) if used == "history" else []
    hours = staffing.plan(per_hour, target_s(hall), SHARE)
    return {
        "hall": hall.code,
        "day": day.isoformat(),
        "weekday": day.isoweekday(),
        "source": used if per_hour else "none",
        "basis_days": [d.isoformat() for d in basis],
        "target_wait_s": target_s(hall),
        "share": SHARE,
        "hours": [h.as_dict() for h in hours],
        "peak_windows": max((h.windows for h in hours), default=0),
    }


def last_plan(session: Session, hall: Hall, before: date) -> dict | None:
    """The plan of the latest day with tickets before `before`, hour by hour against what happened that day."""
    day = session.scalar(
        select(Ticket.day).where(Ticket.hall_id == hall.id, Ticket.day < before).order_by(Ticket.day.desc()).limit(1)
    )
    if day is None:
        return None
    planned = {h["hour"]: h for h in day_plan(session, hall, day)["hours"]}
    happened = staffing.forecast(history(session, hall, day, day), day + timedelta(days=7), 0.0)
    tz = ZoneInfo(hall.timezone)
    used: dict[int, set[int]] = defaultdict(set)
    for at, window_id in session.execute(
        select(TicketEvent.at, TicketEvent.window_id)
        .join(Ticket, Ticket.pk == TicketEvent.ticket_pk)
        .where(Ticket.hall_id == hall.id, Ticket.day == day, TicketEvent.action == "call")
    ):
        used[at.astimezone(tz).hour].add(window_id)
    rows = []
    for hour in sorted(planned.keys() | happened.keys()):
        plan_hour = planned.get(hour, {})
        arrivals, service_s = happened.get(hour, (0.0, 0.0))
        rows.append(
            {
                "hour": hour,
                "forecast_arrivals": plan_hour.get("arrivals"),
                "arrivals": arrivals,
                "planned_windows": plan_hour.get("windows"),
                "windows_used": len(used.get(hour, ())),
                "windows_needed": erlang.windows_needed(arrivals / 3600, service_s, target_s(hall), SHARE)
                if arrivals and service_s
                else 0,
            }
        )
    return {"day": day.isoformat(), "hours": rows}
