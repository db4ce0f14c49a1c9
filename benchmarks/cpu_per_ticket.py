"""Server CPU per issued ticket: one fresh server, wrk for a few seconds, CPU read from /proc.

    python -m benchmarks.cpu_per_ticket --db sqlite postgresql --connections 1 20 --seconds 6
    python -m benchmarks.cpu_per_ticket --baseline /tmp/pg-base   # git archive c9d90e6 | tar -x -C /tmp/pg-base
    python -m benchmarks.cpu_per_ticket --db sqlite --connections 20 --profile /tmp/prof   # py-spy, hot functions

Each run gets a fresh database: a SQLite file in a temporary folder, or a PostgreSQL database
created on 127.0.0.1:5432 (tests.support PG_ADMIN_URL) and dropped afterwards.

The machine is shared and its speed varies by the hour: compare two versions by interleaving
their runs (`--baseline`: every round measures the baseline checkout, then this one, and prints
new/baseline ratios), not with a number measured on another day.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from benchmarks.call_cycle import hot_functions
from tests.support import ROOT

TARGET_CPU_MS = 1.5
DATABASES = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres"}  # spelling → harness kind


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def measure(kind: str, connections: int, seconds: int, root: Path = ROOT, profile: Path | None = None) -> dict:
    """One fresh server of checkout `root` on a fresh database: warm up, then wrk for `seconds` (recorded with
    py-spy into `profile`/… when given)."""
    from benchmarks.harness import WRK_POST, py_spy, running_server, wrk

    with running_server(kind, root=root) as servers:
        server = servers[0]
        url = f"{server.url}/api/v1/halls/erdao/tickets"
        wrk(url, connections=connections, seconds=2, lua=WRK_POST % "QY001")  # warm up
        out = profile / f"issue-{root.name}-{kind}-c{connections}.txt" if profile else None
        spy = py_spy(server.proc.pid, seconds, out) if out else None
        cpu0, t0 = cpu_seconds(server.proc.pid), time.monotonic()
        result = wrk(url, connections=connections, seconds=seconds, lua=WRK_POST % "QY001")
        cpu1, t1 = cpu_seconds(server.proc.pid), time.monotonic()
        if spy is not None:
            spy.wait(60)
            result["profile"] = str(out)
    tickets = result["rps"] * seconds
    return {
        **result,
        "server_cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
        "cpu_ms_per_ticket": 1000 * (cpu1 - cpu0) / tickets if tickets else float("nan"),
    }


def line(label: str, r: dict) -> str:
    return (
        f"{label:22} {r['rps']:7.1f} tickets/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"server CPU {r['server_cpu_pct']:3.0f}%  {r['cpu_ms_per_ticket']:.2f} ms CPU/ticket"
        + (f"  ({r['errors']} non-2xx)" if r["errors"] else "")
    )


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=sorted(DATABASES))
    parser.add_argument("--connections", nargs="+", type=int, default=[1, 20])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout, measured in turn with this one")
    parser.add_argument("--root", type=Path, default=ROOT, help="measure the code of another checkout instead")
    parser.add_argument(
        "--profile", type=Path, default=None, help="record the first round with py-spy into this folder"
    )
    args = parser.parse_args()
    roots = [("baseline", args.baseline.resolve())] if args.baseline else []
    roots.append(("new", args.root.resolve()))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (the machine is shared)")
    for name in args.db:
        for connections in args.connections:
            results: dict[str, list[dict]] = {label: [] for label, _ in roots}
            for round_ in range(args.rounds):
                for label, root in roots:
                    profile = args.profile if round_ == 0 else None
                    r = measure(DATABASES[name], connections, args.seconds, root, profile)
                    results[label].append(r)
                    print(line(f"{name} c{connections} {label}#{round_ + 1}", r), flush=True)
                    if "profile" in r:
                        print(hot_functions(r["profile"], top=15), flush=True)
            if args.baseline:
                for key in ("rps", "p99_ms", "cpu_ms_per_ticket"):
                    ratios = [n[key] / b[key] for b, n in zip(results["baseline"], results["new"], strict=True)]
                    print(f"   new/baseline {key}: " + " ".join(f"{x:.2f}" for x in ratios), flush=True)
            cpu = median([r["cpu_ms_per_ticket"] for r in results["new"]])
            verdict = "met" if cpu <= TARGET_CPU_MS else "MISSED"
            print(
                f"   new CPU/ticket (median of rounds) {cpu:.2f} ms: target ≤ {TARGET_CPU_MS} ms {verdict}", flush=True
            )


if __name__ == "__main__":
    main()
