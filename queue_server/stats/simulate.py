"""A synthetic hall day on a real database with a fast clock: Poisson arrivals, service times, staffing.

The simulation drives the real domain functions (issuing.issue, the use case every channel issues through,
and windows.act) in one process, moving a `clock.FakeClock` from event to event,
so a whole day runs in seconds and the statistics come from the same event history a real day leaves.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from queue_server import clock
from queue_server.config import Settings
from queue_server.core import estimate as est
from queue_server.core.states import TicketStatus, WindowState
from queue_server.db import transaction
from queue_server.hall_settings import hall_settings
from queue_server.halls import HallClosed, get_hall, get_service, window_states
from queue_server.models import Hall, ServiceItem, StaffUser, Ticket, Window
from queue_server.staff.auth import add_user
from queue_server.stats import data as stats_data
from queue_server.stats import service as stats
from queue_server.tickets import issuing, waits, windows
from queue_server.tickets import service as tickets
from queue_server.tickets.personal import LimitReached, Person

LEGACY_HISTORY = 30  # finished tickets whose service times the old estimator read


@dataclass
class DayShape:
    """How a hall's day goes: arrivals per hour (morning peak), windows open per period, service times."""

    arrivals: list[tuple[str, str, float]] = field(
        default_factory=lambda: [
            ("09:00", "10:00", 50),
            ("10:00", "11:00", 62),
            ("11:00", "12:00", 40),
            ("12:00", "13:00", 18),
            ("13:00", "14:00", 28),
            ("14:00", "15:00", 45),
            ("15:00", "16:00", 40),
            ("16:00", "16:30", 24),
        ]
    )
    staffing: list[tuple[str, str, int]] = field(
        default_factory=lambda: [
            ("09:00", "09:30", 5),
            ("09:30", "11:30", 9),
            ("11:30", "13:30", 5),
            ("13:30", "16:00", 8),
            ("16:00", "17:00", 6),
        ]
    )
    # Mean service minutes per queue; items vary around it; times are log-normal with this spread.
    service_minutes: dict[str, float] = field(
        default_factory=lambda: {"A": 12, "B": 6, "C": 14, "D": 6, "E": 7, "F": 5}
    )
    queue_mix: dict[str, float] = field(
        default_factory=lambda: {"A": 0.2, "B": 0.3, "C": 0.12, "D": 0.12, "E": 0.1, "F": 0.16}
    )
    service_cv: float = 0.5
    walk_s: tuple[float, float] = (15, 60)  # from the call to the citizen at the window
    no_show_share: float = 0.03
    no_show_after_s: float = 120
    closing: str = "17:00"  # windows close when the line is empty after this
    # Stretches of the day whose items take longer (a run of long items): service times started then × factor.
    slow: list[tuple[str, str, float]] = field(default_factory=list)


def _scaled(arrivals: list[tuple[str, str, float]], factor: float) -> list[tuple[str, str, float]]:
    return [(start, end, per_hour * factor) for start, end, per_hour in arrivals]


# The days a hall meets, each a change to the ordinary day above.
SCENARIOS: dict[str, Callable[[], DayShape]] = {
    "calm": lambda: DayShape(arrivals=_scaled(DayShape().arrivals, 0.75)),
    "rush": lambda: DayShape(
        arrivals=[("09:00", "10:00", 95), ("10:00", "11:00", 85), *DayShape().arrivals[2:]],
    ),
    "lunch": lambda: DayShape(
        staffing=[("09:00", "09:30", 5), ("09:30", "12:00", 9), ("12:00", "13:30", 3), *DayShape().staffing[3:]],
    ),
    "long": lambda: DayShape(slow=[("10:00", "12:00", 2.0)]),
}


@dataclass
class Result:
    hall: str
    day: date
    seed: int
    tickets: int
    stats: dict
    advice: list[dict]
    turned_away: int = 0
    estimators: dict[str, dict] | None = None  # with compare: "new" and "old" estimator's figures on the same waits

    @property
    def inside_share(self) -> float | None:
        return self.stats["estimate"]["inside_share"]


class _Day:
    """The event loop: each event moves the fake clock, then acts through the domain functions."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        hall_code: str,
        day: date,
        shape: DayShape,
        seed: int,
        compare: bool = False,
    ):
        self.factory, self.settings, self.hall_code, self.day, self.shape = factory, settings, hall_code, day, shape
        self.compare = compare
        self.yardsticks: dict[int, tuple[est.Estimate, float]] = {}  # ticket pk -> (old estimator's range, bound)
        self.turned_away = 0
        self.rng = random.Random(seed)
        self.events: list = []
        self.seq = 0
        self.busy: set[int] = set()  # windows with a ticket called or being served
        self.open: set[int] = set()
        self.closing: set[int] = set()  # close once the current ticket is finished
        self.advice: list[dict] = []
        with transaction(factory) as s:
            hall = get_hall(s, hall_code)
            self.tz = ZoneInfo(hall.timezone)
            self.windows = {
                w.number: sorted(q.prefix for q in w.queues)
                for w in s.scalars(select(Window).where(Window.hall_id == hall.id).order_by(Window.number))
            }
            self.all_queues = max(len(v) for v in self.windows.values())
            # Dedicated windows open first, then integrated ones: a hall always keeps its specialists in.
            self.order = sorted(self.windows, key=lambda n: (len(self.windows[n]) == self.all_queues, n))
            items = list(s.scalars(select(ServiceItem).where(ServiceItem.hall_id == hall.id, ServiceItem.active)))
            self.items: dict[str, list[str]] = {}
            for item in items:
                self.items.setdefault(item.queue.prefix, []).append(item.code)
            self.item_factor = {item.code: self.rng.uniform(0.7, 1.4) for item in items}
            self.item_queue = {item.code: item.queue.prefix for item in items}
            self.clerks = {n: self._clerk(s, hall.code, n) for n in self.windows}

    def _clerk(self, session: Session, hall: str, number: int) -> int:
        name = f"sim-{hall}-{number:02d}"
        user = session.scalar(select(StaffUser).where(StaffUser.username == name))
        return (user or add_user(session, name, f"simulated-{random.random()}", "clerk", hall)).id

    def at(self, hhmm: str) -> datetime:
        return datetime.combine(self.day, time.fromisoformat(hhmm), tzinfo=self.tz)

    def push(self, when: datetime, kind: str, *data) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, kind, data))

    def plan(self) -> None:
        for start, end, per_hour in self.shape.arrivals:
            t, stop = self.at(start), self.at(end)
            while per_hour > 0:
                t += timedelta(seconds=self.rng.expovariate(per_hour / 3600))
                if t >= stop:
                    break
                self.push(t, "arrive")
        for start, _end, count in self.shape.staffing:
            self.push(self.at(start), "staff", count)
        hour = self.at(self.shape.arrivals[0][0])
        while hour + timedelta(minutes=30) < self.at(self.shape.closing):
            self.push(hour + timedelta(minutes=30), "sample")
            hour += timedelta(hours=1)
        self.push(self.at(self.shape.closing), "staff", 0)

    def run(self) -> None:
        fake = clock.FakeClock(self.at("08:00"))
        clock.set_source(fake)
        ttl, waits.CACHE_TTL_S = waits.CACHE_TTL_S, 0.0  # its cache runs on real seconds
        try:
            self.plan()
            while self.events:
                when, _seq, kind, data = heapq.heappop(self.events)
                fake.current = when.astimezone(ZoneInfo("UTC"))
                getattr(self, "on_" + kind)(*data)
        finally:
            waits.CACHE_TTL_S = ttl
            clock.reset()

    def act(self, number: int, action: str) -> str | None:
        """One clerk action at a window; the service code of the ticket it concerns, if any."""
        with transaction(self.factory) as s:
            hall = get_hall(s, self.hall_code)
            change = windows.act(s, hall, number, action, s.get(StaffUser, self.clerks[number]), {})
            return change.ticket.service.code if change.ticket is not None else None

    def on_arrive(self) -> None:
        queue = self.rng.choices(list(self.shape.queue_mix), weights=list(self.shape.queue_mix.values()))[0]
        code = self.rng.choice(self.items[queue])
        try:
            with transaction(self.factory) as s:
                hall = get_hall(s, self.hall_code)
                service = get_service(s, hall, code)
                place = waits.place_of_new(s, hall, service.queue_id, "normal") if self.compare else None
                issued = issuing.issue(
                    s,
                    hall,
                    service,
                    channel="kiosk",
                    priority="normal",
                    person=Person(),
                    settings=self.settings,
                    now=clock.now(),
                )
                if place is not None:
                    self.yardsticks[issued.change.ticket.pk] = _yardsticks(s, hall, service.queue_id, place)
        except (HallClosed, LimitReached):
            self.turned_away += 1  # the hall's own rules (hours, a service's daily cap) sent this citizen home
            return
        self.wake()

    def wake(self) -> None:
        for number in self.order:
            if number in self.open and number not in self.busy and number not in self.closing:
                if not self.call(number) and len(self.windows[number]) == self.all_queues:
                    return  # nobody left waiting that an idle window could call

    def call(self, number: int) -> bool:
        service = self.act(number, "call-next")
        if service is None:
            return False
        self.busy.add(number)
        now = clock.now()
        if self.rng.random() < self.shape.no_show_share:
            self.push(now + timedelta(seconds=self.shape.no_show_after_s), "no_show", number)
        else:
            self.push(now + timedelta(seconds=self.rng.uniform(*self.shape.walk_s)), "start", number, service)
        return True

    def on_start(self, number: int, service: str) -> None:
        self.act(number, "start")
        mean = self.shape.service_minutes[self.item_queue[service]] * 60 * self.item_factor[service]
        local = clock.now().astimezone(self.tz)
        for start, end, factor in self.shape.slow:
            if self.at(start) <= local < self.at(end):
                mean *= factor
        sigma = math.sqrt(math.log(1 + self.shape.service_cv**2))
        took = self.rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
        self.push(clock.now() + timedelta(seconds=took), "finish", number)

    def on_finish(self, number: int) -> None:
        self.act(number, "finish")
        self.free(number)

    def on_no_show(self, number: int) -> None:
        self.act(number, "no-show")
        self.free(number)

    def free(self, number: int) -> None:
        self.busy.discard(number)
        if number in self.closing:
            self.close(number)
        else:
            self.call(number)

    def close(self, number: int) -> None:
        self.act(number, "close")
        self.open.discard(number)
        self.closing.discard(number)

    def on_staff(self, count: int) -> None:
        """Open windows up to `count`, or close the last ones opened once they are free."""
        if count == 0 and self._waiting():
            self.push(clock.now() + timedelta(minutes=5), "staff", 0)  # serve everyone who has a ticket
            count = len(self.open)
        keep = [n for n in self.order if n in self.open and n not in self.closing]
        for number in self.order:
            if len(keep) >= count:
                break
            if number not in self.open:
                self.act(number, "open")
                self.open.add(number)
                keep.append(number)
            elif number in self.closing:
                self.closing.discard(number)
                keep.append(number)
        for number in reversed(keep[count:]):
            self.closing.add(number)
            if number not in self.busy:
                self.close(number)
        self.wake()

    def _waiting(self) -> int:
        with transaction(self.factory) as s:
            return sum(tickets.waiting_counts(s, get_hall(s, self.hall_code)).values())

    def on_sample(self) -> None:
        with transaction(self.factory) as s:
            live = stats_data.live(s, get_hall(s, self.hall_code))
        self.advice.append(
            {
                "at": live["at"],
                "waiting": live["waiting"],
                "longest_wait_s": live["longest_wait_s"],
                **{k: live["advice"][k] for k in ("arrivals_per_hour", "windows_open", "windows_needed", "behind")},
            }
        )


def _yardsticks(session: Session, hall: Hall, queue_id: int, place: waits.Place) -> tuple[est.Estimate, float]:
    """What the old estimator would have quoted a new ticket of this queue, and the narrowest honest width.

    The old estimator's inputs as it read them: the tickets ahead, the open windows serving the queue, and the
    recency-weighted service time (start to finish) of the pool's latest finished tickets.
    """
    states = window_states(session, hall.id)
    serving = {wid for wid, _state, qid in states if qid == queue_id}
    pool = {qid for wid, _state, qid in states if wid in serving} or {queue_id}
    open_windows = len({wid for wid, state, _qid in states if wid in serving and state == WindowState.OPEN})
    rows = session.execute(
        select(Ticket.started_at, Ticket.finished_at)
        .where(
            Ticket.hall_id == hall.id,
            Ticket.queue_id.in_(pool),
            Ticket.status == TicketStatus.DONE.value,
            Ticket.started_at.is_not(None),
        )
        .order_by(Ticket.finished_at.desc())
        .limit(LEGACY_HISTORY)
    )
    rules = hall_settings(hall)
    service_s = est.recent_service_time(
        [(end - start).total_seconds() for start, end in rows], rules.default_service_minutes * 60
    )
    legacy = est.legacy_estimate(place.ahead, open_windows, service_s)
    fc = place.forecast
    # The forecast's scale is √departures gaps of cycle/windows: one gap is the bound's unit (windows folded in).
    gap = fc.scale_s / math.sqrt(fc.departures) if fc is not None and fc.departures else 0.0
    bound = est.spread_bound(fc.departures, gap, 1, rules.wait_range_coverage) if fc is not None else 0.0
    return legacy, bound


def simulate_day(
    factory: sessionmaker[Session],
    hall_code: str,
    day: date,
    *,
    settings: Settings,
    seed: int = 1,
    shape: DayShape | None = None,
    compare: bool = False,
) -> Result:
    """Run one synthetic day in the hall under its settings; its statistics, estimate error and advice samples.

    With `compare`, each ticket's quote is also set against the old estimator's and the width bound
    (`Result.estimators`).
    """
    sim = _Day(factory, settings, hall_code, day, shape or DayShape(), seed, compare)
    sim.run()
    with transaction(factory) as s:
        hall = get_hall(s, hall_code)
        figures = stats_data.compute(s, hall, day, day)
        estimators = _estimators(s, hall, day, sim.yardsticks, figures["estimate"]["coverage"]) if compare else None
    return Result(hall_code, day, seed, figures["counts"]["issued"], figures, sim.advice, sim.turned_away, estimators)


def _estimators(
    session: Session, hall: Hall, day: date, yardsticks: dict[int, tuple[est.Estimate, float]], coverage: float
) -> dict[str, dict]:
    """The new and the old estimator's figures on the same waits (the statistics' own estimate_error)."""
    tickets, events, _ratings, _pending = stats_data.facts(session, hall, day, day)
    by_ticket: dict[int, list] = {}
    for ev in sorted(events, key=lambda e: e.at):
        by_ticket.setdefault(ev.ticket_pk, []).append(ev)
    lives = [stats.replay(t, by_ticket.get(t.pk, [])) for t in tickets if t.pk in yardsticks]
    called = [life for life in lives if life.wait_s is not None]
    mean_wait = sum(life.wait_s for life in called) / len(called) if called else None
    mean_bound = sum(yardsticks[life.ticket.pk][1] for life in called) / len(called) if called else None
    old = [
        stats.replay(
            replace(
                life.ticket,
                quoted_low_s=yardsticks[life.ticket.pk][0].low_s,
                quoted_high_s=yardsticks[life.ticket.pk][0].high_s,
            ),
            by_ticket.get(life.ticket.pk, []),
        )
        for life in lives
    ]
    out = {}
    for name, group in (("new", lives), ("old", old)):
        figures = stats.estimate_error(group)
        width = figures["mean_width_s"]
        # An idle window calls at once and any range holds that wait: the share held of those who had to wait.
        waited = stats.estimate_error(life for life in group if yardsticks[life.ticket.pk][1] > 0)
        out[name] = {
            **figures,
            "waited_inside_share": waited["inside_share"],
            "coverage": coverage,
            "mean_wait_s": mean_wait,
            "mean_bound_s": mean_bound,
            "width_over_wait": width / mean_wait if width is not None and mean_wait else None,
            "width_over_bound": width / mean_bound if width is not None and mean_bound else None,
        }
    return out


def report(result: Result) -> str:
    """A short text report of a simulated day."""
    st = result.stats
    c, w, sv, est = st["counts"], st["wait"], st["service"], st["estimate"]

    def minutes(v):
        return "—" if v is None else f"{v / 60:.1f}"

    lines = [
        f"simulated day {result.day} in hall {result.hall} (seed {result.seed})",
        f"tickets: {c['issued']} issued, {c['served']} served, {c['no_show']} no-show, {c['cancelled']} cancelled",
        f"wait (min): mean {minutes(w['mean_s'])}, median {minutes(w['median_s'])}, p90 {minutes(w['p90_s'])}; "
        f"within {st['target_wait_s'] / 60:.0f} min: {w['within_target_share']:.0%}",
        f"service (min): mean {minutes(sv['mean_s'])}, median {minutes(sv['median_s'])}, p90 {minutes(sv['p90_s'])}",
        f"estimates: {est['inside_share']:.1%} of actual waits inside the quoted range "
        f"(n={est['count']}), mean absolute error {minutes(est['mae_s'])} min, mean width {minutes(est['mean_width_s'])} min",
        "per queue: "
        + ", ".join(
            f"{q['key']} {q['estimate']['inside_share']:.0%}" for q in st["by_queue"] if q["estimate"]["count"]
        ),
        "windows (open/needed at the half hour): "
        + ", ".join(
            f"{a['at'][11:16]} {a['windows_open']}/{a['windows_needed']}{'!' if a['behind'] else ''}"
            for a in result.advice
        ),
    ]
    return "\n".join(lines)


def scenario_report(results: dict[str, Result], compare: bool) -> str:
    """A table: per scenario (and estimator) the coverage (of all quotes, and of those who were not called at once),
    width against the mean wait and the bound, the error."""
    lines = [
        f"{'scenario':<9} {'estimator':<9} {'n':>4}  {'inside':>6}  {'waited':>6}  {'stated':>6}  {'wait min':>8}"
        f"  {'width min':>9}  {'width/wait':>10}  {'width/bound':>11}  {'MAE min':>7}"
    ]
    for name, result in results.items():
        for estimator in ("new", "old") if compare else ("new",):
            f = result.estimators[estimator]
            lines.append(
                f"{name:<9} {estimator:<9} {f['count']:>4}  {f['inside_share']:>6.1%}  "
                f"{f['waited_inside_share'] or 0:>6.1%}  {f['coverage']:>6.0%}  "
                f"{f['mean_wait_s'] / 60:>8.1f}  {f['mean_width_s'] / 60:>9.1f}  {f['width_over_wait']:>10.2f}  "
                f"{f['width_over_bound']:>11.2f}  {f['mae_s'] / 60:>7.1f}"
            )
    if compare:
        lines.append("targets (new against old): coverage within 5 points of stated, width ≤ 0.75 old, error no worse")
        for name, result in results.items():
            new, old = result.estimators["new"], result.estimators["old"]
            checks = {
                "coverage": abs(new["inside_share"] - new["coverage"]) <= 0.05,
                "width": new["mean_width_s"] <= 0.75 * old["mean_width_s"],
                "error": new["mae_s"] <= old["mae_s"],
            }
            lines.append(
                f"{name:<9} width new/old {new['mean_width_s'] / old['mean_width_s']:.2f}, "
                f"MAE new−old {(new['mae_s'] - old['mae_s']) / 60:+.1f} min: "
                + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in checks.items())
            )
    return "\n".join(lines)


def run_cli(args, settings) -> int:
    """`queue-server simulate`: a fresh database (never the live one unless given), one day or one per scenario,
    a report."""
    import json

    from queue_server.core.numbering import local_day
    from queue_server.exceptions import ValidationFailed

    try:
        hall_cfg = settings.hall(args.hall)
    except KeyError:
        raise ValidationFailed(
            f"no hall {args.hall!r} in {settings.source}", zh=f"{settings.source} 中没有大厅 {args.hall}"
        ) from None
    day = date.fromisoformat(args.day) if args.day else local_day(clock.now(), hall_cfg.timezone)
    scenario = getattr(args, "scenario", None)
    compare = getattr(args, "compare", False)
    if scenario is None:
        url, result = _run_on_new_database(args, settings, day, None, compare)
        if args.json:
            out = {"database": url, "seed": args.seed, "stats": result.stats, "advice": result.advice}
            print(
                json.dumps(out | ({"estimators": result.estimators} if compare else {}), ensure_ascii=False, indent=1)
            )
        else:
            print(report(result))
            if compare:
                print(scenario_report({"day": result}, compare=True))
            print(f"database: {url}")
        return 0
    names = list(SCENARIOS) if scenario == "all" else [scenario]
    if args.database and len(names) > 1:
        raise ValidationFailed(
            "--database holds one simulated day: give one --scenario, or none to use new temporary databases",
            zh="--database 只能容纳一天的模拟：请只选一个 --scenario，或不指定数据库以使用临时数据库",
            field="database",
        )
    runs = {name: _run_on_new_database(args, settings, day, SCENARIOS[name](), True) for name in names}
    results = {name: result for name, (_url, result) in runs.items()}
    if args.json:
        out = {name: {"database": url, "estimators": r.estimators} for name, (url, r) in runs.items()}
        print(json.dumps({"seed": args.seed, "scenarios": out}, ensure_ascii=False, indent=1))
    else:
        print(f"scenarios in hall {args.hall} on {day} (seed {args.seed})")
        print(scenario_report(results, compare))
    return 0


def _run_on_new_database(args, settings, day: date, shape: DayShape | None, compare: bool) -> tuple[str, Result]:
    """One simulated day on `--database` or a new temporary SQLite file (refusing one that has that day)."""
    import tempfile

    from queue_server.db import make_engine, session_factory, upgrade
    from queue_server.exceptions import ValidationFailed
    from queue_server.halls import seed

    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='onewindow-sim-')}/simulate.sqlite3"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    try:
        with transaction(factory) as s:
            seed(s, settings)
            hall = get_hall(s, args.hall)
            if s.scalar(select(Ticket.pk).where(Ticket.hall_id == hall.id, Ticket.day == day).limit(1)):
                raise ValidationFailed(
                    f"{url} already has tickets of {day} in {args.hall}; simulate on an empty database",
                    zh=f"{url} 已有大厅 {args.hall} 在 {day} 的号，请在空数据库上模拟",
                )
        return url, simulate_day(
            factory, args.hall, day, settings=settings, seed=args.seed, shape=shape, compare=compare
        )
    finally:
        engine.dispose()
