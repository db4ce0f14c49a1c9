"""Abusive clients for the denial-of-service tests, each from its own loopback address, and a kiosk timing its issues."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time

import requests
import websocket

KIOSK = "127.0.0.1"  # the kiosk on the server PC: exempt from per-address limits, as shipped


def connect_from(source: str, port: int, *, rcvbuf: int | None = None) -> socket.socket:
    """A TCP connection to the server on 127.0.0.1 from another loopback address."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect, so the window stays small
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


class Refused(Exception):
    """The server refused the Socket.IO connection (bad credentials): its error data."""


class RawSocketIO:
    """A Socket.IO client over a bare websocket, written the way an attacker would: no reconnects, no manners."""

    def __init__(self, port: int, source: str, *, rcvbuf: int | None = None, auth: dict | None = None) -> None:
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
            socket=connect_from(source, port, rcvbuf=rcvbuf),
            timeout=10,
        )
        assert self.ws.recv().startswith("0")  # Engine.IO open
        self.ws.send("40" + (json.dumps(auth) if auth else ""))  # Socket.IO connect to "/"
        reply = self.ws.recv()
        if not reply:  # a close frame: the server ended the connection
            raise websocket.WebSocketConnectionClosedException("closed by the server")
        if reply.startswith("44"):
            self.close()
            raise Refused(json.loads(reply[2:]))
        assert reply.startswith("40"), reply
        self.acks, self.seen = 0, []

    def send_event(self, name: str, data) -> None:
        self.ws.send("42" + json.dumps([name, data]))

    def call(self, name: str, data, timeout: float = 10):
        """Emit with an acknowledgement and return the server's answer; events that come first go to `seen`."""
        self.acks += 1
        self.ws.send(f"42{self.acks}" + json.dumps([name, data]))
        prefix = f"43{self.acks}"
        self.ws.settimeout(timeout)
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
            elif frame.startswith(prefix):
                answer = json.loads(frame[len(prefix) :])
                return answer[0] if answer else None
            elif frame.startswith("42"):
                self.seen.append(tuple(json.loads(frame[2:])))

    def events(self, timeout: float = 10):
        """Socket.IO events (name, data) as they arrive, answering pings; ends when the server closes."""
        self.ws.settimeout(timeout)
        while True:
            try:
                frame = self.ws.recv()
            except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
                return
            if not frame or frame == "1":  # closed, or Engine.IO close
                return
            if frame == "2":
                self.ws.send("3")
            elif frame.startswith("42"):
                name, *args = json.loads(frame[2:])
                yield name, (args[0] if args else None)

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except (websocket.WebSocketException, OSError):
            pass


def issue(session: requests.Session, url: str) -> float:
    """Seconds one walk-in ticket takes to issue."""
    start = time.perf_counter()
    r = session.post(f"{url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=60)
    elapsed = time.perf_counter() - start
    assert r.status_code == 201, r.text
    return elapsed


def baseline(url: str, count: int = 15) -> float:
    """Median issue time of the kiosk with nobody attacking (after a warm-up)."""
    kiosk = requests.Session()
    issue(kiosk, url)
    return statistics.median(issue(kiosk, url) for _ in range(count))


def issue_while(url: str, attacking: threading.Event, done: threading.Event) -> list[float]:
    """Issue times of the kiosk for as long as the attack lasts."""
    kiosk = requests.Session()
    attacking.wait(10)
    times = []
    while not done.is_set():
        times.append(issue(kiosk, url))
    return times
