"""Soak: a busy hall day compressed into a few minutes, with memory and latency sampled over time.

    python -m benchmarks.soak [--minutes 10] [--tickets 3000] [--subscribers 500] [--db sqlite]

3,000 tickets arrive evenly over the run, 30 windows call, start and finish them, 400 boards
follow the hall and 100 phones follow their own ticket. Every 10 s the server's RSS and the
p99 of the issue and call-next requests in that interval are recorded. The verdict compares
the last third of the run with the first: memory must not keep growing, p99 must stay flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

import aiohttp
import psutil
import socketio

from benchmarks.harness import WINDOWS, percentile, running_server
from tests.support import PASSWORD

SERVICES = ["QY001", "SB001", "BD001", "GJ001", "HJ001", "SW001"]
SAMPLE_S = 10


async def _subscribe(url: str, subscription: dict, counter: dict) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=True)

    async def on_event(*_):
        counter["events"] += 1

    for name in (
        "board",
        "ticket",
        "ticket_issued",
        "ticket_called",
        "ticket_updated",
        "queue_changed",
        "window_updated",
    ):
        sio.on(name, on_event)

    async def on_connect():
        await sio.emit("subscribe", subscription)

    sio.on("connect", on_connect)
    await sio.connect(url, transports=["websocket"])
    return sio


async def _run(url: str, pid: int, seconds: float, tickets: int, boards: int, phones: int) -> dict:
    proc = psutil.Process(pid)
    counter = {"events": 0}
    latencies: list[tuple[float, str, float]] = []  # (time since start, kind, ms)
    statuses: dict[str, int] = {}
    samples: list[dict] = []
    clients: list[socketio.AsyncClient] = []
    issued_ids: list[str] = []

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        headers = []
        for n in range(1, WINDOWS + 1):
            async with http.post(f"{url}/api/v1/auth/login", json={"username": f"bench{n}", "password": PASSWORD}) as r:
                headers.append({"Authorization": f"Bearer {(await r.json())['token']}"})
            async with http.post(f"{url}/api/v1/halls/erdao/windows/{n}/open", headers=headers[-1]) as r:
                await r.read()
        for i in range(boards):
            clients.append(await _subscribe(url, {"hall": "erdao"}, counter))
            if i % 50 == 49:
                await asyncio.sleep(0.1)
        begin = time.monotonic()
        stop = begin + seconds

        async def timed(kind: str, method: str, path: str, **kw):
            t0 = time.perf_counter()
            async with http.request(method, f"{url}{path}", **kw) as r:
                body = await r.read()
                status = r.status
            latencies.append((time.monotonic() - begin, kind, (time.perf_counter() - t0) * 1000))
            statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + 1
            return status, body

        async def kiosks():
            rng = random.Random(1)
            for i in range(tickets):
                due = begin + i * seconds / tickets
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                status, body = await timed(
                    "issue",
                    "POST",
                    "/api/v1/halls/erdao/tickets",
                    json={"service": rng.choice(SERVICES), "print": False},
                )
                if status == 201 and len(issued_ids) < phones:
                    issued_ids.append(json.loads(body)["id"])
                    clients.append(await _subscribe(url, {"ticket": issued_ids[-1]}, counter))

        async def window(n: int):
            rng = random.Random(n)
            base = f"/api/v1/halls/erdao/windows/{n}"
            # Service long enough that the windows just keep up with the arrivals, as on a busy day.
            mean_service = 0.8 * seconds * WINDOWS / tickets
            while time.monotonic() < stop:
                status, _ = await timed("call-next", "POST", f"{base}/call-next", headers=headers[n - 1])
                if status != 200:
                    await asyncio.sleep(1)
                    continue
                await timed("start", "POST", f"{base}/start", headers=headers[n - 1])
                await asyncio.sleep(rng.uniform(0.5, 1.5) * mean_service)
                await timed("finish", "POST", f"{base}/finish", headers=headers[n - 1])

        async def sampler():
            last = 0
            while time.monotonic() < stop + 1:
                await asyncio.sleep(SAMPLE_S)
                now = time.monotonic() - begin
                recent = latencies[last:]
                last = len(latencies)
                samples.append(
                    {
                        "t_s": round(now, 1),
                        "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                        "issue_p99_ms": percentile([ms for _, k, ms in recent if k == "issue"], 99),
                        "call_next_p99_ms": percentile([ms for _, k, ms in recent if k == "call-next"], 99),
                        "requests": len(recent),
                        "events_received": counter["events"],
                    }
                )

        await asyncio.gather(kiosks(), sampler(), *(window(n) for n in range(1, WINDOWS + 1)))
        for sio in clients:
            await sio.disconnect()
    return {
        "samples": samples,
        "statuses": statuses,
        "subscribers": len(clients),
        "issue": [ms for _, k, ms in latencies if k == "issue"],
        "call_next": [ms for _, k, ms in latencies if k == "call-next"],
    }


def verdict(samples: list[dict]) -> dict:
    """Memory and p99 of the first and last third of the run (the first sample is warm-up)."""
    body = samples[1:] if len(samples) > 3 else samples
    third = max(1, len(body) // 3)
    first, last = body[:third], body[-third:]

    def mean(rows, key):
        values = [r[key] for r in rows if r[key] == r[key]]  # NaN when nothing ran in a sample
        return sum(values) / len(values) if values else float("nan")

    out = {}
    for key in ("rss_mb", "issue_p99_ms", "call_next_p99_ms"):
        out[key] = {"first_third": round(mean(first, key), 1), "last_third": round(mean(last, key), 1)}
    rss = out["rss_mb"]
    out["rss_growth_mb"] = round(rss["last_third"] - rss["first_third"], 1)
    out["rss_flat"] = out["rss_growth_mb"] < max(20.0, 0.1 * rss["first_third"])
    out["p99_flat"] = all(
        out[k]["last_third"] <= 2 * max(out[k]["first_third"], 20.0) for k in ("issue_p99_ms", "call_next_p99_ms")
    )
    return out


def soak(minutes: float = 10, tickets: int = 3000, subscribers: int = 500, db: str = "sqlite") -> dict:
    """Run the compressed day on a fresh server and return samples, totals and the verdict."""
    phones = subscribers // 5
    with running_server(db) as [server]:
        raw = asyncio.run(_run(server.url, server.proc.pid, minutes * 60, tickets, subscribers - phones, phones))
    issue, call_next = raw.pop("issue"), raw.pop("call_next")
    raw.update(
        db=db,
        minutes=minutes,
        tickets=tickets,
        windows=WINDOWS,
        issue_p50_ms=percentile(issue, 50),
        issue_p99_ms=percentile(issue, 99),
        call_next_p50_ms=percentile(call_next, 50),
        call_next_p99_ms=percentile(call_next, 99),
        verdict=verdict(raw["samples"]),
    )
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    result = soak(args.minutes, args.tickets, args.subscribers, args.db)
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1))


if __name__ == "__main__":
    main()
