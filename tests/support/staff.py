"""Staff of the demo halls: one password, accounts created before a server starts, and signing in."""

from __future__ import annotations

import requests

from queue_server.config import settings_from_mapping
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import seed
from queue_server.staff.auth import add_user

PASSWORD = "correct-horse-42"

# (username, role, hall): twelve clerks at erdao, one at the street office, a supervisor and an admin.
STAFF = [(f"clerk{n}", "clerk", "erdao") for n in range(1, 13)] + [
    ("street1", "clerk", "jinxiu"),
    ("boss", "supervisor", "erdao"),
    ("root", "admin", None),
]


def prepare(raw: dict, users: list[tuple[str, str, str | None]]) -> None:
    """Migrate, seed and add staff (name, role, hall) before the server starts."""
    settings = settings_from_mapping(raw)
    engine = make_engine(settings.server.database_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        seed(session, settings)
        add_staff(session, users)
    engine.dispose()


def add_staff(session, users: list[tuple[str, str, str | None]]) -> None:
    """Add staff accounts (name, role, hall), all with PASSWORD."""
    for name, role, hall in users:
        add_user(session, name, PASSWORD, role, hall)


def login(url: str, username: str) -> dict:
    """Authorization header for a staff member of a real server."""
    r = requests.post(f"{url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def bearer(client, username: str) -> dict:
    """Authorization header for a staff member, through a Flask test client."""
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


class QuietVoice:
    """Stands in for the TTS renderer: the text of a call, no audio."""

    def request(self, voice, number, window, hall=None):
        return {"text": f"请 {number} 号，到 {window} 号窗口办理", "texts": {}, "audio_url": None}
