"""Wait ranges calibrated on the hall's own history: the open windows' work ahead, spread by recent residuals.

The middle of a quote is a queueing forecast: the work of the tickets ahead (each by its item's window
time, times the hall's present pace) and the time left at the busy windows, shared by the open windows
that drain the line. Its spread is split-conformal: the recent residuals (actual minus forecast, in units
of the forecast's natural scale, √(departures) window cycles) give the reach around their median that
holds the stated share of waits, per queue once it has data; the level aimed at moves online with the
latest quotes' misses (adaptive conformal inference). Quotes for tickets an idle window calls at once
and for waiting ones are calibrated apart, so the stated share holds for those who wait.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

# Adaptive conformal inference (Gibbs & Candès): each of the latest resolved quotes moves the level aimed at,
# up by coverage × this step for a miss, down by (1 − coverage) × it for a hit, so the level stays put when
# they hold the stated share and a day that drifts from its history (a rush, windows closing) is caught up with.
ADAPT_STEP = 0.005
ADAPT_RECENT = 80
ADAPT_REACH = 0.15  # never aim more than this far from the stated level
# Before the hall has this many resolved quotes, a normal prior fills in (weighted like this many residuals).
PRIOR_WEIGHT = 5
SHRINK = 3  # an item's mean leans on its queue's, a queue's on the hall's, until they have this many tickets
# The present pace: the latest tickets' time over what their items usually take, the newer the weightier
# (halved every this many seconds since they finished), and a window already past its ticket's usual time
# counts as one more such ticket; it leans on the usual pace (1) like this many tickets.
PACE_HALF_LIFE_S = 600
PACE_PRIOR = 3


@dataclass(frozen=True)
class Estimate:
    low_s: int
    high_s: int

    def as_dict(self) -> dict[str, int]:
        return {"low_s": self.low_s, "high_s": self.high_s}


@dataclass(frozen=True)
class Forecast:
    """The structural forecast of one wait: its middle, its natural scale, and the departures it waits for."""

    point_s: float
    scale_s: float
    departures: int


@dataclass(frozen=True)
class Residual:
    """A resolved quote: what was forecast (middle and scale) and the wait that followed."""

    point_s: float
    scale_s: float
    actual_s: float
    queue: int | None = None  # the queue it waited in: each queue is calibrated on its own when it has the data
    inside: bool | None = None  # whether the wait fell inside the range quoted then

    @property
    def score(self) -> float:
        return (self.actual_s - self.point_s) / max(self.scale_s, 1.0)


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


class Pace:
    """Window time per ticket (call to finish) by item and queue, from recent finished tickets, at today's pace."""

    def __init__(
        self,
        finished: Iterable[tuple[int, int, float] | tuple[int, int, float, float]],
        default_s: float,
        running: Iterable[tuple[int, int, float]] = (),
    ) -> None:
        """`finished`: (queue id, item id, seconds from call to finish[, seconds since it finished]) of recent
        tickets; `running`: (queue id, item id, seconds since the call) of the tickets at windows now."""
        finished = list(finished)
        by_item: dict[int, list[float]] = {}
        by_queue: dict[int, list[float]] = {}
        times: list[float] = []
        for queue_id, item_id, seconds, *_ago in finished:
            by_item.setdefault(item_id, []).append(seconds)
            by_queue.setdefault(queue_id, []).append(seconds)
            times.append(seconds)
        self.hall_s = _shrunk(times, default_s)
        self.queue_s = {q: _shrunk(v, self.hall_s) for q, v in by_queue.items()}
        self.item_s = {i: v for i, v in by_item.items()}
        self.factor = 1.0
        self.factor = self._present(finished, running)

    def of(self, queue_id: int, item_id: int) -> float:
        """Expected window time of one ticket of this item now (leaning on its queue's while history is thin)."""
        return _shrunk(self.item_s.get(item_id, []), self.queue_s.get(queue_id, self.hall_s)) * self.factor

    def _present(self, finished: list[tuple], running: Iterable[tuple[int, int, float]]) -> float:
        """How much slower (>1) or faster than usual the windows work now: the pace a slow stretch shows at once.

        Waits in a slow stretch are long, so residuals would tell of it only when its tickets are called;
        the tickets just finished and the windows running over tell of it within minutes.
        """
        weighted, weights = float(PACE_PRIOR), float(PACE_PRIOR)
        for queue_id, item_id, seconds, *ago in finished:
            if ago:
                weight = 0.5 ** (ago[0] / PACE_HALF_LIFE_S)
                weighted += weight * seconds / self.of(queue_id, item_id)
                weights += weight
        for queue_id, item_id, elapsed in running:
            usual = self.of(queue_id, item_id)
            if elapsed > usual:  # a window twice over its usual time is evidence of a pace twice as slow
                weighted += elapsed / usual
                weights += 1
        return weighted / weights


def _shrunk(values: Sequence[float], prior: float) -> float:
    return (sum(values) + prior * SHRINK) / (len(values) + SHRINK)


@dataclass(frozen=True)
class Work:
    """Tickets ahead of one, summed: how many, and their expected window time in all."""

    count: int = 0
    seconds: float = 0.0

    def __add__(self, other: Work) -> Work:
        return Work(self.count + other.count, self.seconds + other.seconds)


def forecast(
    ahead_s: Sequence[float],
    busy_left_s: Sequence[float],
    open_windows: int,
    cycle_s: float,
    *,
    shared_s: Sequence[float] = (),
    helpers: int = 0,
) -> Forecast:
    """`forecast_work` from the expected window time of each ticket ahead (own line, then shared with helpers)."""
    own, shared = Work(len(ahead_s), sum(ahead_s)), Work(len(shared_s), sum(shared_s))
    return forecast_work(own, busy_left_s, open_windows, cycle_s, shared=shared, helpers=helpers)


def forecast_work(
    ahead: Work,
    busy_left_s: Sequence[float],
    open_windows: int,
    cycle_s: float,
    *,
    shared: Work = Work(),
    helpers: int = 0,
) -> Forecast:
    """Seconds until the ticket is called: the work ahead and left at busy windows, shared by the open windows.

    `ahead` is the work of the tickets ahead that only this ticket's `open_windows` can call, `shared` that of
    tickets ahead that `helpers` (open windows that cannot call this ticket) call too; `busy_left_s` the
    expected time left at each busy window of this ticket's, `cycle_s` the line's mean window time (the unit
    of the spread). Only counts and sums matter, so the line is read by aggregates, never ticket by ticket.
    """
    windows = max(open_windows, 1)
    idle = max(open_windows - len(busy_left_s), 0)
    departures = max(ahead.count + shared.count + 1 - idle, 0)
    if departures == 0:  # an idle window calls this ticket at once
        return Forecast(0.0, cycle_s / windows / 2, 0)
    # When this ticket is called the other windows are still busy, on average half a cycle into their tickets.
    settle = (windows - 1) * cycle_s / 2
    own = ahead.seconds + sum(busy_left_s)
    # The helpers take shared tickets off the line: the windows meet them, or finish their own work first.
    point = max(own - settle, 0.0) / windows
    if shared.count:
        point = max(point, max(own + shared.seconds - settle, 0.0) / (windows + helpers))
    if open_windows == 0:
        point += cycle_s  # nobody is serving: at least a window's opening and a first ticket
    return Forecast(point, math.sqrt(departures) * cycle_s / windows, departures)


def time_left(expected_s: float, elapsed_s: float) -> float:
    """Expected time left at a busy window: what the item needs beyond its elapsed time, never quite nothing."""
    return max(expected_s - elapsed_s, 0.25 * expected_s)


def quantiles(residuals: Sequence[Residual], coverage: float, queue: int | None = None) -> tuple[float, float]:
    """Lower and upper score quantiles holding `coverage` of the residuals (split-conformal ranks).

    The queue's own residuals lean on the hall's, and the hall's on a normal prior of the same coverage,
    until each has data enough: a new hall's quotes are never wild. When the latest quotes missed the
    stated coverage, both ends move out (or in) by the same amount, so the middle stays put.
    """
    base = _levels(residuals, coverage, queue)
    aimed = aimed_coverage(residuals, coverage)
    if aimed == coverage:
        return base
    wide = _levels(residuals, aimed, queue)
    shift = ((wide[1] - wide[0]) - (base[1] - base[0])) / 2
    return base[0] - shift, base[1] + shift


def _levels(residuals: Sequence[Residual], coverage: float, queue: int | None) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    hall = _blend(_conformal([r.score for r in residuals], coverage), (-z, z), len(residuals))
    if queue is None:
        return hall
    own = [r.score for r in residuals if r.queue == queue]
    return _blend(_conformal(own, coverage), hall, len(own))


def aimed_coverage(residuals: Sequence[Residual], coverage: float) -> float:
    """The level to aim at: the stated one, moved a step up for each of the latest quotes that missed, down
    for each that held (adaptive conformal inference, α ← α + γ(α − miss), over the latest quotes)."""
    recent = [r.inside for r in residuals[:ADAPT_RECENT] if r.inside is not None]
    aimed = coverage + ADAPT_STEP * sum((0 if inside else 1) - (1 - coverage) for inside in recent)
    return min(max(aimed, coverage - ADAPT_REACH, 0.5), coverage + ADAPT_REACH, 0.98)


def _conformal(scores: list[float], coverage: float) -> tuple[float, float]:
    """Around the median score, the distance that holds ⌈(n+1)·coverage⌉ of them (valid for the next score).

    Centred on the median, the range's middle is the best single guess of the wait (waits are skewed:
    equal tails would push the middle up), which keeps the error of the middle low.
    """
    n = len(scores)
    if n == 0:
        return 0.0, 0.0
    scores = sorted(scores)
    k = min(math.ceil((n + 1) * coverage), n)
    median = scores[n // 2]
    reach = sorted(abs(s - median) for s in scores)[k - 1]
    return median - reach, median + reach


def _blend(own: tuple[float, float], prior: tuple[float, float], n: int) -> tuple[float, float]:
    weight = n / (n + PRIOR_WEIGHT)
    return weight * own[0] + (1 - weight) * prior[0], weight * own[1] + (1 - weight) * prior[1]


class Calibration:
    """A hall's recent residuals, with each of their score quantiles worked out once (a sort of 150 scores costs
    as much as the rest of a range; a push of the 60 longest-waiting ranges would sort them 60 times)."""

    def __init__(self, residuals: Sequence[Residual]) -> None:
        self.residuals = list(residuals)
        self._levels: dict[tuple[float, bool, int | None], tuple[float, float]] = {}

    def range(self, fc: Forecast, coverage: float, queue: int | None = None) -> Estimate:
        """The range that holds `coverage` of waits, by the forecast and the hall's (and queue's) residuals."""
        # A ticket an idle window calls at once is calibrated on the other such quotes, a waiting one on waiting
        # ones: any range holds an at-once wait, and counted with the waiting ones (three in five on a calm day)
        # those free hits would narrow the waiting citizens' ranges below what holds the stated share of theirs.
        at_once = fc.departures == 0
        key = (coverage, at_once, queue)
        if key not in self._levels:
            alike = [r for r in self.residuals if (r.point_s == 0) == at_once]
            self._levels[key] = quantiles(alike, coverage, queue)
        lo, hi = self._levels[key]
        low = max(fc.point_s + lo * fc.scale_s, 0.0)
        high = max(fc.point_s + hi * fc.scale_s, low)
        return Estimate(int(round(low)), int(round(high)))


def wait_range(fc: Forecast, residuals: Sequence[Residual], coverage: float, queue: int | None = None) -> Estimate:
    """The range that holds `coverage` of waits, by the forecast and the hall's (and queue's) recent residuals."""
    return Calibration(residuals).range(fc, coverage, queue)


def spread_bound(departures: int, cycle_s: float, windows: int, coverage: float) -> float:
    """The narrowest honest width: a wait that is a sum of `departures` exponential gaps of cycle/windows.

    Even a perfect forecast spreads this much (the central `coverage` of a gamma distribution).
    """
    if departures <= 0:
        return 0.0
    mean_gap = cycle_s / max(windows, 1)
    # Wilson–Hilferty: a gamma(k) quantile from a normal one, close enough for a yardstick.
    k = departures
    tail = (1 - coverage) / 2

    def gamma_q(p: float) -> float:
        z = NormalDist().inv_cdf(p)
        return k * max(1 - 1 / (9 * k) + z * math.sqrt(1 / (9 * k)), 0.0) ** 3

    return (gamma_q(1 - tail) - gamma_q(tail)) * mean_gap


def legacy_estimate(ahead: int, open_windows: int, service_s: float) -> Estimate:
    """The first estimator (rounds ± 0.6·√rounds + 0.25·rounds services), kept to compare in the benchmark."""
    if ahead <= 0:
        return Estimate(0, int(round(service_s / max(open_windows, 1) / 2)))
    windows = max(open_windows, 1)
    rounds = ahead / windows
    spread = math.sqrt(rounds) * 0.6 + 0.25 * rounds
    low = max(0.0, (rounds - spread)) * service_s
    high = (rounds + spread + (0 if open_windows else 1)) * service_s
    return Estimate(int(round(low)), int(round(high)))
