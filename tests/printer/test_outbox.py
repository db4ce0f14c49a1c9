"""The one outbox (queue_server/outbox.py) on SQLite and PostgreSQL: claims, leases, backoff, recovery."""

from __future__ import annotations

import threading

from sqlalchemy import select

from printer.spool import AGENT_JOBS, PRINT_JOBS
from queue_server import clock
from queue_server.appointments.notify import MESSAGES
from queue_server.db import make_engine, session_factory, transaction
from queue_server.models import PrintJob
from queue_server.outbox import backoff


def add_jobs(factory, payload: dict, n: int) -> list[int]:
    with transaction(factory) as session:
        now = clock.now()
        jobs = [
            PrintJob(
                printer="kiosk-1", payload=payload, state="queued", attempts=0, created_at=now, next_attempt_at=now
            )
            for _ in range(n)
        ]
        session.add_all(jobs)
        session.flush()
        return [j.id for j in jobs]


def state(factory, job_id: int) -> tuple[str, int, str | None]:
    with transaction(factory) as session:
        job = session.get(PrintJob, job_id)
        return job.state, job.attempts, job.last_error


def test_print_jobs_and_messages_share_the_one_outbox():
    assert type(PRINT_JOBS) is type(AGENT_JOBS) is type(MESSAGES)
    assert PRINT_JOBS.lease is None and AGENT_JOBS.lease and MESSAGES.lease
    assert [backoff(n, 10, 3600) for n in (1, 2, 3, 12)] == [10, 20, 40, 3600]


def test_a_lease_that_runs_out_hands_the_row_out_again(db_factory, payload, fake_clock):
    (job_id,) = add_jobs(db_factory, payload, 1)
    with transaction(db_factory) as session:
        assert AGENT_JOBS.claim(session, clock.now()) == [job_id]
    with transaction(db_factory) as session:
        assert AGENT_JOBS.claim(session, clock.now()) == []  # held by the lease
    fake_clock.advance(AGENT_JOBS.lease.total_seconds())
    with transaction(db_factory) as session:
        assert AGENT_JOBS.claim(session, clock.now()) == [job_id]  # the worker died: taken again
    assert state(db_factory, job_id) == ("printing", 2, None)
    with transaction(db_factory) as session:
        assert AGENT_JOBS.done(session, job_id, printed_at=clock.now())
        assert not AGENT_JOBS.done(session, job_id)  # a second acknowledgement changes nothing
    assert state(db_factory, job_id) == ("printed", 2, None)


def test_without_a_lease_a_claim_is_held_until_recovered(db_factory, payload, fake_clock):
    (job_id,) = add_jobs(db_factory, payload, 1)
    with transaction(db_factory) as session:
        assert PRINT_JOBS.claim(session, clock.now()) == [job_id]
    fake_clock.advance(3600)
    with transaction(db_factory) as session:
        assert PRINT_JOBS.claim(session, clock.now()) == []
        assert PRINT_JOBS.recover(session, clock.now(), reason="crashed") == [job_id]
    assert state(db_factory, job_id) == ("queued", 1, "crashed")


def test_retry_backs_off_then_gives_up(db_factory, payload, fake_clock):
    (job_id,) = add_jobs(db_factory, payload, 1)
    for attempt, wait in ((1, 5), (2, 10)):
        with transaction(db_factory) as session:
            assert AGENT_JOBS.claim(session, clock.now()) == [job_id]
            assert (
                AGENT_JOBS.retry(session, job_id, "jam", clock.now(), first_s=5, cap_s=60, max_attempts=3) == "queued"
            )
        fake_clock.advance(wait - 1)
        with transaction(db_factory) as session:
            assert AGENT_JOBS.claim(session, clock.now()) == [], f"attempt {attempt} waits {wait} s"
        fake_clock.advance(1)
    with transaction(db_factory) as session:
        assert AGENT_JOBS.claim(session, clock.now()) == [job_id]
        assert AGENT_JOBS.retry(session, job_id, "jam", clock.now(), first_s=5, cap_s=60, max_attempts=3) == "failed"
    assert state(db_factory, job_id) == ("failed", 3, "jam")


def test_concurrent_claims_hand_each_row_to_one_worker(db_factory, db_url, payload, fake_clock):
    ids = add_jobs(db_factory, payload, 30)
    engines = [make_engine(db_url) for _ in range(3)]
    start = threading.Barrier(len(engines))
    won: list[int] = []

    def work(engine) -> None:
        factory = session_factory(engine)
        start.wait()
        for _ in range(15):
            with transaction(factory) as session:
                won.extend(AGENT_JOBS.claim(session, clock.now(), limit=4))

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for engine in engines:
        engine.dispose()
    assert sorted(won) == ids
    with transaction(db_factory) as session:
        assert set(session.scalars(select(PrintJob.attempts))) == {1}
