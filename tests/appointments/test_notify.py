"""Notifications through the outbox: "N ahead", "called", "please rate"; webhook signature, retries with
backoff on a failing receiver (fake clock, no sleeping), survival across restarts, no duplicates."""

from __future__ import annotations

import hashlib
import hmac
import threading

from sqlalchemy import select

from queue_server import clock
from queue_server.appointments import remote
from queue_server.appointments.notify import NotifyWorker, sign
from queue_server.hall_settings import hall_settings
from queue_server.halls import get_window
from queue_server.models import Notification
from queue_server.tickets import service as tickets
from queue_server.tickets.personal import read_person
from tests.support import SECRET, phone

from .receiver import Receiver

HOOK_SECRET = "hook-secret-0123456789"


def webhook(url: str, **extra) -> dict:
    return {"kind": "webhook", "url": url, "secret": HOOK_SECRET, "ahead": 1, "retry_s": 10, **extra}


def join(db, service: str = "BD001", person: int = 1) -> tuple[str, str]:
    with db.session() as s:
        hall = db.hall(s)
        cfg = hall_settings(hall).remote
        citizen = read_person(SECRET, phone(person), None)  # one active ticket per person and queue
        t = remote.join(
            s, hall, service, person=citizen, notify_ref="wx-openid-1", cfg=cfg, now=clock.now(), settings=db.settings
        ).ticket
        return t.id, t.number


def walk_in(db, service: str = "BD001") -> str:
    with db.session() as s:
        return tickets.issue(s, db.hall(s), service).ticket.number


def act(db, window: int, *actions: str) -> None:
    with db.session() as s:
        hall = db.hall(s)
        w = get_window(s, hall, window)
        w.state = "open"
        for action in actions:
            if action == "call":
                tickets.call_next(s, hall, w, None)
            else:
                ticket = tickets.get_ticket(s, w.ticket_id)
                tickets.transition(s, ticket, tickets.Action(action), window=w)
                if action == "finish":
                    w.ticket_id = None


def check_in(db, ticket_id: str) -> None:
    with db.session() as s:
        remote.check_in(s, tickets.get_ticket(s, ticket_id), clock.now())


def test_ahead_called_and_rate_are_sent_once_each_signed(make_hall, fake_clock):
    with Receiver() as hook:
        db = make_hall(notify=webhook(hook.url))
        worker = NotifyWorker(db.factory, db.settings)
        first = walk_in(db)
        second = walk_in(db)
        ticket_id, number = join(db)
        assert worker.run_once() == 0  # two ahead, threshold 1: nothing yet
        act(db, 11, "call", "start", "finish")  # serves the first walk-in
        assert worker.run_once() == 1
        check_in(db, ticket_id)
        act(db, 11, "call", "start", "finish", "call")  # the second walk-in, then the remote ticket
        assert worker.run_once() == 1
        act(db, 11, "start", "finish")
        assert worker.run_once() == 1
        for _ in range(3):  # later rounds find nothing new
            assert worker.run_once() == 0
        requests = hook.wait_for(3)
    assert hook.kinds() == [(number, "ahead"), (number, "called"), (number, "rate")]
    assert (first, second) == ("C001", "C002")
    ahead = requests[0]["json"]
    assert ahead["ahead"] == 1 and ahead["ref"] == "wx-openid-1" and ahead["phone"] == "139****0001"
    assert ahead["ticket"]["id"] == ticket_id and ahead["path"] == f"/t/{ticket_id}"
    assert requests[1]["json"]["text"] == f"请 {number} 号到 11 号窗口办理"
    for r in requests:
        headers = r["headers"]
        expected = hmac.new(
            HOOK_SECRET.encode(), headers["X-OneWindow-Timestamp"].encode() + b"." + r["body"], hashlib.sha256
        ).hexdigest()
        assert headers["X-OneWindow-Signature"] == "sha256=" + expected
        assert headers["X-OneWindow-Signature"] == "sha256=" + sign(
            HOOK_SECRET, headers["X-OneWindow-Timestamp"], r["body"]
        )
        assert headers["X-OneWindow-Delivery"] == f"{ticket_id}:{r['json']['kind']}"
        assert "13900000001" not in r["body"].decode()


def test_a_failing_receiver_gets_retries_with_backoff_then_the_message(make_hall, fake_clock):
    with Receiver(fail=2) as hook:
        db = make_hall(notify=webhook(hook.url, ahead=5))
        worker = NotifyWorker(db.factory, db.settings)
        ticket_id, _ = join(db)
        assert worker.run_once() == 0  # 500
        assert worker.run_once() == 0  # not due again yet: no request
        assert len(hook.wait_for(1)) == 1
        fake_clock.advance(seconds=10)  # first retry after retry_s
        assert worker.run_once() == 0  # 500 again
        fake_clock.advance(seconds=19)
        assert worker.run_once() == 0  # the second retry waits 20 s
        assert len(hook.requests) == 2
        # A restart: a new worker (new process) finds the message in the outbox.
        restarted = NotifyWorker(db.factory, db.settings)
        fake_clock.advance(seconds=1)
        assert restarted.run_once() == 1
        requests = hook.wait_for(3)
    assert {r["headers"]["X-OneWindow-Delivery"] for r in requests} == {f"{ticket_id}:ahead"}
    with db.session() as s:
        note = s.scalar(select(Notification))
        assert (note.state, note.attempts, note.last_error) == ("sent", 3, None)


def test_a_receiver_that_never_answers_ok_is_given_up_after_max_attempts(make_hall, fake_clock):
    with Receiver(fail=100) as hook:
        db = make_hall(notify=webhook(hook.url, ahead=5, max_attempts=3))
        worker = NotifyWorker(db.factory, db.settings)
        join(db)
        for _ in range(5):
            worker.run_once()
            fake_clock.advance(hours=1)
        assert len(hook.wait_for(3)) == 3
    with db.session() as s:
        note = s.scalar(select(Notification))
        assert (note.state, note.attempts, note.last_error) == ("failed", 3, "HTTP 500")


def test_concurrent_workers_deliver_each_message_once(make_hall, fake_clock):
    with Receiver() as hook:
        db = make_hall(notify=webhook(hook.url, ahead=50))
        numbers = [join(db, person=n)[1] for n in range(6)]
        workers = [NotifyWorker(db.factory, db.settings) for _ in range(3)]
        start = threading.Barrier(len(workers))
        errors: list[BaseException] = []

        def run(worker):
            start.wait()
            try:
                for _ in range(3):
                    worker.run_once()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        hook.wait_for(6)
        for w in workers:
            w.run_once()
    assert sorted(hook.kinds()) == sorted((n, "ahead") for n in numbers)


def test_the_log_notifier_is_the_default_and_logs_no_personal_data(make_hall, fake_clock, caplog):
    db = make_hall()
    join(db)
    with caplog.at_level("INFO", logger="onewindow.notify"):
        assert NotifyWorker(db.factory, db.settings).run_once() == 1
    assert "ahead C001" in caplog.text and "0001" not in caplog.text.replace("C001", "")
