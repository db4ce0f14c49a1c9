"""Reading the statistics' facts from the database: tickets of a date range, their history, ratings, the hall now."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.core import erlang
from queue_server.core.estimate import recent_service_time
from queue_server.core.numbering import parse_number
from queue_server.core.states import TicketStatus, WindowState
from queue_server.hall_settings import hall_settings
from queue_server.models import Evaluation, Hall, Queue, ServiceItem, StaffUser, Ticket, TicketEvent, Window
from queue_server.ratings.evaluations import LABELS
from queue_server.staff.identity import names_by_username, staff_names
from queue_server.stats import service as stats
from queue_server.tickets.snapshots import iso

ARRIVAL_WINDOW = timedelta(hours=1)
SERVICE_HISTORY = 50


def target_s(hall: Hall) -> float:
    return hall_settings(hall).target_wait_minutes * 60


def rating_period(hall: Hall) -> timedelta:
    return timedelta(days=hall_settings(hall).rating_days)


def hall_tickets(session: Session, hall: Hall, first: date, last: date, clerk_id: int | None = None) -> list[Ticket]:
    """Tickets issued on local days first..last; with `clerk_id`, only those that staff member acted on."""
    query = select(Ticket).where(Ticket.hall_id == hall.id, Ticket.day >= first, Ticket.day <= last)
    if clerk_id is not None:
        query = query.where(
            select(TicketEvent.id).where(TicketEvent.ticket_pk == Ticket.pk, TicketEvent.user_id == clerk_id).exists()
        )
    return list(session.scalars(query.order_by(Ticket.pk)))


def facts(
    session: Session, hall: Hall, first: date, last: date, clerk_id: int | None = None
) -> tuple[list, list, list, int]:
    """Tickets issued on local days first..last with their events and ratings (defaults included)."""
    rows = hall_tickets(session, hall, first, last, clerk_id)
    queues = {q.prefix: q.name for q in session.scalars(select(Queue).where(Queue.hall_id == hall.id))}
    services = {s.id: s for s in session.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id))}
    tickets = []
    for t in rows:
        prefix = parse_number(t.number)[0]
        item = services[t.service_id]
        tickets.append(
            stats.TicketFacts(
                t.pk,
                t.number,
                prefix,
                queues.get(prefix, prefix),
                item.code,
                item.name,
                t.issued_at,
                t.quoted_low_s,
                t.quoted_high_s,
            )
        )
    pks = [t.pk for t in rows]
    windows = dict(session.execute(select(Window.id, Window.number).where(Window.hall_id == hall.id)).all())
    users = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
    events = []
    for chunk in _chunks(pks):
        for ev in session.scalars(select(TicketEvent).where(TicketEvent.ticket_pk.in_(chunk))):
            events.append(
                stats.EventFacts(
                    ev.ticket_pk, ev.action, ev.to_status, ev.at, windows.get(ev.window_id), users.get(ev.user_id)
                )
            )
    ratings, pending = ratings_of(session, hall, rows)
    return tickets, events, ratings, pending


def ratings_of(session: Session, hall: Hall, rows: list[Ticket]) -> tuple[list[stats.RatingFacts], int]:
    """Ratings of finished tickets; those past the period unrated count as 基本满意, marked defaulted."""
    given = evaluations_of(session, rows)
    now, period = clock.now(), rating_period(hall)
    out, pending = [], 0
    for t in rows:
        if t.pk in given:
            out.append(stats.RatingFacts(t.pk, given[t.pk].score))
        elif t.status == TicketStatus.DONE.value and t.finished_at is not None:
            if now - t.finished_at > period:
                out.append(stats.RatingFacts(t.pk, stats.DEFAULT_SCORE, defaulted=True))
            else:
                pending += 1
    return out, pending


def evaluations_of(session: Session, rows: list[Ticket]) -> dict[int, Evaluation]:
    given: dict[int, Evaluation] = {}
    for chunk in _chunks([t.pk for t in rows]):
        given.update(
            {e.ticket_pk: e for e in session.scalars(select(Evaluation).where(Evaluation.ticket_pk.in_(chunk)))}
        )
    return given


def compute(session: Session, hall: Hall, first: date, last: date, clerk_id: int | None = None) -> dict:
    """The hall's statistics for local days first..last (with `clerk_id`: over the tickets that clerk
    acted on, all their events kept, so the clerk's own row is the same as in the whole hall's)."""
    tickets, events, ratings, pending = facts(session, hall, first, last, clerk_id)
    figures = stats.compute(
        tickets,
        events,
        ratings,
        timezone=hall.timezone,
        target_s=target_s(hall),
        pending_ratings=pending,
        coverage=hall_settings(hall).wait_range_coverage,
    )
    names = names_by_username(session)
    for row in figures["by_clerk"]:  # keyed by account; people read the display name
        row["name"] = names.get(row["key"], row["key"])
    return {"hall": hall.code, "from": first.isoformat(), "to": last.isoformat(), **figures}


def rating_rows(session: Session, hall: Hall, first: date, last: date) -> list[dict]:
    """One row per rated or defaulted ticket, with its case ID, for the provincial rating platform."""
    rows = hall_tickets(session, hall, first, last)
    ratings, _pending = ratings_of(session, hall, rows)
    by_pk = {t.pk: t for t in rows}
    given = evaluations_of(session, rows)
    services = {s.id: s for s in session.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id))}
    windows = dict(session.execute(select(Window.id, Window.number).where(Window.hall_id == hall.id)).all())
    users = staff_names(session)
    out = []
    for r in ratings:
        t, e = by_pk[r.ticket_pk], given.get(r.ticket_pk)
        item = services[t.service_id]
        out.append(
            {
                "case_id": t.case_id or "",
                "hall": hall.code,
                "ticket": t.number,
                "day": t.day.isoformat(),
                "service_code": item.code,
                "service_name": item.name,
                "department": item.department,
                "window": windows.get(t.window_id),
                "clerk": users.get(t.clerk_id) or "",
                "finished_at": iso(t.finished_at, hall.timezone),
                "score": r.score,
                "label": LABELS[r.score],
                "comment": e.comment if e else "",
                "rated_at": iso(e.at, hall.timezone) if e else "",
                "defaulted": r.defaulted,
                "reasons": (e.reasons or []) if e else [],
            }
        )
    return out


def live(session: Session, hall: Hall) -> dict:
    """The hall now: waiting, longest wait, open windows, and the Erlang C advice on windows."""
    now = clock.now()
    waiting = session.execute(
        select(func.count(), func.min(Ticket.issued_at)).where(
            Ticket.hall_id == hall.id, Ticket.status == TicketStatus.WAITING.value
        )
    ).one()
    count, oldest = waiting
    windows = list(session.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number)))
    open_windows = [w for w in windows if w.state == WindowState.OPEN]
    arrivals = session.scalar(
        select(func.count()).where(
            TicketEvent.hall_id == hall.id, TicketEvent.action == "issue", TicketEvent.at > now - ARRIVAL_WINDOW
        )
    )
    default_s = hall_settings(hall).default_service_minutes * 60
    service_s = recent_service_time(hall_durations(session, hall), default_s)
    advice = erlang.advise(
        arrivals * 3600 / ARRIVAL_WINDOW.total_seconds(), service_s, len(open_windows), count, target_s(hall)
    )
    return {
        "hall": hall.code,
        "at": iso(now, hall.timezone),
        "waiting": count,
        "longest_wait_s": round((now - oldest).total_seconds()) if oldest else 0,
        "windows_open": len(open_windows),
        "windows_paused": sum(1 for w in windows if w.state == WindowState.PAUSED),
        "windows": [{"number": w.number, "state": w.state, "busy": w.ticket_id is not None} for w in windows],
        "advice": advice.as_dict(),
    }


def hall_durations(session: Session, hall: Hall) -> list[float]:
    """Service times of the hall's latest finished tickets, newest first."""
    rows = session.execute(
        select(Ticket.started_at, Ticket.finished_at)
        .where(Ticket.hall_id == hall.id, Ticket.status == TicketStatus.DONE.value, Ticket.started_at.is_not(None))
        .order_by(Ticket.finished_at.desc())
        .limit(SERVICE_HISTORY)
    )
    return [(end - start).total_seconds() for start, end in rows]


def _chunks(values: list, size: int = 500):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def parse_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """from/to query values (YYYY-MM-DD, inclusive); today when absent."""
    from queue_server.exceptions import ValidationFailed

    try:
        a = date.fromisoformat(first) if first else today
        b = date.fromisoformat(last) if last else (a if first else today)
    except ValueError:
        raise ValidationFailed(
            "from and to are dates such as 2026-03-02", zh="起止日期格式应如 2026-03-02", field="from"
        ) from None
    if b < a:
        raise ValidationFailed("to is before from", zh="结束日期早于开始日期", field="to")
    if (b - a).days > 366:
        raise ValidationFailed("ask for at most a year at a time", zh="一次最多查询一年", field="to")
    return a, b


def local_today(hall: Hall) -> date:
    from queue_server.core.numbering import local_day

    return local_day(clock.now(), hall.timezone)
