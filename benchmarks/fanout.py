"""Call-to-client latency: raw subscribers spread over one or more server processes, calls made on the first."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import requests

from benchmarks.harness import summary
from benchmarks.raw_client import RawSubscriber
from benchmarks.server_bench import fill, tokens


async def _fanout(urls: list[str], clients: int, calls: int, headers: dict) -> tuple[list[float], int, int]:
    """Clients spread over `urls`, calls made on the first: latency from call-next to each client."""
    received: list[tuple[str, float]] = []
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    def on_called(number: str, at: float) -> None:
        received.append((number, at))

    async def one(i: int) -> RawSubscriber | None:
        for _attempt in range(3):  # a busy server may time a connect out; a board would retry too
            board = RawSubscriber(session, on_called)
            try:
                await board.connect(urls[i % len(urls)], {"hall": "erdao"})
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                await board.disconnect()
                await asyncio.sleep(1)
                continue
            return board
        return None

    sios: list[RawSubscriber] = []
    for start in range(0, clients, 50):  # connect in batches: a hall's boards do not all boot at once
        batch = await asyncio.gather(*(one(i) for i in range(start, min(clients, start + 50))))
        sios += [sio for sio in batch if sio is not None]
    clients = len(sios)
    await asyncio.sleep(2 + clients / 1000)  # let the subscriptions' snapshots go out first
    loop = asyncio.get_running_loop()
    base = f"{urls[0]}/api/v1/halls/erdao/windows/1"
    sent: dict[str, float] = {}
    for _ in range(calls):
        t0 = time.perf_counter()
        r = await loop.run_in_executor(None, lambda: requests.post(f"{base}/call-next", headers=headers, timeout=60))
        sent[r.json()["number"]] = t0
        await loop.run_in_executor(None, lambda: requests.post(f"{base}/no-show", headers=headers, timeout=60))
        await asyncio.sleep(0.2)
    deadline = time.monotonic() + 60
    while len(received) < clients * calls and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.gather(*(sio.disconnect() for sio in sios), return_exceptions=True)
    await session.close()
    return [(t - sent[number]) * 1000 for number, t in received if number in sent], len(received), clients


def fanout(urls: list[str], clients: int, calls: int) -> dict:
    """From a clerk's call-next request to `ticket_called` at every client (spread over `urls`)."""
    url = urls[0]
    headers = tokens(url, 1)[0]
    requests.post(f"{url}/api/v1/halls/erdao/windows/1/open", headers=headers, timeout=10)
    fill(url, calls + 5)
    latencies, got, connected = asyncio.run(_fanout(urls, clients, calls, headers))
    return {
        **summary(latencies),
        "delivered": got,
        "expected": connected * calls,
        "clients": clients,
        "connected": connected,
    }
