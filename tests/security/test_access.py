"""Every staff endpoint and socket connection with no, bad, expired or wrong-place credentials: 401/403, no change."""

from __future__ import annotations

import pytest
import requests
import socketio
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from queue_server.exceptions import ValidationFailed
from queue_server.models import StaffUser
from queue_server.staff.auth import add_user, hash_password
from tests.support import PASSWORD, Listener, db_state, demo_config, expired_token, kept_secret, login, user_id

ACTIONS = [
    "call-next",
    "call",
    "recall",
    "start",
    "finish",
    "no-show",
    "hold",
    "resume",
    "transfer",
    "pause",
    "open",
    "close",
    "force-close",
]
# (method, path, body, who may call it besides the people refused below)
WINDOW = [
    ("POST", f"/api/v1/halls/erdao/windows/3/{a}", {"number": "A002", "reason": "x", "service": "SB001"})
    for a in ACTIONS
]
SUPERVISOR = [
    ("POST", "/api/v1/halls/erdao/tickets/A002/reprint", None),
    ("GET", "/api/v1/halls/erdao/out-of-order-calls", None),
    ("POST", "/api/v1/halls/erdao/tickets/A002/move", {"service": "SB001"}),
]
SELF = [
    ("GET", "/api/v1/auth/me", None),
    ("POST", "/api/v1/auth/password", {"current_password": PASSWORD, "new_password": "another-pass-1"}),
    ("POST", "/api/v1/auth/logout", None),
]


@pytest.fixture
def busy(make_server, tmp_path):
    """Window 3 open by clerk3 with A001 called; A002 waiting."""
    url = f"sqlite:///{tmp_path}/onewindow.sqlite3"
    server = make_server(demo_config(url, tmp_path / "data"))
    clerk3 = login(server.url, "clerk3")
    api = server.url + "/api/v1/halls/erdao"
    assert requests.post(f"{api}/windows/3/open", headers=clerk3, timeout=10).ok
    for _ in range(2):
        assert requests.post(f"{api}/tickets", json={"service": "QY001"}, timeout=10).status_code == 201
    assert requests.post(f"{api}/windows/3/call-next", headers=clerk3, timeout=10).json()["number"] == "A001"
    return server, url


def callers(server, url) -> dict[str, tuple[dict, int]]:
    return {
        "no token": ({}, 401),
        "bad token": ({"Authorization": "Bearer not.a.token"}, 401),
        "empty bearer": ({"Authorization": "Bearer "}, 401),
        "device token as staff": ({"Authorization": "Device owd_forged"}, 401),
        "expired token": (
            {"Authorization": f"Bearer {expired_token(user_id(url, 'clerk3'), secret=kept_secret(url))}"},
            401,
        ),
        "clerk of another window": (login(server.url, "clerk4"), 403),
        "clerk of another hall": (login(server.url, "street1"), 403),
    }


def test_every_staff_endpoint_refuses_the_wrong_caller_and_changes_nothing(busy):
    server, url = busy
    before = db_state(url)
    refused = []
    for name, (headers, status) in callers(server, url).items():
        endpoints = WINDOW + SUPERVISOR + (SELF if status == 401 else [])
        for method, path, body in endpoints:
            r = requests.request(method, server.url + path, json=body, headers=headers, timeout=10)
            assert r.status_code == status, (name, method, path, r.status_code, r.text)
            assert r.headers["Content-Type"].startswith("application/json")
            assert r.json()["error"]["code"] in ("unauthorized", "forbidden")
            refused.append((name, path))
    assert len(refused) == 5 * 19 + 2 * 16
    assert db_state(url) == before, "no rejected call changed the database"


def test_the_right_clerk_still_can(busy):
    server, _url = busy
    clerk3 = login(server.url, "clerk3")
    r = requests.post(f"{server.url}/api/v1/halls/erdao/windows/3/start", headers=clerk3, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "serving"


def test_socket_connect_with_bad_or_expired_credentials_is_refused(busy):
    server, url = busy
    for auth in (
        {"token": "forged"},
        {"token": expired_token(user_id(url, "clerk3"), secret=kept_secret(url))},
        {"device": "owd_forged"},
    ):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=10)
    before = db_state(url)
    anonymous = Listener(server.url, {"hall": "erdao"}).connect()
    board = anonymous.wait_for("board")
    assert {"id", "phone", "id_number"}.isdisjoint(board["windows"][2]["ticket"])
    anonymous.close()
    staff = Listener(server.url, {"hall": "erdao"}, token=login(server.url, "clerk3")["Authorization"][7:]).connect()
    staff.wait_for("board")
    staff.close()
    assert db_state(url) == before


def test_a_clerk_without_a_hall_acts_nowhere(make_server, tmp_path):
    url = f"sqlite:///{tmp_path}/onewindow.sqlite3"
    server = make_server(demo_config(url, tmp_path / "data"), users=[])
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        with pytest.raises(ValidationFailed, match="--hall"):  # no longer created this way
            add_user(session, "drifter", PASSWORD, "clerk", None)
        # an account left from before that rule still acts nowhere
        session.add(
            StaffUser(
                username="drifter",
                display_name="drifter",
                role="clerk",
                hall_id=None,
                password_hash=hash_password(PASSWORD),
            )
        )
    engine.dispose()
    before = db_state(url)
    r = requests.post(
        f"{server.url}/api/v1/halls/erdao/windows/1/open", headers=login(server.url, "drifter"), timeout=10
    )
    assert r.status_code == 403
    assert db_state(url) == before
