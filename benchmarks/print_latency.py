"""Print latency: from the kiosk's issue request to the whole ticket received by a network printer.

    python -m benchmarks.print_latency [--tickets 30]

The printer is the test suite's TCP listener (tests/printer/conftest.py FakePrinter) on loopback,
so this measures the spooler (commit, wake, render ESC/POS, connect, send), not a print head.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import requests

from benchmarks.harness import bench_config, database, summary
from tests.support import STAFF, FakePrinter, ServerProcess, prepare, write_config


def measure(tickets: int = 30) -> dict:
    """Issue `tickets` one after another; time until each one's bytes have all reached the printer."""
    printer = FakePrinter()
    printer.start()
    try:
        with database("sqlite") as url, tempfile.TemporaryDirectory() as tmp:
            raw = bench_config(url, Path(tmp) / "data")
            raw["printers"] = [
                {
                    "name": "kiosk-tcp",
                    "hall": "erdao",
                    "type": "network",
                    "host": "127.0.0.1",
                    "port": printer.port,
                    "timeout": 3,
                    "paper_mm": 80,
                }
            ]
            prepare(raw, STAFF)
            server = ServerProcess(write_config(Path(tmp) / "bench.yaml", raw)).start()
            try:
                latencies = []
                for _ in range(tickets):
                    start = time.perf_counter()
                    r = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=30)
                    number = r.json()["number"].encode()
                    with printer._changed:
                        printer._changed.wait_for(lambda n=number: any(n in job for job in printer.jobs), 30)
                    latencies.append((time.perf_counter() - start) * 1000)
            finally:
                server.stop()
    finally:
        printer.stop()
    return {"print_latency": summary(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=30)
    print(json.dumps(measure(parser.parse_args().tickets), indent=1))


if __name__ == "__main__":
    main()
