"""The administration API under /api/v1/admin: halls, queues, items, windows, users, devices, change log.

Views stay thin: find the hall, call the admin module inside one transaction (the change and its
log row commit together), then tell the hall's screens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field

from queue_server.admin import service as admin
from queue_server.admin import services as admin_services
from queue_server.admin import users as admin_users
from queue_server.db import transaction
from queue_server.halls import get_hall
from queue_server.realtime.sockets import publish
from queue_server.runtime import current
from queue_server.staff import permissions
from queue_server.tickets import routes as public
from queue_server.web.openapi import Api

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")
api = Api(bp, "/api/v1")
IMPORT_MAX_BYTES = 4 * 1024 * 1024  # a catalog of a few thousand items; the app's default limit is 64 KiB
PHOTO_MAX_CHARS = 2_900_000  # base64 of a 2 MB picture, with a data: URL's head


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HallCreate(Body):
    code: str = Field(max_length=32, description="lower-case code used in URLs, e.g. jinxiu")
    name: str = Field(max_length=200)
    name_en: str = Field("", max_length=200)
    timezone: str = Field("Asia/Shanghai", max_length=64)


class HallUpdate(Body):
    name: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, max_length=64)
    opening_hours: list[str] | None = Field(None, max_length=10, description='e.g. ["09:00-12:00", "13:30-17:00"]')
    notices: list[str] | None = Field(None, max_length=20, description="lines printed on the ticket")
    voice_zh: str | None = Field(None, max_length=200, description="call template with {number} and {window}")
    voice_en: str | None = Field(None, max_length=200)
    rating_days: int | None = Field(None, description="days a citizen may rate after service")
    # Every other hall setting (HallSettings); a section is an object whose keys sent replace the stored ones.
    no_show_returns: int | None = Field(None, description="times a no-show ticket may go back to waiting")
    aging_minutes: float | None = None
    default_service_minutes: float | None = None
    followup_days: int | None = None
    target_wait_minutes: float | None = None
    wait_range_coverage: float | None = Field(None, description="share of waits the quoted range holds, 0.5–0.95")
    ticket: dict[str, Any] | None = Field(None, description='e.g. {"paper_mm": 58}')
    voice: dict[str, Any] | None = Field(None, description='e.g. {"repeat": 2, "languages": ["zh-CN"]}')
    appointments: dict[str, Any] | None = Field(None, description='e.g. {"slot_minutes": 20}')
    remote: dict[str, Any] | None = Field(None, description='e.g. {"max_per_day": 100}')
    notify: dict[str, Any] | None = Field(None, description='e.g. {"kind": "webhook", "url": …, "secret": …}')
    privacy: dict[str, Any] | None = Field(None, description='e.g. {"store_personal_data": true}')
    limits: dict[str, Any] | None = Field(None, description='e.g. {"per_person_per_day": 3}')
    call_reasons: list[str] | None = Field(None, max_length=20)
    poor_rating_reasons: list[str] | None = Field(
        None, max_length=12, description="reasons offered after 不满意/非常不满意, up to 40 characters each"
    )


class QueueBody(Body):
    prefix: str | None = Field(None, max_length=4)
    name: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    sort: int | None = None


class QueueOrder(Body):
    prefixes: list[str] = Field(max_length=100)


class ServiceBody(Body):
    code: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    queue: str | None = Field(None, max_length=4)
    department: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=16)
    basis: str | None = Field(None, max_length=4000)
    materials: list[str] | str | None = None
    time_limit_days: int | None = None
    kind: str | None = Field(None, max_length=16)
    active: bool | None = None


class ImportBody(Body):
    csv: str = Field(
        description="the CSV text (header: code,name,queue,department,category,basis,materials,time_limit_days,kind)"
    )
    apply: bool = Field(False, description="false: preview only; true: import all rows or none")


class WindowBody(Body):
    number: int | None = None
    name: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    queues: list[str] | Literal["all"] | None = None
    state: Literal["open", "closed"] | None = None
    active: bool | None = None


class UserCreate(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: str = Field("clerk", max_length=16)
    hall: str | None = Field(None, max_length=32)
    display_name: str = Field("", max_length=100)
    staff_number: str = Field("", max_length=32, description="工号, shown at the window")


class UserUpdate(Body):
    display_name: str | None = Field(None, max_length=100)
    staff_number: str | None = Field(None, max_length=32, description="工号, shown at the window")
    role: str | None = Field(None, max_length=16)
    hall: str | None = Field(None, max_length=32)
    active: bool | None = None


class PasswordReset(Body):
    password: str = Field(max_length=256)


class PhotoUpload(Body):
    image: str = Field(
        max_length=PHOTO_MAX_CHARS, description="a JPEG, PNG or WebP picture, base64 (a data: URL or bare), ≤ 2 MB"
    )


def run(change: Callable, *args, hall: str | None = None, status: int = 200):
    """One admin change in one transaction; events go out after the commit."""
    with transaction(current().factory) as s:
        user = public.staff_user(s)
        outcome = change(s, user, get_hall(s, hall), *args) if hall is not None else change(s, user, *args)
    publish(outcome.events)
    return outcome.data, status


def read(view: Callable, hall: str, *args):
    """A read of one hall's administration data, for its supervisors and admins."""
    with transaction(current().factory) as s:
        user = public.staff_user(s)
        h = get_hall(s, hall)
        permissions.check_manages(user, h)
        return view(s, h, *args)


def _page() -> tuple[int, int]:
    try:
        limit = max(1, min(500, int(request.args.get("limit", 50))))
        offset = max(0, int(request.args.get("offset", 0)))
    except ValueError:
        limit, offset = 50, 0
    return limit, offset


@bp.before_request
def _larger_imports():
    if request.endpoint == "admin_api.import_services":
        request.max_content_length = IMPORT_MAX_BYTES
    elif request.endpoint == "admin_api.set_photo":
        request.max_content_length = PHOTO_MAX_CHARS + 1024


# --- halls --------------------------------------------------------------------------------------


@api.route("/admin/halls", "GET", summary="Halls the signed-in supervisor or admin manages", auth=True, tag="admin")
def admin_halls():
    """Every hall for admins, the own hall for supervisors, with their editable settings."""
    with transaction(current().factory) as s:
        user = public.staff_user(s)
        return {"role": user.role, "halls": [admin.hall_view(h) for h in admin.visible_halls(s, user)]}


@api.route(
    "/admin/halls",
    "POST",
    summary="Create a hall (admins)",
    body=HallCreate,
    responses={201: None},
    auth=True,
    tag="admin",
)
def create_hall(body: HallCreate):
    """A new street hall: then add its queues, items and windows."""
    return run(admin.create_hall, body.model_dump(), status=201)


@api.route("/admin/halls/<hall>", "GET", summary="A hall with its settings", auth=True, tag="admin")
def admin_hall(hall: str):
    """Name, time zone, opening hours, notices, voice templates, rating period."""
    return read(lambda s, h: admin.hall_view(h), hall)


@api.route("/admin/halls/<hall>", "PATCH", summary="Change a hall's settings", body=HallUpdate, auth=True, tag="admin")
def update_hall(hall: str, body: HallUpdate):
    """Only the fields sent change; boards and kiosks of the hall refresh."""
    return run(admin.update_hall, body.model_dump(exclude_unset=True), hall=hall)


# --- queues -------------------------------------------------------------------------------------


@api.route("/admin/halls/<hall>/queues", "GET", summary="The hall's queues in order", auth=True, tag="admin")
def admin_queues(hall: str):
    """Prefix, name, order and how many items each holds."""
    return {"queues": read(admin.list_queues, hall)}


@api.route(
    "/admin/halls/<hall>/queues",
    "POST",
    summary="Add a queue",
    body=QueueBody,
    responses={201: None},
    auth=True,
    tag="admin",
)
def create_queue(hall: str, body: QueueBody):
    """A new queue with its ticket prefix, last in order."""
    return run(admin.create_queue, body.model_dump(exclude_unset=True), hall=hall, status=201)


@api.route(
    "/admin/halls/<hall>/queues/order",
    "PUT",
    summary="Order the hall's queues",
    body=QueueOrder,
    auth=True,
    tag="admin",
)
def order_queues(hall: str, body: QueueOrder):
    """Every prefix once, in the order kiosks and boards show them."""
    return run(admin.order_queues, body.prefixes, hall=hall)


@api.route(
    "/admin/halls/<hall>/queues/<prefix>", "PATCH", summary="Change a queue", body=QueueBody, auth=True, tag="admin"
)
def update_queue(hall: str, prefix: str, body: QueueBody):
    """Prefix, name or order."""
    return run(admin.update_queue, prefix, body.model_dump(exclude_unset=True), hall=hall)


@api.route(
    "/admin/halls/<hall>/queues/<prefix>", "DELETE", summary="Delete an empty, unused queue", auth=True, tag="admin"
)
def delete_queue(hall: str, prefix: str):
    """Refused (409) while items are in it or tickets refer to it."""
    return run(admin.delete_queue, prefix, hall=hall)


# --- service items ------------------------------------------------------------------------------


@api.route(
    "/admin/halls/<hall>/services",
    "GET",
    auth=True,
    tag="admin",
    summary="Search the hall's items: ?q=name|code|department|pinyin initials&queue=&state=active|disabled",
)
def list_services(hall: str):
    """A page of matching items (all fields), with the total."""
    limit, offset = _page()
    args = request.args
    return read(
        admin_services.search,
        hall,
        args.get("q", "")[:100],
        args.get("queue", "")[:4],
        args.get("state", ""),
        limit,
        offset,
    )


@api.route(
    "/admin/halls/<hall>/services",
    "POST",
    summary="Add a service item",
    body=ServiceBody,
    responses={201: None},
    auth=True,
    tag="admin",
)
def create_service(hall: str, body: ServiceBody):
    """Every catalog field; the kiosks offer it at once."""
    return run(admin_services.create_item, body.model_dump(exclude_unset=True), hall=hall, status=201)


@api.route(
    "/admin/halls/<hall>/services/export", "GET", summary="All items as CSV (the import format)", auth=True, tag="admin"
)
def export_services(hall: str):
    """Download the catalog; edit it and import it again."""
    text = read(admin_services.export_csv, hall)
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="services-{hall}.csv"'
    return response


@api.route(
    "/admin/halls/<hall>/services/import",
    "POST",
    body=ImportBody,
    auth=True,
    tag="admin",
    summary="Preview (apply=false) or import (apply=true, all rows or none) a CSV of items",
)
def import_services(hall: str, body: ImportBody):
    """The preview lists new, changed (old and new values), unchanged and bad rows with their line."""
    if not body.apply:
        result = read(admin_services.preview, hall, body.csv)
        result.pop("_parsed")
        return result
    return run(admin_services.apply_import, body.csv, hall=hall)


@api.route(
    "/admin/halls/<hall>/services/<code>",
    "PATCH",
    summary="Change, disable or enable an item",
    body=ServiceBody,
    auth=True,
    tag="admin",
)
def update_service(hall: str, code: str, body: ServiceBody):
    """Any field; "active": false takes it off the kiosks and keeps its history."""
    return run(admin_services.update_item, code, body.model_dump(exclude_unset=True), hall=hall)


@api.route(
    "/admin/halls/<hall>/services/<code>",
    "DELETE",
    summary="Delete an item no ticket refers to",
    auth=True,
    tag="admin",
)
def delete_service(hall: str, code: str):
    """Refused (409) when tickets refer to it: disable it instead."""
    return run(admin_services.delete_item, code, hall=hall)


# --- windows ------------------------------------------------------------------------------------


@api.route("/admin/halls/<hall>/windows", "GET", summary="The hall's windows", auth=True, tag="admin")
def admin_windows(hall: str):
    """Number, name, queues served, state, enabled."""
    return {"windows": read(admin.list_windows, hall)}


@api.route(
    "/admin/halls/<hall>/windows",
    "POST",
    summary="Add a window",
    body=WindowBody,
    responses={201: None},
    auth=True,
    tag="admin",
)
def create_window(hall: str, body: WindowBody):
    """A new (closed) window; boards show it at once."""
    return run(admin.create_window, body.model_dump(exclude_unset=True), hall=hall, status=201)


@api.route(
    "/admin/halls/<hall>/windows/<int:number>",
    "PATCH",
    summary="Change a window",
    body=WindowBody,
    auth=True,
    tag="admin",
)
def update_window(hall: str, number: int, body: WindowBody):
    """Name, number, queues (from the next call), open/closed, enabled/disabled."""
    return run(admin.update_window, number, body.model_dump(exclude_unset=True), hall=hall)


@api.route(
    "/admin/halls/<hall>/windows/<int:number>",
    "DELETE",
    summary="Delete a window no ticket refers to",
    auth=True,
    tag="admin",
)
def delete_window(hall: str, number: int):
    """Refused (409) when tickets refer to it: disable it instead."""
    return run(admin.delete_window, number, hall=hall)


# --- users --------------------------------------------------------------------------------------


@api.route("/admin/users", "GET", summary="Staff accounts (?hall=code)", auth=True, tag="admin")
def list_users():
    """Everyone for admins, the own hall's staff for supervisors."""
    with transaction(current().factory) as s:
        user = public.staff_user(s)
        code = request.args.get("hall")
        return {"users": admin_users.list_users(s, user, get_hall(s, code) if code else None)}


@api.route(
    "/admin/users",
    "POST",
    summary="Create a staff account",
    body=UserCreate,
    responses={201: None},
    auth=True,
    tag="admin",
)
def create_user(body: UserCreate):
    """Username, initial password, role and hall."""
    return run(admin_users.create_user, body.model_dump(), status=201)


@api.route(
    "/admin/users/<username>", "PATCH", summary="Change a staff account", body=UserUpdate, auth=True, tag="admin"
)
def update_user(username: str, body: UserUpdate):
    """Name, role, hall, active; a change of rights signs the user out."""
    return run(admin_users.update_user, username, body.model_dump(exclude_unset=True))


@api.route(
    "/admin/users/<username>/password",
    "POST",
    summary="Reset a staff password",
    body=PasswordReset,
    auth=True,
    tag="admin",
)
def reset_password(username: str, body: PasswordReset):
    """A new password; the user's sessions end."""
    return run(admin_users.reset_password, username, body.password)


@api.route(
    "/admin/users/<username>/unlock",
    "POST",
    summary="Lift an account's sign-in locks (after failed passwords)",
    auth=True,
    tag="admin",
)
def unlock_user(username: str):
    """The account can sign in again from every address at once."""
    return run(admin_users.unlock_user, username)


@api.route(
    "/admin/users/<username>/photo",
    "PUT",
    summary="Set the photo a window screen shows of this clerk (亮身份)",
    body=PhotoUpload,
    auth=True,
    tag="admin",
)
def set_photo(username: str, body: PhotoUpload):
    """Checked (JPEG, PNG or WebP, ≤ 2 MB) and stored re-encoded without metadata."""
    return run(admin_users.set_photo, username, body.image)


@api.route("/admin/users/<username>/photo", "DELETE", summary="Remove a staff photo", auth=True, tag="admin")
def remove_photo(username: str):
    """The window screens show the name and staff number only."""
    return run(admin_users.remove_photo, username)


@api.route("/admin/users/<username>/photo", "GET", summary="A staff photo as a data: URL", auth=True, tag="admin")
def get_photo(username: str):
    """For the administration page's preview."""
    with transaction(current().factory) as s:
        return admin_users.photo_of(s, public.staff_user(s), username)


# --- change log and the central view -----------------------------------------------------------


@api.route(
    "/admin/changes",
    "GET",
    summary="The change log, newest first (?hall=&entity=&limit=&offset=)",
    auth=True,
    tag="admin",
)
def admin_changes():
    """Who changed what, when, with old and new values."""
    limit, offset = _page()
    with transaction(current().factory) as s:
        user = public.staff_user(s)
        code = request.args.get("hall")
        return admin.list_changes(
            s,
            user,
            hall=get_hall(s, code) if code else None,
            entity=request.args.get("entity") or None,
            limit=limit,
            offset=offset,
        )


@api.route(
    "/admin/central",
    "GET",
    summary="Every hall now, and the halls' statistics side by side (?from=&to=)",
    auth=True,
    tag="admin",
)
def central():
    """Waiting, longest wait and windows open per hall, with issued, served, waits and satisfaction."""
    from queue_server.admin.central import overview

    with transaction(current().factory) as s:
        user = public.staff_user(s)
        return overview(s, admin.visible_halls(s, user), request.args.get("from"), request.args.get("to"))


# --- devices ------------------------------------------------------------------------------------


class DeviceBody(Body):
    name: str = Field(max_length=64)
    kind: Literal["kiosk", "board", "window", "rating"]
    window: int | None = Field(None, ge=1, description="window screens and rating screens: the window number")
    printer: str | None = Field(None, max_length=64, description="kiosks: the printer it prints on")
    agent: bool = Field(False, description="kiosks: prints on its own printer through `queue-server agent`")


@api.route(
    "/admin/halls/<hall>/devices",
    "GET",
    summary="The hall's devices (online, last seen) and printers",
    auth=True,
    tag="admin",
)
def list_devices(hall: str):
    """Kiosks, boards, window and rating screens, and the printers' status."""
    from queue_server.admin import devices as admin_devices

    rt = current()
    return read(admin_devices.list_devices, hall, rt.settings, rt.spooler)


@api.route(
    "/admin/halls/<hall>/devices",
    "POST",
    summary="Register a device; its token is shown once",
    body=DeviceBody,
    responses={201: None},
    auth=True,
    tag="admin",
)
def create_device(hall: str, body: DeviceBody):
    """A device token for a kiosk, board, window screen or rating screen of this hall."""
    from queue_server.admin import devices as admin_devices

    with transaction(current().factory) as s:
        printers = admin_devices.hall_printers(current().settings, get_hall(s, hall))
    return run(admin_devices.add, body.model_dump(), printers, hall=hall, status=201)


@api.route("/admin/halls/<hall>/devices/<name>", "DELETE", summary="Revoke a device", auth=True, tag="admin")
def revoke_device(hall: str, name: str):
    """The device stops working at once (kept in the list as revoked)."""
    from queue_server.admin import devices as admin_devices

    return run(admin_devices.revoke, name, hall=hall)
