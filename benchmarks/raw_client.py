"""A minimal Socket.IO subscriber over one raw websocket (Engine.IO 4), for fan-out measurements.

A python-socketio client decodes every event of the hall room (calls, window and queue updates)
into Python objects; with a thousand of them in one benchmark process, the measurement becomes the
client's own decoding backlog. This one speaks just enough of the protocol — open, connect,
subscribe, answer pings — and decodes only the `ticket_called` frames it is asked to time. It is
an asyncio protocol that parses websocket frames itself: thousands of aiohttp websockets spent
more CPU reading the hall's events than the two servers spent sending them, on the same cores.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

CALLED = '42["ticket_called",'


def _frame(text: str) -> bytes:
    """A client's text frame (masked, with a zero key: the mask is required, its value is not)."""
    data = text.encode("utf-8")
    size = len(data)
    if size < 126:
        header = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return header + b"\0\0\0\0" + data


class _Wire(asyncio.Protocol):
    def __init__(self, owner: RawSubscriber) -> None:
        self.owner, self.buffer, self.upgraded = owner, b"", False
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.transport.close()
                return
            self.upgraded, buffer = True, buffer[end + 4 :]
        start, size = 0, len(buffer)
        while size - start >= 2:
            opcode, length = buffer[start] & 0x0F, buffer[start + 1] & 0x7F
            head = 2
            if length == 126:
                if size - start < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, start + 2)
                head = 4
            elif length == 127:
                if size - start < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, start + 2)
                head = 10
            if size - start < head + length:
                break
            payload = buffer[start + head : start + head + length]
            start += head + length
            if opcode == 1:
                self.owner.on_text(payload.decode("utf-8"))
            elif opcode == 8:
                self.transport.close()
                return
        self.buffer = buffer[start:]

    def connection_lost(self, exc) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self.owner.lost()


class RawSubscriber:
    """One board: `await connect(...)`, then every call's ticket number and arrival time go to `on_called`."""

    def __init__(self, session, on_called: Callable[[str, float], None]) -> None:
        self.on_called = on_called  # `session` is unused: kept so callers need not change
        self.wire: _Wire | None = None
        self.task: asyncio.Future | None = None  # done when the connection ends
        self.inbox: asyncio.Queue | None = None  # texts until subscribed

    async def connect(self, url: str, subscription: dict, timeout: float = 60) -> None:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        self.inbox = asyncio.Queue()
        _transport, self.wire = await asyncio.wait_for(
            loop.create_connection(lambda: _Wire(self), parts.hostname, parts.port), timeout
        )
        self.task = self.wire.closed
        key = base64.b64encode(os.urandom(16)).decode()
        self.wire.transport.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        opened = await self._next(timeout)  # 0{"sid": ..., "pingInterval": ...}
        if not opened.startswith("0"):
            raise ConnectionError(f"expected an Engine.IO open packet, got {opened[:80]!r}")
        self.send("40")  # Socket.IO connect to the default namespace
        while not (reply := await self._next(timeout)).startswith("40"):
            if reply.startswith("44"):
                raise ConnectionError(f"connection refused: {reply[:200]}")
        self.inbox = None
        self.send("42" + json.dumps(["subscribe", subscription]))

    async def _next(self, timeout: float) -> str:
        get = asyncio.ensure_future(self.inbox.get())
        done, _ = await asyncio.wait([get, self.task], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if get not in done:
            get.cancel()
            raise ConnectionError("connection closed") if self.task.done() else TimeoutError()
        return get.result()

    def send(self, text: str) -> None:
        if self.wire is not None and not self.wire.transport.is_closing():
            self.wire.transport.write(_frame(text))

    def on_text(self, data: str) -> None:
        if data == "2":  # Engine.IO ping from the server
            self.send("3")
        elif self.inbox is not None:
            self.inbox.put_nowait(data)
        elif data.startswith(CALLED):
            self.on_called(json.loads(data[2:])[1]["ticket"]["number"], time.perf_counter())

    def lost(self) -> None:
        """The connection ended (a subclass may reconnect)."""

    async def disconnect(self) -> None:
        if self.wire is not None:
            self.wire.transport.close()
            await asyncio.gather(self.task, return_exceptions=True)
