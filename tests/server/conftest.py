"""A real server process on a loopback port, with staff accounts created beforehand."""

from __future__ import annotations

import pytest
import requests

from queue_server.auth import add_user
from queue_server.config import settings_from_mapping
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import seed
from tests.support import ServerProcess, demo_config, write_config

PASSWORD = "correct-horse-42"


def prepare(raw: dict, users: list[tuple[str, str, str | None]]) -> None:
    """Migrate, seed and add staff (name, role, hall) before the server starts."""
    settings = settings_from_mapping(raw)
    engine = make_engine(settings.server.database_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        seed(session, settings)
        for name, role, hall in users:
            add_user(session, name, PASSWORD, role, hall)
    engine.dispose()


STAFF = [(f"clerk{n}", "clerk", "erdao") for n in range(1, 13)] + [
    ("street1", "clerk", "jinxiu"),
    ("boss", "supervisor", "erdao"),
    ("root", "admin", None),
]


@pytest.fixture
def make_server(tmp_path):
    """Start servers on given settings; all are stopped after the test."""
    started: list[ServerProcess] = []

    def start(raw: dict | None = None, *, name: str = "server", users=STAFF, env=None, prepare_db=True):
        raw = raw or demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data")
        if prepare_db:
            prepare(raw, users)
        server = ServerProcess(write_config(tmp_path / f"{name}.yaml", raw), env=env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server):
    return make_server()


def login(url: str, username: str) -> dict:
    """Authorization header for a staff member."""
    r = requests.post(f"{url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
