"""Every channel issues through the one use case (queue_server.issuing): each ticket is quoted (the range
stored for the estimate-error statistics and shown in the answer) and counts in the hall's per-person
limits. The full app in process on SQLite and PostgreSQL, clock at Monday 2026-03-02 09:00 Beijing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from queue_server.app import create_app
from queue_server.config import settings_from_mapping
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import seed
from queue_server.models import Appointment, Ticket
from queue_server.stats.simulate import DayShape, simulate_day
from tests.support import QuietVoice, add_staff, bearer, booking_config, id_number, phone

ALL_DAY = {"hours": ["00:00-24:00"], "weekdays": [1, 2, 3, 4, 5, 6, 7]}
API = "/api/v1"


@pytest.fixture
def app(db_url, tmp_path, fake_clock):
    """The app with the demo hall taking bookings and remote tickets all day; one active ticket per person
    and queue (the shipped limit)."""
    raw = booking_config(db_url, tmp_path / "data", appointments={**ALL_DAY, "early_minutes": 60}, remote=ALL_DAY)
    raw["server"]["async_mode"] = "threading"
    assert raw["halls"][0]["limits"]["active_per_person_per_queue"] == 1
    app = create_app(settings_from_mapping(raw), voice=QuietVoice(), start_workers=False)
    app.config["TESTING"] = True
    with transaction(app.extensions["onewindow"].factory) as s:
        add_staff(s, [("clerk1", "clerk", "erdao")])
    yield app
    app.extensions["onewindow"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def stored(app, ticket_id: str) -> Ticket:
    with app.extensions["onewindow"].factory() as s:
        return s.scalar(select(Ticket).where(Ticket.id == ticket_id))


def assert_quoted(app, ticket: dict) -> None:
    """The answer shows the wait, and the same range is kept on the ticket for the statistics."""
    wait = ticket["estimated_wait"]
    assert wait is not None and 0 <= wait["low_s"] <= wait["high_s"]
    row = stored(app, ticket["id"])
    assert (row.quoted_low_s, row.quoted_high_s) == (wait["low_s"], wait["high_s"])


def assert_limited(r) -> None:
    assert r.status_code == 429, r.get_json()
    assert r.get_json()["error"]["code"] == "limit_reached"


def take(client, body: dict, headers: dict | None = None):
    return client.post(f"{API}/halls/erdao/tickets", json={"print": False, **body}, headers=headers or {})


def book(client, person: int, service: str = "BD001") -> dict:
    r = client.get(f"{API}/halls/erdao/appointments/slots", query_string={"service": service})
    first = r.get_json()["days"][0]["slots"][0]
    r = client.post(
        f"{API}/halls/erdao/appointments",
        json={
            "service": service,
            "starts_at": first["starts_at"],
            "name": "张小三",
            "phone": phone(person),
            "id_number": id_number(person),
        },
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def check_in(client, booking: dict):
    return client.post(f"{API}/halls/erdao/appointments/check-in", json={"code": booking["code"]})


def test_kiosk_ticket_is_quoted_and_limited(app, client):
    r = take(client, {"service": "QY001", "id_number": id_number(1)})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["channel"] == "kiosk"
    assert_quoted(app, r.get_json())
    assert_limited(take(client, {"service": "QY002", "id_number": id_number(1)}))  # same queue A
    assert take(client, {"service": "SB001", "id_number": id_number(1)}).status_code == 201  # another queue


def test_kiosk_ticket_prints_from_the_server_pc_only(client):
    # The test client is the server's own PC; any other address needs a registered kiosk to print.
    stranger = {"REMOTE_ADDR": "192.0.2.7"}
    r = client.post(f"{API}/halls/erdao/tickets", json={"service": "QY001"}, environ_base=stranger)
    assert r.status_code == 403 and "registered kiosk" in r.get_json()["error"]["message"], r.get_json()
    r = client.post(f"{API}/halls/erdao/tickets", json={"service": "QY001"})
    assert r.status_code == 201, r.get_json()
    assert "print_job" in r.get_json()


def test_mobile_ticket_is_quoted_and_limited(app, client):
    r = take(client, {"service": "SB001", "channel": "mobile", "phone": phone(2)})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["channel"] == "mobile" and r.get_json()["print_job"] is None
    assert_quoted(app, r.get_json())
    assert_limited(take(client, {"service": "SB001", "channel": "mobile", "phone": phone(2)}))


def test_counter_ticket_is_quoted_and_limited(app, client):
    headers = bearer(client, "clerk1")
    body = {"service": "BD001", "channel": "counter", "priority": "green", "id_number": id_number(3)}
    r = take(client, body, headers)
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["channel"], r.get_json()["priority"]) == ("counter", "green")
    assert_quoted(app, r.get_json())
    assert_limited(take(client, body, headers))  # staff skip the opening hours, not the hall's limits


def test_remote_ticket_is_quoted_and_limited(app, client):
    body = {"service": "BD001", "phone": phone(4)}
    r = client.post(f"{API}/halls/erdao/remote-tickets", json=body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["channel"] == "mobile"
    assert_quoted(app, r.get_json())
    assert stored(app, r.get_json()["id"]).unchecked_on_call is not None  # still a remote ticket
    assert_limited(client.post(f"{API}/halls/erdao/remote-tickets", json=body))
    # the same phone at the kiosk counts the remote ticket too
    assert_limited(take(client, {"service": "BD002", "channel": "mobile", "phone": phone(4)}))


def test_check_in_ticket_is_quoted_and_counts_for_the_person(app, client):
    booking = book(client, 5)
    r = check_in(client, booking)
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()["ticket"]
    assert r.get_json()["arrival"] == "on_time"
    assert (ticket["channel"], ticket["priority"]) == ("appointment", "appointment")
    assert_quoted(app, ticket)
    # the booked person now holds a ticket in queue C: a walk-in one for the same queue is refused
    assert_limited(take(client, {"service": "BD002", "id_number": id_number(5)}))


def test_check_in_obeys_the_per_person_limits(app, client):
    booking = book(client, 6)
    assert take(client, {"service": "BD002", "id_number": id_number(6)}).status_code == 201
    assert_limited(check_in(client, booking))
    with app.extensions["onewindow"].factory() as s:
        status = s.scalar(select(Appointment.status).where(Appointment.code == booking["code"]))
    assert status == "booked", "a refused check-in leaves the booking as it was"


def test_simulated_tickets_are_quoted_and_follow_the_hall_limits(db_url, tmp_path):
    raw = booking_config(db_url, tmp_path / "data")
    raw["halls"][0]["limits"]["per_service_per_day"] = {"QY001": 2}
    settings = settings_from_mapping(raw)
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as s:
        seed(s, settings)
    shape = DayShape(
        arrivals=[("09:00", "10:00", 120)],
        staffing=[("09:00", "10:30", 4)],
        queue_mix={"A": 1.0},
        closing="10:30",
    )
    result = simulate_day(factory, "erdao", date(2026, 3, 2), settings=settings, seed=5, shape=shape)
    with factory() as s:
        rows = [(t.channel, t.service.code, t.quoted_low_s, t.quoted_high_s) for t in s.scalars(select(Ticket))]
    engine.dispose()
    assert rows and result.tickets == len(rows)
    assert all(low is not None and high is not None for _, _, low, high in rows)
    assert {channel for channel, *_ in rows} == {"kiosk"}
    assert sum(1 for _, code, *_ in rows if code == "QY001") == 2
    assert result.turned_away > 0, "arrivals for QY001 past its daily cap were sent home"
