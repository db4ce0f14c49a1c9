"""Public writes against a real server from other hall addresses: nobody learns another citizen's ticket id,
only a hall's own devices do what devices do, and every public write is limited per address."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests

from tests.support import ROOT, PrivateRedis, client_from, clock_at, demo_config, login

ALL_DAY = {"hours": ["00:00-24:00"], "weekdays": [1, 2, 3, 4, 5, 6, 7]}
API = "/api/v1"
ID_NUMBER = "110105199001010010"  # valid check digit


def hall_config(tmp_path, **rate_limits) -> dict:
    """Bookings and remote tickets all day, on a clock that starts on a weekday morning: at 23:45 the first
    free slot would be tomorrow's, and a booking checks in by ID number on its own day only."""
    raw = clock_at(demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data"))
    hall = raw["halls"][0]
    hall["remote"] = dict(ALL_DAY)
    hall["appointments"] = {**ALL_DAY, "early_minutes": 60, "late_minutes": 30, "change_cutoff_minutes": 0}
    if rate_limits:
        raw["server"]["rate_limits"] = rate_limits
    return raw


def register(server, name: str, kind: str, *extra: str) -> str:
    """`queue-server device add` as an admin runs it; the token it prints once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    argv = [sys.executable, "-m", "queue_server", "--config", str(server.config_path), "device", "add", name]
    done = subprocess.run(
        [*argv, "--hall", "erdao", "--kind", kind, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return re.search(r"token \(shown once[^:]*\): (\S+)", done.stdout).group(1)


@pytest.fixture
def server(make_server, tmp_path):
    return make_server(hall_config(tmp_path))


def remote_ticket(url: str, session=requests) -> dict:
    r = session.post(f"{url}{API}/halls/erdao/remote-tickets", json={"service": "QY001"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_ticket_number_never_yields_its_id(server):
    url = server.url
    walk_in = requests.post(f"{url}{API}/halls/erdao/tickets", json={"service": "QY002"}, timeout=10).json()
    remote = remote_ticket(url, client_from("127.0.0.8"))
    stranger = client_from("127.0.0.2")
    for number in (remote["number"], walk_in["number"], "A999"):
        r = stranger.post(f"{url}{API}/halls/erdao/tickets/{number}/check-in", timeout=10)
        assert r.status_code == 403, (number, r.text)
        assert remote["id"] not in r.text and walk_in["id"] not in r.text
    kiosk = {"Authorization": f"Device {register(server, 'kiosk-door', 'kiosk')}"}
    done = stranger.post(f"{url}{API}/halls/erdao/tickets/{remote['number']}/check-in", headers=kiosk, timeout=10)
    assert done.status_code == 200, done.text
    assert done.json()["checked_in"] is True and done.json()["number"] == remote["number"]
    assert "id" not in done.json() and remote["id"] not in done.text, "the kiosk learns where it stands, not its id"
    # a walk-in's number answers exactly as an unknown number: nothing to enumerate
    walk = stranger.post(f"{url}{API}/halls/erdao/tickets/{walk_in['number']}/check-in", headers=kiosk, timeout=10)
    unknown = stranger.post(f"{url}{API}/halls/erdao/tickets/A999/check-in", headers=kiosk, timeout=10)
    assert walk.status_code == unknown.status_code == 404
    assert walk.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"
    # the holder still checks in with the id they hold
    holder = client_from("127.0.0.8").post(f"{url}{API}/tickets/{remote['id']}/check-in", timeout=10)
    assert holder.status_code == 200 and holder.json()["id"] == remote["id"]


def test_booking_check_in_belongs_to_the_halls_kiosks_and_hands_out_no_booking_id(server):
    url = server.url
    slot = requests.get(f"{url}{API}/halls/erdao/appointments/slots", params={"service": "BD001"}, timeout=10)
    starts_at = next(s["starts_at"] for d in slot.json()["days"] for s in d["slots"] if s["left"] > 0)
    booked = client_from("127.0.0.9").post(
        f"{url}{API}/halls/erdao/appointments",
        json={
            "service": "BD001",
            "starts_at": starts_at,
            "name": "张小三",
            "phone": "13900000001",
            "id_number": ID_NUMBER,
        },
        timeout=10,
    )
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    stranger = client_from("127.0.0.3")
    r = stranger.post(f"{url}{API}/halls/erdao/appointments/check-in", json={"id_number": ID_NUMBER}, timeout=10)
    assert r.status_code == 403 and booking["id"] not in r.text
    kiosk = {"Authorization": f"Device {register(server, 'kiosk-hall', 'kiosk')}"}
    r = stranger.post(
        f"{url}{API}/halls/erdao/appointments/check-in", json={"id_number": ID_NUMBER}, headers=kiosk, timeout=10
    )
    assert r.status_code == 201, r.text
    assert r.json()["appointment"]["id"] is None and booking["id"] not in r.text
    assert r.json()["ticket"]["number"], "the kiosk prints the citizen's new ticket"


def test_only_the_windows_rating_pad_or_the_holder_rates(server):
    url = server.url
    ticket = requests.post(f"{url}{API}/halls/erdao/tickets", json={"service": "QY001"}, timeout=10).json()
    clerk = login(url, "clerk2")
    for action in ("open", "call-next", "start", "finish"):
        assert requests.post(f"{url}{API}/halls/erdao/windows/2/{action}", headers=clerk, timeout=10).ok, action
    stranger = client_from("127.0.0.4")
    r = stranger.post(f"{url}{API}/halls/erdao/windows/2/rating", json={"score": 1, "comment": "恶意差评"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["message_zh"]
    wrong_pad = register(server, "pad-3", "rating", "--window", "3")
    r = stranger.post(
        f"{url}{API}/halls/erdao/windows/2/rating",
        json={"score": 1},
        headers={"Authorization": f"Device {wrong_pad}"},
        timeout=10,
    )
    assert r.status_code == 403, "another window's pad"
    # the holder's own rating is still theirs to give
    own = requests.post(f"{url}{API}/tickets/{ticket['id']}/evaluation", json={"score": 5}, timeout=10)
    assert own.status_code == 201, own.text


def test_the_windows_own_rating_pad_rates_its_last_ticket(server):
    url = server.url
    requests.post(f"{url}{API}/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
    clerk = login(url, "clerk5")
    for action in ("open", "call-next", "start", "finish"):
        assert requests.post(f"{url}{API}/halls/erdao/windows/5/{action}", headers=clerk, timeout=10).ok, action
    pad = {"Authorization": f"Device {register(server, 'pad-5', 'rating', '--window', '5')}"}
    r = client_from("127.0.0.5").post(
        f"{url}{API}/halls/erdao/windows/5/rating", json={"score": 4}, headers=pad, timeout=10
    )
    assert r.status_code == 201, r.text


def test_a_strangers_kiosk_print_is_refused_but_a_ticket_without_print_is_issued(server):
    url = server.url
    stranger = client_from("127.0.0.6")
    r = stranger.post(
        f"{url}{API}/halls/erdao/tickets", json={"service": "QY001", "channel": "kiosk", "print": True}, timeout=10
    )
    assert r.status_code == 403 and "device add" in r.json()["error"]["message"]
    r = stranger.post(f"{url}{API}/halls/erdao/tickets", json={"service": "QY001", "print": False}, timeout=10)
    assert r.status_code == 201 and r.json()["print_job"] is None
    local = requests.post(f"{url}{API}/halls/erdao/tickets", json={"service": "QY001", "print": True}, timeout=10)
    assert local.status_code == 201 and local.json()["print_job"] is not None, "the server's own kiosk still prints"


def test_every_public_write_is_limited_per_address(make_server, tmp_path):
    server = make_server(
        hall_config(
            tmp_path,
            writes_per_ip={
                "remote": "2 per minute",
                "booking": "2 per minute",
                "lookup": "2 per minute",
                "rating": "2 per minute",
                "holder": "2 per minute",
                "check_in": "2 per minute",
            },
        )
    )
    url = server.url
    ticket = requests.post(f"{url}{API}/halls/erdao/tickets", json={"service": "QY001"}, timeout=10).json()
    writes = {
        "remote": ("POST", "/halls/erdao/remote-tickets", {"service": "QY001"}),
        "booking": ("POST", "/halls/erdao/appointments", {"service": "BD001"}),
        "lookup": ("POST", "/halls/erdao/appointments/lookup", {"code": "ABCDEFGH", "phone": "13900000009"}),
        "rating": ("POST", f"/tickets/{ticket['id']}/evaluation", {"score": 5}),
        "holder": ("POST", "/tickets/not-a-real-ticket-id/cancel", None),
        "check_in": ("POST", "/tickets/not-a-real-ticket-id/check-in", None),
    }
    for n, (kind, (method, path, body)) in enumerate(writes.items(), start=20):
        caller = client_from(f"127.0.0.{n}")
        answers = [caller.request(method, url + API + path, json=body, timeout=10).status_code for _ in range(3)]
        assert answers[:2] != [429, 429] and answers[2] == 429, (kind, answers)
        limited = caller.request(method, url + API + path, json=body, timeout=10).json()["error"]
        assert limited["code"] == "rate_limited" and limited["message_zh"] and limited["message"], kind
        other = client_from(f"127.0.1.{n}").request(method, url + API + path, json=body, timeout=10)
        assert other.status_code != 429, (kind, "another address has its own budget")


def test_a_phone_cannot_take_more_remote_tickets_than_a_person_may(server):
    first = client_from("127.0.0.40").post(
        f"{server.url}{API}/halls/erdao/remote-tickets", json={"service": "QY001", "phone": "13911112222"}, timeout=10
    )
    assert first.status_code == 201, first.text
    again = client_from("127.0.0.41").post(  # another address, same phone, same queue
        f"{server.url}{API}/halls/erdao/remote-tickets", json={"service": "QY002", "phone": "139 1111 2222"}, timeout=10
    )
    assert again.status_code == 429 and again.json()["error"]["code"] == "limit_reached", again.text


@pytest.mark.redis
def test_limits_hold_per_process_while_redis_is_down(make_server, tmp_path):
    redis = PrivateRedis().start()
    try:
        raw = hall_config(tmp_path, issue_per_ip="3 per minute")
        raw["server"]["redis_url"] = redis.url
        server = make_server(raw)
        redis.stop()
        caller = client_from("127.0.0.50")
        answers = [
            caller.post(f"{server.url}{API}/halls/erdao/tickets", json={"service": "QY001"}, timeout=30).status_code
            for _ in range(4)
        ]
        assert 429 in answers, answers
        assert answers.count(201) <= 3, answers
    finally:
        redis.stop()
