"""A synthetic hall day on a real database with a fast clock: Poisson arrivals, service times, staffing.

The simulation drives the real domain functions (issuing.issue, the use case every channel issues through,
and windows.act) in one process, moving a `clock.FakeClock` from event to event,
so a whole day runs in seconds and the statistics come from the same event history a real day leaves.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from queue_server import clock
from queue_server.config import Settings
from queue_server.db import transaction
from queue_server.halls import HallClosed, get_hall, get_service
from queue_server.models import ServiceItem, StaffUser, Window
from queue_server.staff.auth import add_user
from queue_server.stats import data as stats_data
from queue_server.tickets import issuing, waits, windows
from queue_server.tickets import service as tickets
from queue_server.tickets.personal import LimitReached, Person


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


@dataclass
class Result:
    hall: str
    day: date
    seed: int
    tickets: int
    stats: dict
    advice: list[dict]
    turned_away: int = 0

    @property
    def inside_share(self) -> float | None:
        return self.stats["estimate"]["inside_share"]


class _Day:
    """The event loop: each event moves the fake clock, then acts through the domain functions."""

    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, hall_code: str, day: date, shape: DayShape, seed: int
    ):
        self.factory, self.settings, self.hall_code, self.day, self.shape = factory, settings, hall_code, day, shape
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
                issuing.issue(
                    s,
                    hall,
                    get_service(s, hall, code),
                    channel="kiosk",
                    priority="normal",
                    person=Person(),
                    settings=self.settings,
                    now=clock.now(),
                )
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


def simulate_day(
    factory: sessionmaker[Session],
    hall_code: str,
    day: date,
    *,
    settings: Settings,
    seed: int = 1,
    shape: DayShape | None = None,
) -> Result:
    """Run one synthetic day in the hall under its settings; its statistics, estimate error and advice samples."""
    sim = _Day(factory, settings, hall_code, day, shape or DayShape(), seed)
    sim.run()
    with transaction(factory) as s:
        figures = stats_data.compute(s, get_hall(s, hall_code), day, day)
    return Result(hall_code, day, seed, figures["counts"]["issued"], figures, sim.advice, sim.turned_away)


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


def run_cli(args, settings) -> int:
    """`queue-server simulate`: a fresh database (never the live one unless given), one day, a report."""
    import json
    import tempfile

    from queue_server.core.numbering import local_day
    from queue_server.db import make_engine, session_factory, upgrade
    from queue_server.exceptions import ValidationFailed
    from queue_server.halls import seed
    from queue_server.models import Ticket

    try:
        hall_cfg = settings.hall(args.hall)
    except KeyError:
        raise ValidationFailed(
            f"no hall {args.hall!r} in {settings.source}", zh=f"{settings.source} 中没有大厅 {args.hall}"
        ) from None
    day = date.fromisoformat(args.day) if args.day else local_day(clock.now(), hall_cfg.timezone)
    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='onewindow-sim-')}/simulate.sqlite3"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as s:
        seed(s, settings)
        hall = get_hall(s, args.hall)
        if s.scalar(select(Ticket.pk).where(Ticket.hall_id == hall.id, Ticket.day == day).limit(1)):
            raise ValidationFailed(
                f"{url} already has tickets of {day} in {args.hall}; simulate on an empty database",
                zh=f"{url} 已有大厅 {args.hall} 在 {day} 的号，请在空数据库上模拟",
            )
    result = simulate_day(factory, args.hall, day, settings=settings, seed=args.seed)
    engine.dispose()
    if args.json:
        print(
            json.dumps(
                {"database": url, "seed": args.seed, "stats": result.stats, "advice": result.advice},
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print(report(result))
        print(f"database: {url}")
    return 0
