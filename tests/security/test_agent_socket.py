"""An outsider against the device agents' socket messages (agent_hello, agent_jobs) on a real server: no
connection acts as an agent without an agent kiosk's token, bad and oversized messages are refused in both
languages (never "internal"), and one socket's flood or giant frame costs that socket, not the hall."""

from __future__ import annotations

import json

import pytest
import requests
import websocket

from queue_server.realtime.limits import BURST
from tests.security.attackers import RawSocketIO, Refused, connect_from
from tests.security.test_public_writes import API, register
from tests.support import login


def refused(answer: dict, code: str) -> dict:
    error = answer["error"]
    assert error["code"] == code and error["message"] and error["message_zh"], error
    assert "jobs" not in answer
    return error


def test_only_an_agent_kiosks_token_makes_a_socket_an_agent(server):
    port = server.port
    anonymous = RawSocketIO(port, "127.0.0.2")
    refused(anonymous.call("agent_hello", {}), "unauthorized")
    refused(anonymous.call("agent_jobs", {"take": 5, "hello": True}), "unauthorized")
    anonymous.close()
    clerk_token = login(server.url, "clerk1")["Authorization"].removeprefix("Bearer ")
    staff = RawSocketIO(port, "127.0.0.3", auth={"token": clerk_token})
    refused(staff.call("agent_jobs", {"take": 5}), "unauthorized")  # a clerk is no device
    staff.close()
    for forged in ("not-a-token", "x" * 1000, clerk_token):
        with pytest.raises(Refused):
            RawSocketIO(port, "127.0.0.4", auth={"device": forged})
    with pytest.raises((Refused, websocket.WebSocketException, OSError)):  # past the 64 KB bound: cut off
        RawSocketIO(port, "127.0.0.4", auth={"device": "x" * 100_000})
    pad = RawSocketIO(port, "127.0.0.5", auth={"device": register(server, "pad-1", "rating", "--window", "1")})
    assert pad.call("agent_hello", None) == {"device": "pad-1", "hall": "erdao", "kind": "rating", "agent": False}
    refused(pad.call("agent_jobs", {"take": 5}), "validation_error")  # a rating pad prints nothing
    pad.close()
    agent = RawSocketIO(port, "127.0.0.6", auth={"device": register(server, "kiosk-1", "kiosk", "--agent")})
    assert agent.call("agent_hello", None)["agent"] is True
    assert agent.call("agent_jobs", {"take": 5, "hello": True}) == {"jobs": []}
    agent.close()


def test_an_agents_bad_messages_are_refused_by_field_in_both_languages(server):
    token = register(server, "kiosk-2", "kiosk", "--agent")
    deep: list = []
    for _ in range(200):
        deep = [deep]
    bad = {
        "not an object": None,
        "a list": [1, 2],
        "printed as text": {"printed": "1,2,3"},
        "too many ids": {"printed": list(range(1, 1000))},
        "an id past the database's integers": {"printed": [2**70]},
        "a boolean id": {"printed": [True]},
        "take too large": {"take": 10**30},
        "take as a boolean": {"take": True},
        "a failure without text": {"failed": [{"id": 1, "error": 5}]},
        "status as text": {"status": "online"},
        "deep nesting": {"printed": deep},
    }
    fields = {"too many ids": "printed", "take too large": "take", "status as text": "status"}
    agent = RawSocketIO(server.port, "127.0.0.7", auth={"device": token})
    for n, (case, message) in enumerate(bad.items()):
        if n and n % (BURST - 2) == 0:  # a fresh connection before the per-connection limit: bad data, not pace
            agent.close()
            agent = RawSocketIO(server.port, "127.0.0.7", auth={"device": token})
        error = refused(agent.call("agent_jobs", message), "validation_error")
        assert error.get("field") == fields.get(case, error.get("field")), (case, error)
    agent.close()
    state = {"status": {"state": "<img src=x onerror=alert(1)>" * 10, "detail": "d" * 10_000}, "take": 0}
    agent = RawSocketIO(server.port, "127.0.0.7", auth={"device": token})
    assert agent.call("agent_jobs", state) == {"jobs": []}
    hall = requests.get(f"{server.url}{API}/admin/halls/erdao/devices", headers=login(server.url, "root"), timeout=10)
    printer = next(p for p in hall.json()["printers"] if p["name"] == "kiosk-2")
    assert printer["state"] == "unknown" and len(printer["detail"]) <= 200, "a made-up state is kept as unknown"
    agent.close()


def test_an_agent_flood_is_refused_then_dropped_and_the_hall_goes_on(server):
    token = register(server, "kiosk-3", "kiosk", "--agent")
    agent = RawSocketIO(server.port, "127.0.0.8", auth={"device": token})
    for _ in range(BURST * 4):
        try:
            agent.send_event("agent_jobs", {"take": 5})
        except (websocket.WebSocketException, OSError):
            break
    limited = [data for name, data in agent.events(timeout=15) if name == "error" and data["code"] == "rate_limited"]
    assert limited and limited[0]["message_zh"], "refused once in both languages, then dropped (the stream ended)"
    agent.close()
    r = requests.post(f"{server.url}{API}/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
    assert r.status_code == 201, "the hall still issues"
    again = RawSocketIO(server.port, "127.0.0.8", auth={"device": token})
    back = again.call("agent_jobs", {"take": 1, "hello": True})
    assert back["jobs"] == [], "the agent comes back at once"  # and may be asked to report its printer again
    again.close()


def test_a_giant_or_unfinished_frame_costs_only_its_own_socket(server):
    giant = RawSocketIO(server.port, "127.0.0.9")
    try:
        giant.ws.send("42" + json.dumps(["agent_jobs", {"failed": [{"id": 1, "error": "e" * 2_000_000}]}]))
    except (websocket.WebSocketException, OSError):
        pass  # the server may close before the whole frame is written
    assert list(giant.events(timeout=15)) == [], "closed without an answer: the frame is past the 64 KB bound"
    giant.close()
    unfinished = connect_from("127.0.0.10", server.port)  # a frame header promising 1 MB, then silence
    unfinished.sendall(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    unfinished.recv(4096)
    unfinished.sendall(b"\x81\xff" + (1_000_000).to_bytes(8, "big") + b"\0\0\0\0" + b"4" * 100)
    try:
        board = RawSocketIO(server.port, "127.0.0.11")
        board.send_event("subscribe", {"hall": "erdao"})
        assert next(name for name, _ in board.events(timeout=15)) == "board", "another client is served meanwhile"
        board.close()
        r = requests.post(f"{server.url}{API}/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
        assert r.status_code == 201
    finally:
        unfinished.close()


def test_a_devices_many_sockets_share_one_budget(server):
    token = register(server, "kiosk-4", "kiosk", "--agent")
    first, second = (RawSocketIO(server.port, f"127.0.0.{n}", auth={"device": token}) for n in (12, 13))
    calls = BURST - 2  # within each connection's own limit (its connect counted too)
    answers = [first.call("agent_jobs", {"take": 0}) for _ in range(calls)]
    answers += [second.call("agent_jobs", {"take": 0}) for _ in range(calls)]
    assert answers[0] == {"jobs": []}
    limited = [a["error"] for a in answers if "error" in a]
    assert limited and limited[0]["code"] == "rate_limited" and limited[0]["message_zh"], answers
    first.close()
    second.close()
