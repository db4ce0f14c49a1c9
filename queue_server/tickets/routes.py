"""The public HTTP API under /api/v1: thin views that validate, call the core, commit, then emit."""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from queue_server import clock
from queue_server.db import transaction
from queue_server.exceptions import Forbidden, NotFound
from queue_server.hall_settings import hall_settings
from queue_server.halls import get_hall, get_service, opening
from queue_server.models import Hall, ServiceItem, StaffUser
from queue_server.ratings.evaluations import evaluate, reason_list
from queue_server.realtime.sockets import events_for, publish
from queue_server.runtime import current
from queue_server.staff import access, permissions
from queue_server.tickets import issuing, personal, snapshots, windows
from queue_server.tickets import service as tickets
from queue_server.web import schemas as sc
from queue_server.web.openapi import Api

bp = Blueprint("api", __name__, url_prefix="/api/v1")
api = Api(bp, "/api/v1")


def staff_user(session) -> StaffUser:
    """The staff member behind the bearer token (or the page session with its CSRF header), or 401."""
    return access.staff(session)


@lru_cache(maxsize=4096)
def initials(name: str) -> str:
    """Pinyin initials of a name (企业开办 -> qykb), for kiosk search."""
    from pypinyin import Style, lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore") if p).lower()


@api.route("/halls", "GET", summary="List the halls of this deployment", responses={200: sc.HallList})
def list_halls():
    """Every hall: code, name and time zone."""
    with transaction(current().factory) as s:
        halls = s.scalars(select(Hall).order_by(Hall.id))
        return {"halls": [snapshots.hall_brief(h) for h in halls]}


@api.route(
    "/halls/<hall>/opening",
    "GET",
    summary="Whether the hall gives tickets now",
    responses={200: sc.Opening},
    limit="read",
)
def hall_opening(hall: str):
    """Open or closed now, the hours, and when that changes: the kiosk's home screen follows it."""
    with transaction(current().factory) as s:
        return opening(get_hall(s, hall), clock.now())


@api.route(
    "/halls/<hall>/services", "GET", summary="Service items of a hall with their queue", responses={200: sc.ServiceList}
)
def list_services(hall: str):
    """The hall's active service items, for the kiosk and the phone."""
    with transaction(current().factory) as s:
        h = get_hall(s, hall)
        items = s.scalars(
            select(ServiceItem).where(ServiceItem.hall_id == h.id, ServiceItem.active).order_by(ServiceItem.code)
        )
        return {
            "hall": h.code,
            "services": [
                {
                    "code": i.code,
                    "name": i.name,
                    "queue": i.queue.prefix,
                    "queue_name": i.queue.name,
                    "department": i.department,
                    "category": i.category,
                    "basis": i.basis,
                    "materials": i.materials,
                    "time_limit_days": i.time_limit_days,
                    "kind": i.kind,
                    "initials": initials(i.name),
                }
                for i in items
            ],
        }


@api.route(
    "/halls/<hall>/tickets",
    "POST",
    summary="Take a ticket",
    body=sc.IssueRequest,
    responses={201: sc.TicketResponse, 409: sc.ErrorResponse, 429: sc.ErrorResponse},
    limit="issue",
)
def issue_ticket(hall: str, body: sc.IssueRequest):
    """Issue the next number for a service; the ticket is stored before the answer and printed after."""
    rt = current()
    with transaction(rt.factory) as s:
        h = get_hall(s, hall)
        user, device = access.optional_staff(s), access.optional_device(s)
        _issuer_checks(h, body, user, device)
        caller = issuing.Caller(
            user=user,
            device=device,
            on_server_machine=access.on_server_machine(),
            print=body.print,
            printer=body.printer,
            with_materials=body.with_materials,
            base_url=rt.settings.server.public_url or request.host_url,
        )
        issued = issuing.issue(
            s,
            h,
            get_service(s, h, body.service),
            channel=body.channel,
            priority=body.priority,
            person=personal.read_person(rt.settings.server.secret_key, body.phone, body.id_number),
            caller=caller,
            settings=rt.settings,
            now=clock.now(),
            spooler=rt.spooler,
            events_for=events_for,
        )
    publish(issued.events)
    if issued.wake_spooler:
        rt.spooler.wake(issued.print_job)
    return issued.data, 201


def _issuer_checks(hall: Hall, body: sc.IssueRequest, user: StaffUser | None, device) -> None:
    """Who may issue what: priority and counter tickets need staff; a device must be one of the hall's kiosks."""
    if user is not None:
        windows.check_hall(hall, user)
    if device is not None:
        if device.hall_id != hall.id:
            raise Forbidden(
                f"device {device.name} belongs to hall {device.hall.code}, not {hall.code}",
                zh=f"设备 {device.name} 属于大厅 {device.hall.code}，不属于 {hall.code}",
            )
        if device.kind != "kiosk":
            raise Forbidden(
                f"device {device.name} is a {device.kind}; only kiosks issue tickets",
                zh=f"设备 {device.name} 不是取号机，只有取号机可以取号",
            )
    if user is None and (body.priority != "normal" or body.channel in ("counter", "appointment")):
        raise Forbidden(
            "priority, counter and appointment tickets are issued by staff; sign in first",
            zh="优先号、窗口代取号和预约号须由工作人员登录后发放",
        )


@api.route(
    "/tickets/<ticket_id>",
    "GET",
    summary="A ticket with its position and estimated wait",
    responses={200: sc.TicketResponse},
)
def show_ticket(ticket_id: str):
    """The holder's view of their ticket."""
    with transaction(current().factory) as s:
        return snapshots.ticket_full(s, tickets.get_ticket(s, ticket_id))


@api.route(
    "/tickets/<ticket_id>/cancel",
    "POST",
    summary="Cancel a waiting ticket",
    responses={200: sc.TicketResponse},
    limit="holder",
)
def cancel_ticket(ticket_id: str):
    """The holder gives up their place."""
    with transaction(current().factory) as s:
        ticket = tickets.get_ticket(s, ticket_id)
        change = tickets.cancel(s, ticket)
        data = snapshots.ticket_full(s, ticket)
        events = events_for(s, ticket.hall, change, data)
    publish(events)
    return data


@api.route(
    "/tickets/<ticket_id>/evaluation",
    "POST",
    summary="Rate the service (好差评)",
    body=sc.EvaluationRequest,
    responses={201: sc.EvaluationResponse},
    limit="rating",
)
def rate_ticket(ticket_id: str, body: sc.EvaluationRequest):
    """One rating per finished ticket, five levels."""
    with transaction(current().factory) as s:
        ticket = tickets.get_ticket(s, ticket_id)
        result = evaluate(s, ticket, body.score, body.comment, body.reasons)
    return result, 201


@api.route(
    "/halls/<hall>/rating-reasons",
    "GET",
    summary="Reasons offered after a poor rating",
    responses={200: sc.RatingReasons},
    limit="read",
)
def rating_reasons(hall: str):
    """The hall's list of reasons for 不满意 and 非常不满意, for the rating pages."""
    with transaction(current().factory) as s:
        return reason_list(get_hall(s, hall))


@api.route("/tickets/<ticket_id>/print", "GET", summary="State of the ticket's print job", responses={200: sc.PrintJob})
def ticket_print_job(ticket_id: str):
    """Queued, printing, printed, or failed with the reason."""
    rt = current()
    with transaction(rt.factory) as s:
        ticket = tickets.get_ticket(s, ticket_id)
        if rt.spooler is None:
            raise NotFound("printing is not set up on this server", zh="本服务器未设置打印")
        return rt.spooler.last_job(s, ticket.id)


@api.route(
    "/halls/<hall>/tickets/<number>/reprint",
    "POST",
    summary="Print a ticket again (staff)",
    responses={202: sc.PrintJob},
    auth=True,
    tag="staff",
)
def reprint_ticket(hall: str, number: str):
    """Staff ask for a ticket to be printed again on the printer it was printed on."""
    rt = current()
    with transaction(rt.factory) as s:
        user = staff_user(s)
        h = get_hall(s, hall)
        permissions.check_manages(user, h)
        if rt.spooler is None:
            raise NotFound("printing is not set up on this server", zh="本服务器未设置打印")
        ticket = tickets.find_by_number(s, h, number)
        job = rt.spooler.reprint(s, ticket)
        tickets.record(
            s, ticket, "reprint", ticket.status, now=clock.now(), user=user, data={"printer": job["printer"]}
        )
    rt.spooler.wake(job)
    return job, 202


@api.route(
    "/halls/<hall>/printers", "GET", summary="The hall's printers and their status", responses={200: sc.PrinterList}
)
def hall_printers(hall: str):
    """Online, offline, paper out or cover open, for the kiosk and the supervisor."""
    rt = current()
    with transaction(rt.factory) as s:
        h = get_hall(s, hall)
        return {"hall": h.code, "printers": rt.spooler.printers_of(h.code, s) if rt.spooler else []}


@api.route(
    "/halls/<hall>/board",
    "GET",
    summary="Board snapshot: recent calls, windows, waiting counts",
    responses={200: sc.Board},
)
def show_board(hall: str):
    """What the hall displays show."""
    with transaction(current().factory) as s:
        return snapshots.board(s, get_hall(s, hall))


@api.route(
    "/halls/<hall>/windows/<int:window>/<action>",
    "POST",
    summary="A clerk's action at a window",
    body=sc.WindowActionRequest,
    responses={200: sc.StaffTicket, 204: None},
    auth=True,
    tag="staff",
)
def window_action(hall: str, window: int, action: str, body: sc.WindowActionRequest):
    """call-next, call, recall, start, finish, no-show, hold, resume, transfer, pause, open, close,
    and finish-and-call-next (办结并叫下一位: both in one transaction; 204 when nobody is waiting)."""
    with transaction(current().factory) as s:
        user = staff_user(s)
        h = get_hall(s, hall)
        _check_reason_code(h, body.reason_code)
        events: list = []
        for change in windows.act_all(s, h, window, action, user, body.model_dump(exclude_none=True)):
            full = snapshots.ticket_full(s, change.ticket) if change.ticket is not None else None
            events += events_for(s, h, change, full)
            if full is not None:  # the clerk acts on numbers: the holder's id stays out of the answer
                data = snapshots.for_staff(full)
            elif action.endswith("call-next"):
                data = None
            else:
                data = snapshots.window_public(s, change.window)
    publish(events)
    return ("", 204) if data is None else data


def _check_reason_code(hall: Hall, code: str | None) -> None:
    if code is None:  # most actions (call-next among them) give none
        return
    allowed = hall_settings(hall).call_reasons
    if code not in allowed:
        from queue_server.exceptions import ValidationFailed

        raise ValidationFailed(
            f"reason_code must be one of {', '.join(allowed)}",
            zh=f"原因代码只能是 {', '.join(allowed)} 之一",
            field="reason_code",
        )


@api.route(
    "/auth/login",
    "POST",
    summary="Staff sign-in",
    body=sc.LoginRequest,
    responses={200: sc.TokenResponse, 429: sc.ErrorResponse},
    limit="login",
)
def login(body: sc.LoginRequest):
    """Exchange a username and password for a bearer token."""
    from queue_server.staff.auth import sign_in

    rt = current()
    cfg = rt.settings.server.login
    user = sign_in(
        rt.factory,
        body.username,
        body.password,
        max_failures=cfg.max_failures,
        lockout_minutes=cfg.lockout_minutes,
        client=access.client_ip(),
    )
    with transaction(rt.factory) as s:
        hall = s.get(Hall, user.hall_id) if user.hall_id else None
        return {"token": rt.tokens.issue(user), "user": user_brief(user, hall)}


def user_brief(user: StaffUser, hall: Hall | None) -> dict:
    return {
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "hall": hall.code if hall else None,
    }


@api.route(
    "/auth/logout",
    "POST",
    summary="Revoke every token of the signed-in user",
    responses={204: None},
    auth=True,
    tag="staff",
)
def logout():
    """Sign out everywhere: all tokens of this user stop working."""
    with transaction(current().factory) as s:
        user = staff_user(s)
        user.token_version += 1
    return "", 204


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document generated from the schemas that validate requests."""
    return jsonify(api.document("OneWindow API", "1"))
