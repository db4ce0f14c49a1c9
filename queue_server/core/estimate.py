"""Wait estimates as a range, from the queue ahead, open windows and recent service times."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Estimate:
    low_s: int
    high_s: int

    def as_dict(self) -> dict[str, int]:
        return {"low_s": self.low_s, "high_s": self.high_s}


def recent_service_time(durations_s: Sequence[float], default_s: float, half_life: int = 10) -> float:
    """Recency-weighted mean of service times (newest first); the default when there is no history."""
    if not durations_s:
        return default_s
    decay = 0.5 ** (1 / half_life)
    weights = [decay**i for i in range(len(durations_s))]
    mean = sum(w * d for w, d in zip(weights, durations_s, strict=False)) / sum(weights)
    # Blend in the default while history is thin so two quick tickets do not promise miracles.
    n = len(durations_s)
    return (mean * n + default_s * 3) / (n + 3)


def estimate_wait(ahead: int, open_windows: int, service_s: float) -> Estimate:
    """Range of seconds until this ticket is called.

    With `ahead` tickets before it and `open_windows` windows each taking about
    `service_s` per ticket, the ticket is reached after ahead/windows services;
    the range widens with the uncertainty of that many services (about ±sqrt(n)).
    """
    if ahead <= 0:
        return Estimate(0, int(round(service_s / max(open_windows, 1) / 2)))
    windows = max(open_windows, 1)
    rounds = ahead / windows
    spread = math.sqrt(rounds) * 0.6 + 0.25 * rounds
    low = max(0.0, (rounds - spread)) * service_s
    high = (rounds + spread + (0 if open_windows else 1)) * service_s
    return Estimate(int(round(low)), int(round(high)))
