"""Statistics, exports, rating follow-ups, case IDs and the window's rating screen, under /api/v1."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Blueprint, Response, request
from pydantic import Field
from sqlalchemy import select

from queue_server import clock
from queue_server.core.states import TicketStatus
from queue_server.db import transaction
from queue_server.exceptions import IllegalTransition, ValidationFailed
from queue_server.halls import get_hall, get_window
from queue_server.models import Evaluation, Hall, StaffUser, Ticket
from queue_server.ratings import followups
from queue_server.ratings.evaluations import evaluate
from queue_server.runtime import current
from queue_server.staff import access, permissions
from queue_server.staff.identity import staff_names
from queue_server.stats import data as stats_data
from queue_server.stats import exports, staffing
from queue_server.tickets import routes as public
from queue_server.tickets import service as tickets
from queue_server.tickets import windows
from queue_server.tickets.snapshots import iso
from queue_server.web.openapi import Api
from queue_server.web.schemas import EvaluationRequest, EvaluationResponse, Request

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1")
api = Api(bp, "/api/v1")
# One OpenAPI document: these routes are listed with the public API's.

RATING_SCREEN_MINUTES = 10  # the tablet rates the window's last ticket only while the citizen is still there
CASE_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-./]{0,63}$")


class CaseRequest(Request):
    case_id: str = Field(min_length=1, max_length=64, description="办件编号 from the department's system")
    number: str | None = Field(
        None, max_length=16, description="ticket number (default: the window's current or last ticket)"
    )


class FollowUpUpdate(Request):
    assignee: str | None = Field(None, max_length=100, description="who handles it")
    action: str | None = Field(None, max_length=2000, description="what has been done")


class FollowUpClose(Request):
    action: str = Field(min_length=1, max_length=2000, description="what was done (required to close)")
    assignee: str | None = Field(None, max_length=100)


def supervisor(session, hall: Hall) -> StaffUser:
    """The signed-in supervisor of this hall, or an admin; 403 for anyone else."""
    user = public.staff_user(session)
    permissions.check_manages(user, hall)
    return user


def _range(hall: Hall):
    return stats_data.parse_range(request.args.get("from"), request.args.get("to"), stats_data.local_today(hall))


def _file(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@api.route(
    "/halls/<hall>/stats",
    "GET",
    auth=True,
    tag="supervisor",
    summary="Hall statistics for local days ?from=YYYY-MM-DD&to=YYYY-MM-DD (default today)",
)
def hall_stats(hall: str):
    """Counts, waits, service times, satisfaction and estimate error, overall and per queue, item, window, clerk, hour."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        first, last = _range(h)
        return stats_data.compute(s, h, first, last)


@api.route(
    "/halls/<hall>/stats/live",
    "GET",
    auth=True,
    tag="supervisor",
    summary="The hall now: waiting, longest wait, open windows, and how many windows the target needs",
)
def hall_live(hall: str):
    """The live panel and the Erlang C advice."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        return stats_data.live(s, h)


@api.route(
    "/halls/<hall>/stats/export",
    "GET",
    auth=True,
    tag="supervisor",
    summary="Statistics as a file: ?format=csv|xlsx&from=&to=",
)
def export_stats(hall: str):
    """Download the statistics as CSV (one long table) or XLSX (one sheet per table)."""
    fmt = _table_format()
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        first, last = _range(h)
        figures = stats_data.compute(s, h, first, last)
    name = f"stats-{h.code}-{first.isoformat()}-{last.isoformat()}.{fmt}"
    return _tables_file(fmt, exports.tables(figures), f"{h.name} {first}–{last}", name)


def _table_format() -> str:
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed("format is csv or xlsx", zh="格式只能是 csv 或 xlsx", field="format")
    return fmt


def _tables_file(fmt: str, named: list, title: str, name: str) -> Response:
    """Tables as a CSV (one long table) or an XLSX (one sheet per table) download."""
    if fmt == "csv":
        return _file(exports.tables_csv(named), "text/csv; charset=utf-8", name)
    return _file(
        exports.tables_xlsx(named, title), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name
    )


def _plan(s, h: Hall) -> tuple[dict, dict | None]:
    """The plan for ?day= (default tomorrow, the hall's) from ?source=, and the last plan against what happened."""
    try:
        day = date.fromisoformat(request.args["day"]) if request.args.get("day") else None
    except ValueError:
        raise ValidationFailed("day is a date such as 2026-03-03", zh="日期格式应如 2026-03-03", field="day") from None
    today = stats_data.local_today(h)
    day = day or today + timedelta(days=1)
    if abs((day - today).days) > 366:
        raise ValidationFailed("plan a day within a year of today", zh="只能查看一年以内的排班计划", field="day")
    plan = staffing.day_plan(s, h, day, request.args.get("source", "auto"))
    return plan, staffing.last_plan(s, h, min(day, today + timedelta(days=1)))


@api.route(
    "/halls/<hall>/stats/plan",
    "GET",
    auth=True,
    tag="supervisor",
    summary="Staffing plan of a day (?day=YYYY-MM-DD, default tomorrow; ?source=auto|history|simulated) and the last plan",
)
def staffing_plan(hall: str):
    """Forecast arrivals and service per hour, windows needed for the target wait, and how the last plan did."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        plan, last = _plan(s, h)
        return {**plan, "last": last}


@api.route(
    "/halls/<hall>/stats/plan/export",
    "GET",
    auth=True,
    tag="supervisor",
    summary="The staffing plan as a file: ?format=csv|xlsx&day=&source=",
)
def export_plan(hall: str):
    """Download the staffing plan (and the last plan against what happened) as CSV or XLSX."""
    fmt = _table_format()
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        plan, last = _plan(s, h)
    name = f"plan-{h.code}-{plan['day']}.{fmt}"
    return _tables_file(fmt, exports.plan_tables(plan, last), f"{h.name} {plan['day']}", name)


@api.route(
    "/halls/<hall>/ratings/export",
    "GET",
    auth=True,
    tag="supervisor",
    summary="Ratings with case IDs for the provincial rating platform: ?format=csv|xlsx|json&from=&to=",
)
def export_ratings(hall: str):
    """One row per rated ticket (and per ticket defaulted to 基本满意), with its case ID."""
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx", "json"):
        raise ValidationFailed("format is csv, xlsx or json", zh="格式只能是 csv、xlsx 或 json", field="format")
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        first, last = _range(h)
        rows = stats_data.rating_rows(s, h, first, last)
    name = f"ratings-{h.code}-{first.isoformat()}-{last.isoformat()}.{fmt}"
    if fmt == "csv":
        return _file(exports.ratings_csv(rows), "text/csv; charset=utf-8", name)
    if fmt == "xlsx":
        title = f"{h.name} {first}–{last}"
        return _file(
            exports.ratings_xlsx(rows, title), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name
        )
    return _file(exports.ratings_json(h.code, first.isoformat(), last.isoformat(), rows), "application/json", name)


@api.route(
    "/halls/<hall>/followups",
    "GET",
    auth=True,
    tag="supervisor",
    summary="Follow-ups of poor ratings: ?state=open|overdue|closed|all (default open)",
)
def list_followups(hall: str):
    """The hall's follow-ups, earliest deadline first, overdue ones marked."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        items = followups.listing(s, h, request.args.get("state", "open"))
        names = staff_names(s)
        return {"hall": h.code, "followups": [followups.as_dict(i, names.get(i.closed_by)) for i in items]}


@api.route(
    "/halls/<hall>/followups/<int:followup_id>",
    "POST",
    body=FollowUpUpdate,
    auth=True,
    tag="supervisor",
    summary="Record who handles a follow-up and what has been done",
)
def update_followup(hall: str, followup_id: int, body: FollowUpUpdate):
    """Note progress on an open follow-up."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        supervisor(s, h)
        item = followups.update(followups.get(s, h, followup_id), body.assignee, body.action)
        return followups.as_dict(item)


@api.route(
    "/halls/<hall>/followups/<int:followup_id>/close",
    "POST",
    body=FollowUpClose,
    auth=True,
    tag="supervisor",
    summary="Close a follow-up with what was done",
)
def close_followup(hall: str, followup_id: int, body: FollowUpClose):
    """A supervisor closes the follow-up; who and when are kept."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        user = supervisor(s, h)
        item = followups.close(followups.get(s, h, followup_id), user, body.action, body.assignee)
        return followups.as_dict(item, staff_names(s)[user.id])


@api.route(
    "/halls/<hall>/windows/<int:window>/case",
    "POST",
    body=CaseRequest,
    auth=True,
    tag="staff",
    summary="Set the case ID (办件编号) of the window's current or last ticket",
)
def set_case_id(hall: str, window: int, body: CaseRequest):
    """The clerk links the ticket to the department's case, for the rating platform."""
    case_id = body.case_id.strip()
    if not CASE_ID.match(case_id):
        raise ValidationFailed(
            "a case ID has letters, digits and - _ . / only", zh="办件编号只能包含字母、数字和 - _ . /", field="case_id"
        )
    with transaction(current().factory) as s:
        user = public.staff_user(s)
        h = get_hall(s, hall)
        w = get_window(s, h, window)
        windows.check_clerk(s, h, w, user, "case")
        ticket = _case_ticket(s, h, w, body.number)
        ticket.case_id = case_id
        tickets.record(
            s, ticket, "case_id", ticket.status, now=clock.now(), window=w, user=user, data={"case_id": case_id}
        )
        return {"ticket": ticket.number, "case_id": case_id, "status": ticket.status}


def _case_ticket(session, hall: Hall, window, number: str | None) -> Ticket:
    if number:
        ticket = tickets.find_by_number(session, hall, number)
        if ticket.window_id != window.id:
            raise IllegalTransition(
                f"ticket {ticket.number} was not served at window {window.number}",
                zh=f"{ticket.number} 号不是在 {window.number} 号窗口办理的",
                status=ticket.status,
            )
        return ticket
    if window.ticket_id:
        return tickets.get_ticket(session, window.ticket_id)
    last = session.scalar(
        select(Ticket)
        .where(Ticket.window_id == window.id, Ticket.finished_at.is_not(None))
        .order_by(Ticket.finished_at.desc())
        .limit(1)
    )
    if last is None:
        raise IllegalTransition(
            f"window {window.number} has no current or finished ticket",
            zh=f"{window.number} 号窗口没有正在办理或已办结的号",
            status="none",
        )
    return last


def _to_rate(session, window) -> Ticket | None:
    """The window's last finished ticket while the citizen may still be at the window, if unrated."""
    since = clock.now() - timedelta(minutes=RATING_SCREEN_MINUTES)
    ticket = session.scalar(
        select(Ticket)
        .where(Ticket.window_id == window.id, Ticket.status == TicketStatus.DONE, Ticket.finished_at >= since)
        .order_by(Ticket.finished_at.desc())
        .limit(1)
    )
    if ticket is None or session.scalar(select(Evaluation.id).where(Evaluation.ticket_pk == ticket.pk)):
        return None
    return ticket


@api.route(
    "/halls/<hall>/windows/<int:window>/rating",
    "GET",
    responses={200: None, 204: None},
    summary="The ticket the window's rating screen may rate now (204 when none)",
)
def pending_rating(hall: str, window: int):
    """The window's rating tablet asks whether there is a service to rate."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        ticket = _to_rate(s, get_window(s, h, window))
        if ticket is None:
            return "", 204
        return {
            "number": ticket.number,
            "service": ticket.service.name,
            "window": window,
            "finished_at": iso(ticket.finished_at, h.timezone),
        }


@api.route(
    "/halls/<hall>/windows/<int:window>/rating",
    "POST",
    body=EvaluationRequest,
    responses={201: EvaluationResponse},
    summary="Rate the window's last finished ticket (the window's registered rating pad)",
    limit="rating",
)
def rate_at_window(hall: str, window: int, body: EvaluationRequest):
    """The citizen rates on the tablet facing them, just after the clerk finished."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        access.hall_device(s, h.id, "rating", window)
        ticket = _to_rate(s, get_window(s, h, window))
        if ticket is None:
            raise IllegalTransition(
                f"window {window} has no finished ticket to rate now",
                zh=f"{window} 号窗口现在没有可评价的已办结号",
                status="none",
            )
        return evaluate(s, ticket, body.score, body.comment, body.reasons), 201
