"""A real python-socketio client that records events and lets a test wait for them."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import socketio

EVENTS = (
    "board",
    "ticket",
    "ticket_issued",
    "ticket_called",
    "ticket_updated",
    "queue_changed",
    "print_job",
    "printer_status",
    "window_updated",
    "resync",
    "wait_updated",
    "error",
)


class Listener:
    """A Socket.IO client subscribed to a hall or a ticket, keeping every event it receives."""

    def __init__(
        self, url: str, subscribe: dict | None = None, token: str | None = None, reconnection: bool = True
    ) -> None:
        self.url, self.subscription = url, subscribe
        self.events: dict[str, list] = defaultdict(list)
        self.seen: dict[str, list] = defaultdict(list)  # everything ever received, in order
        self.changed = threading.Condition()
        self.connected = threading.Event()
        self.connects = 0
        self.auth = {"token": token} if token else None
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=1)
        for name in EVENTS:
            self.sio.on(name, self._recorder(name))
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", lambda *a: self.connected.clear())

    def _recorder(self, name):
        def record(data=None):
            with self.changed:
                self.events[name].append(data)
                self.seen[name].append(data)
                self.changed.notify_all()

        return record

    def _on_connect(self):
        self.connects += 1
        self.connected.set()
        if self.subscription is not None:
            self.sio.emit("subscribe", self.subscription)

    def connect(self, transports=("websocket",)) -> Listener:
        self.sio.connect(self.url, auth=self.auth, transports=list(transports), wait_timeout=10)
        return self

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 15):
        """Take the first unconsumed event `name` matching `predicate`, waiting for it if needed."""
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                for data in self.events[name]:
                    if predicate(data):
                        self.events[name].remove(data)
                        return data
                remaining = end - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {name!r} event matching within {timeout}s; got {dict(self.events)}")
                self.changed.wait(remaining)

    def drain(self, name: str) -> list:
        with self.changed:
            items, self.events[name] = self.events[name], []
            return items

    def close(self) -> None:
        self.sio.disconnect()
