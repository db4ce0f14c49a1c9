"""Two server processes on one PostgreSQL, Redis as the message queue; Redis outages survived."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support import Listener, demo_config, login

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def pair(make_server, pg_url, redis_server, tmp_path):
    raw = demo_config(pg_url, tmp_path / "data", redis_url=redis_server.url)
    first = make_server(raw, name="one")
    second = make_server(raw, name="two", prepare_db=False)
    return first, second


def test_two_processes_ten_windows_every_ticket_called_once(pair):
    one, two = pair
    boards = [Listener(s.url, {"hall": "erdao"}).connect() for s in pair]
    for board in boards:
        board.wait_for("board")
    clerks = {n: login((one if n % 2 else two).url, f"clerk{n}") for n in range(1, 11)}
    for n, headers in clerks.items():
        server = one if n % 2 else two
        assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/{n}/open", headers=headers, timeout=10).ok

    services = ["QY001", "SB001", "BD001", "GJ001", "HJ001", "SW001"]

    def issue(i: int) -> str:
        server = pair[i % 2]
        r = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": services[i % 6]}, timeout=20)
        assert r.status_code == 201, r.text
        return r.json()["number"]

    with ThreadPoolExecutor(10) as pool:
        issued = list(pool.map(issue, range(120)))
    assert len(set(issued)) == 120, "no number is handed out twice across processes"

    def work(n: int) -> list[str]:
        server, headers, called = (one if n % 2 else two), clerks[n], []
        base = f"{server.url}/api/v1/halls/erdao/windows/{n}"
        while True:
            r = requests.post(f"{base}/call-next", headers=headers, timeout=20)
            if r.status_code == 204:
                return called
            assert r.status_code == 200, r.text
            called.append(r.json()["number"])
            assert requests.post(f"{base}/start", headers=headers, timeout=20).ok
            assert requests.post(f"{base}/finish", headers=headers, timeout=20).ok

    with ThreadPoolExecutor(10) as pool:
        per_window = list(pool.map(work, range(1, 11)))
    called = [number for numbers in per_window for number in numbers]
    assert sorted(called) == sorted(issued), "every ticket called exactly once"
    assert sum(1 for numbers in per_window if numbers) >= 2

    for board in boards:  # clients of both processes saw every issue and every call
        for number in issued:
            board.wait_for("ticket_issued", lambda t, n=number: t["number"] == n)
        for number in called:
            board.wait_for("ticket_called", lambda c, n=number: c["ticket"]["number"] == n)
        board.close()


def test_reconnect_gets_a_snapshot_equal_to_the_board(pair):
    one, two = pair
    board = Listener(two.url, {"hall": "erdao"}).connect()
    board.wait_for("board")
    clerk = login(one.url, "clerk1")
    requests.post(f"{one.url}/api/v1/halls/erdao/windows/1/open", headers=clerk, timeout=10)
    requests.post(f"{one.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
    requests.post(f"{one.url}/api/v1/halls/erdao/tickets", json={"service": "SB001"}, timeout=10)
    requests.post(f"{one.url}/api/v1/halls/erdao/windows/1/call-next", headers=clerk, timeout=10)
    board.wait_for("ticket_called")
    board.sio.disconnect()
    board.connect()
    snapshot = board.wait_for("board")
    assert snapshot == requests.get(f"{two.url}/api/v1/halls/erdao/board", timeout=10).json()
    assert snapshot["recent_calls"][0]["number"] == "A001"
    board.close()


def test_redis_outage_http_keeps_working_and_events_resume(pair, redis_server):
    one, two = pair
    boards = [Listener(s.url, {"hall": "erdao"}).connect() for s in pair]
    for board in boards:
        board.wait_for("board")
    redis_server.stop()
    during = [requests.post(f"{s.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10) for s in pair]
    assert [r.status_code for r in during] == [201, 201], "HTTP keeps working without Redis"
    ready = requests.get(f"{one.url}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["checks"]["redis"]["ok"] is False
    # Each process still tells its own clients.
    assert boards[0].wait_for("ticket_issued")["number"] == during[0].json()["number"]

    redis_server.start()  # same port
    # Clients are told to resync once the process's Redis link is back.
    for board in boards:
        board.wait_for("resync", timeout=30)
    r = requests.post(f"{one.url}/api/v1/halls/erdao/tickets", json={"service": "SB001"}, timeout=10)
    for board in boards:
        assert board.wait_for("ticket_issued", lambda t: t["number"] == r.json()["number"])["number"] == "B001"
        board.close()
    assert requests.get(f"{two.url}/readyz", timeout=10).status_code == 200
    log = one.read_log()
    assert log.count("is unreachable") == 1, "the outage is logged once, not per request"


def test_an_app_without_redis_does_not_inherit_the_last_apps_queue(tmp_path):
    """Flask-SocketIO keeps its options between init_app calls; a second app without Redis must not use the first's."""
    from queue_server.app import create_app
    from queue_server.config import settings_from_mapping
    from queue_server.extensions import socketio
    from tests.support import REDIS_URL, QuietVoice

    def app(name: str, **server):
        raw = demo_config(f"sqlite:///{tmp_path}/{name}.sqlite3", tmp_path / name, async_mode="threading", **server)
        return create_app(settings_from_mapping(raw), voice=QuietVoice(), start_workers=False)

    app("with-redis", redis_url=REDIS_URL)
    client = socketio.test_client(app("without"))  # refused while a Redis manager is left over
    client.emit("subscribe", {"hall": "erdao"})
    assert any(m["name"] == "board" for m in client.get_received())
    client.disconnect()
