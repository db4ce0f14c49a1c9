"""Per-connection limits for Socket.IO clients: how often one may send, and how much may wait for one.

A board, kiosk or phone sends one `subscribe` when it connects and one after each resync, nothing
else. Every message costs a green thread and most cost a database query, so a connection that sends
a stream of them is refused and then dropped before it can starve the hall. A client that stops
reading would make the server keep every event for it; past a bound it is dropped instead, and its
reconnect brings a fresh snapshot.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass

from engineio import packet as eio_packet
from socketio import packet as sio_packet

from queue_server.realtime.wire import Broadcast, write_now

log = logging.getLogger("onewindow.realtime")
BURST = 12  # messages at once: connect, subscribe, resyncs, and a console's bad tries answered with errors
PER_SECOND = 1.0  # then this many on average
STRIKES = 10  # messages refused in a row before the connection is dropped
MAX_WAITING = 128  # packets queued for one client; a reading client has a handful at most


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled at `rate` per second; each message takes one."""

    capacity: float
    rate: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class ClientLimits:
    """Wraps a Socket.IO server's Engine.IO layer: every message counted, every outgoing queue bounded."""

    def __init__(self, server, *, burst: int = BURST, per_second: float = PER_SECOND, clock=time.monotonic) -> None:
        self.server, self.eio = server, server.eio
        self.burst, self.per_second, self.clock = burst, per_second, clock
        self.buckets: dict[str, TokenBucket] = {}
        self.refused: dict[str, int] = {}
        self.dropped: set[str] = set()
        self.websockets: dict[str, object] = {}
        self._message, self._disconnect = self.eio.handlers["message"], self.eio.handlers["disconnect"]
        self.eio.on("message", self.on_message)
        self.eio.on("disconnect", self.on_disconnect)
        self._send_packet = self.eio.send_packet
        self.eio.send_packet = self.send_packet
        self._track_websockets()
        if isinstance(server.manager, Broadcast) and self.eio.async_mode == "eventlet":
            server.manager.deliver = self.deliver

    def on_message(self, eio_sid: str, data) -> None:
        if eio_sid in self.dropped:
            return
        bucket = self.buckets.get(eio_sid)
        now = self.clock()
        if bucket is None:
            bucket = self.buckets[eio_sid] = TokenBucket(self.burst, self.per_second, self.burst, now)
        if bucket.take(now):
            self.refused.pop(eio_sid, None)
            self._message(eio_sid, data)
            return
        strikes = self.refused[eio_sid] = self.refused.get(eio_sid, 0) + 1
        if strikes == 1:  # say it once; a client that listens slows down
            error = {
                "code": "rate_limited",
                "message": f"too many messages: at most {self.per_second:g} a second",
                "message_zh": f"消息过于频繁：每秒最多 {self.per_second:g} 条",
            }
            event = self.server.packet_class(sio_packet.EVENT, data=["error", error]).encode()
            self._send_packet(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, event))
            self.server.sleep(0)  # let its writer send it before a burst read at once reaches the drop
        elif strikes >= STRIKES:
            self.drop(eio_sid, f"{strikes} messages over its limit")

    def on_disconnect(self, eio_sid: str, *reason) -> None:
        for table in (self.buckets, self.refused, self.websockets):
            table.pop(eio_sid, None)
        self.dropped.discard(eio_sid)
        self._disconnect(eio_sid, *reason)

    def send_packet(self, eio_sid: str, pkt) -> None:
        if eio_sid in self.dropped:
            return
        client = self.eio.sockets.get(eio_sid)
        if client is not None and client.queue.qsize() >= MAX_WAITING:
            self.drop(eio_sid, f"{MAX_WAITING} packets wait for it: it does not read")
            return
        self._send_packet(eio_sid, pkt)

    def deliver(self, eio_sid: str, pkt, frame: bytes) -> None:
        """A room's packet, pre-framed: written straight to an idle websocket, else queued as usual."""
        if eio_sid in self.dropped:
            return
        ws, client = self.websockets.get(eio_sid), self.eio.sockets.get(eio_sid)
        if ws is None or client is None or not write_now(ws, client, frame):
            self.server._send_eio_packet(eio_sid, pkt)  # the ordinary way (which a test client intercepts)

    def drop(self, eio_sid: str, why: str) -> None:
        """Disconnect a client now: what waits for it is discarded and its transport is shut."""
        if eio_sid in self.dropped:
            return
        self.dropped.add(eio_sid)
        address = self.server.environ.get(eio_sid, {}).get("REMOTE_ADDR", "?")
        log.warning("dropping Socket.IO client %s (%s): %s", address, eio_sid, why)
        client = self.eio.sockets.get(eio_sid)
        if client is not None:
            _discard(client.queue, self.eio.get_queue_empty_exception())
        raw = getattr(self.websockets.get(eio_sid), "socket", None)
        if raw is not None:
            # The writer may be blocked on a client that does not read; shutting the socket frees it and
            # ends the reader too, which closes the Engine.IO session as a lost transport would.
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif client is not None:
            client.close(wait=False, abort=True)

    def _track_websockets(self) -> None:
        """Remember each websocket of this server (a copy of the driver table: other servers keep theirs).

        Compression is not offered: it would cost a deflate per client and per event (and a compressor's
        window per connection), and a frame could no longer be built once for a whole room.
        """
        make = self.eio._async["websocket"]
        if make is None:
            return

        class Uncompressed(make):
            def _negotiate_permessage_deflate(self, extensions):
                return None

        def websocket(handler, server):
            sid = getattr(getattr(handler, "__self__", None), "sid", None)

            def run(ws):
                if sid is not None:
                    self.websockets[sid] = ws
                return handler(ws)

            return Uncompressed(run, server)

        self.eio._async = {**self.eio._async, "websocket": websocket}


def _discard(queue, empty: type[Exception]) -> None:
    while True:
        try:
            queue.get_nowait()
        except empty:
            return
        queue.task_done()
