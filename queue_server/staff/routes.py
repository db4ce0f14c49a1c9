"""Staff API: own account, supervisors' hall management, admins' users and devices; and, public, who
serves at a window (亮身份: what its screen shows)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import aliased

from queue_server import clock
from queue_server.db import transaction
from queue_server.exceptions import Unauthorized, ValidationFailed
from queue_server.halls import get_hall, get_window
from queue_server.models import Hall, StaffUser, Ticket, TicketEvent, Window
from queue_server.realtime.sockets import events_for, publish
from queue_server.runtime import current
from queue_server.staff import access, devices, identity, permissions
from queue_server.staff.auth import change_password, check_password
from queue_server.tickets import desk, snapshots, windows
from queue_server.tickets import service as tickets
from queue_server.tickets.routes import staff_user, user_brief
from queue_server.web import schemas as sc
from queue_server.web.openapi import Api

bp = Blueprint("staff_api", __name__, url_prefix="/api/v1")
api = Api(bp, "/api/v1")


@api.route(
    "/auth/me", "GET", summary="The signed-in staff member", responses={200: sc.StaffBrief}, auth=True, tag="staff"
)
def me():
    """Who this token or page session belongs to (a page session also gets its CSRF token here)."""
    with transaction(current().factory) as s:
        user = staff_user(s)
        data = {**user_brief(user, s.get(Hall, user.hall_id) if user.hall_id else None), "active": user.active}
    if not request.headers.get("Authorization"):
        data["csrf_token"] = access.csrf_token()  # readable by our own pages only (no CORS for cookies)
    return data


@api.route(
    "/auth/session-token",
    "POST",
    summary="A bearer token for this page session (CSRF header required)",
    responses={200: sc.TokenResponse},
    auth=True,
    tag="staff",
)
def session_token():
    """The clerk console signed in on /login: a token for its API calls and socket, same user, same lifetime."""
    if request.headers.get("Authorization"):
        raise Unauthorized("only a page session (the /login cookie) exchanges for a token", zh="仅限网页登录会话")
    rt = current()
    with transaction(rt.factory) as s:
        user = staff_user(s)
        return {
            "token": rt.tokens.issue(user),
            "user": user_brief(user, s.get(Hall, user.hall_id) if user.hall_id else None),
        }


@api.route(
    "/auth/password",
    "POST",
    summary="Change your password (signs out every other session)",
    body=sc.PasswordChangeRequest,
    responses={200: sc.TokenResponse},
    auth=True,
    tag="staff",
)
def change_own_password(body: sc.PasswordChangeRequest):
    """New password; all older tokens and page sessions stop working, a fresh token is returned."""
    rt = current()
    with transaction(rt.factory) as s:
        user = staff_user(s)
        if not check_password(user, body.current_password):
            raise Unauthorized("the current password is wrong", zh="当前密码不正确")
        change_password(s, user, body.new_password)
        s.flush()
        hall = s.get(Hall, user.hall_id) if user.hall_id else None
        return {"token": rt.tokens.issue(user), "user": user_brief(user, hall)}


@api.route(
    "/halls/<hall>/out-of-order-calls",
    "GET",
    summary="Numbers called out of order on a day (supervisor)",
    responses={200: sc.OutOfOrderCalls},
    auth=True,
    tag="staff",
)
def out_of_order_calls(hall: str):
    """Every call of a given number (not call-next) on `?date=YYYY-MM-DD` (default today), with who and why."""
    with transaction(current().factory) as s:
        user = staff_user(s)
        h = get_hall(s, hall)
        permissions.check_manages(user, h)
        zone = ZoneInfo(h.timezone)
        day = _date_arg(zone)
        start = datetime.combine(day, time(0), zone)
        win, staff = aliased(Window), aliased(StaffUser)
        rows = s.execute(
            select(TicketEvent, Ticket.number, win.number, staff.username)
            .join(Ticket, Ticket.pk == TicketEvent.ticket_pk)
            .outerjoin(win, win.id == TicketEvent.window_id)
            .outerjoin(staff, staff.id == TicketEvent.user_id)
            .where(
                TicketEvent.hall_id == h.id,
                TicketEvent.action == "call",
                TicketEvent.at >= start,
                TicketEvent.at < start + timedelta(days=1),
            )
            .order_by(TicketEvent.id)
        )
        calls = [
            {
                "number": number,
                "at": snapshots.iso(ev.at, h.timezone),
                "window": window_number,
                "user": username,
                "reason_code": (ev.data or {}).get("reason_code", "other"),
                "reason": ev.reason,
                "from_status": ev.from_status,
            }
            for ev, number, window_number, username in rows
            if (ev.data or {}).get("out_of_order")
        ]
        return {"hall": h.code, "date": day.isoformat(), "calls": calls}


def _date_arg(zone: ZoneInfo) -> date:
    raw = request.args.get("date")
    if not raw:
        return clock.now().astimezone(zone).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("date must be YYYY-MM-DD", zh="日期格式应为 YYYY-MM-DD", field="date") from None


@api.route(
    "/halls/<hall>/tickets/<number>/move",
    "POST",
    summary="Move a ticket to another service or window (supervisor)",
    body=sc.MoveRequest,
    responses={200: sc.StaffTicket},
    auth=True,
    tag="staff",
)
def move_ticket(hall: str, number: str, body: sc.MoveRequest):
    """The ticket keeps its number and place in line; the move is in its history with the supervisor."""
    with transaction(current().factory) as s:
        user = staff_user(s)
        h = get_hall(s, hall)
        permissions.check_manages(user, h)
        ticket = tickets.find_by_number(s, h, number)
        s.refresh(ticket, with_for_update=True)
        at = ticket.window if ticket.window is not None and ticket.window.ticket_id == ticket.id else None
        windows.transfer(s, h, ticket, user, body.model_dump(exclude_none=True), at)
        change = tickets.Change(ticket=ticket, window=at, queues_changed=True)
        full = snapshots.ticket_full(s, ticket)
        events = events_for(s, h, change, full)
        data = snapshots.for_staff(full)
    publish(events)
    return data


@api.route(
    "/device", "GET", summary="The calling device (Authorization: Device <token>)", responses={200: sc.DeviceBrief}
)
def this_device():
    """A registered kiosk, board or window screen learns its hall, printer and window."""
    with transaction(current().factory) as s:
        device = access.optional_device(s)
        if device is None:
            raise Unauthorized("send Authorization: Device <token>", zh="请提供设备令牌")
        return devices.device_brief(device)


@api.route(
    "/halls/<hall>/my-day",
    "GET",
    summary="The signed-in clerk's tickets finished today and service time",
    responses={200: sc.MyDay},
    auth=True,
    tag="staff",
)
def my_day(hall: str):
    """For the clerk console: how many tickets I finished today and my average service time (holds excluded)."""
    from queue_server.stats import data as stats_data

    with transaction(current().factory) as s:
        user = staff_user(s)
        h = get_hall(s, hall)
        permissions.check_hall(h, user)
        today = stats_data.local_today(h)
        figures = stats_data.compute(s, h, today, today, clerk_id=user.id)  # not the whole hall's day
    mine = next((row for row in figures["by_clerk"] if row["key"] == user.username), None)
    return {
        "hall": h.code,
        "day": today.isoformat(),
        "username": user.username,
        "finished": mine["served"] if mine else 0,
        "service_mean_s": mine["service"]["mean_s"] if mine else None,
    }


@api.route(
    "/halls/<hall>/windows/<int:window>/queue",
    "GET",
    summary="The window's waiting line in call-next order, returnable no-shows, call reasons (staff)",
    responses={200: sc.WindowLine},
    auth=True,
    tag="staff",
)
def window_line(hall: str, window: int):
    """For the clerk console: who call-next would take next, and whom the clerk may call by number."""
    with transaction(current().factory) as s:
        h, w = _window_read(s, hall, window)
        return desk.line(s, h, w, clock.now())


@api.route(
    "/halls/<hall>/windows/<int:window>/desk",
    "GET",
    summary="The window's desk: state, clerk, current ticket with its materials, held tickets (staff)",
    responses={200: sc.WindowDesk},
    auth=True,
    tag="staff",
)
def window_desk(hall: str, window: int):
    """For the clerk console: the same desk after a reload, in a new tab or on another PC."""
    with transaction(current().factory) as s:
        h, w = _window_read(s, hall, window)
        return desk.desk(s, h, w)


def _window_read(s, hall: str, number: int):
    """The hall and window, if the caller is its clerk (or may open it), a supervisor of the hall or an admin."""
    user = staff_user(s)
    h = get_hall(s, hall)
    w = get_window(s, h, number)
    windows.check_clerk(s, h, w, user, "read")
    return h, w


# --- 亮身份: the clerk on duty at a window, public (the window screen and rating tablet show it) ---


@api.route(
    "/halls/<hall>/windows/<int:window>/clerk",
    "GET",
    summary="The clerk on duty at a window: display name, staff number, photo URL (亮身份)",
    tag="public",
    limit="read",
)
def clerk_on_duty(hall: str, window: int):
    """What the window screen and the rating tablet show of the clerk serving there (clerk null: nobody)."""
    with transaction(current().factory) as s:
        return identity.on_duty(s, get_hall(s, hall), window)


@api.route(
    "/halls/<hall>/windows/<int:window>/clerk/photo",
    "GET",
    summary="The photo of the clerk on duty at a window (JPEG; 404 when nobody with a photo is there)",
    tag="public",
    limit="read",
)
def clerk_photo(hall: str, window: int):
    """Only the photo of whoever is at the window now: no list of staff photos to walk through."""
    with transaction(current().factory) as s:
        data = identity.duty_photo(s, get_hall(s, hall), window)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, max-age=300"  # its URL carries the photo's version
    return response
