"""The spooler on SQLite: retries while the printer is down, recovery, and never the same ticket twice."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from printer.exceptions import PayloadError, PrinterError
from printer.spool import Spooler, backoff_s
from queue_server.db import make_engine, session_factory, transaction
from queue_server.exceptions import NotFound
from queue_server.models import PrintJob
from tests.support import decode


def numbers(streams: list[bytes]) -> list[str]:
    """The ticket number printed in each captured connection."""
    out = []
    for stream in streams:
        out += [line.text for line in decode(stream).lines if line.double]
    return out


def job(factory, job_id: int) -> PrintJob:
    with transaction(factory) as session:
        return session.get(PrintJob, job_id)


def enqueue(spooler: Spooler, factory, payload: dict, ticket_id: str = "t1", name: str = "kiosk-1") -> int:
    with transaction(factory) as session:
        return spooler.enqueue(session, name, payload, ticket_id).id


def test_backoff_doubles_and_caps():
    assert [backoff_s(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_enqueue_only_adds_a_row(db_factory, fake_printer, payload, fake_clock):
    spooler = Spooler(db_factory, {"kiosk-1": fake_printer.config()})
    job_id = enqueue(spooler, db_factory, payload)
    queued = job(db_factory, job_id)
    assert (queued.state, queued.attempts, queued.ticket_id) == ("queued", 0, "t1")
    assert queued.next_attempt_at == fake_clock.current
    assert fake_printer.settle() == []  # nothing printed until a worker runs


def test_enqueue_refuses_what_can_never_print(db_factory, fake_printer, payload):
    spooler = Spooler(db_factory, {"kiosk-1": fake_printer.config()})
    with pytest.raises(PrinterError, match="unknown printer 'lobby'"):
        enqueue(spooler, db_factory, payload, name="lobby")
    with pytest.raises(PayloadError, match="number"):
        enqueue(spooler, db_factory, {**payload, "number": ""})


def test_printer_down_then_back_prints_exactly_once(db_factory, stopped_printer, payload, fake_clock):
    changes: list[dict] = []
    spooler = Spooler(db_factory, {"kiosk-1": stopped_printer.config()}, changes.append)
    job_id = enqueue(spooler, db_factory, payload)

    assert spooler.run_once() == 1
    failed = job(db_factory, job_id)
    assert (failed.state, failed.attempts) == ("queued", 1)
    assert "cannot open printer kiosk-1" in failed.last_error
    assert spooler.run_once() == 0  # not due again for a second

    fake_clock.advance(1)
    assert spooler.run_once() == 1
    assert job(db_factory, job_id).attempts == 2

    stopped_printer.start()
    fake_clock.advance(backoff_s(2))
    assert spooler.run_once() == 1
    printed_at = fake_clock.current
    fake_clock.advance(3600)
    assert spooler.run_once() == 0

    printed = job(db_factory, job_id)
    assert (printed.state, printed.attempts, printed.last_error) == ("printed", 3, None)
    assert printed.printed_at == printed_at
    assert numbers(stopped_printer.settle()) == ["A007"]
    assert [c["state"] for c in changes] == [
        "printing",
        "queued",
        "printing",
        "queued",
        "printing",
        "printed",
    ]
    assert changes[-1] == {
        "id": job_id,
        "printer": "kiosk-1",
        "ticket_id": "t1",
        "state": "printed",
        "attempts": 3,
        "last_error": None,
    }


def test_a_down_printer_is_tried_once_per_round(db_factory, stopped_printer, payload, fake_clock):
    spooler = Spooler(db_factory, {"kiosk-1": stopped_printer.config()})
    ids = [enqueue(spooler, db_factory, {**payload, "number": f"A00{i}"}, f"t{i}") for i in range(1, 4)]
    assert spooler.run_once() == 1
    assert [job(db_factory, i).attempts for i in ids] == [1, 0, 0]
    stopped_printer.start()
    fake_clock.advance(1)
    assert spooler.run_once() == 3
    assert sorted(numbers(stopped_printer.settle())) == ["A001", "A002", "A003"]


def test_gives_up_after_max_attempts(db_factory, stopped_printer, payload, fake_clock):
    spooler = Spooler(db_factory, {"kiosk-1": stopped_printer.config()}, max_attempts=3)
    job_id = enqueue(spooler, db_factory, payload)
    for _ in range(3):
        assert spooler.run_once() == 1
        fake_clock.advance(60)
    gave_up = job(db_factory, job_id)
    assert (gave_up.state, gave_up.attempts) == ("failed", 3)
    assert gave_up.last_error.startswith("gave up after 3 attempts")
    assert spooler.run_once() == 0


def test_bad_payload_in_the_table_fails_without_retrying(db_factory, fake_printer, payload, fake_clock):
    spooler = Spooler(db_factory, {"kiosk-1": fake_printer.config()})
    job_id = enqueue(spooler, db_factory, payload)
    with transaction(db_factory) as session:
        session.execute(update(PrintJob).where(PrintJob.id == job_id).values(payload={"number": "A1"}))
    assert spooler.run_once() == 1
    assert job(db_factory, job_id).state == "failed"
    assert fake_printer.settle() == []


def test_job_left_printing_by_a_crash_goes_back_to_the_queue(db_factory, fake_printer, payload, fake_clock):
    crashed = Spooler(db_factory, {"kiosk-1": fake_printer.config()})
    job_id = enqueue(crashed, db_factory, payload)
    with transaction(db_factory) as session:
        session.execute(update(PrintJob).where(PrintJob.id == job_id).values(state="printing", attempts=1))

    changes: list[dict] = []
    restarted = Spooler(db_factory, {"kiosk-1": fake_printer.config()}, changes.append)
    assert restarted.run_once() == 0  # a "printing" job is not picked up by a round
    assert restarted.recover() == 1
    assert changes[0]["state"] == "queued"
    assert restarted.run_once() == 1
    assert job(db_factory, job_id).state == "printed"
    assert numbers(fake_printer.settle()) == ["A007"]


def test_only_one_spooler_can_claim_a_job(db_factory, db_url, fake_printer, payload, fake_clock):
    printers = {"kiosk-1": fake_printer.config()}
    first = Spooler(db_factory, printers)
    other_engine = make_engine(db_url)
    second = Spooler(session_factory(other_engine), printers)
    job_id = enqueue(first, db_factory, payload)
    assert first._claim(job_id) is not None
    assert second._claim(job_id) is None
    other_engine.dispose()


def test_two_spoolers_at_once_print_each_ticket_once(db_factory, db_url, fake_printer, payload, fake_clock):
    printers = {"kiosk-1": fake_printer.config()}
    expected = [f"B{i:03d}" for i in range(1, 41)]
    seed = Spooler(db_factory, printers)
    for number in expected:
        enqueue(seed, db_factory, {**payload, "number": number}, number)

    engines = [make_engine(db_url) for _ in range(2)]
    spoolers = [Spooler(session_factory(engine), printers, batch=40) for engine in engines]
    start = threading.Barrier(len(spoolers))
    tried: list[int] = []

    def work(spooler: Spooler) -> None:
        start.wait()
        tried.append(spooler.run_once())

    threads = [threading.Thread(target=work, args=(s,)) for s in spoolers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()

    assert sum(tried) == len(expected)
    printed = numbers(fake_printer.settle())
    assert sorted(printed) == expected  # every ticket, none twice
    with transaction(db_factory) as session:
        states = session.scalars(select(PrintJob.state)).all()
    assert set(states) == {"printed"}


def test_reprint_queues_the_same_ticket_again(db_factory, fake_printer, payload, fake_clock):
    spooler = Spooler(db_factory, {"kiosk-1": fake_printer.config()})
    enqueue(spooler, db_factory, payload, "t-42")
    spooler.run_once()
    with transaction(db_factory) as session:
        again = spooler.reprint(session, "t-42")
    assert (again.state, again.ticket_id, again.printer) == ("queued", "t-42", "kiosk-1")
    assert spooler.run_once() == 1
    assert numbers(fake_printer.settle()) == ["A007", "A007"]
    with transaction(db_factory) as session, pytest.raises(NotFound):
        spooler.reprint(session, "never-printed")


def test_paper_width_comes_from_printer_then_hall(db_factory, fake_printer):
    spooler = Spooler(db_factory, {}, hall_paper_mm={"demo": 58})
    assert spooler.paper_mm(fake_printer.config()) == 58
    assert spooler.paper_mm(fake_printer.config(paper_mm=80)) == 80
    assert Spooler(db_factory, {}).paper_mm(fake_printer.config()) == 80


def test_run_forever_prints_and_stops(db_factory, fake_printer, payload):
    printed = threading.Event()
    stop = threading.Event()

    def on_change(change: dict) -> None:
        if change["state"] == "printed":
            printed.set()

    spooler = Spooler(db_factory, {"kiosk-1": fake_printer.config()}, on_change, poll_s=0.05)
    worker = threading.Thread(target=spooler.run_forever, args=(stop,))
    worker.start()
    try:
        enqueue(spooler, db_factory, payload)
        assert printed.wait(10)
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    assert numbers(fake_printer.settle()) == ["A007"]


def test_run_forever_recovers_first_then_prints_at_once_when_woken(db_factory, fake_printer, payload):
    spooler = Spooler(db_factory, {"kiosk-1": fake_printer.config()}, poll_s=60)  # only a wake is quick
    crashed = enqueue(spooler, db_factory, payload)
    with transaction(db_factory) as session:  # left mid-print by a crash
        session.execute(update(PrintJob).where(PrintJob.id == crashed).values(state="printing", attempts=1))
    stop = threading.Event()
    worker = threading.Thread(target=spooler.run_forever, args=(stop,))
    worker.start()
    try:
        assert numbers(fake_printer.wait_for_jobs(1)) == ["A007"]
        enqueue(spooler, db_factory, {**payload, "number": "A008"})
        spooler.wake()
        assert numbers(fake_printer.wait_for_jobs(2)) == ["A007", "A008"]
    finally:
        stop.set()
        spooler.wake()
        worker.join(10)
    assert not worker.is_alive(), "stop and a wake end the loop without waiting out the poll"
    assert [job(db_factory, n).state for n in (crashed, crashed + 1)] == ["printed", "printed"]
    assert numbers(fake_printer.settle()) == ["A007", "A008"]


def test_run_forever_logs_an_outage_once_and_its_end(db_factory, caplog):
    spooler = Spooler(db_factory, {}, poll_s=0.01)
    stop, rounds = threading.Event(), []

    def run_once() -> int:
        rounds.append(1)
        if len(rounds) <= 5:
            raise RuntimeError("database is gone")
        stop.set()
        return 0

    spooler.run_once = run_once
    with caplog.at_level("WARNING", logger="printer.spool"):
        spooler.run_forever(stop)
    assert len(rounds) == 6, "a failed round never ends printing"
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "print spooler round failed (database is gone); retrying"),
        ("WARNING", "print spooler is printing again"),
    ]
