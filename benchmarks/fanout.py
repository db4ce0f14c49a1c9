"""Call-to-client latency: raw subscribers spread over one or more server processes, calls made on the first.

    python -m benchmarks.fanout [--clients 1000 5000] [--processes 2] [--rounds 2] [--baseline /tmp/base]
                                [--profile DIR]

Two processes share PostgreSQL and Redis (one process: SQLite). With `--baseline` each round measures that
checkout and this one in turn, so both meet the same load on a shared machine. Besides the latency it prints
the CPU seconds the servers and this client process spent while the calls went out: the benchmark's clients
share the machine's cores with the servers. `--profile DIR` records the servers with py-spy during the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import aiohttp
import psutil
import requests

from benchmarks.harness import py_spy, running_server, summary
from benchmarks.raw_client import RawSubscriber
from benchmarks.server_bench import fill, tokens


async def _fanout(
    urls: list[str], clients: int, calls: int, headers: dict, watch=None
) -> tuple[list[float], int, int, dict]:
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
    started = watch.start() if watch is not None else None
    for _ in range(calls):
        t0 = time.perf_counter()
        r = await loop.run_in_executor(None, lambda: requests.post(f"{base}/call-next", headers=headers, timeout=60))
        sent[r.json()["number"]] = t0
        await loop.run_in_executor(None, lambda: requests.post(f"{base}/no-show", headers=headers, timeout=60))
        await asyncio.sleep(0.2)
    deadline = time.monotonic() + 60
    while len(received) < clients * calls and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    cpu = watch.stop(started) if watch is not None else {}
    await asyncio.gather(*(sio.disconnect() for sio in sios), return_exceptions=True)
    await session.close()
    latencies = [(t - sent[number]) * 1000 for number, t in received if number in sent]
    return latencies, len(received), clients, cpu


class CpuWatch:
    """CPU seconds of the server processes and of this (client) process between start and stop."""

    def __init__(self, pids: list[int], profile: Path | None = None, seconds: float = 30) -> None:
        self.procs = [psutil.Process(pid) for pid in pids]
        self.profile, self.seconds, self.spies = profile, seconds, []

    def start(self):
        if self.profile is not None:
            self.spies = [
                py_spy(p.pid, self.seconds, self.profile.with_name(f"{self.profile.stem}-{i}.txt"))
                for i, p in enumerate(self.procs)
            ]
        return [sum(p.cpu_times()[:2]) for p in self.procs], time.process_time(), time.monotonic()

    def stop(self, started) -> dict:
        servers, client, wall = started
        for spy in self.spies:
            spy.wait()
        return {
            "server_cpu_s": sum(sum(p.cpu_times()[:2]) - s for p, s in zip(self.procs, servers, strict=True)),
            "client_cpu_s": time.process_time() - client,
            "wall_s": time.monotonic() - wall,
        }


def fanout(urls: list[str], clients: int, calls: int, watch: CpuWatch | None = None) -> dict:
    """From a clerk's call-next request to `ticket_called` at every client (spread over `urls`)."""
    url = urls[0]
    headers = tokens(url, 1)[0]
    requests.post(f"{url}/api/v1/halls/erdao/windows/1/open", headers=headers, timeout=10)
    fill(url, calls + 5)
    latencies, got, connected, cpu = asyncio.run(_fanout(urls, clients, calls, headers, watch))
    return {
        **summary(latencies),
        **cpu,
        "delivered": got,
        "expected": connected * calls,
        "clients": clients,
        "connected": connected,
    }


def measure(root: Path, clients: int, processes: int, calls: int, profile: Path | None) -> dict:
    """One fan-out run of checkout `root`: PostgreSQL and Redis for several processes, SQLite for one."""
    from tests.support import PrivateRedis

    redis = PrivateRedis().start() if processes > 1 else None
    try:
        kind = "postgres" if redis else "sqlite"
        with running_server(kind, processes=processes, redis_url=redis and redis.url, root=root) as servers:
            out = profile / f"{root.name}-{clients}.txt" if profile else None
            watch = CpuWatch([s.proc.pid for s in servers], out, seconds=calls * 0.5 + 5)
            return fanout([s.url for s in servers], clients, calls, watch)
    finally:
        if redis is not None:
            redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", nargs="+", type=int, default=[5000])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout, measured in turn")
    parser.add_argument("--profile", type=Path, default=None, help="record the servers with py-spy into this folder")
    args = parser.parse_args()
    from tests.support import ROOT

    roots = [ROOT] + ([args.baseline] if args.baseline else [])
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in psutil.getloadavg())} (the machine is shared)")
    for round_ in range(args.rounds):
        for clients in args.clients:
            for root in roots if round_ % 2 == 0 else roots[::-1]:
                profile = args.profile if args.profile and round_ == 0 else None
                r = measure(root, clients, args.processes, args.calls, profile)
                label = "baseline" if root != ROOT else "new"
                print(
                    f"round {round_ + 1} {label:8} {clients:5} clients, {args.processes} process(es): "
                    f"{r['delivered']}/{r['expected']} delivered, p50 {r['p50_ms']:.0f} ms, "
                    f"p99 {r['p99_ms']:.0f} ms; server CPU {r['server_cpu_s']:.1f} s, client CPU "
                    f"{r['client_cpu_s']:.1f} s over {r['wall_s']:.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
