"""Many kiosks and windows at once (threads on SQLite and PostgreSQL, processes on PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from queue_server.db import make_engine, session_factory, transaction
from queue_server.exceptions import Unavailable
from queue_server.halls import get_hall
from queue_server.models import Queue, Ticket, TicketEvent
from queue_server.tickets import service as tickets
from tests.support import run_threads

KIOSKS, PER_KIOSK, WINDOWS = 8, 50, 8
SERVICES = ["QY001", "QY002", "SB001", "BD001", "GJ001", "HJ001", "CR001", "SW001", "ZH001", "YB003"]
WAIT_S = 120  # upper bound on a join; never a timing threshold


def test_kiosks_and_windows_at_once(hall):
    clerks = {n: hall.user(f"clerk{n}") for n in range(1, WINDOWS + 1)}
    issued: list[str] = []
    kiosks_done = threading.Event()
    progress = threading.Condition()
    start = threading.Barrier(KIOSKS + WINDOWS)

    def kiosk(k: int):
        rng = random.Random(k)
        start.wait(WAIT_S)
        for _ in range(PER_KIOSK):
            with transaction(hall.factory) as session:
                t = tickets.issue(session, get_hall(session, "erdao"), rng.choice(SERVICES)).ticket
            with progress:
                issued.append(t.id)
                progress.notify_all()

    def window(n: int):
        user = clerks[n]
        hall.act(user, n, "open")
        start.wait(WAIT_S)
        while True:
            seen = len(issued)
            called = retry(lambda: hall.act(user, n, "call-next")).ticket
            if called is not None:
                retry(lambda: hall.act(user, n, "start"))
                retry(lambda: hall.act(user, n, "finish"))
                continue
            if kiosks_done.is_set() and waiting(hall) == 0:
                return
            with progress:  # nothing for me now: wait for the next ticket or the end of issuing
                progress.wait_for(lambda seen=seen: len(issued) > seen or kiosks_done.is_set(), timeout=5)

    kiosk_threads = [lambda k=k: kiosk(k) for k in range(KIOSKS)]

    def all_kiosks():
        errs = run_threads(kiosk_threads)
        kiosks_done.set()
        with progress:
            progress.notify_all()
        if errs:
            raise errs[0]

    errors = run_threads([all_kiosks] + [lambda n=n: window(n) for n in range(1, WINDOWS + 1)])
    assert errors == []

    total = KIOSKS * PER_KIOSK
    assert len(issued) == len(set(issued)) == total
    with hall.factory() as session:
        rows = session.execute(select(Ticket.number, Ticket.status, Queue.prefix, Ticket.seq).join(Queue)).all()
        calls = Counter(session.scalars(select(TicketEvent.ticket_pk).where(TicketEvent.action == "call")))
        pks = list(session.scalars(select(Ticket.pk)))
    numbers = [r.number for r in rows]
    assert len(numbers) == len(set(numbers)) == total, "duplicate numbers"
    per_queue = Counter(r.prefix for r in rows)
    for prefix, n in per_queue.items():
        assert sorted(r.seq for r in rows if r.prefix == prefix) == list(range(1, n + 1)), f"gap in {prefix}"
    assert max(calls.values()) == 1, "a ticket was called twice"
    assert set(calls) == set(pks), "a ticket was never called"
    assert {r.status for r in rows} == {"done"}


def retry(op):
    """A window retries an operation the database refused for load (the API answers 503 and the clerk clicks again)."""
    for _ in range(5):
        try:
            return op()
        except Unavailable:
            continue
    return op()


def waiting(hall) -> int:
    with hall.factory() as session:
        return session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "waiting"))


def _issue_in_process(url: str, count: int, barrier) -> list[str]:
    engine = make_engine(url, pool_size=2)
    factory = session_factory(engine)
    barrier.wait(WAIT_S)
    out = []
    for i in range(count):
        with transaction(factory) as session:
            out.append(
                tickets.issue(session, get_hall(session, "erdao"), ("QY001", "SB001", "BD001")[i % 3]).ticket.number
            )
    engine.dispose()
    return out


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_four_processes_issue_without_duplicates(hall, db_url):
    ctx = multiprocessing.get_context("spawn")
    per_process = 50
    with ctx.Manager() as manager:
        barrier = manager.Barrier(4)
        with ctx.Pool(4) as pool:
            results = pool.starmap(_issue_in_process, [(db_url, per_process, barrier)] * 4)
    numbers = [n for r in results for n in r]
    assert len(numbers) == 4 * per_process
    assert len(set(numbers)) == len(numbers), "two processes handed out the same number"
    # Three queues, contiguous numbering in each.
    for prefix in "ABC":
        seqs = sorted(int(n[1:]) for n in numbers if n[0] == prefix)
        assert seqs == list(range(1, len(seqs) + 1))
    assert hall.count(Ticket) == 4 * per_process
