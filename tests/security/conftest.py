"""Security tests: a real server with strict settings, an in-process app, and forged credentials."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import create_engine, text

from queue_server.app import create_app
from queue_server.auth import add_user
from queue_server.config import settings_from_mapping
from queue_server.db import transaction
from tests.server.conftest import PASSWORD, STAFF, login, make_server  # noqa: F401 - fixtures
from tests.support import demo_config

ID_NUMBER = "220102199003071235"  # valid check digit
PHONE = "13812345678"


def strict(raw: dict, **server) -> dict:
    """No loopback exemption, so limits apply to the test's own requests."""
    raw["server"].setdefault("rate_limits", {})["exempt_ips"] = []
    raw["server"].update(server)
    return raw


def kept_secret(database_url: str) -> str:
    """The secret a test server generated: demo_config puts data/ beside the SQLite file."""
    return (Path(database_url.removeprefix("sqlite:///")).parent / "data" / "secret_key").read_text().strip()


def expired_token(user_id: int, version: int = 0, *, secret: str) -> str:
    """A correctly signed staff token issued two days ago."""

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 86400

    serializer = URLSafeTimedSerializer(secret, salt="onewindow-staff-token", signer=PastSigner)
    return serializer.dumps({"u": user_id, "v": version})


def user_id(database_url: str, username: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        uid = conn.execute(text("SELECT id FROM staff_users WHERE username = :u"), {"u": username}).scalar_one()
    engine.dispose()
    return uid


def db_state(database_url: str) -> dict:
    """Everything a rejected request must leave alone."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        state = {
            "tickets": conn.execute(
                text("SELECT number, status, window_id, service_id, target_window_id FROM tickets ORDER BY pk")
            ).all(),
            "events": conn.execute(text("SELECT count(*) FROM ticket_events")).scalar(),
            "windows": conn.execute(text("SELECT number, state, clerk_id, ticket_id FROM windows ORDER BY id")).all(),
            "users": conn.execute(
                text("SELECT username, password_hash, token_version, active FROM staff_users ORDER BY id")
            ).all(),
            "print_jobs": conn.execute(text("SELECT count(*) FROM print_jobs")).scalar(),
        }
    engine.dispose()
    return state


class QuietVoice:
    def request(self, cfg, number, window):
        return {"text": f"请 {number} 号，到 {window} 号窗口办理", "texts": {}, "audio_url": None}


@pytest.fixture
def make_app(tmp_path):
    """In-process apps on one SQLite database with the demo staff."""
    apps = []

    def build(raw: dict | None = None, users=STAFF):
        raw = raw or demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
        app = create_app(settings_from_mapping(raw), voice=QuietVoice(), start_workers=False)
        app.config["TESTING"] = True
        runtime = app.extensions["onewindow"]
        if not apps:
            with transaction(runtime.factory) as session:
                for name, role, hall in users:
                    add_user(session, name, PASSWORD, role, hall)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["onewindow"].engine.dispose()


def bearer(client, username: str) -> dict:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}
