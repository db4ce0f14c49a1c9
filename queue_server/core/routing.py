"""Which waiting ticket a window calls next. Pure: candidates in, ranked candidates out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from queue_server.core.states import Priority

# Lower is served first.
TARGETED, PRIORITY, NORMAL = 0, 1, 2
CLASS_OF = {Priority.GREEN.value: PRIORITY, Priority.APPOINTMENT.value: PRIORITY, Priority.NORMAL.value: NORMAL}


@dataclass(frozen=True)
class Candidate:
    """What routing needs to know about one waiting ticket."""

    ticket_id: str
    queue: str
    priority: str
    queued_at: datetime
    order_key: int
    target_window: int | None = None


@dataclass(frozen=True)
class Rules:
    """Hall routing settings: after `aging_s` of waiting a normal ticket ranks with priority ones."""

    aging_s: float = 20 * 60


def eligible(candidate: Candidate, window: int, queues: Iterable[str]) -> bool:
    """A ticket sent to a window goes only there; otherwise any window serving its queue."""
    if candidate.target_window is not None:
        return candidate.target_window == window
    return candidate.queue in set(queues)


def rank_key(
    candidate: Candidate, window: int, now: datetime, rules: Rules, waiting_since: datetime | None = None
) -> tuple:
    """Sort key: class (targeted, priority or aged, normal), then arrival order."""
    since = waiting_since or candidate.queued_at
    if candidate.target_window == window:
        cls = TARGETED
    else:
        cls = CLASS_OF.get(candidate.priority, NORMAL)
        if cls == NORMAL and (now - since).total_seconds() >= rules.aging_s:
            cls = PRIORITY
    # order_key (not the clock) orders arrivals, so an NTP step never reorders the queue.
    return (cls, candidate.order_key)


def rank(
    candidates: Iterable[Candidate], window: int, queues: Sequence[str], now: datetime, rules: Rules
) -> list[Candidate]:
    """Eligible candidates for `window`, best first."""
    queues = list(queues)
    pool = [c for c in candidates if eligible(c, window, queues)]
    since = waiting_since(pool)
    return sorted(pool, key=lambda c: rank_key(c, window, now, rules, since[c.ticket_id]))


def waiting_since(pool: Iterable[Candidate]) -> dict[str, datetime]:
    """Per ticket, its queued_at or the earliest one of anybody who arrived after it.

    Somebody ahead in line has waited at least as long as everybody behind: when the clock is
    stepped back (NTP), a later arrival reads an earlier queued_at and must not age first.
    """
    since: dict[str, datetime] = {}
    earliest: datetime | None = None
    for c in sorted(pool, key=lambda c: c.order_key, reverse=True):
        earliest = c.queued_at if earliest is None else min(earliest, c.queued_at)
        since[c.ticket_id] = earliest
    return since


def choose(
    candidates: Iterable[Candidate], window: int, queues: Sequence[str], now: datetime, rules: Rules
) -> Candidate | None:
    """The ticket `window` should call now, or None when nobody waits for it."""
    ranked = rank(candidates, window, queues, now, rules)
    return ranked[0] if ranked else None
