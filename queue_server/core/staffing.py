"""Tomorrow's staffing plan: arrivals and service times per hour forecast from past days, windows by Erlang C."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from queue_server.core import erlang

SAME_WEEKDAYS = 8  # the forecast averages up to this many past days of the same weekday


@dataclass(frozen=True)
class Served:
    """One ticket of the history: its local day and hour of issue, and its service seconds (None: not served)."""

    day: date
    hour: int
    service_s: float | None


@dataclass(frozen=True)
class HourPlan:
    hour: int
    arrivals: float  # forecast per hour
    service_s: float  # forecast mean service time
    windows: int  # Erlang C: fewest windows holding the target wait for `share` of citizens

    def as_dict(self) -> dict:
        return {
            "hour": self.hour,
            "arrivals": round(self.arrivals, 1),
            "service_s": round(self.service_s, 1),
            "windows": self.windows,
        }


def basis_days(history: Iterable[Served], day: date) -> list[date]:
    """The past days the forecast for `day` stands on: its weekday's latest, or any latest days without them."""
    days = sorted({s.day for s in history if s.day < day}, reverse=True)
    same = [d for d in days if d.weekday() == day.weekday()][:SAME_WEEKDAYS]
    return same or days[:SAME_WEEKDAYS]


def forecast(history: Sequence[Served], day: date, default_service_s: float) -> dict[int, tuple[float, float]]:
    """{hour: (arrivals, mean service seconds)} for `day`, averaged over its basis days."""
    basis = set(basis_days(history, day))
    if not basis:
        return {}
    arrivals: dict[int, int] = defaultdict(int)
    services: dict[int, list[float]] = defaultdict(list)
    every: list[float] = []
    for s in history:
        if s.day in basis:
            arrivals[s.hour] += 1
            if s.service_s is not None:
                services[s.hour].append(s.service_s)
                every.append(s.service_s)
    overall = sum(every) / len(every) if every else default_service_s
    return {
        hour: (count / len(basis), sum(services[hour]) / len(services[hour]) if services[hour] else overall)
        for hour, count in sorted(arrivals.items())
    }


def plan(per_hour: dict[int, tuple[float, float]], target_s: float, share: float = 0.8) -> list[HourPlan]:
    """Windows per hour for the forecast, by the same Erlang C rule as the live advice."""
    return [
        HourPlan(hour, arrivals, service_s, erlang.windows_needed(arrivals / 3600, service_s, target_s, share))
        for hour, (arrivals, service_s) in sorted(per_hour.items())
    ]
