"""Messages to citizens ("N ahead", "called", "please rate") through a persistent outbox.

A worker scans the followed tickets every few seconds, off the request path, and puts at most one
message per (ticket, kind) in the outbox (the idempotency key is unique). Delivery claims a row with
a lease, sends it, and marks it sent; failures retry with backoff, also after a restart. A receiver
that saw a key already must ignore the repeat (at-least-once when a process dies mid-send).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from queue_server import clock
from queue_server.appointments.service import mark_no_shows
from queue_server.config import Settings
from queue_server.core.states import NotifyState, TicketStatus
from queue_server.db import transaction
from queue_server.hall_settings import NotifyConfig, hall_settings, read_stored
from queue_server.models import Hall, Notification, NotifySubscription, Ticket
from queue_server.outbox import Outbox
from queue_server.tickets.waits import position

log = logging.getLogger("onewindow.notify")


KINDS = ("ahead", "called", "rate")
LEASE = timedelta(seconds=60)  # a claimed message not confirmed by then is sent again
MAX_BACKOFF_S = 3600
MESSAGES = Outbox(Notification, NotifyState.PENDING, NotifyState.SENDING, NotifyState.SENT, NotifyState.FAILED, LEASE)
SCAN_BATCH = 500
SIGNATURE_HEADER = "X-OneWindow-Signature"


class DeliveryFailed(Exception):
    """The receiver did not take the message; it will be retried."""


class Notifier(Protocol):
    def send(self, message: dict) -> None:
        """Deliver one message or raise DeliveryFailed."""


class LogNotifier:
    """The default: writes one log line per message (number and kind only, never personal data)."""

    def send(self, message: dict) -> None:
        log.info("notify %s: %s %s", message["hall"], message["kind"], message["ticket"]["number"])


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex, as sent in the signature header (sha256=...)."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    """POSTs the message as JSON to the hall's URL (its SMS gateway or WeChat bridge), signed."""

    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout

    def send(self, message: dict) -> None:
        body = json.dumps(message, ensure_ascii=False, sort_keys=True).encode("utf-8")
        timestamp = str(int(clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-OneWindow-Event": message["kind"],
            "X-OneWindow-Delivery": message["key"],  # idempotency key: the same for every retry
            "X-OneWindow-Timestamp": timestamp,
            SIGNATURE_HEADER: "sha256=" + sign(self.secret, timestamp, body),
        }
        post = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(post, timeout=self.timeout) as response:  # noqa: S310 - the hall's own URL
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, ValueError) as exc:  # refused, timed out, DNS, bad URL
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status}")


def notifier_from(cfg: NotifyConfig) -> Notifier:
    if cfg.kind == "webhook":
        return WebhookNotifier(cfg.url, cfg.secret, cfg.timeout_s)
    return LogNotifier()


# --- the outbox ----------------------------------------------------------------------------------


def enqueue(session: Session, ticket: Ticket, kind: str, payload: dict, now: datetime) -> bool:
    """Put a message in the outbox unless this ticket already has one of this kind."""
    key = f"{ticket.id}:{kind}"
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = session.execute(
        insert(Notification)
        .values(
            key=key,
            hall_id=ticket.hall_id,
            kind=kind,
            payload={**payload, "key": key},
            state=NotifyState.PENDING.value,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return result.rowcount == 1


def message(sub: NotifySubscription, ticket: Ticket, kind: str, ahead: int, public_url: str | None) -> dict:
    """What the receiver gets: the ticket (its id is the link to the tracking page) and a ready text."""
    window = ticket.window.number if ticket.window else None
    texts = {
        "ahead": (
            f"您的 {ticket.number} 号前面还有 {ahead} 人，请到大厅候叫"
            + ("并在自助机签到" if ticket.unchecked_on_call and not ticket.checked_in_at else "")
        ),
        "called": f"请 {ticket.number} 号到 {window} 号窗口办理",
        "rate": f"{ticket.number} 号已办结，请对本次服务进行评价",
    }
    path = f"/t/{ticket.id}"
    return {
        "kind": kind,
        "hall": ticket.hall.code,
        "text": texts[kind],
        "ahead": ahead if kind == "ahead" else None,
        "ticket": {
            "id": ticket.id,
            "number": ticket.number,
            "status": ticket.status,
            "window": window,
            "service": ticket.service.name,
        },
        "ref": sub.ref,
        "phone": sub.phone_masked,
        "path": path,
        "url": public_url.rstrip("/") + path if public_url else None,
    }


def scan(session: Session, settings: Settings, now: datetime) -> int:
    """Enqueue what the followed tickets have earned since the last scan; returns how many were new."""
    subs = session.scalars(
        select(NotifySubscription).where(NotifySubscription.is_open).order_by(NotifySubscription.id).limit(SCAN_BATCH)
    )
    added = 0
    thresholds: dict[int, int] = {}
    for sub in subs:
        ticket = sub.ticket
        if ticket.hall_id not in thresholds:
            thresholds[ticket.hall_id] = hall_settings(ticket.hall).notify.ahead
        due: list[tuple[str, int]] = []
        if ticket.status == TicketStatus.WAITING.value:
            ahead = position(session, ticket).ahead
            if ahead <= thresholds[ticket.hall_id]:
                due.append(("ahead", ahead))
        elif ticket.called_at is not None and ticket.status != TicketStatus.CANCELLED.value:
            due.append(("called", 0))
        if ticket.status == TicketStatus.DONE.value:
            due.append(("rate", 0))
        for kind, ahead in due:
            added += enqueue(session, ticket, kind, message(sub, ticket, kind, ahead, settings.server.public_url), now)
        if ticket.status in (TicketStatus.DONE.value, TicketStatus.NO_SHOW.value, TicketStatus.CANCELLED.value):
            sub.is_open = False
    return added


def _claim(factory: sessionmaker[Session], now: datetime, limit: int) -> list[tuple[int, str, dict, NotifyConfig]]:
    """Take due messages with a lease, so another process does not send them at the same time."""
    with transaction(factory) as session:
        claimed = MESSAGES.claim(session, now, limit=limit)
        if not claimed:
            return []
        notes = session.execute(
            select(Notification.id, Hall.code, Notification.payload, Hall.settings)
            .join(Hall, Hall.id == Notification.hall_id)
            .where(Notification.id.in_(claimed))
            .order_by(Notification.id)
        ).all()
        return [
            (note_id, code, payload, read_stored(stored or {}, code).notify) for note_id, code, payload, stored in notes
        ]


def deliver_due(
    factory: sessionmaker[Session],
    notifier_for: Callable[[str, NotifyConfig], Notifier],
    now: datetime | None = None,
    limit: int = 20,
) -> int:
    """Send the messages that are due; returns how many were delivered."""
    now = now or clock.now()
    delivered = 0
    for note_id, hall_code, payload, cfg in _claim(factory, now, limit):
        try:
            notifier_for(hall_code, cfg).send(payload)
            error = None
        except DeliveryFailed as exc:
            error = str(exc)[:500]
        except Exception as exc:  # noqa: BLE001 - a broken notifier must not stop the others
            log.exception("notifier for %s failed", hall_code)
            error = type(exc).__name__
        with transaction(factory) as session:
            if error is None:
                delivered += MESSAGES.done(session, note_id, sent_at=clock.now())
                continue
            state = MESSAGES.retry(
                session, note_id, error, now, first_s=cfg.retry_s, cap_s=MAX_BACKOFF_S, max_attempts=cfg.max_attempts
            )
        if state == NotifyState.FAILED:
            log.warning(
                "giving up on %s message %s after %d attempts: %s", payload["kind"], note_id, cfg.max_attempts, error
            )
    return delivered


class NotifyWorker:
    """Background task: no-shows of bookings, the scan, and delivery, every `interval` seconds."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, interval: float = 3.0) -> None:
        self.factory, self.settings, self.interval = factory, settings, interval
        # A hall's notifier is kept while its settings stay the same; an /admin change makes a new one.
        self.notifiers: dict[str, tuple[NotifyConfig, Notifier]] = {}
        self.running = False

    def notifier_for(self, hall_code: str, cfg: NotifyConfig) -> Notifier:
        kept = self.notifiers.get(hall_code)
        if kept is None or kept[0] != cfg:
            kept = self.notifiers[hall_code] = (cfg, notifier_from(cfg))
        return kept[1]

    def run_once(self, now: datetime | None = None) -> int:
        """One round: mark no-shows, enqueue, deliver. Returns the number delivered."""
        now = now or clock.now()
        with transaction(self.factory) as session:
            mark_no_shows(session, now)
            scan(session, self.settings, now)
        return deliver_due(self.factory, self.notifier_for, now)

    def start(self) -> None:
        from queue_server.extensions import socketio

        self.running = True
        socketio.start_background_task(self._loop)

    def _loop(self) -> None:
        from queue_server.extensions import socketio

        while self.running:
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
                log.exception("notification round failed")
            socketio.sleep(self.interval)
