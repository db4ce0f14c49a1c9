"""Voice latency: time from Voice.request() to the WAV being ready, for distinct calls (never the same WAV twice).

Run: python benchmarks/voice_latency.py [--calls 20] [--languages zh-CN,en] [--repeat 1] [--eventlet]
Prints p50/p99 (and min/max) in milliseconds: cold (a fresh cache: the first calls render their segments) and
warm (every letter, digit and window number already said once: the call is joined from cached segments).
"""

from __future__ import annotations

import argparse
import sys

if "--eventlet" in sys.argv:  # monkey-patch first, as the server's entry point does
    import eventlet

    eventlet.monkey_patch()

import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from display.voice import Voice  # noqa: E402


@dataclass
class HallVoice:
    enabled: bool = True
    languages: list[str] = field(default_factory=lambda: ["zh-CN", "en"])
    templates: dict[str, str] = field(default_factory=dict)
    repeat: int = 1
    rate: int = 160
    volume: float = 1.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--languages", default="zh-CN,en")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--eventlet", action="store_true", help="monkey-patch with eventlet first")
    args = parser.parse_args()
    cfg = HallVoice(languages=args.languages.split(","), repeat=args.repeat)
    with tempfile.TemporaryDirectory() as directory:
        voice = Voice(directory)
        ok, message = voice.status()  # engine start-up is not part of a call's latency
        if not ok:
            print(message)
            return 1
        mode = "eventlet" if args.eventlet else "threads"
        print(f"voice latency ({mode}, languages={args.languages}, repeat={args.repeat}), distinct calls each")
        # Cold: a fresh cache. Warm: other numbers and windows whose pieces have all been said before.
        for label, offset in (("cold", 0), ("warm", 500)):
            latencies, request_us = [], []
            for i in range(args.calls):
                number, window = f"{'ABC'[i % 3]}{offset + i + 1:03d}", i % 10 + 1
                start = time.perf_counter()
                call = voice.request(cfg, number, window)
                request_us.append((time.perf_counter() - start) * 1e6)
                if voice.wait(call["key"], 60) is None:
                    print(f"render failed for {number}")
                    return 1
                latencies.append((time.perf_counter() - start) * 1000)
            print(
                f"{label}: request() p50 {percentile(request_us, 50):.0f} us p99 {percentile(request_us, 99):.0f} us; "
                f"WAV ready p50 {percentile(latencies, 50):.1f} ms p99 {percentile(latencies, 99):.1f} ms "
                f"(max {max(latencies):.1f}, mean {statistics.fmean(latencies):.1f}); "
                f"segments synthesised so far {voice.segments.synthesised}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
