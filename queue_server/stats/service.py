"""Hall statistics from the event history: counts, waits, service times, ratings and estimate error (pure)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from queue_server.core.states import TicketStatus

SATISFIED = (5, 4, 3)  # 非常满意, 满意, 基本满意 count as satisfied (好评率 of the rating platforms)
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
DEFAULT_SCORE = 3  # a ticket not rated within the period counts as 基本满意


@dataclass(frozen=True)
class TicketFacts:
    """One ticket of the range: what it was for and what was quoted at issue."""

    pk: int
    number: str
    queue: str  # the queue it was issued in (its number's prefix), where it waited first
    queue_name: str
    service: str  # its service item at the end (after any transfer)
    service_name: str
    issued_at: datetime
    quoted_low_s: int | None = None
    quoted_high_s: int | None = None


@dataclass(frozen=True)
class EventFacts:
    """One row of the history: an action, the status it led to, when, at which window, by whom."""

    ticket_pk: int
    action: str
    to_status: str
    at: datetime
    window: int | None = None
    clerk: str | None = None


@dataclass(frozen=True)
class RatingFacts:
    """A rating, or a default one (基本满意) for a ticket not rated within the period."""

    ticket_pk: int
    score: int
    defaulted: bool = False


@dataclass
class Life:
    """One ticket's history replayed: first call, time served and held, where and by whom."""

    ticket: TicketFacts
    status: str = "waiting"
    first_call: datetime | None = None
    call_window: int | None = None
    call_clerk: str | None = None
    first_start: datetime | None = None
    calls: list[tuple[int | None, str | None]] = field(default_factory=list)
    transferred: bool = False
    service_s: float = 0.0
    hold_s: float = 0.0
    served_at: dict[tuple[int | None, str | None], float] = field(default_factory=dict)
    finished_window: int | None = None
    finished_clerk: str | None = None

    @property
    def wait_s(self) -> float | None:
        return None if self.first_call is None else (self.first_call - self.ticket.issued_at).total_seconds()


def replay(ticket: TicketFacts, events: Sequence[EventFacts]) -> Life:
    """Walk a ticket's events in order; time being served excludes time on hold (材料补正)."""
    life = Life(ticket)
    serving_since: tuple[datetime, int | None, str | None] | None = None
    held_since: datetime | None = None
    for ev in events:
        if serving_since is not None and ev.to_status != "serving":
            start, window, clerk = serving_since
            took = (ev.at - start).total_seconds()
            life.service_s += took
            life.served_at[(window, clerk)] = life.served_at.get((window, clerk), 0.0) + took
            serving_since = None
        if held_since is not None and ev.to_status != "held":
            life.hold_s += (ev.at - held_since).total_seconds()
            held_since = None
        if ev.action == "call":
            life.calls.append((ev.window, ev.clerk))
            if life.first_call is None:
                life.first_call, life.call_window, life.call_clerk = ev.at, ev.window, ev.clerk
        if ev.action == "transfer":
            life.transferred = True
        if ev.to_status == TicketStatus.SERVING and serving_since is None:
            serving_since = (ev.at, ev.window, ev.clerk)
            life.first_start = life.first_start or ev.at
        if ev.to_status == TicketStatus.HELD and held_since is None:
            held_since = ev.at
        if ev.action == "finish":
            life.finished_window, life.finished_clerk = ev.window, ev.clerk
        life.status = ev.to_status
    return life


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict:
    """Count, mean, median and 90th percentile in seconds (None when there is nothing to measure)."""
    if not values:
        return {"count": 0, "mean_s": None, "median_s": None, "p90_s": None}
    return {
        "count": len(values),
        "mean_s": _r(sum(values) / len(values)),
        "median_s": _r(percentile(values, 50)),
        "p90_s": _r(percentile(values, 90)),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def counts(lives: Iterable[Life]) -> dict:
    """Tickets issued, served, no-show, cancelled, transferred, and still open."""
    lives = list(lives)
    status = [life.status for life in lives]
    return {
        "issued": len(lives),
        "served": status.count("done"),
        "no_show": status.count("no_show"),
        "cancelled": status.count("cancelled"),
        "transferred": sum(1 for life in lives if life.transferred),
        "open": sum(1 for s in status if s in ("waiting", "called", "serving", "held")),
    }


def wait_figures(lives: Iterable[Life], target_s: float) -> dict:
    """Wait from issue to first call, and the share called within the target."""
    waits = [life.wait_s for life in lives if life.wait_s is not None]
    return {**summary(waits), "within_target_share": _share(sum(1 for w in waits if w <= target_s), len(waits))}


def _quoted(lives: Iterable[Life]) -> list[tuple[int, int, float]]:
    """(quoted low, quoted high, actual wait) of every called ticket that had a first quote."""
    return [
        (life.ticket.quoted_low_s, life.ticket.quoted_high_s, life.wait_s)
        for life in lives
        if life.wait_s is not None and life.ticket.quoted_low_s is not None and life.ticket.quoted_high_s is not None
    ]


def estimate_error(lives: Iterable[Life]) -> dict:
    """Quoted range against the actual wait: mean absolute error (to the range's middle), share inside, width."""
    pairs = _quoted(lives)
    if not pairs:
        return {"count": 0, "mae_s": None, "inside_share": None, "mean_width_s": None}
    errors = [abs(w - (lo + hi) / 2) for lo, hi, w in pairs]
    inside = sum(1 for lo, hi, w in pairs if lo <= w <= hi)
    return {
        "count": len(pairs),
        "mae_s": _r(sum(errors) / len(errors)),
        "inside_share": _share(inside, len(pairs)),
        "mean_width_s": _r(sum(hi - lo for lo, hi, _w in pairs) / len(pairs)),
    }


CALIBRATION_EDGES_MIN = (0, 2, 5, 10, 20, 40, 80)


def calibration(lives: Iterable[Life]) -> list[dict]:
    """The calibration plot's points: quotes binned by their middle, with the mean range, mean actual and share inside."""
    bins: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    edges = [m * 60 for m in CALIBRATION_EDGES_MIN]
    for lo, hi, wait in _quoted(lives):
        middle = (lo + hi) / 2
        bins[max(i for i, edge in enumerate(edges) if middle >= edge)].append((lo, hi, wait))
    out = []
    for i in sorted(bins):
        members = bins[i]
        n = len(members)
        out.append(
            {
                "from_s": edges[i],
                "to_s": edges[i + 1] if i + 1 < len(edges) else None,
                "count": n,
                "mean_low_s": _r(sum(lo for lo, _hi, _w in members) / n),
                "mean_high_s": _r(sum(hi for _lo, hi, _w in members) / n),
                "mean_actual_s": _r(sum(w for _lo, _hi, w in members) / n),
                "inside_share": _share(sum(1 for lo, hi, w in members if lo <= w <= hi), n),
            }
        )
    return out


def satisfaction(ratings: Iterable[RatingFacts], pending: int = 0) -> dict:
    """Ratings per level, defaulted ones counted as 基本满意, and the satisfaction rate."""
    ratings = list(ratings)
    levels = {score: 0 for score in LEVELS}
    for r in ratings:
        levels[r.score] += 1
    rated = [r for r in ratings if not r.defaulted]
    return {
        "levels": [{"score": s, "label": LEVELS[s], "count": levels[s]} for s in sorted(LEVELS, reverse=True)],
        "total": len(ratings),
        "rated": len(rated),
        "defaulted": len(ratings) - len(rated),
        "pending": pending,
        "poor": sum(1 for r in ratings if r.score <= 2),
        "rate": _share(sum(1 for r in ratings if r.score in SATISFIED), len(ratings)),
        "rate_rated_only": _share(sum(1 for r in rated if r.score in SATISFIED), len(rated)),
    }


def _grouped(lives: Sequence[Life], key: Callable[[Life], tuple[str, str] | None]) -> dict[tuple[str, str], list[Life]]:
    groups: dict[tuple[str, str], list[Life]] = defaultdict(list)
    for life in lives:
        k = key(life)
        if k is not None:
            groups[k].append(life)
    return groups


def _by_place(lives: Sequence[Life], ratings: dict[int, RatingFacts], index: int) -> list[dict]:
    """Per window (index 0) or per clerk (index 1): calls, tickets finished, service time and ratings there."""
    called: dict[str, int] = defaultdict(int)
    for life in lives:
        for where in life.calls:
            if where[index] is not None:
                called[str(where[index])] += 1
    served: dict[str, list[float]] = defaultdict(list)
    for life in lives:
        for where, seconds in life.served_at.items():
            if where[index] is not None:
                served[str(where[index])].append(seconds)
    finished: dict[str, list[RatingFacts]] = defaultdict(list)
    for life in lives:
        place = (life.finished_window, life.finished_clerk)[index]
        if place is not None and life.ticket.pk in ratings:
            finished[str(place)].append(ratings[life.ticket.pk])
    done: dict[str, int] = defaultdict(int)
    for life in lives:
        place = (life.finished_window, life.finished_clerk)[index]
        if place is not None:
            done[str(place)] += 1
    keys = sorted(set(called) | set(served), key=lambda k: (len(k), k))
    return [
        {
            "key": k,
            "called": called[k],
            "served": done[k],
            "busy_s": _r(sum(served[k])),
            "service": summary(served[k]),
            "satisfaction_rate": satisfaction(finished[k])["rate"],
        }
        for k in keys
    ]


def compute(
    tickets: Sequence[TicketFacts],
    events: Sequence[EventFacts],
    ratings: Sequence[RatingFacts],
    *,
    timezone: str,
    target_s: float,
    pending_ratings: int = 0,
    coverage: float | None = None,
) -> dict:
    """Every figure of the statistics page for the given tickets, their events and ratings."""
    tz = ZoneInfo(timezone)
    by_ticket: dict[int, list[EventFacts]] = defaultdict(list)
    for ev in sorted(events, key=lambda e: e.at):
        by_ticket[ev.ticket_pk].append(ev)
    lives = [replay(t, by_ticket.get(t.pk, [])) for t in tickets]
    rating_of = {r.ticket_pk: r for r in ratings}

    def group_rows(key: Callable[[Life], tuple[str, str] | None]) -> list[dict]:
        rows = []
        for (k, name), members in sorted(_grouped(lives, key).items()):
            rows.append(
                {
                    "key": k,
                    "name": name,
                    **counts(members),
                    "wait": wait_figures(members, target_s),
                    "service": summary([m.service_s for m in members if m.first_start is not None]),
                    "estimate": estimate_error(members),
                }
            )
        return rows

    hours = []
    for hour, members in sorted(
        _grouped(lives, lambda life: (f"{life.ticket.issued_at.astimezone(tz).hour:02d}", "")).items()
    ):
        hours.append(
            {
                "hour": int(hour[0]),
                "arrivals": len(members),
                "wait": wait_figures(members, target_s),
                "service": summary([m.service_s for m in members if m.first_start is not None]),
                "estimate": estimate_error(members),
            }
        )
    held = [life.hold_s for life in lives if life.hold_s > 0]
    return {
        "target_wait_s": target_s,
        "counts": counts(lives),
        "wait": wait_figures(lives, target_s),
        "service": summary([life.service_s for life in lives if life.first_start is not None]),
        "hold": {"tickets": len(held), "total_s": _r(sum(held)), "mean_s": _r(sum(held) / len(held)) if held else None},
        "estimate": {**estimate_error(lives), "coverage": coverage},
        "calibration": calibration(lives),
        "satisfaction": satisfaction(ratings, pending_ratings),
        "by_queue": group_rows(lambda life: (life.ticket.queue, life.ticket.queue_name)),
        "by_item": group_rows(lambda life: (life.ticket.service, life.ticket.service_name)),
        "by_window": _by_place(lives, rating_of, 0),
        "by_clerk": _by_place(lives, rating_of, 1),
        "by_hour": hours,
    }
