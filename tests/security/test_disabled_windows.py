"""A disabled window calls nobody: nothing may be sent to it, and what was sent to it goes back in line."""

from __future__ import annotations

import requests

from tests.support import login

API = "/api/v1"


def _issue(url: str, service: str = "QY001") -> dict:
    r = requests.post(f"{url}{API}/halls/erdao/tickets", json={"service": service}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def _act(url: str, headers: dict, window: int, action: str, body: dict | None = None) -> requests.Response:
    return requests.post(
        f"{url}{API}/halls/erdao/windows/{window}/{action}", json=body or {}, headers=headers, timeout=10
    )


def _disable(url: str, window: int) -> None:
    r = requests.patch(
        f"{url}{API}/admin/halls/erdao/windows/{window}", json={"active": False}, headers=login(url, "boss"), timeout=10
    )
    assert r.status_code == 200, r.text


def test_no_transfer_or_move_to_a_disabled_window(server):
    url = server.url
    ticket = _issue(url)
    _disable(url, 8)
    clerk = login(url, "clerk1")
    assert _act(url, clerk, 1, "open").ok and _act(url, clerk, 1, "call-next").json()["number"] == ticket["number"]
    r = _act(url, clerk, 1, "transfer", {"window": 8})
    assert r.status_code == 409 and r.json()["error"]["field"] == "window" and r.json()["error"]["message_zh"]
    assert _act(url, clerk, 1, "transfer", {"window": 2}).status_code == 200, "an open window is fine"
    moved = requests.post(
        f"{url}{API}/halls/erdao/tickets/{ticket['number']}/move",
        json={"window": 8},
        headers=login(url, "boss"),
        timeout=10,
    )
    assert moved.status_code == 409, moved.text


def test_tickets_sent_to_a_window_go_back_in_line_when_it_is_disabled(server):
    url = server.url
    ticket = _issue(url)
    clerk = login(url, "clerk1")
    assert _act(url, clerk, 1, "open").ok and _act(url, clerk, 1, "call-next").ok
    assert _act(url, clerk, 1, "transfer", {"window": 9}).status_code == 200
    other = login(url, "clerk2")
    assert _act(url, other, 2, "open").ok
    assert _act(url, other, 2, "call-next").status_code == 204, "window 9's ticket is not window 2's to call"
    _disable(url, 9)
    back = requests.get(f"{url}{API}/tickets/{ticket['id']}", timeout=10).json()
    assert back["status"] == "waiting" and back["target_window"] is None
    called = _act(url, other, 2, "call-next")
    assert called.status_code == 200 and called.json()["number"] == ticket["number"], "it is called, not stuck"
