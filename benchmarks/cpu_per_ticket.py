"""Server CPU per issued ticket: one fresh server, wrk for a few seconds, CPU read from /proc.

    python -m benchmarks.cpu_per_ticket --db sqlite postgres --connections 1 20 --seconds 8
    python benchmarks/cpu_per_ticket.py --root /tmp/old   # another checkout (git worktree add /tmp/old <commit>)

The machine is shared and its speed varies by the hour: compare two versions by interleaving
their runs, not with a number measured on another day.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def measure(kind: str, connections: int, seconds: int) -> dict:
    from benchmarks.harness import WRK_POST, running_server, wrk

    with running_server(kind) as servers:
        server = servers[0]
        url = f"{server.url}/api/v1/halls/erdao/tickets"
        wrk(url, connections=connections, seconds=2, lua=WRK_POST % "QY001")  # warm up
        cpu0, t0 = cpu_seconds(server.proc.pid), time.monotonic()
        result = wrk(url, connections=connections, seconds=seconds, lua=WRK_POST % "QY001")
        cpu1, t1 = cpu_seconds(server.proc.pid), time.monotonic()
    tickets = result["rps"] * seconds
    return {
        **result,
        "server_cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
        "cpu_ms_per_ticket": 1000 * (cpu1 - cpu0) / tickets if tickets else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--connections", nargs="+", type=int, default=[1, 20])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--root", type=Path, default=None, help="measure the code of another checkout")
    args = parser.parse_args()
    if args.root is not None:  # its queue_server and harness, started from its directory
        sys.path.insert(0, str(args.root.resolve()))
    for kind in args.db:
        for connections in args.connections:
            r = measure(kind, connections, args.seconds)
            print(
                f"{kind:8} c{connections:<3} {r['rps']:7.1f} tickets/s  p50 {r['p50_ms']:6.1f} ms  "
                f"p99 {r['p99_ms']:7.1f} ms  server CPU {r['server_cpu_pct']:3.0f}%  "
                f"{r['cpu_ms_per_ticket']:.2f} ms CPU/ticket",
                flush=True,
            )


if __name__ == "__main__":
    main()
