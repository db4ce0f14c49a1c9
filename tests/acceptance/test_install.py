"""What the plain install brings: the announcer's client libraries, and each documented async mode working."""

from __future__ import annotations

from importlib.metadata import requires

import pytest
import requests

from tests.support import Listener, login


def test_the_plain_install_has_what_the_announcer_needs():
    plain = {
        r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower()
        for r in requires("onewindow")
        if "extra ==" not in r
    }
    # python-socketio's client refuses to connect without them ("requests package is not installed")
    assert {"requests", "websocket-client", "python-socketio"} <= plain


@pytest.mark.parametrize("mode", ["gevent", "threading"])
def test_each_documented_async_mode_serves_a_hall(make_server, mode):
    server = make_server(env={"QUEUE_SERVER_ASYNC_MODE": mode})
    board = Listener(server.url, {"hall": "erdao"}).connect()
    try:
        assert board.wait_for("board")["hall"]["code"] == "erdao"
        ticket = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
        assert ticket.status_code == 201, ticket.text
        clerk = login(server.url, "clerk1")
        for action in ("open", "call-next"):
            assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/{action}", headers=clerk, timeout=10).ok
        called = board.wait_for("ticket_called")
        assert called["ticket"]["number"] == ticket.json()["number"]
        assert f"({mode})" in server.read_log(), "it really ran in that mode"
    finally:
        board.close()
