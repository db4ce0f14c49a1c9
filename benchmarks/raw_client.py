"""A minimal Socket.IO subscriber over one raw websocket (Engine.IO 4), for fan-out measurements.

A python-socketio client decodes every event of the hall room (calls, window and queue updates)
into Python objects; with a thousand of them in one benchmark process, the measurement becomes the
client's own decoding backlog. This one speaks just enough of the protocol — open, connect,
subscribe, answer pings — and decodes only the `ticket_called` frames it is asked to time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import aiohttp

CALLED = '42["ticket_called",'


class RawSubscriber:
    """One board: `await connect(...)`, then every call's ticket number and arrival time go to `on_called`."""

    def __init__(self, session: aiohttp.ClientSession, on_called: Callable[[str, float], None]) -> None:
        self.session, self.on_called = session, on_called
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.task: asyncio.Task | None = None

    async def connect(self, url: str, subscription: dict, timeout: float = 60) -> None:
        ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.session.ws_connect(ws_url, autoping=True, timeout=timeout, max_msg_size=0)
        opened = await self.ws.receive_str(timeout=timeout)  # 0{"sid": ..., "pingInterval": ...}
        if not opened.startswith("0"):
            raise ConnectionError(f"expected an Engine.IO open packet, got {opened[:80]!r}")
        await self.ws.send_str("40")  # Socket.IO connect to the default namespace
        while not (reply := await self.ws.receive_str(timeout=timeout)).startswith("40"):
            if reply.startswith("44"):
                raise ConnectionError(f"connection refused: {reply[:200]}")
        await self.ws.send_str("42" + json.dumps(["subscribe", subscription]))
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = message.data
            if data == "2":  # Engine.IO ping from the server
                await self.ws.send_str("3")
            elif data.startswith(CALLED):
                at = time.perf_counter()
                self.on_called(json.loads(data[2:])[1]["ticket"]["number"], at)

    async def disconnect(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
