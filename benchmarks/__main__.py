"""Every benchmark of the project in one run, written to benchmarks/results/ as markdown, PNG and JSON.

    python -m benchmarks [--quick] [--seconds 10] [--soak-minutes 10] [--only issue fanout ...]

Sections: issue (throughput and latency, SQLite and PostgreSQL), call_next, fanout (call-to-client
latency at 1/100/1,000/5,000 clients on one process, and on two processes with Redis), print,
voice, modes (eventlet, gevent, threading), soak. Needs wrk, PostgreSQL on 127.0.0.1:5432 and
redis-server; a section that cannot run is recorded with its error and the others go on.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import traceback
from pathlib import Path

from benchmarks import print_latency, report, soak
from benchmarks.fanout import fanout
from benchmarks.harness import running_server, summary
from benchmarks.server_bench import call_next_throughput, issue_throughput
from tests.support import PrivateRedis

RESULTS = Path(__file__).parent / "results"


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
                out[layout][str(n)] = fanout([s.url for s in servers], n, args.calls)
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
            result["fanout_100"] = fanout([s.url for s in servers], 100, args.calls)
        out[mode] = result
    return out


def section_soak(args) -> dict:
    return soak.soak(args.soak_minutes, 3000 if not args.quick else 300, 500 if not args.quick else 100)


SECTIONS = {
    "issue": section_issue,
    "call_next": section_call_next,
    "fanout": section_fanout,
    "print": section_print,
    "voice": section_voice,
    "modes": section_modes,
    "soak": section_soak,
}


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
    results.update(
        {
            "machine": results.get("machine") or report.machine(),
            "quick": args.quick,
            "started": results.get("started") or time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "seconds": args.seconds,
        }
    )
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
