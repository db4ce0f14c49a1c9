"""A room's event is framed once and written straight to idle websockets: every client of the room gets each
event once and in order, whatever its transport, and no client outside the room gets it."""

from __future__ import annotations

import base64
import os
import socket
import warnings

import pytest
import requests

from queue_server.realtime.wire import text_frame
from tests.support import Listener, login

CALLS = 4


@pytest.mark.parametrize("text", ["3", '42["ticket_called",{"n":"A001"}]', "号" * 200, "x" * 70_000])
def test_a_frame_is_the_one_eventlet_would_send(text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eventlet announces its deprecation on import
        from eventlet.websocket import RFC6455WebSocket
    ws = RFC6455WebSocket(socket.socket(), {}, 13)
    assert text_frame(text) == ws._pack_message(text)


def test_compression_is_not_offered_even_when_asked(server):
    """Browsers ask for permessage-deflate; the server answers without it, so one frame fits every client."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        key = base64.b64encode(os.urandom(16)).decode()
        raw.sendall(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n".encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += raw.recv(4096)
    assert reply.startswith(b"HTTP/1.1 101") and b"sec-websocket-extensions" not in reply.lower()


def test_every_client_of_the_room_gets_each_call_once_in_order_and_no_one_else(server):
    boards = [Listener(server.url, {"hall": "erdao"}).connect() for _ in range(12)]
    polling = [Listener(server.url, {"hall": "erdao"}).connect(transports=("polling",)) for _ in range(2)]
    upgraded = [Listener(server.url, {"hall": "erdao"}).connect(transports=("polling", "websocket")) for _ in range(2)]
    hall = boards + polling + upgraded
    tickets = [
        requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=30).json()
        for _ in range(CALLS)
    ]
    phone = Listener(server.url, {"ticket": tickets[1]["id"]}).connect()  # its own ticket's room, not the hall's
    idle = Listener(server.url).connect()  # connected, subscribed to nothing
    for client in [*hall, phone]:
        client.wait_for("board" if client is not phone else "ticket")

    clerk = login(server.url, "clerk1")
    window = f"{server.url}/api/v1/halls/erdao/windows/1"
    assert requests.post(f"{window}/open", headers=clerk, timeout=30).ok
    numbers = []
    for _ in range(CALLS):
        called = requests.post(f"{window}/call-next", headers=clerk, timeout=30).json()
        numbers.append(called["number"])
        assert requests.post(f"{window}/no-show", headers=clerk, timeout=30).ok
    assert numbers == [t["number"] for t in tickets]

    for client in hall:
        client.wait_for("ticket_called", lambda c: c["ticket"]["number"] == numbers[-1], timeout=60)
        assert [c["ticket"]["number"] for c in client.seen["ticket_called"]] == numbers
        assert all("id" not in c["ticket"] for c in client.seen["ticket_called"])  # the public room's payload
    phone.wait_for("ticket_called", timeout=60)
    assert [c["ticket"]["number"] for c in phone.seen["ticket_called"]] == [numbers[1]]
    fresh = Listener(server.url, {"hall": "erdao"}).connect()  # a round trip after the calls: idle saw nothing
    fresh.wait_for("board")
    assert not idle.seen
    for client in [*hall, phone, idle, fresh]:
        client.sio.disconnect()
