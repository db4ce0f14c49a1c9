"""The booking API on a real server: book, find, reschedule, cancel, check in, call, and the webhook
message from the server's own notifier worker. Opening hours cover the whole day so the test runs at
any hour: the next slot is at most 30 minutes away and check-in opens an hour before it."""

from __future__ import annotations

import pytest
import requests

from tests.support import booking_body, booking_config, login, phone

from .receiver import Receiver

ALL_DAY = {
    "hours": ["00:00-24:00"],
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
    "early_minutes": 60,
    "late_minutes": 30,
    "change_cutoff_minutes": 0,
    "max_per_slot": 3,
}
API = "/api/v1"


@pytest.fixture
def hook():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def server(make_server, tmp_path, hook):
    raw = booking_config(
        f"sqlite:///{tmp_path}/onewindow.sqlite3",
        tmp_path / "data",
        appointments=ALL_DAY,
        remote={"hours": ["00:00-24:00"], "weekdays": [1, 2, 3, 4, 5, 6, 7]},
        notify={"kind": "webhook", "url": hook.url, "secret": "hook-secret-0123456789", "ahead": 1},
    )
    return make_server(raw)


def slots(url: str, service: str = "BD001") -> list[dict]:
    r = requests.get(f"{url}{API}/halls/erdao/appointments/slots", params={"service": service}, timeout=10)
    assert r.status_code == 200, r.text
    return [s for d in r.json()["days"] for s in d["slots"]]


def book(url: str, person: int, starts_at: str, service: str = "BD001") -> requests.Response:
    body = booking_body(person, starts_at, service, notify_ref=f"wx-{person}")
    return requests.post(f"{url}{API}/halls/erdao/appointments", json=body, timeout=10)


def test_book_check_in_and_be_called_first(server, hook):
    url = server.url
    first = slots(url)[0]
    r = book(url, 1, first["starts_at"])
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["status"] == "booked" and booking["name"] == "张*三" and booking["phone"] == "139****0001"
    assert booking["id_number"].startswith("1101") and "*" in booking["id_number"]
    assert requests.get(f"{url}{API}/appointments/{booking['id']}", timeout=10).json()["code"] == booking["code"]
    found = requests.post(
        f"{url}{API}/halls/erdao/appointments/lookup", json={"code": booking["code"], "phone": phone(1)}, timeout=10
    )
    assert found.status_code == 200 and found.json()["id"] == booking["id"]
    wrong = requests.post(
        f"{url}{API}/halls/erdao/appointments/lookup", json={"code": booking["code"], "phone": phone(2)}, timeout=10
    )
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_found"

    walk_in = requests.post(f"{url}{API}/halls/erdao/tickets", json={"service": "BD002", "print": False}, timeout=10)
    r = requests.post(f"{url}{API}/halls/erdao/appointments/check-in", json={"code": booking["code"]}, timeout=10)
    assert r.status_code == 201, r.text
    checked = r.json()
    assert checked["arrival"] == "on_time" and checked["ticket"]["priority"] == "appointment"
    assert checked["appointment"]["status"] == "checked_in"
    assert checked["ticket"]["channel"] == "appointment" and checked["ticket"]["id_number"] is None

    clerk = login(url, "clerk11")
    assert requests.post(f"{url}{API}/halls/erdao/windows/11/open", headers=clerk, timeout=10).status_code == 200
    called = requests.post(f"{url}{API}/halls/erdao/windows/11/call-next", headers=clerk, timeout=10).json()
    assert called["number"] == checked["ticket"]["number"] != walk_in.json()["number"]
    message = hook.wait_for_kind("called")  # sent by the server's notifier worker
    assert (message["ticket"]["number"], message["ref"], message["text"]) == (
        called["number"],
        "wx-1",
        f"请 {called['number']} 号到 11 号窗口办理",
    )
    again = requests.post(f"{url}{API}/halls/erdao/appointments/check-in", json={"code": booking["code"]}, timeout=10)
    assert again.status_code == 409


def test_reschedule_cancel_and_errors(server):
    url = server.url
    offered = slots(url, "SB001")
    booking = book(url, 2, offered[1]["starts_at"], "SB001").json()
    moved = requests.post(
        f"{url}{API}/appointments/{booking['id']}/reschedule", json={"starts_at": offered[2]["starts_at"]}, timeout=10
    )
    assert moved.status_code == 200 and moved.json()["starts_at"] == offered[2]["starts_at"]
    cancelled = requests.post(f"{url}{API}/appointments/{booking['id']}/cancel", timeout=10)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert requests.post(f"{url}{API}/appointments/{booking['id']}/cancel", timeout=10).status_code == 409
    bad = requests.post(
        f"{url}{API}/halls/erdao/appointments",
        json={
            "service": "SB001",
            "starts_at": offered[0]["starts_at"],
            "name": "王五",
            "phone": phone(3),
            "id_number": "110105199001000011",
        },
        timeout=10,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "id_number"
    assert "110105199001000011" not in bad.text
    r = requests.get(f"{url}{API}/halls/erdao/appointments/slots", timeout=10)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    paths = requests.get(f"{url}{API}/openapi.json", timeout=10).json()["paths"]
    assert {
        "/api/v1/halls/{hall}/appointments",
        "/api/v1/appointments/{appointment_id}/reschedule",
        "/api/v1/halls/{hall}/remote-tickets",
        "/api/v1/tickets/{ticket_id}/check-in",
    } <= set(paths)


def test_remote_ticket_checked_in_by_number(server):
    url = server.url
    status = requests.get(f"{url}{API}/halls/erdao/remote-tickets", timeout=10).json()
    assert status["open"] and status["left_today"] == 200
    joined = requests.post(f"{url}{API}/halls/erdao/remote-tickets", json={"service": "QY001"}, timeout=10)
    assert joined.status_code == 201 and joined.json()["channel"] == "mobile"
    number = joined.json()["number"]
    clerk = login(url, "clerk1")
    requests.post(f"{url}{API}/halls/erdao/windows/1/open", headers=clerk, timeout=10)
    # Not checked in at the hall yet: passed over (hall rule "skip").
    assert requests.post(f"{url}{API}/halls/erdao/windows/1/call-next", headers=clerk, timeout=10).status_code == 204
    r = requests.post(f"{url}{API}/halls/erdao/tickets/{number}/check-in", timeout=10)
    assert r.status_code == 200 and r.json()["checked_in"] is True
    called = requests.post(f"{url}{API}/halls/erdao/windows/1/call-next", headers=clerk, timeout=10)
    assert called.status_code == 200 and called.json()["number"] == number
