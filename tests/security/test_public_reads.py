"""An outsider against the public reads and the booking endpoints of a real server, from other hall addresses:
every read that costs a query is limited per address (a registered device has its own budget), the clerk on
duty shows what docs/DESIGN.md says and no sign-in name, and bad or oversized input is a JSON 4xx in both
languages, never a 500."""

from __future__ import annotations

import base64
import io

import pytest
import requests
from PIL import Image

from tests.security.test_public_writes import API, hall_config, register
from tests.support import booking_body, client_from, login

READS = 4  # per minute and address in these tests


@pytest.fixture
def server(make_server, tmp_path):
    return make_server(hall_config(tmp_path, reads_per_ip=f"{READS} per minute"))


def refused_in_both_languages(r: requests.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"]
    error = r.json()["error"]
    assert error["message"] and error["message_zh"], error
    assert code is None or error["code"] == code, error
    return error


def photo() -> str:
    out = io.BytesIO()
    Image.new("RGB", (120, 150), (30, 90, 160)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def on_duty(url: str) -> None:
    """clerk1 with a display name, staff number and photo at window 1; clerk2, never named, at window 2."""
    root = login(url, "root")
    r = requests.patch(
        f"{url}{API}/admin/users/clerk1", json={"display_name": "王小明", "staff_number": "EQ-0317"}, headers=root
    )
    assert r.status_code == 200, r.text
    assert requests.put(f"{url}{API}/admin/users/clerk1/photo", json={"image": photo()}, headers=root).ok
    for n in (1, 2):
        assert requests.post(f"{url}{API}/halls/erdao/windows/{n}/open", headers=login(url, f"clerk{n}")).ok


def test_public_reads_are_limited_per_address_and_a_device_has_its_own_budget(server):
    url = server.url
    on_duty(url)
    slots = requests.get(f"{url}{API}/halls/erdao/appointments/slots", params={"service": "BD001"}, timeout=10)
    starts_at = next(s["starts_at"] for d in slots.json()["days"] for s in d["slots"] if s["left"] > 0)
    booking = client_from("127.0.0.9").post(
        f"{url}{API}/halls/erdao/appointments", json=booking_body(1, starts_at), timeout=10
    )
    assert booking.status_code == 201, booking.text
    reads = [
        "/halls/erdao/opening",
        "/halls/erdao/rating-reasons",
        "/halls/erdao/windows/1/clerk",
        "/halls/erdao/windows/1/clerk/photo",
        "/halls/erdao/appointments/slots?service=BD001",
        f"/appointments/{booking.json()['id']}",
        "/appointments/not-a-booking-id",  # guessing booking ids costs the same budget
        "/halls/erdao/remote-tickets",
    ]
    for n, path in enumerate(reads, start=10):
        attacker = client_from(f"127.0.2.{n}")
        answers = [attacker.get(url + API + path, timeout=10) for _ in range(READS + 2)]
        assert all(r.status_code in (200, 404) for r in answers[:READS]), (path, [r.status_code for r in answers])
        for r in answers[READS:]:
            error = refused_in_both_languages(r, 429, "rate_limited")
            assert "查询过于频繁" in error["message_zh"], error
        assert client_from(f"127.0.3.{n}").get(url + API + path, timeout=10).status_code != 429, path
    kiosk_pc = [requests.get(f"{url}{API}/halls/erdao/opening", timeout=10).status_code for _ in range(READS + 2)]
    assert kiosk_pc == [200] * (READS + 2), "the kiosk on the server PC is exempt"
    screen = {"Authorization": f"Device {register(server, 'window-1', 'window', '--window', '1')}"}
    limited = client_from("127.0.2.10")  # already over its address's budget
    answers = [limited.get(f"{url}{API}/halls/erdao/windows/1/clerk", headers=screen, timeout=10) for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 6, "a registered window screen counts as itself"
    forged = {"Authorization": "Device not-a-real-token"}
    r = limited.get(f"{url}{API}/halls/erdao/windows/1/clerk", headers=forged, timeout=10)
    refused_in_both_languages(r, 429, "rate_limited")  # a made-up token is anonymous


def test_the_clerk_on_duty_shows_name_staff_number_and_photo_only(server):
    url = server.url
    on_duty(url)
    addresses = (client_from(f"127.0.4.{n}") for n in range(1, 50))  # a fresh one for each read: no limit hit
    named = next(addresses).get(f"{url}{API}/halls/erdao/windows/1/clerk", timeout=10).json()
    assert set(named) == {"window", "clerk"} and set(named["clerk"]) == {"name", "staff_number", "photo"}
    assert named["clerk"]["name"] == "王小明" and named["clerk"]["staff_number"] == "EQ-0317"
    assert "clerk1" not in str(named), "never the sign-in name"
    photo = next(addresses).get(url + named["clerk"]["photo"], timeout=10)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/jpeg"
    unnamed = next(addresses).get(f"{url}{API}/halls/erdao/windows/2/clerk", timeout=10)
    assert unnamed.json() == {"window": 2, "clerk": {"name": None, "staff_number": "", "photo": None}}
    assert "clerk2" not in unnamed.text, "an account without a display name shows no name, not its sign-in name"
    for window in (2, 3):  # no photo there; nobody there
        r = next(addresses).get(f"{url}{API}/halls/erdao/windows/{window}/clerk/photo", timeout=10)
        refused_in_both_languages(r, 404, "not_found")


def test_bad_and_oversized_public_reads_are_json_errors(server):
    url = server.url
    long_code = "x" * 5000
    r = client_from("127.0.0.21").get(f"{url}{API}/halls/{long_code}/opening", timeout=10)
    error = refused_in_both_languages(r, 404, "not_found")
    assert long_code not in str(error), "a long path is not echoed back"
    cases = {
        f"/halls/erdao/windows/{10**25}/clerk": 404,
        "/halls/erdao/windows/0/clerk/photo": 404,
        "/halls/erdao/windows/-1/clerk": 404,
        "/halls/%00/rating-reasons": 400,
        "/halls/erdao/appointments/slots": 422,  # no ?service=
        "/halls/erdao/appointments/slots?service=" + "B" * 3000: 404,
        "/appointments/" + "a" * 3000: 404,
    }
    for n, (path, status) in enumerate(cases.items(), start=30):
        refused_in_both_languages(client_from(f"127.0.2.{n}").get(url + API + path, timeout=10), status)
    too_long = client_from("127.0.0.27").get(f"{url}{API}/halls/erdao/opening?x=" + "y" * 9000, timeout=10)
    refused_in_both_languages(too_long, 414, "url_too_long")


def test_booking_endpoints_refuse_floods_and_oversized_input(server):
    url = server.url
    attacker = client_from("127.0.0.22")
    for action in ("cancel", "reschedule"):  # guessing booking ids: limited per address like booking
        answers = [
            attacker.post(f"{url}{API}/appointments/guess-{i}/{action}", json={"starts_at": "x"}, timeout=10)
            for i in range(6)
        ]
        assert 429 in [r.status_code for r in answers], (action, [r.status_code for r in answers])
        for r in answers:
            refused_in_both_languages(r, r.status_code)
            assert r.status_code < 500
        attacker = client_from("127.0.0.23")
    body = booking_body(2, "2026-03-02T10:00:00+08:00") | {"name": "张" * 5000}
    error = refused_in_both_languages(
        client_from("127.0.0.24").post(f"{url}{API}/halls/erdao/appointments", json=body, timeout=10), 422
    )
    assert error["field"] == "name" and "张" * 100 not in str(error)
    huge = {"service": "BD001", "name": "x", "padding": "y" * 70_000}
    r = client_from("127.0.0.25").post(f"{url}{API}/halls/erdao/appointments", json=huge, timeout=10)
    refused_in_both_languages(r, 413)
    r = client_from("127.0.0.26").post(
        f"{url}{API}/halls/erdao/appointments/lookup", json={"code": "A" * 5000, "phone": "1" * 5000}, timeout=10
    )
    assert "A" * 100 not in refused_in_both_languages(r, 422)["message"]
