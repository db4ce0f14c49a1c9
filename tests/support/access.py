"""Security test tools: limits that apply to loopback, forged tokens, and what a refused request leaves alone."""

from __future__ import annotations

import time
from pathlib import Path

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import create_engine, text


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
