"""The clerk's call cycle at 10 windows: cycles/s, request p50/p99 and server CPU per cycle, new against a baseline.

    python -m benchmarks.call_cycle [--db sqlite] [--windows 10] [--seconds 10] [--rounds 3] [--voice]
                                    [--cycle no-show finish] [--baseline /tmp/base] [--profile DIR]
                                    [--waiting N]

A cycle is two requests from one window: `call-next` then `no-show` (the FQM-style pull), or
`start` then `finish-and-call-next` (办结并叫下一位). Server CPU counts the server process and its
children (the speech engine when voice is on). With `--baseline CHECKOUT` (e.g. `git archive c9d90e6 |
tar -x -C /tmp/base`) every round runs the baseline and this checkout back to back, so the ratios
compare code under the same load on a shared machine. `--profile DIR` records the server with py-spy
and prints the functions that cost the most (self and inclusive).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import requests

from benchmarks.harness import py_spy, running_server, summary
from benchmarks.server_bench import fill, open_windows, tokens
from tests.support import ROOT

TARGETS = {"cycles_per_s": 220, "p99_ms": 50, "cpu_ms_per_cycle": 3}


def server_cpu(pid: int) -> float:
    """CPU seconds of the server and its children (the speech engine) so far."""
    proc = psutil.Process(pid)
    total = sum(proc.cpu_times()[:2])
    for child in proc.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            pass
    return total


def loop_times(pid: int) -> tuple[float, float]:
    """Seconds the server's event-loop (main) thread has run on a CPU and has waited, runnable, for one
    (Linux schedstat; NaN elsewhere). The rest of the wall time it was blocked: waiting on a socket, a lock,
    SQLite's busy handler, a disk write. A server below 100 % busy that waits for a CPU is starved by the
    machine's other work, not blocked."""
    try:
        ran, waited, _slices = (int(x) for x in Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split())
    except (OSError, ValueError):
        return float("nan"), float("nan")
    return ran / 1e9, waited / 1e9


def _window_loop(url: str, number: int, header: dict, cycle: str, stop: float, latencies: list[float]) -> int:
    """One window's cycles until `stop`; every request's latency goes into `latencies`."""
    session = requests.Session()
    base = f"{url}/api/v1/halls/erdao/windows/{number}"
    steps = ("call-next", "no-show") if cycle == "no-show" else ("start", "finish-and-call-next")
    if cycle == "finish" and session.post(f"{base}/call-next", headers=header, timeout=60).status_code != 200:
        return 0
    cycles = 0
    while time.monotonic() < stop:
        for step in steps:
            t0 = time.perf_counter()
            r = session.post(f"{base}/{step}", headers=header, timeout=60)
            latencies.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"window {number} {step}: {r.status_code} {r.text[:200]}")
        cycles += 1
    if cycle == "finish":  # free the window for the next run
        session.post(f"{base}/no-show", headers=header, timeout=60)
    return cycles


def run_cycles(url: str, pid: int, cycle: str, windows: int, seconds: float, headers: list[dict]) -> dict:
    """`windows` clerks cycling for `seconds`: cycles/s, request latency, server CPU per cycle."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    cpu0, (ran0, waited0), t0 = server_cpu(pid), loop_times(pid), time.monotonic()
    with ThreadPoolExecutor(windows) as pool:
        done = list(
            pool.map(lambda n: _window_loop(url, n, headers[n - 1], cycle, stop, latencies), range(1, windows + 1))
        )
    took, cpu = time.monotonic() - t0, server_cpu(pid) - cpu0
    ran, waited = (now - before for now, before in zip(loop_times(pid), (ran0, waited0), strict=True))
    cycles = sum(done)
    return {
        "cycles_per_s": cycles / took,
        **summary(latencies),
        "cpu_ms_per_cycle": 1000 * cpu / cycles if cycles else float("nan"),
        "server_cpu_pct": 100 * cpu / took,
        "loop_cpu_wait_pct": 100 * waited / took,  # runnable, but the machine gave it no CPU
        "loop_blocked_pct": 100 * (took - ran - waited) / took,  # neither running nor runnable
    }


def measure(
    root: Path,
    kind: str,
    cycle: str,
    windows: int,
    seconds: float,
    voice: bool,
    profile: Path | None = None,
    waiting: int | None = None,
) -> dict:
    """One fresh server of checkout `root`: fill the line (`waiting` tickets; by default enough for 400 cycles/s),
    warm up, then measure (and profile) the cycles."""
    with running_server(kind, voice=voice, root=root) as [server]:
        headers = tokens(server.url, windows)
        open_windows(server.url, headers)
        fill(server.url, waiting if waiting is not None else int(seconds * 400) + 500)
        run_cycles(server.url, server.proc.pid, cycle, windows, 1.5, headers)  # warm up (caches, engine start)
        spy = None
        if profile is not None:
            out = profile / f"{root.name}-{kind}-{cycle}-{'voice' if voice else 'novoice'}.txt"
            spy = py_spy(server.proc.pid, seconds, out)
        result = run_cycles(server.url, server.proc.pid, cycle, windows, seconds, headers)
        if spy is not None:
            spy.wait(60)
            result["profile"] = str(out)
    return result


def hot_functions(raw_path: str | Path, top: int = 25) -> str:
    """py-spy's collapsed stacks summed per function: self and inclusive share of the samples."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in Path(raw_path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + " " + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1] for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples; self% / inclusive% per function"]
    for name, n in own.most_common(top):
        lines.append(f"  self {100 * n / total:5.1f}%  incl {100 * inclusive[name] / total:5.1f}%  {name}")
    lines.append("  -- inclusive --")
    for name, n in inclusive.most_common(top):
        lines.append(f"  incl {100 * n / total:5.1f}%  {name}")
    return "\n".join(lines)


def line(label: str, r: dict) -> str:
    return (
        f"{label:9} {r['cycles_per_s']:7.1f} cycles/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"{r['cpu_ms_per_cycle']:6.2f} ms CPU/cycle  (server {r['server_cpu_pct']:3.0f}%; "
        f"event loop waiting for a CPU {r['loop_cpu_wait_pct']:3.0f}%, blocked {r['loop_blocked_pct']:3.0f}%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    parser.add_argument("--cycle", nargs="+", default=["no-show", "finish"], choices=["no-show", "finish"])
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--voice", action="store_true", help="voice on (the hall's announcements rendered)")
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout, measured in turn with this one")
    parser.add_argument("--profile", type=Path, default=None, help="record each run with py-spy into this folder")
    parser.add_argument(
        "--waiting", type=int, default=None, help="tickets in line at the start (default: seconds × 400 + 500)"
    )
    args = parser.parse_args()
    roots = [("baseline", args.baseline.resolve())] if args.baseline else []
    roots.append(("new", ROOT))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in psutil.getloadavg())} (the machine is shared)")
    for kind in args.db:
        for cycle in args.cycle:
            results: dict[str, list[dict]] = {label: [] for label, _ in roots}
            print(
                f"-- {kind}, {args.windows} windows, cycle {cycle}, voice {'on' if args.voice else 'off'}", flush=True
            )
            for round_ in range(args.rounds):
                for label, root in roots:
                    profile = args.profile if args.profile and round_ == 0 else None
                    r = measure(root, kind, cycle, args.windows, args.seconds, args.voice, profile, args.waiting)
                    results[label].append(r)
                    print(line(f"{label}#{round_ + 1}", r), flush=True)
                    if "profile" in r:
                        print(hot_functions(r["profile"]), flush=True)
            if args.baseline:
                for key in ("cycles_per_s", "p99_ms", "cpu_ms_per_cycle"):
                    ratios = [n[key] / b[key] for b, n in zip(results["baseline"], results["new"], strict=True)]
                    print(f"   new/baseline {key}: " + " ".join(f"{x:.2f}" for x in ratios))
            best = {k: sorted(r[k] for r in results["new"])[len(results["new"]) // 2] for k in TARGETS}
            print(
                "   new (median of rounds) against the issue's targets: "
                + ", ".join(
                    f"{k} {best[k]:.1f} (target {'≥' if k == 'cycles_per_s' else '≤'} {v})" for k, v in TARGETS.items()
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
