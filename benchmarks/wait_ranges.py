"""How honest and sharp the quoted wait ranges are, on simulated days of a hall (seeds 1, 2, 3, 7).

    python -m benchmarks.wait_ranges                      # this checkout
    python -m benchmarks.wait_ranges --root /tmp/old      # and another one (git archive <commit> | tar -x -C /tmp/old)
    python -m benchmarks.wait_ranges --scenarios          # calm, rush, lunch, long: new against old estimator

Prints, per seed: the share of actual waits inside the first quoted range (against the hall's stated
coverage), the mean width relative to the mean wait, and the mean absolute error of the range's middle.
Each day runs `python -m queue_server simulate --json` in the checkout's folder, so any version compares.
With --scenarios, each seed runs `simulate --scenario all --compare` (this checkout) and prints its table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (1, 2, 3, 7)


def run_simulate(root: Path, hall: str, seed: int, day: str, *more: str) -> str:
    """The output of `simulate` in the checkout at `root`."""
    return subprocess.run(
        [sys.executable, "-m", "queue_server", "simulate", "--hall", hall, "--seed", str(seed), "--day", day, *more],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def simulate(root: Path, hall: str, seed: int, day: str) -> dict:
    """One simulated day's statistics from the checkout at `root`."""
    out = run_simulate(root, hall, seed, day, "--json")
    return json.loads(out[out.index("{") :])["stats"]


def figures(stats: dict) -> dict:
    """Coverage, width over mean wait, and the middle's error of one day."""
    est, wait = stats["estimate"], stats["wait"]
    return {
        "inside": est["inside_share"],
        "stated": est.get("coverage"),
        "width_min": est["mean_width_s"] / 60,
        "wait_min": wait["mean_s"] / 60,
        "width_over_wait": est["mean_width_s"] / wait["mean_s"],
        "mae_min": est["mae_s"] / 60,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hall", default="erdao")
    parser.add_argument("--day", default="2026-03-02", help="the simulated day (a Monday)")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--root", type=Path, action="append", help="another checkout to compare (repeatable)")
    parser.add_argument("--scenarios", action="store_true", help="each scenario, the new and the old estimator")
    args = parser.parse_args(argv)
    if args.scenarios:
        for seed in args.seeds:
            print(run_simulate(ROOT, args.hall, seed, args.day, "--scenario", "all", "--compare"))
        return 0
    roots = [ROOT, *(args.root or [])]
    print(f"{'checkout':<28} seed  inside  stated  wait min  width min  width/wait  MAE min")
    for root in roots:
        rows = [figures(simulate(root, args.hall, seed, args.day)) for seed in args.seeds]
        for seed, f in zip(args.seeds, rows, strict=True):
            stated = "—" if f["stated"] is None else f"{f['stated']:.0%}"
            print(
                f"{str(root)[-28:]:<28} {seed:>4}  {f['inside']:>6.1%}  {stated:>6}  {f['wait_min']:>8.1f}  "
                f"{f['width_min']:>9.1f}  {f['width_over_wait']:>10.2f}  {f['mae_min']:>7.1f}"
            )
        n = len(rows)
        print(
            f"{'  mean':<28} {'':>4}  {sum(f['inside'] for f in rows) / n:>6.1%}  {'':>6}  "
            f"{sum(f['wait_min'] for f in rows) / n:>8.1f}  {sum(f['width_min'] for f in rows) / n:>9.1f}  "
            f"{sum(f['width_over_wait'] for f in rows) / n:>10.2f}  {sum(f['mae_min'] for f in rows) / n:>7.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
