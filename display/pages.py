"""The hall's pages: kiosk, clerk console, hall board, window screen and the phone's ticket page."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from display import qr
from queue_server.db import transaction
from queue_server.exceptions import NotFound
from queue_server.halls import get_hall
from queue_server.models import Hall, Window
from queue_server.runtime import current
from queue_server.staff.access import client_ip

from .staff_session import staff_page

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")

# Scripts and styles only from our own files: no inline script can run on a hall screen.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@bp.after_request
def security_headers(response: Response) -> Response:
    """Every page (the account and administration blueprints use it too): our own scripts only."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _hall(code: str) -> dict:
    """The hall as the page templates need it, or a 404 page."""
    with transaction(current().factory) as s:
        try:
            hall = get_hall(s, code)
        except NotFound:
            abort(_missing("没有这个大厅", f"No hall with code {code!r}"))
        windows = s.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number))
        return {
            "code": hall.code,
            "name": hall.name,
            "name_en": hall.name_en,
            "timezone": hall.timezone,
            "windows": [{"number": w.number, "name": w.name, "name_en": w.name_en} for w in windows],
        }


def _check_device(hall_code: str, *kinds: str) -> None:
    """A page opened with ?device=<token> must be opened by that registered device, in its own hall."""
    if not request.args.get("device"):
        return
    from queue_server.exceptions import Unauthorized
    from queue_server.staff import access

    with transaction(current().factory) as s:
        try:
            device = access.optional_device(s)
        except Unauthorized:
            abort(
                Response(
                    render_template("missing.html", zh="设备未登记或已吊销", en="Unknown or revoked device"), status=401
                )
            )
        if device.hall.code != hall_code or device.kind not in kinds:
            abort(
                Response(
                    render_template(
                        "missing.html", zh="此设备不属于这个页面", en="This device does not belong on this page"
                    ),
                    status=403,
                )
            )


def _missing(zh: str, en: str) -> Response:
    return Response(render_template("missing.html", zh=zh, en=en), status=404)


@bp.get("/")
def index():
    """Links to every hall's kiosk, board and window screens, and to the clerk console."""
    with transaction(current().factory) as s:
        halls = [
            {
                "code": h.code,
                "name": h.name,
                "name_en": h.name_en,
                "windows": [w.number for w in sorted(h.windows, key=lambda w: w.number)],
            }
            for h in s.scalars(select(Hall).order_by(Hall.id))
        ]
    return render_template("index.html", halls=halls)


@bp.get("/kiosk/<hall>")
def kiosk(hall: str):
    """The touch screen at the entrance: pick a service, take a ticket."""
    _check_device(hall, "kiosk")
    base_url = current().settings.server.public_url or request.host_url
    return render_template(
        "kiosk.html", hall=_hall(hall), base_url=base_url, return_s=_seconds("return", 30), idle_s=_seconds("idle", 90)
    )


@bp.get("/clerk")
@staff_page()
def clerk():
    """The clerk's console: choose a window, call and serve tickets (signed in on /login)."""
    return render_template("clerk.html")


@bp.get("/board/<hall>")
def board(hall: str):
    """The big screen in the hall: latest calls, windows, waiting counts, voice."""
    _check_device(hall, "board")
    return render_template("board.html", hall=_hall(hall))


@bp.get("/window/<hall>/<int:number>")
def window_screen(hall: str, number: int):
    """The small screen above one window: its name and the number it serves."""
    _check_device(hall, "window", "board")
    data = _hall(hall)
    window = next((w for w in data["windows"] if w["number"] == number), None)
    if window is None:
        abort(_missing("没有这个窗口", f"No window {number} in {hall}"))
    return render_template("window.html", hall=data, window=window)


@bp.get("/t/<ticket_id>")
def ticket(ticket_id: str):
    """The holder's phone: position, estimated wait, the call, and the rating after service."""
    from queue_server.tickets.service import get_ticket

    with transaction(current().factory) as s:
        try:
            hall = get_ticket(s, ticket_id[:64]).hall
        except NotFound:
            return _missing(
                "没有找到这张号票。请核对链接或重新扫描号票上的二维码；号票当天有效。",
                "No such ticket. Check the link or scan the QR code on your ticket again; tickets are valid on their day.",
            )
        return render_template(
            "ticket.html", ticket_id=ticket_id[:64], hall={"name": hall.name, "name_en": hall.name_en}
        )


@bp.get("/device")
def device_start():
    """A registered device opens /device?device=<token> and lands on its own page."""
    from flask import redirect, url_for

    from queue_server.exceptions import Unauthorized
    from queue_server.staff import access

    with transaction(current().factory) as s:
        try:
            device = access.optional_device(s)
        except Unauthorized:
            device = None
        if device is None:
            return _missing("设备未登记或已吊销", "Unknown or revoked device")
        token, code = request.args["device"], device.hall.code
        if device.kind == "kiosk":
            return redirect(url_for("pages.kiosk", hall=code, device=token))
        if device.kind == "window" and device.window_number:
            return redirect(url_for("pages.window_screen", hall=code, number=device.window_number, device=token))
        return redirect(url_for("pages.board", hall=code, device=token))


@bp.get("/book/<hall>")
def book(hall: str):
    """The citizen's phone: book a visit (预约), or take a number remotely when the hall allows it."""
    base_url = current().settings.server.public_url or request.host_url
    return render_template("book.html", hall=_hall(hall), base_url=base_url)


@bp.get("/bookings/<hall>")
def bookings(hall: str):
    """The citizen's phone: their bookings, to cancel or reschedule, or found by code and phone."""
    base_url = current().settings.server.public_url or request.host_url
    return render_template("bookings.html", hall=_hall(hall), base_url=base_url)


@bp.get("/stats/<hall>")
@staff_page(managers=True)
def stats_page(hall: str):
    """The supervisor's statistics: charts, the hall now with advice on windows, exports, follow-ups."""
    return render_template("stats.html", hall=_hall(hall))


@bp.get("/rate/<hall>/<int:number>")
def rate_screen(hall: str, number: int):
    """The tablet facing the citizen at a window: rate the service just finished."""
    data = _hall(hall)
    window = next((w for w in data["windows"] if w["number"] == number), None)
    if window is None:
        abort(_missing("没有这个窗口", f"No window {number} in {hall}"))
    return render_template("rate.html", hall=data, window=window)


@bp.get("/favicon.ico")
def favicon():
    """No icon: answer quietly instead of a 404 in every screen's console."""
    return Response(status=204)


@bp.get("/qr.svg")
def qr_svg():
    """The QR code (SVG) of a ticket or booking link of this server, so the kiosk needs no JS library."""
    limits = current().limits
    if not limits.exempt():
        limits.hit(qr.QR_PER_IP, "qr-ip", client_ip(), "二维码请求过于频繁")
    data = request.args.get("data", "")
    if not data or len(data) > qr.QR_MAX:
        abort(Response(f"data must be 1..{qr.QR_MAX} characters", status=400, mimetype="text/plain"))
    bases = [current().settings.server.public_url or "", request.host_url]
    if not qr.own_link(data, bases):
        abort(Response("only links to this server's tickets and bookings", status=400, mimetype="text/plain"))
    response = Response(qr.svg(data), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _seconds(name: str, default: int) -> int:
    """A page timer from the query string (for tests and odd halls), within sane bounds."""
    try:
        return max(1, min(600, int(request.args.get(name, default))))
    except ValueError:
        return default


# Staff sign-in and administration pages register their routes on this blueprint.
