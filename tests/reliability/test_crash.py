"""The server killed with SIGKILL while 20 clients issue and call, then started again on the same database."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from queue_server.db import make_engine
from queue_server.models import TicketEvent
from tests.support import Listener, Load, demo_config, login

KIOSKS, WINDOWS = 14, 6  # windows 1-6 are integrated: they serve every queue
SERVICES = ["QY001", "SB001", "BD001", "GJ001", "HJ001", "SW001"]
KILL_AFTER_ISSUED, KILL_AFTER_CALLED = 60, 10


def kiosk(load: Load, url: str, k: int, issued: list) -> None:
    session, i = requests.Session(), k
    while not load.stop.is_set():
        sent = time.monotonic()
        try:
            r = session.post(
                f"{url}/api/v1/halls/erdao/tickets", json={"service": SERVICES[i % 6], "print": False}, timeout=30
            )
        except requests.ConnectionError:
            return  # the server is gone
        i += 1
        if r.status_code == 201:
            issued.append({**r.json(), "sent": sent, "acked": time.monotonic()})
        load.note(r, "issue")


def window(load: Load, url: str, n: int, headers: dict, called: list) -> None:
    session, base = requests.Session(), f"{url}/api/v1/halls/erdao/windows/{n}"
    try:
        while not load.stop.is_set():
            r = session.post(f"{base}/call-next", headers=headers, timeout=30)
            load.note(r, "call-next")
            if r.status_code == 200:
                called.append(r.json()["number"])
                session.post(f"{base}/start", headers=headers, timeout=30)
                session.post(f"{base}/finish", headers=headers, timeout=30)
    except requests.ConnectionError:
        return


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_under_load_loses_no_ticket_and_calls_none_twice(backend, request, make_server, tmp_path):
    url_db = f"sqlite:///{tmp_path}/onewindow.sqlite3" if backend == "sqlite" else request.getfixturevalue("pg_url")
    server = make_server(demo_config(url_db, tmp_path / "data"))
    board = Listener(server.url, {"hall": "erdao"}).connect()
    board.wait_for("board")
    clerks = {n: login(server.url, f"clerk{n}") for n in range(1, WINDOWS + 1)}
    for n, headers in clerks.items():
        assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/{n}/open", headers=headers, timeout=10).ok

    load, issued, called = Load(), [], []
    for k in range(KIOSKS):
        load.run(kiosk, load, server.url, k, issued)
    for n, headers in clerks.items():
        load.run(window, load, server.url, n, headers, called)
    load.wait(
        lambda s: s[("issue", 201)] >= KILL_AFTER_ISSUED and s[("call-next", 200)] >= KILL_AFTER_CALLED,
        "tickets issued and called before the crash",
    )
    server.kill()  # mid-flight: requests are in progress on every client
    load.join()
    assert not load.bad, load.bad
    assert {status for (_, status) in load.statuses} <= {200, 201, 204}, load.statuses
    assert len(called) == len(set(called)), "no ticket was called twice before the crash"

    server.start()
    # The board reconnects by itself and gets a fresh snapshot equal to the server's state.
    snapshot = board.wait_for("board", timeout=60)
    assert board.connects >= 2
    assert snapshot == requests.get(f"{server.url}/api/v1/halls/erdao/board", timeout=10).json()

    for ticket in issued:  # every acknowledged ticket is there, with its number
        r = requests.get(f"{server.url}/api/v1/tickets/{ticket['id']}", timeout=10)
        assert r.status_code == 200 and r.json()["number"] == ticket["number"]

    # Windows caught mid-service finish their ticket; then window 1 calls everybody still waiting.
    for n, headers in clerks.items():
        for action in ("start", "finish"):
            requests.post(f"{server.url}/api/v1/halls/erdao/windows/{n}/{action}", headers=headers, timeout=10)
    drained = []
    while True:
        r = requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/call-next", headers=clerks[1], timeout=10)
        if r.status_code == 204:
            break
        assert r.status_code == 200, r.text
        drained.append(r.json()["number"])
        for action in ("start", "finish"):
            assert requests.post(
                f"{server.url}/api/v1/halls/erdao/windows/1/{action}", headers=clerks[1], timeout=10
            ).ok
    assert not set(drained) & set(called), "a ticket called before the crash is not called again"
    board.wait_for("ticket_called", lambda c: c["ticket"]["number"] == drained[-1])  # the board follows again

    # The waiting order survived: a ticket acknowledged before another was even asked for is called first.
    position = {number: i for i, number in enumerate(drained)}
    waiting = [t for t in issued if t["number"] in position]
    for a in waiting:
        for b in waiting:
            if a["acked"] < b["sent"]:
                assert position[a["number"]] < position[b["number"]], (a["number"], b["number"])

    engine = make_engine(url_db)
    with engine.connect() as conn:
        calls = Counter(
            dict(
                conn.execute(
                    select(TicketEvent.ticket_pk, func.count())
                    .where(TicketEvent.action == "call")
                    .group_by(TicketEvent.ticket_pk)
                ).all()
            )
        )
        tickets = conn.execute(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "issue"))
        total = tickets.scalar_one()
    engine.dispose()
    assert len(calls) == total and set(calls.values()) == {1}, "every ticket called exactly once in the end"
    board.close()
