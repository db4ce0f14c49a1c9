"""Every benchmark of the project in one run, written to benchmarks/results/ as markdown, PNG and JSON.

    python -m benchmarks [--quick] [--seconds 10] [--soak-minutes 10] [--only issue fanout ...]

Sections: issue (throughput and latency, SQLite and PostgreSQL), call_next, fanout (call-to-client
latency at 1/100/1,000/5,000 clients on one process, and on two processes with Redis), print,
voice, modes (eventlet, gevent, threading), soak. Needs wrk, PostgreSQL on 127.0.0.1:5432 and
redis-server; a section that cannot run is recorded with its error and the others go on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import traceback
from pathlib import Path

import aiohttp
import requests

from benchmarks import print_latency, report, soak
from benchmarks.harness import running_server, summary
from benchmarks.raw_client import RawSubscriber
from benchmarks.server_bench import call_next_throughput, fill, issue_throughput, tokens
from tests.support import PrivateRedis

RESULTS = Path(__file__).parent / "results"


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


def fanout(servers, clients: int, calls: int) -> dict:
    url = servers[0].url
    headers = tokens(url, 1)[0]
    requests.post(f"{url}/api/v1/halls/erdao/windows/1/open", headers=headers, timeout=10)
    fill(url, calls + 5)
    latencies, got, connected = asyncio.run(_fanout([s.url for s in servers], clients, calls, headers))
    return {**summary(latencies), "delivered": got, "expected": connected * calls, "clients": clients,
            "connected": connected}


def section_issue(args) -> dict:
    out = {}
    for db in ("sqlite", "postgres"):
        with running_server(db) as [server]:
            out[db] = issue_throughput(server.url, args.seconds)
    return out


def section_call_next(args) -> dict:
    out = {}
    for db in ("sqlite", "postgres"):
        with running_server(db) as [server]:
            out[db] = call_next_throughput(server.url, args.seconds)["call_next"]
    return out


def section_fanout(args) -> dict:
    out: dict = {"one_process": {}, "two_processes_redis": {}}

    def each(layout: str, servers) -> None:
        for n in args.clients:
            try:
                out[layout][str(n)] = fanout(servers, n, args.calls)
            except Exception as exc:  # noqa: BLE001 - keep the other client counts
                traceback.print_exc()
                out[layout][str(n)] = {"error": f"{type(exc).__name__}: {exc}"}

    with running_server("sqlite") as servers:
        each("one_process", servers)
    redis = PrivateRedis().start()
    try:
        with running_server("postgres", processes=2, redis_url=redis.url) as servers:
            each("two_processes_redis", servers)
    finally:
        redis.stop()
    return out


def section_print(args) -> dict:
    return print_latency.measure(10 if args.quick else 30)["print_latency"]


def section_voice(args) -> dict:
    import tempfile

    from benchmarks.voice_latency import HallVoice
    from display.voice import Voice

    with tempfile.TemporaryDirectory() as directory:
        voice = Voice(directory)
        ok, message = voice.status()
        if not ok:
            return {"error": message}
        latencies = []
        for i in range(10 if args.quick else 20):
            start = time.perf_counter()
            call = voice.request(HallVoice(), f"{'ABC'[i % 3]}{i + 1:03d}", i % 30 + 1)
            if voice.wait(call["key"], 60) is None:
                return {"error": f"render {i} failed"}
            latencies.append((time.perf_counter() - start) * 1000)
    return {**summary(latencies), "languages": "zh-CN,en", "note": "cache misses, WAV ready"}


def section_modes(args) -> dict:
    out = {}
    for mode in ("eventlet", "gevent", "threading"):
        with running_server("sqlite", async_mode=mode) as servers:
            result = {"issue_c20": issue_throughput(servers[0].url, args.seconds)["issue_c20"]}
            result["fanout_100"] = fanout(servers, 100, args.calls)
        out[mode] = result
    return out


def section_soak(args) -> dict:
    return soak.soak(args.soak_minutes, 3000 if not args.quick else 300, 500 if not args.quick else 100)


SECTIONS = {"issue": section_issue, "call_next": section_call_next, "fanout": section_fanout,
            "print": section_print, "voice": section_voice, "modes": section_modes, "soak": section_soak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, small client counts (a smoke test)")
    parser.add_argument("--seconds", type=int, default=None, help="wrk and call-next run length")
    parser.add_argument("--soak-minutes", type=float, default=None)
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", action="store_true", help="keep the other sections of the last results.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" at each disconnect
    args.seconds = args.seconds or (3 if args.quick else 10)
    args.soak_minutes = args.soak_minutes if args.soak_minutes is not None else (1 if args.quick else 10)
    args.clients = [1, 10, 100] if args.quick else [1, 100, 1000, 5000]
    args.calls = 5 if args.quick else 20

    results: dict = {}
    if args.merge and (args.out / "results.json").exists():
        results = json.loads((args.out / "results.json").read_text())
        # The report says which rows are newer than the rest.
        results.setdefault("remeasured", {}).update(dict.fromkeys(args.only, time.strftime("%Y-%m-%d %H:%M:%S %z")))
    results.update({"machine": results.get("machine") or report.machine(), "quick": args.quick,
                    "started": results.get("started") or time.strftime("%Y-%m-%d %H:%M:%S %z"),
                    "seconds": args.seconds})
    for name in args.only:
        began = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            results[name] = SECTIONS[name](args)
        except Exception as exc:  # noqa: BLE001 - one broken section must not lose the others
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"   {name} took {time.monotonic() - began:.0f} s", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    markdown = report.markdown(results)
    (args.out / "report.md").write_text(markdown)
    report.chart(results, args.out / "report.png")
    print(markdown)


if __name__ == "__main__":
    main()
