"""Reconnect storm: N boards connected to two processes (PostgreSQL + Redis), both restarted; seconds until every
board holds a fresh snapshot again, then one call: is it delivered to every board, and how fast.

    python -m benchmarks.reconnect_storm [--clients 2000 5000] [--baseline /tmp/base] [--profile DIR]

Boards are raw Engine.IO clients (benchmarks/raw_client.py, asyncio protocols) that reconnect the way the board page does:
after a lost connection they retry every 0.5–1.5 s (jittered, so they do not all come back in one tick),
subscribe again and wait for the `board` snapshot. Prints numbers; it is not a test. With `--baseline` each
client count runs that checkout too, in turn; `--profile DIR` records the restarted servers with py-spy.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path

import aiohttp
import psutil
import requests

from benchmarks.harness import percentile, py_spy, running_server
from benchmarks.raw_client import RawSubscriber
from benchmarks.server_bench import fill, tokens
from tests.support import ROOT, PrivateRedis

BOARD = '42["board",'


class Board(RawSubscriber):
    """A raw subscriber that reconnects and notes when each `board` snapshot arrives."""

    def __init__(self, session: aiohttp.ClientSession, url: str, on_called) -> None:
        super().__init__(session, on_called)
        self.url, self.boards, self.stopped = url, [], False
        self.dropped = 0.0  # when its last connection ended

    @property
    def fresh(self) -> bool:
        """A snapshot came on the connection it has now (its server restarted since the one before)."""
        return bool(self.boards) and self.boards[-1] > self.dropped

    async def run(self) -> None:
        while not self.stopped:
            try:
                await self.connect(self.url, {"hall": "erdao"})
                await self.task
            except (TimeoutError, aiohttp.ClientError, ConnectionError, OSError):
                pass
            if not self.stopped:
                await asyncio.sleep(random.uniform(0.5, 1.5))

    def on_text(self, data: str) -> None:
        if data.startswith(BOARD):
            self.boards.append(time.monotonic())
        super().on_text(data)

    def lost(self) -> None:
        self.dropped = time.monotonic()


async def _storm(servers, clients: int, profile: Path | None = None) -> dict:
    urls = [s.url for s in servers]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    received: list[tuple[str, float]] = []
    boards = [Board(session, urls[i % len(urls)], lambda n, t: received.append((n, t))) for i in range(clients)]
    tasks = []
    for start in range(0, clients, 50):  # the boards of a hall boot over a while, not in one tick
        tasks += [asyncio.create_task(b.run()) for b in boards[start : start + 50]]
        await asyncio.sleep(0.05)
    await _until(lambda: all(b.boards for b in boards), 300, "every board's first snapshot")
    loop = asyncio.get_running_loop()
    killed = time.monotonic()
    for server in servers:
        await loop.run_in_executor(None, server.stop)
    spies = []
    for i, server in enumerate(servers):
        await loop.run_in_executor(None, server.start)
        if profile is not None:
            spies.append(py_spy(server.proc.pid, 20, profile.with_name(f"{profile.stem}-{i}.txt")))
    back, client_cpu = time.monotonic(), time.process_time()
    procs = [psutil.Process(s.proc.pid) for s in servers]
    server_cpu = [sum(p.cpu_times()[:2]) for p in procs]
    # Not "a snapshot after both servers were up": the first server's boards may be fresh before the second is.
    settled = await _until(lambda: all(b.dropped > killed and b.fresh for b in boards), 600, "fresh snapshots")
    last = max(b.boards[-1] for b in boards)
    server_cpu = sum(sum(p.cpu_times()[:2]) - c for p, c in zip(procs, server_cpu, strict=True))
    client_cpu = time.process_time() - client_cpu
    headers = await loop.run_in_executor(None, lambda: tokens(urls[0], 1)[0])
    base = f"{urls[0]}/api/v1/halls/erdao/windows/1"
    await loop.run_in_executor(None, lambda: requests.post(f"{base}/open", headers=headers, timeout=60))
    await loop.run_in_executor(None, lambda: fill(urls[0], 3))
    t0 = time.perf_counter()
    r = await loop.run_in_executor(None, lambda: requests.post(f"{base}/call-next", headers=headers, timeout=60))
    number = r.json()["number"]
    await _until(lambda: sum(1 for n, _ in received if n == number) >= clients, 120, "the call at every board")
    latencies = [(t - t0) * 1000 for n, t in received if n == number]
    for b in boards:
        b.stopped = True
    await asyncio.gather(*(b.disconnect() for b in boards), return_exceptions=True)
    for task in tasks:
        task.cancel()
    await session.close()
    return {
        "clients": clients,
        "down_and_up_s": back - killed,
        "fresh_after_up_s": last - back if settled else float("nan"),
        "fresh_after_kill_s": last - killed if settled else float("nan"),
        "server_cpu_s": server_cpu,
        "client_cpu_s": client_cpu,
        "call_delivered": len(latencies),
        "call_p50_ms": percentile(latencies, 50),
        "call_p99_ms": percentile(latencies, 99),
    }


async def _until(check, timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            print(f"   timed out waiting for {what}", flush=True)
            return False
        await asyncio.sleep(0.05)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", nargs="+", type=int, default=[2000, 5000])
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout, measured in turn")
    parser.add_argument("--profile", type=Path, default=None, help="record the restarted servers with py-spy here")
    args = parser.parse_args()
    roots = [ROOT] + ([args.baseline] if args.baseline else [])
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in psutil.getloadavg())} (the machine is shared)")
    redis = PrivateRedis().start()
    try:
        for clients in args.clients:
            for root in roots:
                profile = args.profile / f"{root.name}-{clients}.txt" if args.profile else None
                with running_server("postgres", processes=2, redis_url=redis.url, root=root) as servers:
                    r = asyncio.run(_storm(servers, clients, profile))
                print(
                    f"{'new' if root == ROOT else 'baseline':8} "
                    f"{clients:5} boards, 2 processes + Redis: restart took {r['down_and_up_s']:.1f} s; every board fresh "
                    f"{r['fresh_after_up_s']:.1f} s after the servers were up ({r['fresh_after_kill_s']:.1f} s after "
                    f"the kill); next call delivered {r['call_delivered']}/{clients}, p50 {r['call_p50_ms']:.0f} ms, "
                    f"p99 {r['call_p99_ms']:.0f} ms; server CPU {r['server_cpu_s']:.1f} s, client CPU {r['client_cpu_s']:.1f} s "
                    "until every board was fresh",
                    flush=True,
                )
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
