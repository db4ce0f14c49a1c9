"""Ticket server benchmark: issue and call-next throughput/latency, call-to-client latency.

    python -m benchmarks.server_bench [--db sqlite postgres] [--clients 1 100 1000] [--seconds 10]

Prints numbers; it is not a test. Needs wrk (apt-get install wrk) and aiohttp.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from benchmarks.harness import WRK_POST, running_server, summary, wrk
from tests.support import PASSWORD


def issue_throughput(url: str, seconds: int) -> dict:
    """Tickets per second and latency at 1 and 20 concurrent clients (wrk)."""
    target = f"{url}/api/v1/halls/erdao/tickets"
    return {f"issue_c{c}": wrk(target, connections=c, seconds=seconds, lua=WRK_POST % "QY001") for c in (1, 20)}


def tokens(url: str, n: int) -> list[dict]:
    out = []
    for i in range(1, n + 1):
        r = requests.post(f"{url}/api/v1/auth/login", json={"username": f"bench{i}", "password": PASSWORD}, timeout=10)
        out.append({"Authorization": f"Bearer {r.json()['token']}"})
    return out


def open_windows(url: str, headers: list[dict]) -> None:
    for n, h in enumerate(headers, 1):
        r = requests.post(f"{url}/api/v1/halls/erdao/windows/{n}/open", headers=h, timeout=10)
        assert r.ok or r.status_code == 409, r.text


def fill(url: str, count: int) -> None:
    """Put `count` tickets in the queue, 20 at a time."""

    def one(_):
        requests.post(f"{url}/api/v1/halls/erdao/tickets", json={"service": "SB001", "print": False}, timeout=30)

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(one, range(count)))


def call_next_throughput(url: str, seconds: int, windows: int = 20) -> dict:
    """20 windows each calling the next ticket and releasing it (no-show) in a loop."""
    headers = tokens(url, windows)
    open_windows(url, headers)
    fill(url, 6000)
    latencies: list[float] = []
    calls = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def window(n: int) -> None:
        nonlocal calls
        session, h = requests.Session(), headers[n - 1]
        base = f"{url}/api/v1/halls/erdao/windows/{n}"
        mine = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            r = session.post(f"{base}/call-next", headers=h, timeout=30)
            mine.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                break
            session.post(f"{base}/no-show", headers=h, timeout=30)
        with lock:
            latencies.extend(mine)
            calls += len(mine)

    started = time.monotonic()
    with ThreadPoolExecutor(windows) as pool:
        list(pool.map(window, range(1, windows + 1)))
    took = time.monotonic() - started
    return {
        "call_next": {
            "calls_per_s": calls / took,
            "windows": windows,
            **summary(latencies),
            "note": "each call-next is followed by a no-show from the same window",
        }
    }


def call_to_client(url: str, clients: int, calls: int = 30) -> dict:
    """From the clerk's call-next request to `ticket_called` at every subscribed client."""
    from benchmarks.fanout import fanout  # it uses this module's helpers

    return {f"call_to_client_{clients}": fanout([url], clients, calls)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--clients", nargs="+", type=int, default=[1, 100, 1000])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--async-mode", default="eventlet")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    results: dict = {}
    for kind in args.db:
        with running_server(kind, async_mode=args.async_mode) as [server]:
            results[kind] = issue_throughput(server.url, args.seconds)
        with running_server(kind, async_mode=args.async_mode) as [server]:
            results[kind].update(call_next_throughput(server.url, args.seconds))
        print(json.dumps({kind: results[kind]}, indent=1))
    with running_server(args.db[0], async_mode=args.async_mode) as [server]:
        for n in args.clients:
            results.setdefault("fanout", {}).update(call_to_client(server.url, n))
            print(json.dumps(results["fanout"], indent=1))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
