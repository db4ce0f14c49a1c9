"""Socket.IO floods: a subscribe storm is refused and dropped, a client that stops reading is cut off, issuing stays fast."""

from __future__ import annotations

import json
import multiprocessing
import statistics
import threading
import time

import psutil
import requests
import websocket

from queue_server.realtime.limits import BURST, MAX_WAITING
from queue_server.realtime.sockets import MAX_ROOMS
from tests.security.attackers import RawSocketIO, baseline, issue, issue_while
from tests.support import client_from, demo_config

ATTACKERS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
FLOOD_S = 3.0
SLOWDOWN = 5  # the kiosk may be this many times slower during the attack (the machine is shared)


def flood(port: int, source: str, seconds: float, go, results) -> None:
    """One attacker process: 20 subscribes every 10 ms for `seconds`, reconnecting at once whenever dropped."""
    report = {"source": source, "connections": 0, "drops": 0, "boards": [], "sent": 0}
    results.put(("ready", source))
    go.wait(30)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        client = RawSocketIO(port, source)
        report["connections"] += 1
        boards, closed = [0], threading.Event()

        def read(client=client, boards=boards, closed=closed):
            for name, _data in client.events(timeout=30):
                boards[0] += name == "board"
            closed.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        while time.monotonic() < end and not closed.is_set():
            try:
                for _ in range(20):
                    client.send_event("subscribe", {"hall": "erdao"})
                    report["sent"] += 1
            except (websocket.WebSocketException, OSError):
                break
            time.sleep(0.01)  # the attack's own pace, not a wait for the server
        report["drops"] += closed.wait(2)
        client.close()
        reader.join(5)
        report["boards"].append(boards[0])
    results.put(("done", report))


def run_flood(port: int, url: str) -> tuple[list[float], list[dict]]:
    """Four attacker processes flood while the kiosk issues; the kiosk's issue times and the attackers' reports."""
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=flood, args=(port, a, FLOOD_S, go, results)) for a in ATTACKERS]
    for p in procs:
        p.start()
    for _ in procs:
        assert results.get(timeout=30)[0] == "ready"
    attacking, done = threading.Event(), threading.Event()
    times: list[float] = []
    kiosk = threading.Thread(target=lambda: times.extend(issue_while(url, attacking, done)))
    kiosk.start()
    go.set()
    attacking.set()
    reports = [results.get(timeout=FLOOD_S + 30)[1] for _ in procs]
    done.set()
    kiosk.join(30)
    for p in procs:
        p.join(10)
    return times, reports


def test_subscribe_flood_is_refused_and_dropped_while_issuing_stays_fast(make_server, tmp_path):
    server = make_server(demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data"))
    process = psutil.Process(server.proc.pid)
    before = baseline(server.url)
    rss_before = process.memory_info().rss

    times, reports = run_flood(server.port, server.url)
    after = issue(requests.Session(), server.url)  # right after the flood: no backlog left to work off
    rss_after = process.memory_info().rss

    during = statistics.median(times)
    print(
        f"\nissue before {before * 1000:.1f} ms, during flood median {during * 1000:.1f} ms "
        f"(max {max(times) * 1000:.1f} ms, {len(times)} issues), first after {after * 1000:.1f} ms; "
        f"RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB"
    )
    for r in reports:
        print(f"  {r['source']}: {r['sent']} subscribes, {r['connections']} connections, {r['drops']} dropped")
    assert during <= SLOWDOWN * before, f"issuing went from {before:.3f}s to {during:.3f}s during the flood"
    assert after <= SLOWDOWN * before, f"issuing took {after:.3f}s right after the flood"
    for r in reports:
        assert r["drops"] >= 1, f"{r['source']} flooded for {FLOOD_S}s and was never dropped"
        # Each connection got at most its burst of snapshots (plus what the bucket refilled meanwhile).
        assert max(r["boards"]) <= BURST + FLOOD_S
    assert rss_after - rss_before < 64 * 2**20, "the flood grew the server by more than 64 MiB"
    assert "dropping Socket.IO client" in server.read_log()


def test_client_that_stops_reading_is_cut_off(make_server, tmp_path):
    server = make_server(demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data"))
    # A long-polling client that subscribes and then never polls again: nothing but the server's
    # own bound stops its queue from growing (over a websocket the kernel's buffers come first).
    board = client_from("127.0.0.2")
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling"
    sid = json.loads(board.get(polling, timeout=10).text[1:])["sid"]
    session = f"{polling}&sid={sid}"
    assert board.post(session, data="40", timeout=10).text == "OK"
    assert board.get(session, timeout=10).text.startswith("40")
    assert board.post(session, data='42["subscribe",{"hall":"erdao"}]', timeout=10).text == "OK"
    kiosk, issued = requests.Session(), 0
    while "does not read" not in server.read_log() and issued < 3 * MAX_WAITING:
        issue(kiosk, server.url)
        issued += 1
    assert "does not read" in server.read_log(), f"{issued} events wait for a client that does not read"
    print(f"\ndropped after {issued} issues (at most {MAX_WAITING} packets wait for one client)")
    assert issued <= MAX_WAITING + 1  # a board snapshot and one event per ticket at least
    assert board.get(session, timeout=10).status_code == 400  # its session and everything queued are gone


def test_one_connection_follows_a_few_rooms_only(make_server, tmp_path):
    server = make_server(demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data"))
    kiosk = requests.Session()
    tickets = [
        kiosk.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10).json()["id"]
        for _ in range(4)
    ]
    phone = RawSocketIO(server.port, "127.0.0.2")
    answers = []
    for subscription in [{"ticket": t} for t in tickets[:3]] + [{"hall": "erdao"}, {"ticket": tickets[3]}]:
        phone.send_event("subscribe", subscription)
        # the answer, past any hall event that reached the rooms already joined (the coalesced counts)
        name, data = next((n, d) for n, d in phone.events() if n in ("ticket", "board", "error"))
        answers.append(name if name != "error" else data["code"])
    # Each ticket is its own room plus the hall's holders room: three tickets fill the four rooms.
    assert answers == ["ticket", "ticket", "ticket", "too_many_rooms", "too_many_rooms"]
    assert MAX_ROOMS == 4
    phone.close()
