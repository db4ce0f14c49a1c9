"""Socket.IO: subscriptions with an immediate snapshot, and hall events sent after each commit."""

from __future__ import annotations

import logging
import threading
import time

from flask import request
from flask_socketio import ConnectionRefusedError, emit, join_room
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.db import transaction
from queue_server.exceptions import NotFound, OneWindowError, RateLimited, Unauthorized
from queue_server.extensions import socketio
from queue_server.halls import get_hall
from queue_server.models import Hall
from queue_server.realtime import agents, events
from queue_server.realtime.events import Event, agent_room, hall_of_room, hall_room, holders_room, ticket_room
from queue_server.realtime.limits import BURST, PER_SECOND, TokenBucket
from queue_server.runtime import current
from queue_server.tickets import snapshots
from queue_server.tickets.service import Change, get_ticket
from queue_server.tickets.waits import live_places

log = logging.getLogger("onewindow.realtime")
_staff: dict[str, int] = {}  # socket id -> staff user id
_devices: dict[str, str] = {}  # socket id -> hall code of the registered device
_device_ids: dict[str, int] = {}  # socket id -> id of the registered device
_joined: dict[str, set[str]] = {}  # socket id -> the rooms it joined (flask_socketio.rooms() scans every room)
MAX_ROOMS = 4  # a board follows one hall, a phone one ticket (two rooms); a console a few at most
# A device's agent messages over all its connections: a token that opens many sockets gets no more than one.
_agent_budgets: dict[int, TokenBucket] = {}


class TooManyRooms(OneWindowError):
    code = "too_many_rooms"


def events_for(session: Session, hall: Hall, change: Change, full: dict | None = None) -> list[Event]:
    """events.events_for with this server's voice renderer (the routes' way in)."""
    return events.events_for(session, hall, change, full, voice=current().voice)


class BoardCache:
    """Board snapshots per hall, so a burst of subscribes (a resync, a reconnect storm) costs one build.

    A snapshot is forgotten as soon as an event for the hall's room is sent (here, or by another
    process through Redis), and after `ttl` seconds in any case. Its `board` event is encoded once too.
    """

    def __init__(self, ttl: float = 2.0, clock=time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self.entries: dict[str, tuple[int, float, dict]] = {}  # hall code -> (generation, built at, snapshot)
        self.generations: dict[str, int] = {}
        self.building = threading.Lock()
        self.builds = 0  # snapshots built (the rest of the subscribes were served from the cache)
        self.encoded: dict[str, tuple[dict, object]] = {}  # hall code -> (snapshot, its encoded `board` event)
        self.encodings = 0

    def encode(self, hall_code: str, snapshot: dict, encode):
        """`encode(snapshot)`, done once per snapshot however many subscribers it goes to."""
        held = self.encoded.get(hall_code)
        if held is None or held[0] is not snapshot:  # the cache holds the snapshot: its identity is its version
            held = self.encoded[hall_code] = (snapshot, encode(snapshot))
            self.encodings += 1
        return held[1]

    def changed(self, hall_code: str | None) -> None:
        if hall_code is not None:
            self.generations[hall_code] = self.generations.get(hall_code, 0) + 1
            self.entries.pop(hall_code, None)

    def get(self, hall_code: str, build) -> dict:
        """The hall's snapshot, built by `build()` (which may raise NotFound) when none is fresh."""
        cached = self._fresh(hall_code)
        if cached is not None:
            return cached
        with self.building:  # subscribers arriving during a build wait for it instead of building again
            cached = self._fresh(hall_code)
            if cached is not None:
                return cached
            generation, started = self.generations.get(hall_code, 0), self.clock()
            snapshot = build()
            self.builds += 1
            if self.generations.get(hall_code, 0) == generation:  # nothing happened while it was built
                self.entries[hall_code] = (generation, started, snapshot)
            return snapshot

    def _fresh(self, hall_code: str) -> dict | None:
        entry = self.entries.get(hall_code)
        if entry is None or entry[0] != self.generations.get(hall_code, 0) or self.clock() - entry[1] > self.ttl:
            return None
        return entry[2]


def publish(events: list[Event]) -> None:
    """Send events (through Redis when configured); call only after the commit."""
    boards = current().extras.get("boards")
    for name, payload, room in events:
        if boards is not None:
            boards.changed(hall_of_room(room))
        if name == "queue_changed":
            current().counts.mark(payload["hall"])
        else:
            socketio.emit(name, payload, to=room)


class WaitingCounts:
    """Sends `queue_changed` with fresh waiting counts, at most once per hall every `interval` seconds.

    Counting is the one part of an update that grows with the queue, and a busy hall issues
    and calls many tickets a second: coalescing keeps both the requests and the screens cheap.
    """

    def __init__(self, factory, interval: float = 0.2) -> None:
        self.factory, self.interval = factory, interval
        self.dirty: set[str] = set()
        self.ranges: dict[str, dict[str, dict]] = {}  # hall code -> ticket id -> the place last sent to its holder
        self.wake = threading.Event()
        self.running = False

    def mark(self, hall_code: str) -> None:
        self.dirty.add(hall_code)
        if self.running:
            self.wake.set()
        else:
            self.flush()

    def start(self) -> None:
        self.running = True
        socketio.start_background_task(self._loop)

    def _loop(self) -> None:
        failing = False
        while self.running:
            self.wake.wait()
            self.wake.clear()
            socketio.sleep(self.interval)
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - a database outage must not end the loop
                if not failing:  # say it once per outage, not twice a second
                    log.error("cannot send waiting counts (%s); retrying until the database answers", exc)
                failing = True
                self.wake.set()
                socketio.sleep(1)
                continue
            if failing:
                log.warning("waiting counts are sent again")
                failing = False

    def flush(self) -> None:
        halls, self.dirty = self.dirty, set()
        for code in sorted(halls):
            try:
                with transaction(self.factory) as session:
                    hall = get_hall(session, code)
                    counts = {"hall": code, "queues": snapshots.queue_counts(session, hall)}
                    places = {tid: events.wait_payload(place) for tid, place in live_places(session, hall).items()}
            except Exception:
                self.dirty |= halls  # nothing is forgotten: sent once the database answers again
                raise
            socketio.emit("queue_changed", counts, to=hall_room(code))
            socketio.emit("queue_changed", counts, to=holders_room(code))
            self._send_ranges(code, places)

    def _send_ranges(self, code: str, places: dict[str, dict]) -> None:
        """Each waiting ticket's holder hears its new place and range, only when they changed."""
        sent = self.ranges.get(code, {})
        for ticket_id, payload in places.items():
            if sent.get(ticket_id) != payload:
                socketio.emit("wait_updated", payload, to=ticket_room(ticket_id))
        self.ranges[code] = places


def resync_everyone() -> None:
    """After a Redis outage: every client of this process gets fresh snapshots."""
    socketio.emit("resync", {}, ignore_queue=True)


def _fail(exc: OneWindowError) -> dict:
    error = {"code": exc.code, "message": exc.message}
    if exc.zh:
        error["message_zh"] = exc.zh
    if exc.details.get("field"):
        error["field"] = exc.details["field"]
    emit("error", error)
    return {"error": error}


@socketio.on("connect")
def on_connect(auth=None):
    """Staff bring their token, devices theirs; others are anonymous and see public data only."""
    token = auth.get("token") if isinstance(auth, dict) else None
    device = auth.get("device") if isinstance(auth, dict) else None
    if not token and not device:
        return True
    try:
        with transaction(current().factory) as session:
            if token:
                _staff[request.sid] = current().tokens.verify(session, str(token)[:512]).id
            if device:
                from queue_server.staff.devices import verify

                verified = verify(session, str(device)[:128])
                _devices[request.sid], _device_ids[request.sid] = verified.hall.code, verified.id
    except Unauthorized as exc:
        raise ConnectionRefusedError(exc.message) from None
    return True


@socketio.on("disconnect")
def on_disconnect(*_args):
    _joined.pop(request.sid, None)
    _staff.pop(request.sid, None)
    _devices.pop(request.sid, None)
    device_id = _device_ids.pop(request.sid, None)
    if device_id is not None and device_id not in _device_ids.values():
        publish(agents.gone(current().factory, device_id, clock.now()))


@socketio.on("agent_hello")
def on_agent_hello(data=None):
    """A device's agent asks who it is; an agent kiosk's joins its own room, where print jobs are announced."""
    try:
        me = agents.hello(current().factory, _agent_device())
    except OneWindowError as exc:
        return _fail(exc)
    if me["agent"]:
        _join(agent_room(me["device"]))
    return me


@socketio.on("agent_jobs")
def on_agent_jobs(data=None):
    """An agent kiosk acknowledges what it printed, reports its printer, and takes its next jobs."""
    try:
        reply, events = agents.exchange(current().factory, _agent_device(), data, clock.now())
    except OneWindowError as exc:
        return _fail(exc)
    publish(events)
    return reply


def _agent_device() -> int:
    device_id = _device_ids.get(request.sid)
    if device_id is None:
        raise Unauthorized(
            "connect with the device's token to act as its agent", zh="请使用设备令牌连接，才能作为本机程序工作"
        )
    now = time.monotonic()
    budget = _agent_budgets.setdefault(device_id, TokenBucket(BURST, PER_SECOND, BURST, now))
    if not budget.take(now):
        raise RateLimited(
            f"too many agent messages from this device: at most {PER_SECOND:g} a second over all its connections",
            zh=f"本设备消息过于频繁：所有连接合计每秒最多 {PER_SECOND:g} 条",
        )
    return device_id


@socketio.on("subscribe")
def on_subscribe(data=None):
    """Join a hall (boards, kiosks, clerks) or one ticket (its holder) and get a snapshot at once."""
    if (data is None or data == {}) and request.sid in _devices:
        data = {"hall": _devices[request.sid]}  # a registered board shows its own hall
    if not isinstance(data, dict) or not (isinstance(data.get("hall"), str) or isinstance(data.get("ticket"), str)):
        return _fail(OneWindowError('send {"hall": code} or {"ticket": id}', zh="请发送大厅编码或号票编号"))
    joined, boards = _joined.get(request.sid, set()), current().extras["boards"]
    try:
        if isinstance(data.get("ticket"), str):
            with transaction(current().factory) as session:
                ticket = get_ticket(session, data["ticket"][:64])
                wanted, event = [ticket_room(ticket.id), holders_room(ticket.hall.code)], "ticket"
                _check_rooms(joined, wanted)
                snapshot = snapshots.ticket_full(session, ticket)
        else:
            code = data["hall"][:64]
            _check_rooms(joined, [hall_room(code)])
            snapshot = boards.get(code, lambda: _board(code))
            wanted, event = [hall_room(snapshot["hall"]["code"])], "board"
    except (NotFound, OneWindowError) as exc:
        return _fail(exc)
    for room in wanted:
        _join(room)
    if event == "board":  # the same bytes for every board of the hall: encoded once, sent by this process only
        manager = socketio.server.manager
        encoded = boards.encode(snapshot["hall"]["code"], snapshot, lambda s: manager.encode("board", s))
        if encoded is not None:
            manager.send_encoded(request.sid, encoded)
            return {"ok": True}
    emit(event, snapshot, ignore_queue=True)  # to a client of this process: no round trip through Redis
    return {"ok": True}


def _join(room: str) -> None:
    join_room(room)
    _joined.setdefault(request.sid, set()).add(room)


def _board(hall_code: str) -> dict:
    with transaction(current().factory) as session:
        return snapshots.board(session, get_hall(session, hall_code))


def _check_rooms(joined: set[str], wanted: list[str]) -> None:
    if len(joined | set(wanted)) > MAX_ROOMS:
        raise TooManyRooms(
            f"one connection follows at most {MAX_ROOMS} rooms; open another for more",
            zh=f"一个连接最多关注 {MAX_ROOMS} 个房间，请另开连接",
        )


@socketio.on_error_default
def on_error(exc):
    log.warning("socket handler failed: %s", type(exc).__name__)
    return {
        "error": {
            "code": "internal",
            "message": "the server could not handle this message",
            "message_zh": "服务器无法处理这条消息",
        }
    }
