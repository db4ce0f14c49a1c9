"""The database goes away under load and comes back: clear 503s meanwhile, service after, no restart."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support import Listener, Load, demo_config, login

SERVICES = ["QY001", "SB001", "BD001"]


def kiosk(load: Load, url: str, k: int, issued: list) -> None:
    session, i = requests.Session(), k
    while not load.stop.is_set():
        r = session.post(
            f"{url}/api/v1/halls/erdao/tickets", json={"service": SERVICES[i % 3], "print": False}, timeout=60
        )
        i += 1
        if r.status_code == 201:
            issued.append(r.json())
        load.note(r, "issue")


def window(load: Load, url: str, n: int, headers: dict) -> None:
    session, base = requests.Session(), f"{url}/api/v1/halls/erdao/windows/{n}"
    while not load.stop.is_set():
        r = session.post(f"{base}/call-next", headers=headers, timeout=60)
        load.note(r, "call-next")
        if r.status_code in (200, 409):  # 409: a start or finish was refused during the outage
            for action in ("start", "finish"):
                load.note(session.post(f"{base}/{action}", headers=headers, timeout=60), action)


def check_unavailable(r: requests.Response) -> dict:
    assert r.status_code == 503, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Retry-After"]
    error = r.json()["error"]
    assert error["code"] == "unavailable" and "try again" in error["message"]
    return error


def test_postgres_restart_under_load(make_server, private_postgres, tmp_path):
    server = make_server(demo_config(private_postgres.url, tmp_path / "data"))
    board = Listener(server.url, {"hall": "erdao"}).connect()
    board.wait_for("board")
    clerks = {n: login(server.url, f"clerk{n}") for n in (1, 2)}
    for n, headers in clerks.items():
        assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/{n}/open", headers=headers, timeout=10).ok

    load, issued = Load(), []
    for k in range(4):
        load.run(kiosk, load, server.url, k, issued)
    for n, headers in clerks.items():
        load.run(window, load, server.url, n, headers)
    load.wait(lambda s: s[("issue", 201)] >= 20 and s[("call-next", 200)] >= 3, "service before the outage")

    private_postgres.stop()
    before = load.statuses[("issue", 503)]
    load.wait(lambda s: s[("issue", 503)] >= before + 8 and s[("call-next", 503)] >= 2, "503s during the outage")
    check_unavailable(requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=30))
    check_unavailable(requests.get(f"{server.url}/api/v1/halls/erdao/board", timeout=30))
    ready = requests.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 503 and ready.json()["checks"]["database"]["ok"] is False

    private_postgres.start()
    r = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "GJ001"}, timeout=30)
    assert r.status_code == 201, "the first request after the database is back succeeds: no server restart"
    assert board.wait_for("ticket_issued", lambda t: t["number"] == r.json()["number"])
    board.wait_for("queue_changed", lambda q: "queues" in q)  # the coalescing worker lived through it
    after = load.statuses[("issue", 201)]
    load.wait(lambda s: s[("issue", 201)] >= after + 20 and s[("call-next", 200)] >= 6, "service after the outage")
    load.join()

    assert not load.bad, load.bad
    assert {status for (_, status) in load.statuses} <= {200, 201, 204, 409, 503}, load.statuses
    numbers = [t["number"] for t in issued]
    assert len(numbers) == len(set(numbers)), "no number handed out twice across the outage"
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    assert "unhandled error" not in server.read_log(), "no request ended in a 500"
    board.close()


class WriterLock:
    """Another program holding SQLite's write lock (a backup tool, an import, a sqlite3 shell)."""

    def __init__(self, path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def __enter__(self) -> WriterLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc) -> None:
        self.conn.execute("COMMIT")


def test_sqlite_locked_by_another_writer(make_server, tmp_path):
    """A lock held for a moment is waited out; one held longer than 10 s gives 503 'busy', never a hang."""
    path = tmp_path / "onewindow.sqlite3"
    server = make_server(demo_config(f"sqlite:///{path}", tmp_path / "data"))
    issue_url = f"{server.url}/api/v1/halls/erdao/tickets"
    board = Listener(server.url, {"hall": "erdao"}).connect()
    board.wait_for("board")

    with WriterLock(path), ThreadPoolExecutor(2) as pool:
        pending = pool.submit(requests.post, issue_url, json={"service": "QY001"}, timeout=60)
        # The wait for the lock is cooperative: the server answers others meanwhile.
        assert requests.get(f"{server.url}/healthz", timeout=30).status_code == 200
        error = check_unavailable(pending.result())
        assert "busy" in error["message"]

    r = requests.post(issue_url, json={"service": "QY001"}, timeout=30)
    assert r.status_code == 201 and r.json()["number"] == "A001", "the refused request took no number"
    assert board.wait_for("ticket_issued")["number"] == "A001"

    released = threading.Event()
    with ThreadPoolExecutor(4) as pool:
        with WriterLock(path):
            waiting = [pool.submit(requests.post, issue_url, json={"service": "SB001"}, timeout=60) for _ in range(4)]
        released.set()
        answers = [f.result() for f in waiting]
    assert [a.status_code for a in answers] == [201] * 4, "requests made while the lock was held go through"
    assert sorted(a.json()["number"] for a in answers) == ["B001", "B002", "B003", "B004"]
    assert board.connects == 1, "the board stayed connected throughout"
    board.close()
