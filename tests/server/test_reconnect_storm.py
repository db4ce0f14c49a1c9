"""A restart with clients connected: every client back with a fresh snapshot and no call missed after it is
back; a storm of subscribes costs one snapshot build per hall."""

from __future__ import annotations

import pytest
import requests

from queue_server.extensions import socketio
from tests.support import Listener, demo_config, login

CLIENTS = 40


@pytest.mark.postgres
@pytest.mark.redis
def test_restart_of_both_processes_brings_every_client_back_fresh(make_server, pg_url, redis_server, tmp_path):
    raw = demo_config(pg_url, tmp_path / "data", redis_url=redis_server.url)
    pair = [make_server(raw, name="one"), make_server(raw, name="two", prepare_db=False)]
    clients = [Listener(pair[i % 2].url, {"hall": "erdao"}).connect() for i in range(CLIENTS)]
    for client in clients:
        client.wait_for("board")
    one = pair[0]
    clerk = login(one.url, "clerk1")
    assert requests.post(f"{one.url}/api/v1/halls/erdao/windows/1/open", headers=clerk, timeout=30).ok
    for service in ("QY001", "QY001", "SB001"):
        assert requests.post(f"{one.url}/api/v1/halls/erdao/tickets", json={"service": service}, timeout=30).ok

    for server in pair:
        server.stop()
    for server in pair:
        server.start()  # the same ports: the clients reconnect on their own

    for client in clients:  # every one back, with a snapshot taken after the restart
        snapshot = client.wait_for("board", lambda b: any(q["waiting"] for q in b["queues"]), timeout=120)
        assert client.connects == 2
        assert {q["prefix"]: q["waiting"] for q in snapshot["queues"]}["A"] == 2
    fresh = requests.get(f"{one.url}/api/v1/halls/erdao/board", timeout=30).json()
    assert all(client.seen["board"][-1] == fresh for client in clients)

    clerk = login(pair[1].url, "clerk1")  # a call made on the other process once everyone is back
    called = requests.post(f"{pair[1].url}/api/v1/halls/erdao/windows/1/call-next", headers=clerk, timeout=30)
    assert called.json()["number"] == "A001"
    for client in clients:
        client.wait_for("ticket_called", lambda c: c["ticket"]["number"] == "A001", timeout=60)
        client.close()


def http_board(app) -> dict:
    return app.test_client().get("/api/v1/halls/erdao/board").get_json()


def test_a_storm_of_subscribes_builds_one_board_per_hall(make_app):
    app = make_app()
    boards = app.extensions["onewindow"].extras["boards"]
    boards.ttl = 3600  # what is measured is the reuse, not the clock
    storm = [socketio.test_client(app) for _ in range(200)]
    for client in storm:
        client.emit("subscribe", {"hall": "erdao"})
    snapshots = [[m["args"][0] for m in c.get_received() if m["name"] == "board"] for c in storm]
    assert all(len(s) == 1 and s[0]["hall"]["code"] == "erdao" for s in snapshots)
    assert snapshots[0][0] == http_board(app)
    assert boards.builds == 1 and boards.encodings == 1  # built once, encoded once, sent to all 200

    http = app.test_client()
    assert http.post("/api/v1/halls/erdao/tickets", json={"service": "QY001", "print": False}).status_code == 201
    late = socketio.test_client(app)
    late.emit("subscribe", {"hall": "erdao"})  # after an event for the hall: a new snapshot, with the ticket
    board = next(m["args"][0] for m in late.get_received() if m["name"] == "board")
    assert {q["prefix"]: q["waiting"] for q in board["queues"]}["A"] == 1 and boards.builds == 2
    assert boards.encodings == 2 and board == http_board(app)
    for client in [*storm, late]:
        client.disconnect()
